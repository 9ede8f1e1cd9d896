"""Keypress on a panel's control to changed pixels, in JupyterLab and in Voila; and the kernel's share.

    .venv/bin/python -m benchmarks.browser [--notebook 01_equation_solving.ipynb] [--moves 10] [--kernel-only]

Two kinds of change on the notebook's first panel: "show queries" (Space on the checkbox: a redraw
only) and "budget" (ArrowRight on the budget slider: the attack runs again; equation solving on moons
in notebook 01).  Needs Chromium (Debian: apt-get install chromium, or KIT_CHROMIUM=/path).  Prints the
median and the maximum over the moves, timed in the page from the keydown to the first animation frame
whose canvas pixels differ.
Then the kernel's share of the same changes, in milliseconds: the callback (which, once the figure is
on the page, redraws only the moving artists and encodes ipympl's diff image) and a full figure draw
where the callback asked the browser for one.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import matplotlib

from tests.browser import harness

KEYS = {"show queries": ("kit-show-queries", "input", "Space"), "budget": ("kit-budget", ".noUi-handle", "ArrowRight")}
"""Each change: the panel control's CSS class, the element that takes the key, the key."""


WATCH_PIXELS = """canvas => {
    // Milliseconds from the next keydown to the first animation frame in which the canvas shows other pixels.
    const context = canvas.getContext("2d");
    const pixels = () => new Uint32Array(context.getImageData(0, 0, canvas.width, canvas.height).data.buffer);
    const before = pixels();
    const changed = () => {
        const now = pixels();
        for (let i = 0; i < now.length; i++) if (now[i] !== before[i]) return true;
        return false;
    };
    window.kitLatency = new Promise((resolve, reject) => {
        document.addEventListener("keydown", event => {
            const pressed = event.timeStamp;
            const watch = () => {
                if (changed()) return resolve(performance.now() - pressed);
                if (performance.now() - pressed > 30000) return reject(new Error("no change within 30 s"));
                requestAnimationFrame(watch);
            };
            requestAnimationFrame(watch);
        }, {capture: true, once: true});
    });
}"""


def time_moves(page, moves):
    """Seconds from each keypress to the first changed pixels of the panel's plot, for each kind of change.

    Measured in the page: from the key's ``keydown`` event to the first animation frame whose canvas
    pixels differ (frames come every 16 ms or so: that is the resolution).
    """
    panel = page.locator(".kit-panel").first
    panel.wait_for(state="visible", timeout=120_000)
    panel.scroll_into_view_if_needed()
    plot = panel.locator("canvas").first
    plot.wait_for(state="visible", timeout=60_000)
    page.wait_for_timeout(1500)
    times = {}
    for change, (css_class, element, key) in KEYS.items():
        control = panel.locator(f".{css_class} {element}").first
        times[change] = []
        for _ in range(moves):  # the budget climbs from the panel's default: every step adds a query cross
            control.focus()
            plot.evaluate(WATCH_PIXELS)
            control.press(key)
            times[change].append(page.evaluate("() => window.kitLatency") / 1000)
            page.wait_for_timeout(500)
    return times


def kernel_times(moves):
    """Milliseconds in the kernel for the same changes on notebook 01's panel, with the ipympl backend."""
    matplotlib.use("module://ipympl.backend_nbagg")
    from kit.widgets import ExtractionPanel

    panel = ExtractionPanel(dataset="moons", target="logreg", targets=("logreg",))
    canvas = panel.figure.canvas
    canvas.syncing_data_url = False  # as once a browser shows the figure
    canvas.draw()  # the browser's first request
    start = time.perf_counter()
    canvas.draw()
    full_draw = 1000 * (time.perf_counter() - start)
    changes = {
        "show queries": lambda i: setattr(panel.show_queries, "value", i % 2 == 1),
        "budget": lambda i: setattr(panel.budget, "value", panel.budget.value + 1),
    }
    times = {}
    for change, move in changes.items():
        times[change] = []
        for i in range(moves):
            start = time.perf_counter()
            move(i)
            callback = time.perf_counter() - start
            if panel.live.needs_full_draw:
                canvas.draw()  # what the browser asks for after a full redraw
            times[change].append((1000 * callback, 1000 * (time.perf_counter() - start)))
    return full_draw, times


def browser_times(name, moves):
    executable = harness.find_chromium()
    if executable is None:
        raise SystemExit("no Chromium: apt-get install chromium, or set KIT_CHROMIUM")
    results = {}
    with tempfile.TemporaryDirectory() as folder, harness.chromium(executable) as browser:
        scratch = Path(folder)
        notebooks = harness.copy_notebooks(scratch)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        with harness.jupyterlab(scratch, notebooks) as (base, token):
            harness.run_notebook_in_lab(page, base, token, name)
            results["JupyterLab"] = time_moves(page, moves)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        with harness.voila(scratch, notebooks) as base:
            page.goto(f"{base}/voila/render/{name}")
            results["Voila"] = time_moves(page, moves)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebook", default=None, help="default: the first notebook with a panel after 00")
    parser.add_argument("--moves", type=int, default=10)
    parser.add_argument("--kernel-only", action="store_true", help="only the kernel's share (no browser)")
    args = parser.parse_args(argv)
    if not args.kernel_only:
        names = sorted(path.name for path in (harness.ROOT / "notebooks").glob("*.ipynb"))
        name = args.notebook or next(n for n in names if not n.startswith("00"))
        print(f"keypress to changed pixels of the panel's plot, {name}, {args.moves} moves per change, seconds")
        print(f"{'where':<12}{'change':<14}{'median':>8}{'max':>8}")
        for where, changes in browser_times(name, args.moves).items():
            for change, seconds in changes.items():
                print(f"{where:<12}{change:<14}{statistics.median(seconds):>8.2f}{max(seconds):>8.2f}")
    full_draw, changes = kernel_times(args.moves)
    print(f"\nin the kernel, ms (median / max); a full draw of the panel's figure takes {full_draw:.0f} ms")
    print(f"{'change':<14}{'callback':>16}{'+ full draw if asked':>24}")
    for change, times in changes.items():
        callback, total = zip(*times, strict=True)
        print(f"{change:<14}{statistics.median(callback):>8.0f} / {max(callback):>5.0f}"
              f"{statistics.median(total):>16.0f} / {max(total):>5.0f}")


if __name__ == "__main__":
    main()
