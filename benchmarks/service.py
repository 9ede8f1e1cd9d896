"""Throughput of the prediction service on loopback: one client, single rows and batches of 100.

    python -m benchmarks.service [--seconds 2] [--rounds 5]

Prints queries answered per second (a batch of n counts n), the way a learner's attack meets it:
:class:`kit.RemoteAPI` against :func:`kit.service.start` in the same process, on a secret logistic
regression of moons; the median of ``rounds`` fresh services, since a shared machine makes single
rounds noisy.
"""

from __future__ import annotations

import argparse
import statistics
import time

import kit


def throughput(remote, rows, seconds) -> float:
    """Queries answered per second while sending ``rows`` again and again for ``seconds``."""
    answered, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        answered += len(remote.query(rows))
    return answered / (time.perf_counter() - start)


def measure(seconds=2.0) -> dict:
    """``{"single": q/s, "batch of 100": q/s}`` for one client of a fresh service."""
    moons = kit.load_dataset("moons")
    api = kit.PredictionAPI(kit.train_target(moons, "logreg"), moons.features, price_per_query=0.0001)
    with kit.service.start({"moons": api}) as service:
        remote = kit.RemoteAPI(service.url, service.create_key("benchmark"))
        figures = {"single": throughput(remote, moons.X_test[:1], seconds),
                   "batch of 100": throughput(remote, moons.X_test[:100], seconds)}
        remote.close()
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="how long to measure each figure")
    parser.add_argument("--rounds", type=int, default=5, help="fresh services measured (the median is shown)")
    args = parser.parse_args(argv)
    rounds = [measure(args.seconds) for _ in range(args.rounds)]
    for name in rounds[0]:
        rates = [figures[name] for figures in rounds]
        print(f"{name:>13}: {statistics.median(rates):9,.0f} queries/s (median; rounds: "
              f"{', '.join(f'{rate:,.0f}' for rate in rates)})")


if __name__ == "__main__":
    main()
