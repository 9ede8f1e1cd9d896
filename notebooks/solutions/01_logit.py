import numpy as np

from kit import check


def logit(p):
    return np.log(p / (1 - p))


check.logit(logit)
