#!/usr/bin/env python3
"""Set up the Model Extraction Lab and open it, or test it.

    python3 run.py lab [JUPYTERLAB OPTIONS]   # make .venv, install the kit, open JupyterLab on the first notebook
    python3 run.py test [PYTEST OPTIONS]      # make .venv, install the kit and test tools, lint, run every test

For example `python3 run.py lab --no-browser --port 8899`, or `python3 run.py test -k equations`.
Needs only Python 3.10+; everything else goes into .venv beside this file.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
FIRST_NOTEBOOK = "notebooks/00_start_here.ipynb"
LOCK = ROOT / "requirements.lock"
"""The exact versions the tests passed with, installed as constraints (deploy/refresh-lock.sh makes it)."""


def _run(*command, **options):
    print("+", " ".join(str(part) for part in command), flush=True)
    return subprocess.run([str(part) for part in command], cwd=ROOT, **options).returncode


def _step(number, total, what, command):
    """Run one installation step, saying what it does and how long it took; pip shows its own progress."""
    print(f"[{number}/{total}] {what} ...", flush=True)
    started = time.monotonic()
    code = subprocess.run([str(part) for part in command], cwd=ROOT).returncode
    print(f"[{number}/{total}] {what}: {'done' if code == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s",
          flush=True)
    return code


COVERED_BY = {"requirements.txt": ("requirements.txt", "requirements-dev.txt"),
              "requirements-dev.txt": ("requirements-dev.txt",)}
"""An installation of the test tools includes everything the lab needs."""


def _digest(requirements):
    inputs = [ROOT / name for name in ("requirements.txt", "requirements-dev.txt", "pyproject.toml", LOCK.name)]
    inputs = [path for path in inputs if path.exists()]
    return hashlib.sha256(requirements.encode() + b"".join(path.read_bytes() for path in inputs)).hexdigest()


def _stamp(requirements):
    return VENV / f".installed-{requirements}"


def _installed(requirements):
    """Whether .venv holds ``requirements`` as the files now ask."""
    stamp = _stamp(requirements)
    return stamp.exists() and stamp.read_text() == _digest(requirements)


def _install(pip, requirements):
    """Install ``requirements`` and the kit at the tested versions of the lock, or the newest allowed if those fail.

    The lock constrains only the packages it names: a requirement added since it was made installs at its newest.
    """
    what, command = f"installing the packages of {requirements} and the kit", (*pip, "-r", requirements, "-e", ".")
    if LOCK.exists():
        if _step(2, 2, f"{what} at the tested versions of {LOCK.name}", (*command, "-c", LOCK.name)) == 0:
            return 0
        print(f"The tested versions of {LOCK.name} do not install here (another Python than {sys.version.split()[0]}"
              f" may lack them, or a requirement asks for newer ones): installing the newest versions allowed.",
              flush=True)
    return _step(2, 2, what, command)


def setup(requirements: str) -> None:
    """Create .venv and install ``requirements`` plus the kit, unless already done for these files."""
    if sys.version_info < (3, 10):  # noqa: UP036 (run.py is what an older Python meets first)
        sys.exit(f"the kit needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    python = BIN / ("python.exe" if os.name == "nt" else "python")
    if python.exists() and any(_installed(name) for name in COVERED_BY[requirements]):
        return
    started = time.monotonic()
    print(f"Setting up the kit in {VENV} from {requirements} (the first time takes a few minutes):", flush=True)
    if not python.exists():
        print("[0/2] creating the virtual environment ...", flush=True)
        venv.create(VENV, with_pip=True)
    pip = (python, "-m", "pip", "install", "--progress-bar", "on", "--disable-pip-version-check")
    if _step(1, 2, "updating pip", (*pip, "--quiet", "--upgrade", "pip")) != 0:
        sys.exit("updating pip failed (see pip's message above)")
    if _install(pip, requirements) != 0:
        sys.exit(f"installing {requirements} failed (see pip's message above)")
    _stamp(requirements).write_text(_digest(requirements))
    print(f"Set up in {time.monotonic() - started:.0f} s.", flush=True)


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab(*jupyter_args) -> int:
    """Open JupyterLab on the repository (so kit/ is in its file browser) at the first notebook."""
    setup("requirements.txt")
    options = [f"--ServerApp.root_dir={ROOT}", f"--LabApp.default_url=/lab/tree/{FIRST_NOTEBOOK}"]
    if _is_root() and "--allow-root" not in jupyter_args:
        print("Running as root (as in many containers): adding --allow-root, which JupyterLab asks for.", flush=True)
        options.append("--allow-root")
    command = [str(BIN / "jupyter"), "lab", *options, *jupyter_args]
    if os.name != "posix":
        return _run(*command)
    print("+", " ".join(command), flush=True)
    os.chdir(ROOT)
    os.execv(command[0], command)  # JupyterLab takes this process's place: Ctrl-C and signals reach it directly


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
    try:
        return commands[argv[0]](*argv[1:])
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
