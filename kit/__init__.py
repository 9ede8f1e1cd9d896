"""Model Extraction Lab: steal machine-learning models through their prediction APIs.

The path of data: ``load_dataset`` -> ``train_target`` -> ``PredictionAPI`` -> an
attack from :mod:`kit.attacks` -> ``Extraction`` -> ``agreement`` and ``plot_boundaries``.
"""

import importlib

from . import attacks, defenses
from .api import Answer, BudgetExceeded, PredictionAPI, QueryLog
from .data import DATASETS, Dataset, DataUnavailable, load_dataset
from .defenses import QueryRefused
from .extraction import Extraction
from .features import Feature, sample_uniform
from .metrics import Agreement, agreement
from .plots import BoundaryPlot, plot_boundaries
from .targets import TARGET_KINDS, train_target

__all__ = [
    "DATASETS", "TARGET_KINDS", "attacks", "Agreement", "Answer", "BoundaryPlot", "BudgetExceeded", "DataUnavailable",
    "Dataset", "Extraction", "Feature", "PredictionAPI", "QueryLog", "QueryRefused", "RemoteAPI", "agreement",
    "defenses", "load_dataset", "plot_boundaries", "sample_uniform", "service", "train_target",
]


def __getattr__(name):
    """``kit.service`` and ``kit.RemoteAPI`` load the web framework (FastAPI) on first use, not with every kernel."""
    if name in ("service", "RemoteAPI"):
        service = importlib.import_module(f"{__name__}.service")  # binds kit.service: asked once
        return service if name == "service" else service.RemoteAPI
    raise AttributeError(f"module 'kit' has no attribute {name!r}")
