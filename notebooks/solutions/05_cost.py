from kit import check

answer = 1485 * 0.0001
check.extraction_cost(answer, queries=1485, price=0.0001)
