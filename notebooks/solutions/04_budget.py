from kit import check

answer = 50 * (108 + 1)  # alpha times the unknowns of binary LR
check.labels_budget(answer, alpha=50, d=108)
