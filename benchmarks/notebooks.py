"""The notebooks and their panel against the limits of issue 6.

    .venv/bin/python -m benchmarks.notebooks [--quick]

Table 1: the panel's callback latency (median and max, milliseconds) with the ipympl
backend the notebooks use, for redraw-only changes (query marks, price) and for changes
that steal the model again (budget, rounding); "+ draw" adds rendering the figure once,
as the browser asks ipympl to.  Limits: 100 ms redraw, 500 ms re-extraction for equation
solving.  Table 2: each notebook executed top to bottom in a fresh kernel: wall time
(limit 60 s) and the kernel's peak memory (limit 1 GiB).  ``--quick`` skips Table 2.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("module://ipympl.backend_nbagg")

import nbformat  # noqa: E402
import numpy as np  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from kit.widgets import ATTACKS, SERVICES, ExtractionPanel  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

PANELS = {
    # the panels of the notebooks: (notebook, dataset, target, attack, budgets the slider visits)
    "equation solving, logreg": ("01", "moons", "logreg", "equation solving", (3, 5, 10, 20, 50, 100, 200)),
    "equation solving, softmax": ("02", "blobs", "softmax", "equation solving", (3, 5, 10, 20, 50, 100, 200)),
    "path finding (top-down), tree": ("03", "circles", "tree", "path finding (top-down)", (50, 100, 200, 300)),
    "retraining (adaptive), logreg": ("04", "moons", "logreg", "retraining (adaptive)", (30, 60, 100, 150)),
    "Lowd-Meek, logreg": ("04", "moons", "logreg", "Lowd-Meek", (30, 60, 100, 150)),
}


def _timed(change, figure):
    """Milliseconds for a control's callback, and for the callback plus one render of the figure."""
    start = time.perf_counter()
    change()
    callback = time.perf_counter() - start
    figure.canvas.draw()
    return 1000 * callback, 1000 * (time.perf_counter() - start)


def _setter(control, value):
    return lambda: setattr(control, "value", value)


def panel_latency(repeats=10):
    """Median and max callback times per panel, for redraw-only and re-extracting changes."""
    print("Table 1: panel callback latency, ms (median / max); '+ draw' includes rendering the figure")
    print(f"{'panel':32s} {'change':14s} {'callback':>16s} {'+ draw':>16s}")
    services = list(SERVICES)
    for name, (_, dataset, target, attack, budgets) in PANELS.items():
        output = "label" if attack == "Lowd-Meek" or attack.startswith("retraining") else "proba"
        panel = ExtractionPanel(dataset=dataset, target=target, attack=attack, output=output)
        changes = {
            "query marks": [_setter(panel.show_queries, i % 2 == 0) for i in range(repeats)],
            "price": [_setter(panel.service, services[(i + 1) % len(services)]) for i in range(repeats)],
            "budget": [_setter(panel.budget, budgets[(i + 1) % len(budgets)]) for i in range(repeats)],
        }
        if output == "proba":
            changes["rounding"] = [_setter(panel.decimals, ("none", 2, 4)[(i + 1) % 3]) for i in range(repeats)]
        for change, moves in changes.items():
            times = np.array([_timed(move, panel.figure) for move in moves])
            median, worst = np.median(times, axis=0), times.max(axis=0)
            print(f"{name:32s} {change:14s} {median[0]:7.0f} / {worst[0]:6.0f} {median[1]:7.0f} / {worst[1]:6.0f}")


PEAK_MEMORY = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"


def notebook_costs():
    """Wall time and peak kernel memory of each notebook run top to bottom in a fresh kernel."""
    print("\nTable 2: notebooks, executed top to bottom in a fresh kernel")
    print(f"{'notebook':40s} {'seconds':>8s} {'peak MiB':>9s}  problems")
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        notebook.cells.append(nbformat.v4.new_code_cell(PEAK_MEMORY))
        client = NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
        peak_kib = int(notebook.cells[-1].outputs[0].text)
        problems = sum(output.output_type == "error" or getattr(output, "name", "") == "stderr"
                       for cell in notebook.cells[:-1] for output in cell.get("outputs", []))
        print(f"{path.name:40s} {seconds:8.1f} {peak_kib / 1024:9.1f}  {problems}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="panel latency only")
    arguments = parser.parse_args()
    assert set(name for *_, name, _ in PANELS.values()) <= set(ATTACKS)
    panel_latency()
    if not arguments.quick:
        notebook_costs()


if __name__ == "__main__":
    main()
