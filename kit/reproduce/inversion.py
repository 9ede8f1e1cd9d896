"""Model inversion on the stolen model (paper section 4.1.4): online queries of the two routes.

A softmax target on Digits is extracted by equation solving (d + 1 queries), then inverted
offline: one prototype per class by gradient ascent on the input. Black-box inversion climbs
the same objective through the API, paying ``steps * c * (d + 1)`` queries for its forward
differences. The paper reports about 20 times fewer online queries for extract-then-invert
(it extracted with k = c(d + 1) queries); the prototypes of the two routes are compared by
their cosine similarity and RMS difference per feature.
"""

from __future__ import annotations

from ..api import PredictionAPI
from ..attacks import equation_solving, model_inversion, prototype_similarity
from .core import SHORT_OF_PAPER, Job, Section, Table, dataset, marks, mean, num, target, times, whole

NAME, TITLE = "inversion", "Model inversion on the stolen model (section 4.1.4)"
PAPER_RATIO = 20
"""Paper: extract-then-invert costs about 20 times fewer online queries than black-box inversion."""
ASCENT = {"step_size": 0.5, "smoothness": 0.2, "shape": (8, 8)}


def invert(seed, steps):
    """Both routes on Digits; None when the data is unavailable."""
    data, secret = dataset("digits", seed), target("digits", "softmax", seed)
    if data is None:
        return None
    stolen = equation_solving(PredictionAPI(secret, data.features), model="softmax", random_state=seed)
    offline = model_inversion(PredictionAPI(secret, data.features), stolen=stolen, steps=steps, **ASCENT)
    black_box = model_inversion(PredictionAPI(secret, data.features), steps=steps, **ASCENT)
    similarity = prototype_similarity(offline.prototypes, black_box.prototypes)
    return {"offline": offline.queries, "black_box": black_box.queries, "cosine": float(similarity["cosine"].min()),
            "rms": float(similarity["rms"].max())}


def _steps(config):
    return 5 if config.quick else 20


def plan(config):
    return [Job(("invert", seed), lambda seed=seed: invert(seed, _steps(config))) for seed in config.seeds]


def build(config, results):
    table = Table(f"Digits softmax, {_steps(config)} ascent steps per class",
                  ["route", "online queries", "black box / this route", "paper", "lowest cosine similarity",
                   "largest RMS difference", "mark"])
    runs = [results.get(("invert", seed)) for seed in config.seeds]
    if not all(runs):
        table.unavailable("extract, then invert offline")
    else:
        offline, black_box = (mean([run[route] for run in runs]) for route in ("offline", "black_box"))
        gain = black_box / offline
        short = gain < PAPER_RATIO  # fewer queries saved than the paper's extract-then-invert
        table.add("extract (d + 1), then invert offline", whole(offline), times(gain), times(PAPER_RATIO),
                  num(min(run["cosine"] for run in runs), 7), num(max(run["rms"] for run in runs)),
                  marks((short, SHORT_OF_PAPER)))
        table.add("black box through the API", whole(black_box), "x1", "x1", "-", "-", "")
    return Section(NAME, TITLE, __doc__.split("\n\n", 1)[1].strip(), [table])
