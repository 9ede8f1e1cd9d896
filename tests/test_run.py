"""The README's first command: `python3 run.py lab` brings up JupyterLab on the repository, as root or not."""

import json
import os
import sys
import urllib.request

from .browser import harness


def test_lab_serves_the_repository_root_and_opens_the_first_notebook(tmp_path):
    port, token = harness.free_port(), "kit-run-test"
    command = [sys.executable, str(harness.ROOT / "run.py"), "lab", "--no-browser", f"--port={port}",
               "--ip=127.0.0.1", f"--IdentityProvider.token={token}"]
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "lab.log"
    with harness.server(command, f"{base}/api/status?token={token}", harness.scratch_env(tmp_path), tmp_path, log):
        listing = json.load(urllib.request.urlopen(f"{base}/api/contents?token={token}", timeout=10))
        names = {item["name"] for item in listing["content"]}
        assert {"kit", "notebooks", "README.md", "run.py"} <= names
        landing = urllib.request.urlopen(f"{base}/?token={token}", timeout=10).geturl()
        assert landing.startswith(f"{base}/lab/tree/notebooks/00_start_here.ipynb")
    if os.geteuid() == 0:
        assert "adding --allow-root" in log.read_text()
