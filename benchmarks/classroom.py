"""A class on one machine: N students at once, each a kernel that runs a notebook and then moves its panel's sliders.

    nice .venv/bin/python -m benchmarks.classroom [--students 1 2 4 8] [--notebook 01_equation_solving.ipynb ...]
        [--moves 10] [--pause 1.0] [--timeout 900] [--think 5] [--active 0.5] [--target 1.0] [--kernels 2]
        [--guarantee MIB] [--save FILE.json]
    .venv/bin/python -m benchmarks.classroom --figures FILE.json [--guarantee MIB ...]   # estimate again, no run

Each student is a fresh Jupyter kernel (JupyterLab starts one per open notebook), all N started together. A student
runs the notebook top to bottom, then moves the sliders of the notebook's ExtractionPanel through the widgets' values
in the kernel, as a browser would: ``--moves`` steps of the query budget (one query more each time, the arrow key)
and as many changes of the rounding, each one stealing the model again, with ``--pause`` seconds between moves (a
student looking at the plot). A move's latency is its callback plus, when the panel asks for one, a full render of
the figure (what the browser then requests from ipympl), as ``benchmarks.browser --kernel-only`` times it. A student
not done within ``--timeout`` seconds is stopped and counted.

Prints, per notebook and N: the peak memory of a kernel (the largest of the N) and of all N (the sum of their peaks),
the time to run the notebook from the kernel's start (median and max over the students) and the kernel's CPU seconds
for it, the slider latency (median, p90 and max over every move of every student) and the CPU seconds of a move;
with the machine's CPUs and load average, since other work may share it. Wall-clock times depend on that load, CPU
seconds hardly: the node estimate is made from them. Then what a JupyterHub user needs (a JupyterLab server and
``--kernels`` kernels at their peak) and what one node serves (``--think``, ``--active``: see ``node_capacity``).
``--save`` writes the figures as JSON; tests/test_classroom.py checks the Zero to JupyterHub configuration against
deploy/jupyterhub/measured.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient

from tests.browser import harness

NOTEBOOKS = harness.ROOT / "notebooks"
SLIDERS = """
import gc, json, resource, time
from kit.widgets import ExtractionPanel

