from kit import check

answer = len(set(bottom_up.log.nodes.tolist()))  # bottom-up sends complete queries: every id is a leaf's
check.leaf_count(answer, target)
