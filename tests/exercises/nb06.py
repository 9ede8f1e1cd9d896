"""Notebook 06: training-data leakage."""

from functools import cache

import kit
from kit import check


@cache
def state():
    moons = kit.load_dataset("moons")
    kernel = kit.train_target(moons, "kernel-logreg", n_representers=6)
    return {"extraction": kit.Extraction(None, 0, 0.0, None, {"representers": kernel[-1].representers_}),
            "target": kernel, "digits": moons}


@cache
def _digits_target():
    digits = kit.load_dataset("digits")
    return kit.train_target(digits, "kernel-logreg", n_representers=10), digits


def _rows():
    return state()["target"][-1].representer_index_.tolist()


CASES = {
    "choice_agreement_gap": (lambda: check.choice_agreement_gap("b"), lambda: check.choice_agreement_gap("d")),
    "leaked_rows_prediction": (lambda: check.leaked_rows_prediction(6, *_digits_target()),
                               lambda: check.leaked_rows_prediction(0, *_digits_target())),
    "leaked_rows": (lambda: check.leaked_rows(_rows(), state()["target"]),
                    lambda: check.leaked_rows(_rows()[:3], state()["target"])),
    "inversion_ratio": (lambda: check.inversion_ratio(200, 20, 10, 64, 65),
                        lambda: check.inversion_ratio(20, 20, 10, 64, 65)),
}
