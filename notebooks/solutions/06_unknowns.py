from kit import check

answer = 20 * 64 + 10 * (20 + 1)  # the representers' pixels, then weights and biases
check.kernel_unknowns(answer, m=20, d=64, c=10)
