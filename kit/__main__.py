"""Command line: ``python -m kit serve`` puts secret models behind an HTTP prediction service.

    python -m kit keys create alice --budget 1000      # prints alice's API key
    python -m kit keys list                            # every key's budget and bill
    python -m kit serve moons:logreg iris:tree --output leaf --price 0.0001 --port 8000
    python -m kit reproduce --quick --out reproduction/quick   # the paper's tables beside the kit's

Keys, budgets and bills live in an SQLite ledger (``--ledger``, default ``kit-service.sqlite``
in the current folder) that survives restarts.  Then, from another Python:
``api = kit.RemoteAPI("http://127.0.0.1:8000", key, model="moons-logreg")`` and any attack.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from . import DATASETS, TARGET_KINDS, DataUnavailable, PredictionAPI, load_dataset, train_target
from .api import OUTPUTS
from .features import OUT_OF_RANGE
from .service import MAX_ROWS, Ledger, run

LEDGER = "kit-service.sqlite"


def _model_spec(text):
    dataset, _, target = text.partition(":")
    if dataset not in DATASETS or target not in TARGET_KINDS:
        raise argparse.ArgumentTypeError(f"expected DATASET:TARGET with a data set among {', '.join(DATASETS)} "
                                         f"and a target among {', '.join(TARGET_KINDS)}, got {text!r}")
    return dataset, target


def _parser():
    parser = argparse.ArgumentParser(prog="python -m kit", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("serve", help="serve secret models over HTTP")
    server.add_argument("models", nargs="*", type=_model_spec, default=[("moons", "logreg")],
                        metavar="DATASET:TARGET", help="the secret models, named DATASET-TARGET (default moons:logreg)")
    server.add_argument("--output", choices=OUTPUTS, default="proba")
    server.add_argument("--decimals", type=int, default=None, help="round confidences (default: no rounding)")
    server.add_argument("--price", type=float, default=0.0, help="dollars per query")
    server.add_argument("--seed", type=int, default=0)
    server.add_argument("--max-rows", type=int, default=MAX_ROWS, help="most rows in one request")
    server.add_argument("--out-of-range", choices=OUT_OF_RANGE, default="refuse",
                        help="what to do with a value outside its feature's range (default: refuse)")
    server.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    server.add_argument("--port", type=int, default=8000)
    server.add_argument("--ledger", default=LEDGER, help=f"the keys' SQLite file (default {LEDGER})")
    keys = commands.add_parser("keys", help="make and list API keys").add_subparsers(dest="action", required=True)
    create = keys.add_parser("create", help="make a key and print it")
    create.add_argument("name", help="who the key is for")
    create.add_argument("--budget", type=int, default=None, help="most queries answered (default: unlimited)")
    listing = keys.add_parser("list", help="every key's budget and bill")
    for command in (create, listing):
        command.add_argument("--ledger", default=LEDGER, help=f"the keys' SQLite file (default {LEDGER})")
    reproduce = commands.add_parser("reproduce", help="reproduce the paper's tables and figures, write a report")
    reproduce.add_argument("--quick", action="store_true", help="small data sets, few budgets, seed 1 (minutes)")
    reproduce.add_argument("--only", nargs="+", metavar="NAME", help="run only these experiments (default: all)")
    reproduce.add_argument("--out", default="reproduction", help="folder of report.md and the plots "
                           "(default: reproduction)")
    reproduce.add_argument("--seeds", nargs="+", type=int, help="held-out seeds (default 1 2 3; quick: 1)")
    reproduce.add_argument("--readme", help="also rewrite the experiments' marked sections of this file")
    return parser


def _reproduce(args):
    from .reproduce import Config, reproduce  # loaded only for this command

    path, seconds = reproduce(Config.default(args.quick, args.seeds), only=args.only, out=args.out,
                              readme=args.readme)
    print(f"Report written to {path} in {seconds:.0f} s ({seconds / 60:.1f} min).")


def _serve(args):
    models = {}
    for dataset_name, target in args.models:
        dataset = load_dataset(dataset_name, random_state=args.seed)
        models[f"{dataset_name}-{target}"] = PredictionAPI(train_target(dataset, target, random_state=args.seed),
                                                           dataset.features, output=args.output,
                                                           decimals=args.decimals, price_per_query=args.price)

    def announce(url):
        print(f"Serving {', '.join(models)} at {url} (keys in {args.ledger}; Ctrl-C stops)", flush=True)

    run(models, ledger=Ledger(args.ledger), host=args.host, port=args.port, max_rows=args.max_rows,
        out_of_range=args.out_of_range, announce=announce)


def _keys(args):
    ledger = Ledger(args.ledger)
    if args.action == "create":
        print(ledger.create_key(args.name, budget=args.budget))
        return
    for usage in ledger.accounts():
        budget = "unlimited" if usage.budget is None else f"{usage.budget:,}"
        print(f"{usage.name}: {usage.queries_used:,} queries of {budget}, billed ${usage.cost:,.4f}")


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = lambda message, *_, **__: print(f"warning: {message}", file=sys.stderr)
        try:
            {"serve": _serve, "keys": _keys, "reproduce": _reproduce}[args.command](args)
        except (ValueError, OSError, DataUnavailable) as error:
            parser.exit(2, f"{parser.prog}: error: {' '.join(str(error).split())}\n")
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
