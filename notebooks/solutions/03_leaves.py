from kit import check

my_leaf_count = len(set(bottom_up.log.nodes.tolist()))  # bottom-up sends complete queries: every id is a leaf's
check.leaf_count(my_leaf_count, target)
