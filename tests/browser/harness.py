"""Drive the notebooks in a real browser: JupyterLab or Voila served on loopback, Chromium via Playwright.

Used by tests/test_browser.py and benchmarks/browser.py. What each step guards against is written in
shared knowledge of these machines: a run-all sent before the kernel is really connected is dropped,
JupyterLab autosaves executed notebooks, Chromium keeps calling outside hosts unless told not to.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def find_chromium():
    """Path of a Chromium (or Chrome) binary: $KIT_CHROMIUM, else the first on PATH; None if none."""
    candidates = [os.environ.get("KIT_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"]
    for candidate in filter(None, candidates):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def scratch_env(scratch: Path) -> dict:
    """Environment that keeps Jupyter, matplotlib and Chromium out of the real home folder."""
    settings = scratch / "lab-settings"
    for plugin, values in LAB_SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ)
    env.update(
        HOME=str(scratch / "home"), JUPYTER_CONFIG_DIR=str(scratch / "jupyter-config"),
        JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(scratch / "workspaces"),
        MPLCONFIGDIR=str(scratch / "mpl"), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
    )
    (scratch / "home").mkdir(exist_ok=True)
    return env


def copy_notebooks(scratch: Path, extra=()) -> Path:
    """A scratch copy of notebooks/ (and extra files), so nothing the server does touches the project."""
    target = scratch / "notebooks"
    shutil.copytree(ROOT / "notebooks", target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for path in extra:
        shutil.copy(path, target / Path(path).name)
    return target


@contextmanager
def server(command, url, env, cwd, log_path, timeout=60):
    """Start a server process, wait until ``url`` answers, stop it (and its kernels) afterwards."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"server exited with {process.returncode}; see {log_path}")
                try:
                    urllib.request.urlopen(url, timeout=2).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"server did not answer {url} within {timeout} s; see {log_path}") from None
                    time.sleep(0.3)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def jupyterlab(scratch: Path, notebooks: Path):
    """JupyterLab on a free loopback port; yields its base URL with ``?token=``-less root and the token."""
    port, token = free_port(), "kit-browser-test"
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
        f"--ServerApp.root_dir={notebooks}",
    ]
    base = f"http://127.0.0.1:{port}"
    with server(command, f"{base}/api/status?token={token}", scratch_env(scratch), notebooks, scratch / "lab.log"):
        yield base, token


@contextmanager
def voila(scratch: Path, notebooks: Path):
    """Voila on a free loopback port; yields its base URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
        "--ServerApp.allow_root=True", "--show_tracebacks=True",
    ]
    base = f"http://127.0.0.1:{port}"
    with server(command, f"{base}/", scratch_env(scratch), notebooks, scratch / "voila.log"):
        yield base


@contextmanager
def chromium(executable):
    """A headless Chromium driven by Playwright (never Playwright's own download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


KERNEL_READY = """() => {
    const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const context = widget && widget.sessionContext;
    const kernel = context && context.session && context.session.kernel;
    return Boolean(context && context.isReady && kernel && kernel.connectionStatus === "connected"
                   && kernel.status === "idle");
}"""
RUN_ALL = """() => { window.jupyterapp.commands.execute("notebook:run-all-cells"); }"""
RUN_FINISHED = """() => {
    const prompts = [...document.querySelectorAll(".jp-Notebook .jp-InputPrompt")];
    const busy = prompts.some(prompt => prompt.textContent.includes("*"));
    const widget = window.jupyterapp.shell.currentWidget;
    const kernel = widget && widget.sessionContext.session && widget.sessionContext.session.kernel;
    const ran = prompts.some(prompt => /\\[\\d+\\]/.test(prompt.textContent));
    return !busy && ran && kernel && kernel.status === "idle";
}"""


def run_notebook_in_lab(page, base, token, name, timeout_s=240):
    """Open a notebook in JupyterLab, wait for a really connected kernel, run all cells, wait for the end."""
    page.goto(f"{base}/lab/tree/{name}?token={token}&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    if page.locator(".jp-Dialog").count():
        raise AssertionError(f"{name}: JupyterLab opened a dialog (missing kernelspec?)")
    page.wait_for_function(KERNEL_READY, timeout=60_000, polling=250)
    page.evaluate(RUN_ALL)
    page.wait_for_function(RUN_FINISHED, timeout=timeout_s * 1000, polling=500)
    page.wait_for_timeout(1500)  # let widget views and figures finish rendering


def image_hash(locator, attempts=5) -> str:
    """Hash of an element's screenshot; retries when a redraw replaces the element mid-shot."""
    for attempt in range(attempts):
        try:
            return hashlib.sha256(locator.screenshot(animations="disabled")).hexdigest()
        except Exception:
            if attempt == attempts - 1:
                raise
            time.sleep(0.3)
    raise AssertionError("unreachable")


def press_slider(page, panel, css_class, key):
    """Focus a slider's handle inside ``panel`` and press ``key`` (ArrowRight, End, ...)."""
    handle = panel.locator(f".{css_class} .noUi-handle").first
    handle.focus()
    handle.press(key)


def wait_for_change(read, before, timeout_s=30.0, poll_s=0.1):
    """Poll ``read()`` until it differs from ``before``; return (new value, seconds waited)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        value = read()
        if value != before:
            return value, time.monotonic() - start
        time.sleep(poll_s)
    raise AssertionError(f"nothing changed within {timeout_s} s")
