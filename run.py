#!/usr/bin/env python3
"""Set up the Model Extraction Lab and open it, or test it.

    python3 run.py lab     # make .venv, install the kit, open JupyterLab on the first notebook
    python3 run.py test    # make .venv, install the kit and test tools, lint, run every test

Needs only Python 3.10+; everything else goes into .venv beside this file.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
FIRST_NOTEBOOK = "notebooks/00_start_here.ipynb"


def _run(*command, **options):
    print("+", " ".join(str(part) for part in command), flush=True)
    return subprocess.run([str(part) for part in command], cwd=ROOT, **options).returncode


def setup(requirements: str) -> None:
    """Create .venv and install ``requirements`` plus the kit, unless already done for these files."""
    if sys.version_info < (3, 10):  # noqa: UP036 (run.py is what an older Python meets first)
        sys.exit(f"the kit needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists() and not (BIN / "python.exe").exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        venv.create(VENV, with_pip=True)
    inputs = [ROOT / name for name in ("requirements.txt", "requirements-dev.txt", "pyproject.toml")]
    digest = hashlib.sha256(requirements.encode() + b"".join(path.read_bytes() for path in inputs)).hexdigest()
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    python = BIN / "python"
    steps = [
        (python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"),
        (python, "-m", "pip", "install", "--quiet", "-r", requirements, "-e", "."),
    ]
    for step in steps:
        if _run(*step) != 0:
            sys.exit(f"installing {requirements} failed (see pip's message above)")
    stamp.write_text(digest)


def lab() -> int:
    setup("requirements.txt")
    return _run(BIN / "jupyter", "lab", FIRST_NOTEBOOK)


def test(*pytest_args) -> int:
    setup("requirements-dev.txt")
    if _run(BIN / "ruff", "check", "kit", "tests", "benchmarks", "run.py") != 0:
        return 1
    return _run(BIN / "python", "-m", "pytest", *pytest_args)


def main(argv) -> int:
    commands = {"lab": lab, "test": test}
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    return commands[argv[0]](*argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
