from kit import check

answer = len(set(extraction.log.nodes.tolist()))
check.leaf_count(answer, target)
