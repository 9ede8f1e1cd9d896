import numpy as np

from kit import check


def boundary_point(api, x_a, x_b, epsilon):
    label_a = api.query(x_a).labels[0]
    while np.linalg.norm(x_b - x_a) > epsilon:
        middle = (x_a + x_b) / 2
        if api.query(middle).labels[0] == label_a:
            x_a = middle
        else:
            x_b = middle
    return (x_a + x_b) / 2


check.boundary_point(boundary_point)