notebook_cpu = time.process_time()
panel = next(o for o in gc.get_objects() if isinstance(o, ExtractionPanel))
budget, rounding, canvas = panel.budget, panel.decimals, panel.figure.canvas
canvas.syncing_data_url = False  # as once a browser shows the figure
canvas.draw()  # the browser's first request
moves = []
for step in range({moves}):
    budget_value = budget.value + 1 if budget.value < budget.max else budget.min
    for slider, value in ((budget, budget_value), (rounding, ("none", 4, 2)[(step + 1) % 3])):
        time.sleep({pause})
        start, start_cpu = time.perf_counter(), time.process_time()
        slider.value = value
        if panel.live.needs_full_draw:
            canvas.draw()  # what the browser asks ipympl for after a full redraw
        moves.append((time.perf_counter() - start, time.process_time() - start_cpu))
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"moves": moves, "notebook_cpu": notebook_cpu, "peak_kib": peak_kib}}))
"""
"""Run in a student's kernel after the notebook: move the panel's two sliders, time each move (wall clock and the
kernel's CPU time), report the CPU time the notebook took and the kernel's peak memory."""

NODES = ((4, 16), (8, 32), (16, 64))
"""Node sizes (cores, GiB) to estimate for."""
NODE_RESERVE_GIB = 1.5
"""Memory of a node that users cannot have: the operating system, the kubelet, the hub and the proxy."""


async def student(path: Path, moves: int, pause: float) -> dict:
    """One student: a fresh kernel runs the notebook, then moves the sliders; times, latencies, peak memory."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    async with client.async_setup_kernel(stderr=subprocess.DEVNULL):  # the kernels' start-up notices
        for index, cell in enumerate(list(notebook.cells)):
            await client.async_execute_cell(cell, index)
        seconds = time.perf_counter() - start
        probe = nbformat.v4.new_code_cell(SLIDERS.format(moves=moves, pause=pause))
        notebook.cells.append(probe)
        await client.async_execute_cell(probe, len(notebook.cells) - 1)
    texts = [output.get("text", "") for output in probe.outputs if output.output_type == "stream"]
    if not texts or probe.outputs[-1].get("name") != "stdout":
        raise RuntimeError(f"{path.name}: moving the sliders failed: {probe.outputs}")
    report = json.loads(texts[-1])
    problems = sum(output.output_type == "error" or output.get("name") == "stderr"
                   for cell in notebook.cells[:-1] for output in cell.get("outputs", []))
    return {"seconds": seconds, "cpu_seconds": report["notebook_cpu"], "moves": report["moves"],
            "peak_mib": report["peak_kib"] / 1024, "problems": problems}


async def classroom(path: Path, students: int, moves: int, pause: float, timeout: float) -> list:
    """``students`` students at once on one notebook; a student past ``timeout`` seconds is stopped (None)."""
    async def bounded():
        try:
            return await asyncio.wait_for(student(path, moves, pause), timeout)
        except asyncio.TimeoutError:
            return None

    return await asyncio.gather(*(bounded() for _ in range(students)))


def summary(students: int, results: list) -> dict:
    """One row of the table from the students' results (None: a student stopped at the time bound)."""
    done = [result for result in results if result is not None]
    if not done:
        return {"students": students, "stopped": students}
    peaks = [result["peak_mib"] for result in done]
    seconds = [result["seconds"] for result in done]
    latency, cpu = np.concatenate([result["moves"] for result in done]).reshape(-1, 2).T
    return {
        "students": students, "stopped": students - len(done), "problems": sum(r["problems"] for r in done),
        "kernel_peak_mib": max(peaks), "total_peak_mib": sum(peaks),
        "notebook_median_s": float(np.median(seconds)), "notebook_max_s": max(seconds),
        "notebook_cpu_s": float(np.median([result["cpu_seconds"] for result in done])),
        "latency_median_s": float(np.median(latency)), "latency_p90_s": float(np.percentile(latency, 90)),
        "latency_max_s": float(latency.max()),
        "move_cpu_median_s": float(np.median(cpu)), "move_cpu_p90_s": float(np.percentile(cpu, 90)),
    }


def print_table(name: str, rows: list) -> None:
    print(f"\n{name}")
    print(f"{'N':>3} {'MiB/kernel':>10} {'MiB total':>9}  {'notebook s (med/max)':>20} {'CPU s':>6}  "
          f"{'slider s (med/p90/max)':>22}  {'CPU s (med/p90)':>15}  stopped  problems")
    for row in rows:
        if "kernel_peak_mib" not in row:
            print(f"{row['students']:>3}  every student stopped at the time bound")
            continue
        print(f"{row['students']:>3} {row['kernel_peak_mib']:>10.0f} {row['total_peak_mib']:>9.0f}  "
              f"{row['notebook_median_s']:>9.1f} / {row['notebook_max_s']:>6.1f} {row['notebook_cpu_s']:>6.1f}  "
              f"{row['latency_median_s']:>6.2f} / {row['latency_p90_s']:>5.2f} / {row['latency_max_s']:>5.2f}  "
              f"{row['move_cpu_median_s']:>7.2f} / {row['move_cpu_p90_s']:>5.2f}  "
              f"{row['stopped']:>7}  {row['problems']:>8}")


def server_memory_mib() -> float:
    """Resident memory of a JupyterLab server (a JupyterHub user's own server) once it has served the lab page."""
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        notebooks = harness.copy_notebooks(scratch)
        with harness.jupyterlab(scratch, notebooks) as (base, token):
            urllib.request.urlopen(f"{base}/lab?token={token}", timeout=60).read()
            process = _server_process()
            status = Path(f"/proc/{process}/status").read_text()
    resident_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return resident_kib / 1024


def _server_process() -> int:
    """The PID of the JupyterLab server the harness started: this process's child that runs Jupyter."""
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    return next(int(pid) for pid in children
                if b"jupyter" in Path(f"/proc/{pid}/cmdline").read_bytes())


def per_user(kernel_peak_mib: float, server_mib: float, kernels: int) -> dict:
    """Memory of a JupyterHub user: the guarantee (server and one kernel) and the limit (``kernels`` at their peak).

    Rounded up to 64 MiB (guarantee) and 256 MiB (limit). A user may hold several kernels: JupyterLab keeps a
    closed notebook's kernel running until it is shut down or culled.
    """
    return {"guarantee_mib": 64 * math.ceil((server_mib + kernel_peak_mib) / 64),
            "limit_mib": 256 * math.ceil((server_mib + kernels * kernel_peak_mib) / 256),
            "peak_mib": server_mib + kernels * kernel_peak_mib}


def node_capacity(rows: list, think: float, active: float, guarantee_mib: float, node_cores: int,
                  node_gib: float) -> dict:
    """Users one node serves: the smaller of what its CPUs carry at half load and what its memory holds.

    CPU, from the CPU seconds measured in the kernels (which, unlike wall-clock times, do not depend on what else
    the machine runs): a student moving a slider every ``think`` seconds keeps ``c / (think + c)`` of a core busy,
    ``c`` the median CPU seconds of a move; ``active`` is the share of a node's users doing so at the same moment.
    At most half the node's cores are kept busy, so that a move seldom waits for a core and takes about its own CPU
    time. Memory: the node's memory less the system's share, divided by the per-user guarantee (Kubernetes schedules
    by it). ``run_all_s``: how long a run-all takes when every user of the node presses it at the same moment.
    """
    measured = [row for row in rows if "move_cpu_median_s" in row]
    move_cpu = float(np.median([row["move_cpu_median_s"] for row in measured]))
    notebook_cpu = float(np.median([row["notebook_cpu_s"] for row in measured]))
    busy_per_student = move_cpu / (think + move_cpu)
    by_cpu = math.floor(0.5 * node_cores / busy_per_student / active)
    by_memory = math.floor((node_gib - NODE_RESERVE_GIB) * 1024 / guarantee_mib)
    users = min(by_cpu, by_memory)
    return {"cores": node_cores, "gib": node_gib, "by_cpu": by_cpu, "by_memory": by_memory, "users": users,
            "run_all_s": max(notebook_cpu, users * notebook_cpu / node_cores)}


def measure(args) -> dict:
    """Simulate the classes and print their tables; the figures, with the machine's load before and after."""
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")  # as binder/start
    cores = len(os.sched_getaffinity(0))
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    print(f"a class on this machine: {cores} CPUs, load average {load_before:.1f} before the run; "
          f"{args.moves} moves of each slider per student, {args.pause:.1f} s apart; bound {args.timeout:.0f} s")
    tables = {}
    for name in args.notebook:
        rows = []
        for students in args.students:
            results = asyncio.run(classroom(NOTEBOOKS / name, students, args.moves, args.pause, args.timeout))
            rows.append(summary(students, results))
        tables[name] = rows
        print_table(name, rows)
    load_after = os.getloadavg()[0]
    print(f"\nload average {load_after:.1f} after the run ({time.monotonic() - started:.0f} s)")
    return {"command": shlex.join([Path(sys.executable).name, "-m", "benchmarks.classroom", *sys.argv[1:]]),
            "cores": cores, "load_before": load_before, "load_after": load_after, "server_mib": server_memory_mib(),
            "tables": tables, "pause_s": args.pause}


def estimate(figures: dict, args) -> dict:
    """Print and return what a JupyterHub user needs and what one node serves, from measured figures."""
    tables = figures["tables"]
    kernel_peak = max(row.get("kernel_peak_mib", 0) for rows in tables.values() for row in rows)
    user = per_user(kernel_peak, figures["server_mib"], args.kernels)
    guarantee = args.guarantee or user["guarantee_mib"]
    print(f"a JupyterLab server: {figures['server_mib']:.0f} MiB; a user with {args.kernels} kernels at the largest "
          f"peak: {user['peak_mib']:.0f} MiB -> memory guarantee at least {user['guarantee_mib']} MiB, limit at least "
          f"{user['limit_mib']} MiB")
    heaviest_name = max(tables, key=lambda name: tables[name][0].get("move_cpu_median_s", 0))
    heaviest = tables[heaviest_name]
    move_p90 = max(row.get("move_cpu_p90_s", 0) for row in heaviest)
    print(f"one node, for {heaviest_name} (the most CPU per move), with {args.active:.0%} of its users moving a "
          f"slider every {args.think:.0f} s at the same moment, at most half its cores busy; memory: a guarantee of "
          f"{guarantee} MiB")
    nodes = [node_capacity(heaviest, args.think, args.active, guarantee, *node) for node in NODES]
    for node in nodes:
        print(f"  {node['cores']:>2} cores / {node['gib']:>2} GiB: {node['users']:>3} users (CPU allows "
              f"{node['by_cpu']}, memory {node['by_memory']}); all pressing run-all at once: {node['run_all_s']:.0f} s")
    verdict = "within" if move_p90 <= args.target else "over"
    print(f"a move on a free core takes about its CPU time: p90 {move_p90:.2f} s, {verdict} the {args.target:.1f} s "
          f"target (a kernel computes on one core: a larger node does not make one move faster)")
    return {"user": user, "nodes": nodes, "assumptions": {"target_s": args.target, "active": args.active,
                                                          "kernels": args.kernels, "think_s": args.think,
                                                          "guarantee_mib": guarantee}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, nargs="+", default=[1, 2, 4, 8], help="class sizes N to simulate")
    parser.add_argument("--notebook", nargs="+", default=["01_equation_solving.ipynb", "04_labels_only.ipynb"],
                        help="notebooks with an ExtractionPanel (each gives a table)")
    parser.add_argument("--moves", type=int, default=10, help="moves of each slider per student")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds a student waits between moves")
    parser.add_argument("--timeout", type=float, default=900, help="seconds before a student is stopped")
    parser.add_argument("--target", type=float, default=1.0, help="p90 slider latency wanted on a free core, seconds")
    parser.add_argument("--think", type=float, default=5.0,
                        help="for the node estimate: seconds between a student's moves while exploring a panel")
    parser.add_argument("--active", type=float, default=0.5,
                        help="for the node estimate: share of a node's users exploring a panel at the same moment")
    parser.add_argument("--kernels", type=int, default=2, help="kernels a user keeps open at once")
    parser.add_argument("--guarantee", type=int, help="memory guarantee per user, MiB (default: the least needed)")
    parser.add_argument("--figures", type=Path, help="estimate from a saved run's figures instead of measuring")
    parser.add_argument("--save", type=Path, help="write the figures and the estimate to this JSON file")
    args = parser.parse_args(argv)
    for name in args.notebook:
        if "ExtractionPanel(" not in (NOTEBOOKS / name).read_text(encoding="utf-8"):
            parser.error(f"{name} has no ExtractionPanel to move; pick a notebook that shows one")
    if args.figures:
        figures = json.loads(args.figures.read_text())
        for name, rows in figures["tables"].items():
            print_table(name, rows)
    else:
        figures = measure(args)
    figures.update(estimate(figures, args))
    if args.save:
        args.save.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
