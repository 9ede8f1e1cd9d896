from sklearn.metrics import pairwise_distances_argmin

from kit import check

leaked_row_indices = pairwise_distances_argmin(extraction.info["representers"], digits.X_train)  # nearest row
check.leaked_rows(leaked_row_indices, target)
