from kit import check

my_k = 20 * (105 + 1) + 5 * (20 + 1)  # hidden layer, then output layer
check.unknowns(my_k, "mlp", d=105, c=5)
