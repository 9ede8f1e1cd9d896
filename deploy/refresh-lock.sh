#!/usr/bin/env bash
# Regenerate requirements.lock, then test with exactly its versions.
#   bash deploy/refresh-lock.sh [PYTEST OPTIONS]
# A fresh .venv gets the newest versions that requirements-dev.txt and pyproject.toml allow (run.py's own setup, with
# no lock); its `pip freeze`, without the kit itself, becomes the lock; `python3 run.py test` then installs under the new
# lock and runs every test. Commit requirements.lock only if they pass. Run it after any change to requirements*.txt
# or pyproject.toml (a new extra included), on Linux with the Python of binder/runtime.txt, as CI and Binder use.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .venv requirements.lock
python3 -c "import run; run.setup('requirements-dev.txt')"
{
  echo "# The exact versions that passed the tests (python3 run.py test), as a pip constraints file; made by"
  echo "# deploy/refresh-lock.sh with Python $(python3 -c 'import platform; print(platform.python_version())') on $(uname -sm)."
  echo "# run.py, binder/postBuild and the JupyterHub image install with -c requirements.lock: a class gets what was tested."
  .venv/bin/python -m pip freeze --exclude-editable --exclude model-extraction-lab
} > requirements.lock
python3 run.py test "$@"
