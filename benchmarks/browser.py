"""Keypress on a panel's budget slider to changed pixels, in JupyterLab and in Voila.

    .venv/bin/python -m benchmarks.browser [--notebook 01_equation_solving.ipynb] [--moves 10]

Needs Chromium (Debian: apt-get install chromium, or KIT_CHROMIUM=/path). Prints the median and the
maximum over the moves; the times are upper bounds (they include screenshot polling, about 0.1 s).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from tests.browser import harness


def time_moves(page, moves):
    """Seconds from each ArrowRight on the budget slider to the first changed pixels of the panel's plot."""
    panel = page.locator(".kit-panel").first
    panel.wait_for(state="visible", timeout=120_000)
    panel.scroll_into_view_if_needed()
    plot = panel.locator("canvas").first
    plot.wait_for(state="visible", timeout=60_000)
    page.wait_for_timeout(1500)
    times = []  # from the panel's default budget upwards: every step adds a query cross
    for _ in range(moves):
        before = harness.image_hash(plot)
        harness.press_slider(page, panel, "kit-budget", "ArrowRight")
        _, seconds = harness.wait_for_change(lambda: harness.image_hash(plot), before, poll_s=0.02)
        times.append(seconds)
        page.wait_for_timeout(300)
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebook", default=None, help="default: the first notebook with a panel after 00")
    parser.add_argument("--moves", type=int, default=10)
    args = parser.parse_args(argv)
    executable = harness.find_chromium()
    if executable is None:
        raise SystemExit("no Chromium: apt-get install chromium, or set KIT_CHROMIUM")
    names = sorted(path.name for path in (harness.ROOT / "notebooks").glob("*.ipynb"))
    name = args.notebook or next(n for n in names if not n.startswith("00"))
    with tempfile.TemporaryDirectory() as folder, harness.chromium(executable) as browser:
        scratch = Path(folder)
        notebooks = harness.copy_notebooks(scratch)
        results = {}
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        with harness.jupyterlab(scratch, notebooks) as (base, token):
            harness.run_notebook_in_lab(page, base, token, name)
            results["JupyterLab"] = time_moves(page, args.moves)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        with harness.voila(scratch, notebooks) as base:
            page.goto(f"{base}/voila/render/{name}")
            results["Voila"] = time_moves(page, args.moves)
    print(f"keypress on the budget slider to changed pixels, {name}, {args.moves} moves")
    print(f"{'where':<12}{'median s':>10}{'max s':>10}")
    for where, times in results.items():
        print(f"{where:<12}{statistics.median(times):>10.2f}{max(times):>10.2f}")


if __name__ == "__main__":
    main()
