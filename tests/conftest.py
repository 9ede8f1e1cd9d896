"""Shared fixtures: small data sets and targets, and real data where KIT_DATA_DIR provides it."""

import os

import matplotlib
import matplotlib.pyplot as plt
import pytest
from hypothesis import settings

import kit

matplotlib.use("Agg")

# CI (CI=true) explores the same examples on every run, with no time limit per example on a loaded machine: a
# property test that fails there fails every time, and a new counterexample is found by running the tests locally.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REAL_DATA = os.environ.get("KIT_DATA_DIR")


def needs_real_data():
    """Skip unless KIT_DATA_DIR points at the offline copies (as in CI)."""
    return pytest.mark.skipif(not REAL_DATA, reason="set KIT_DATA_DIR=../shared/data to test the fetched data sets")


@pytest.fixture(autouse=True)
def close_figures():
    """Every figure a test (or a check it calls) opens is closed after it: matplotlib warns past 20 open figures."""
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def moons():
    return kit.load_dataset("moons")


@pytest.fixture(scope="session")
def circles():
    return kit.load_dataset("circles")


@pytest.fixture(scope="session")
def blobs():
    return kit.load_dataset("blobs")


@pytest.fixture(scope="session")
def moons_logreg(moons):
    return kit.train_target(moons, "logreg")


_FIGURES = []


@pytest.fixture
def report():
    """``report(line)`` puts a measured figure (a throughput, say) in the test output, with or without ``-s``."""
    return _FIGURES.append


def pytest_terminal_summary(terminalreporter):
    if _FIGURES:
        terminalreporter.section("measured figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
