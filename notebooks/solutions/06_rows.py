from sklearn.metrics import pairwise_distances_argmin

from kit import check

answer = pairwise_distances_argmin(extraction.info["representers"], digits.X_train)  # nearest training row
check.leaked_rows(answer, target)
