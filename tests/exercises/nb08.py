"""Notebook 08: the capstone."""

from kit import check


def state():
    return {}


CASES = {
    "capstone_attack": (lambda: check.capstone_attack("b"), lambda: check.capstone_attack("a")),
    # the wrong prediction: the information limit k = 81, not the default 2k
    "capstone_mlp_queries": (lambda: check.capstone_mlp_queries(162), lambda: check.capstone_mlp_queries(81)),
    "capstone_reverse_sigmoid": (lambda: check.capstone_reverse_sigmoid("b"),
                                 lambda: check.capstone_reverse_sigmoid("d")),
}
