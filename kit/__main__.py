"""Command line: ``python -m kit serve`` puts a secret model behind an HTTP prediction API.

    python -m kit serve --dataset moons --target logreg --port 8000
    python -m kit serve --dataset iris --target tree --output leaf --budget 5000 --price 0.0001

Then, from another Python: ``api = kit.service.RemoteAPI("http://127.0.0.1:8000")`` and any attack.
"""

from __future__ import annotations

import argparse
import sys
import threading

from . import DATASETS, TARGET_KINDS, PredictionAPI, load_dataset, train_target
from .api import OUTPUTS
from .service import serve


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kit", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("serve", help="serve a secret model over HTTP")
    server.add_argument("--dataset", choices=DATASETS, default="moons")
    server.add_argument("--target", choices=TARGET_KINDS, default="logreg")
    server.add_argument("--output", choices=OUTPUTS, default="proba")
    server.add_argument("--decimals", type=int, default=None, help="round confidences (default: no rounding)")
    server.add_argument("--budget", type=int, default=None, help="most queries answered (default: unlimited)")
    server.add_argument("--price", type=float, default=0.0, help="dollars per query")
    server.add_argument("--seed", type=int, default=0)
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    dataset = load_dataset(args.dataset, random_state=args.seed)
    target = train_target(dataset, args.target, random_state=args.seed)
    try:
        api = PredictionAPI(target, dataset.features, output=args.output, decimals=args.decimals,
                            budget=args.budget, price_per_query=args.price)
    except ValueError as error:
        parser.error(str(error))
    running = serve(api, host=args.host, port=args.port)
    print(f"Serving a secret {args.target} on {args.dataset} at {running.url} (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        running.shutdown()
        running.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
