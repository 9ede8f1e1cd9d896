from kit import check

my_budget = 50 * (108 + 1)  # alpha times the unknowns of binary LR
check.labels_budget(my_budget, alpha=50, d=108)
