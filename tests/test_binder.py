"""The Binder configuration is read as intended (checked on the files: no Docker engine here)."""

import os
import re

from .browser.harness import ROOT

BINDER = ROOT / "binder"


def test_binder_pins_a_supported_python():
    version = (BINDER / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.(1[0-9])", version)


def test_post_build_installs_the_kit_and_its_requirements_and_fails_loudly():
    script = (BINDER / "postBuild").read_text()
    assert os.access(BINDER / "postBuild", os.X_OK)
    assert "set -euo pipefail" in script
    assert "pip install --no-cache-dir -r requirements.txt -e ." in script
    assert "kit.data.FETCHED" in script  # data sets baked into the image


def test_start_keeps_thread_counts_small_and_runs_the_server():
    script = (BINDER / "start").read_text()
    assert os.access(BINDER / "start", os.X_OK)
    assert "OMP_NUM_THREADS=1" in script and script.rstrip().endswith('exec "$@"')


def test_readme_links_open_the_first_notebook_and_the_voila_app():
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"https://mybinder\.org/v2/gh/[^)\s]+", readme)
    lab = [link for link in links if "urlpath=lab/tree/notebooks/00_start_here.ipynb" in link]
    app = [link for link in links if "urlpath=voila/render/notebooks/" in link]
    assert lab and app and all(link.endswith("voila/render/notebooks/demo.ipynb") for link in app)
    for link in app:
        notebook = link.split("urlpath=voila/render/")[1]
        assert (ROOT / notebook).is_file(), f"the Voila link names a notebook that does not exist: {notebook}"
