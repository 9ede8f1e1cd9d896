"""The Amazon table (paper section 5) with every target served over HTTP, as the paper attacked Amazon.

    KIT_DATA_DIR=../shared/data .venv/bin/python -m benchmarks.amazon [--quick] [--seeds 1 2 3]

The same experiment as ``python -m kit reproduce --only amazon`` (:mod:`kit.reproduce.amazon`), but each
target is served by ``kit.service.start`` on loopback and attacked through ``kit.RemoteAPI``; it prints
the tables. Queries, costs and agreements are the same as in process; only the time differs.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from types import SimpleNamespace

from kit.reproduce import Config, amazon, run_experiment
from kit.reproduce.report import section_markdown


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="Circles, Iris and Digits only, seed 1")
    parser.add_argument("--seeds", nargs="+", type=int, help="held-out seeds (default 1 2 3; quick: 1)")
    arguments = parser.parse_args(argv)
    config = Config.default(arguments.quick, arguments.seeds)
    start = time.perf_counter()
    with contextlib.ExitStack() as services:
        served = SimpleNamespace(NAME=amazon.NAME, build=amazon.build,
                                 plan=lambda config: amazon.plan(config, amazon.served_api(services)))
        section = run_experiment(served, config)
    print(section_markdown(section, images=False))
    print(f"(over HTTP, total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
