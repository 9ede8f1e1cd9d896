from kit import check

answer = 0.005  # half of 0.01
check.rounding_error(answer, decimals=2)
