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


def _rows():
    return state()["target"][-1].representer_index_.tolist()


CASES = {
    "kernel_unknowns": (lambda: check.kernel_unknowns(1_490, m=20, d=64, c=10),
                        lambda: check.kernel_unknowns(1_280, m=20, d=64, c=10)),
    "leaked_rows": (lambda: check.leaked_rows(_rows(), state()["target"]),
                    lambda: check.leaked_rows(_rows()[:3], state()["target"])),
}
