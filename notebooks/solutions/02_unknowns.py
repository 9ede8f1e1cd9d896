from kit import check

answer = 20 * (105 + 1) + 5 * (20 + 1)  # hidden layer, then output layer
check.unknowns(answer, "mlp", d=105, c=5)
