"""Every attack against every defence (paper section 7, and the defences of ``kit.defenses``).

Each row is an attack on one data set at one budget; each column a defence of the API. A cell is
the stolen model's agreement 1-R_test / 1-R_unif in %; where the attack chooses how many queries it
sends (path finding, Lowd-Meek), their number follows "@". "n/a": the attack cannot run against
that API (it refuses before its first query). The monitor (action "flag") lets every attack finish
and says after how many queries it flagged it ("F@n"; "-": never). The first rows are the honest
user's: on the targets' test rows, how often the answered label is the model's own (mean, lowest in
brackets) and the largest change of a confidence; for the monitor, how many benign clients (rows of
the data set without repeats, jittered by 5% of each feature's spread) it flagged. The paper's
undefended figures stand in the last column. Large sets (Adult) run at the smallest budget only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..api import PredictionAPI
from ..attacks import budget_for, equation_solving, lowd_meek, path_finding, retraining
from ..defenses import (
    GaussianNoise,
    LabelsOnly,
    QueryMonitor,
    RefuseIncomplete,
    ReverseSigmoid,
    Rounding,
    honest_loss,
)
from ..metrics import agreement
from .core import Job, Section, Table, dataset, target

NAME, TITLE = "defenses", "Every attack against every defence (section 7)"
DEFENSES = {
    "none": lambda seed: [],
    "round 2": lambda seed: [Rounding(2)],
    "round 0": lambda seed: [Rounding(0)],
    "labels only": lambda seed: [LabelsOnly()],
    "noise 0.05": lambda seed: [GaussianNoise(0.05, random_state=seed)],
    "reverse sigmoid": lambda seed: [ReverseSigmoid()],  # beta 0.5, gamma 1.5
    "no incomplete": lambda seed: [RefuseIncomplete()],
    "monitor": lambda seed: [QueryMonitor(action="flag")],
}
BENIGN_CLIENTS, QUICK_CLIENTS, BENIGN_QUERIES, JITTER = 40, 10, 300, 0.05
SETS = ("moons", "circles", "blobs", "iris", "breast-cancer", "adult-income")
QUICK_SETS = ("moons",)
LARGE = {"adult-income"}


def linear(data):
    return "logreg" if len(data.classes) == 2 else "softmax"


@dataclass(frozen=True)
class Attack:
    name: str
    datasets: tuple
    quick: tuple
    alphas: tuple  # budgets alpha * parameters; None: the attack decides
    api: tuple  # keyword arguments of the API
    run: object  # (api, budget, data, seed) -> Extraction
    tree: bool = False  # the target is a depth-5 tree, else linear
    paper: str = ""  # the paper's undefended agreement, whatever the budget


def _retraining(strategy):
    return lambda api, budget, data, seed: retraining(api, strategy=strategy, model=linear(data), budget=budget,
                                                      random_state=seed)


LEAF = (("output", "leaf"), ("node_ids", "bigml"))
ATTACKS = (
    Attack("equation solving", SETS, QUICK_SETS, (1, 10), (),
           lambda api, budget, data, seed: equation_solving(api, model=linear(data), budget=budget, random_state=seed),
           paper="100 / 100"),
    Attack("path finding, top-down", ("moons", "circles", "blobs", "iris"), QUICK_SETS, (None,), LEAF,
           lambda api, budget, data, seed: path_finding(api, method="top-down", random_state=seed), True, "100 / 100"),
    Attack("path finding, bottom-up", ("moons", "iris"), QUICK_SETS, (None,), LEAF,
           lambda api, budget, data, seed: path_finding(api, method="bottom-up", random_state=seed), True,
           "100 / 100"),
    Attack("Lowd-Meek", ("moons", "circles", "breast-cancer", "adult-income"), ("moons",), (None,), (),
           lambda api, budget, data, seed: lowd_meek(api, random_state=seed), paper="100 / 100"),
    Attack("retraining, uniform", SETS, QUICK_SETS, (10, 50), (), _retraining("uniform")),
    Attack("retraining, line-search", SETS, (), (10, 50), (), _retraining("line-search")),  # quick: in labels only
    Attack("retraining, adaptive", SETS, (), (10, 50), (), _retraining("adaptive")),
)
PAPER_RETRAINING = {
    ("retraining, uniform", "logreg", 10): "96.0 / 96.6", ("retraining, uniform", "logreg", 50): "98.9 / 99.3",
    ("retraining, line-search", "logreg", 10): "98.1 / 98.0", ("retraining, line-search", "logreg", 50): "99.4 / 99.7",
    ("retraining, adaptive", "logreg", 10): "98.3 / 98.0", ("retraining, adaptive", "logreg", 50): "99.9 / 99.9",
    ("retraining, uniform", "softmax", 10): "98.3 / 96.5", ("retraining, adaptive", "softmax", 10): "99.5 / 98.0",
}
"""1-R_test / 1-R_unif % from the paper's figures 4 (logreg) and 5 (softmax)."""


def _secret(attack, name, seed):
    return target(name, "tree", seed, max_depth=5) if attack.tree else target(name, linear(dataset(name, seed)), seed)


def run_cell(attack, name, alpha, defense, seed):
    """{"text", "flagged", "queries", "why"} of one attack against one defence (None: data unavailable)."""
    data = dataset(name, seed)
    if data is None:
        return None
    secret, defenses = _secret(attack, name, seed), DEFENSES[defense](seed)
    try:
        api = PredictionAPI(secret, data.features, **dict(attack.api), defenses=defenses)
    except ValueError as error:
        return {"text": "n/a", "why": str(error)}
    try:
        budget = None if alpha is None else budget_for(alpha, api, linear(data))
        stolen = attack.run(api, budget, data, seed)
    except (ValueError, RuntimeError) as error:
        if not api.queries_used:
            return {"text": "n/a", "why": str(error)}
        return {"text": f"failed @{api.queries_used:,}", "why": f"{type(error).__name__}: {error}"}
    found = agreement(secret, stolen.model, data, random_state=seed)
    text = f"{100 * found.test:.1f} / {100 * found.uniform:.1f}"
    text += f" @{stolen.queries:,}" if alpha is None else ""
    flagged = defenses[0].flagged.get(None) if defense == "monitor" else None
    if defense == "monitor":
        text += f" F@{flagged:,}" if flagged else " -"
    return {"text": text, "flagged": flagged, "queries": stolen.queries}


def benign_clients(name, seed, clients):
    """How many of ``clients`` benign clients the monitor flags on one data set."""
    data = dataset(name, seed)
    if data is None:
        return None
    rows = np.vstack([data.X_train, data.X_test])
    continuous = [j for j, feature in enumerate(data.features) if feature.kind == "continuous"]
    low = np.array([data.features[j].low for j in continuous])
    high = np.array([data.features[j].high for j in continuous])
    spread = rows[:, continuous].std(axis=0)
    monitor = QueryMonitor(action="flag")
    for client in range(clients):
        rng = np.random.default_rng([seed, client])
        X = rows[rng.permutation(len(rows))[:BENIGN_QUERIES]]
        X[:, continuous] = np.clip(X[:, continuous] + rng.normal(0, JITTER, (len(X), len(continuous))) * spread,
                                   low, high)
        monitor.admit(X, data.features, client)
    return {"flagged": len(monitor.flagged), "clients": clients}


def honest(name, seed):
    """Per defence but the monitor: (label kept, largest confidence change) on the test rows."""
    data = dataset(name, seed)
    if data is None:
        return None
    secret = target(name, linear(data), seed)
    losses = {defense: honest_loss(secret, data.features, data.X_test, make(seed))
              for defense, make in DEFENSES.items() if defense != "monitor"}
    return {defense: (loss.top1_kept, loss.max_error) for defense, loss in losses.items()}


def _rows(config):
    """(attack, data set, alpha) of the matrix."""
    return [(attack, name, alpha) for attack in ATTACKS for name in (attack.quick if config.quick else attack.datasets)
            for alpha in (attack.alphas[:1] if config.quick or name in LARGE else attack.alphas)]


def plan(config):
    """The matrix runs on the first seed only: its cells are texts (n/a, failed, @queries), not averages."""
    names, seed = QUICK_SETS if config.quick else SETS, config.seeds[0]
    clients = QUICK_CLIENTS if config.quick else BENIGN_CLIENTS
    jobs = [Job(("honest", name, seed), lambda name=name: honest(name, seed)) for name in names]
    jobs += [Job(("benign", name, seed), lambda name=name: benign_clients(name, seed, clients)) for name in names]
    return jobs + [Job((attack.name, name, alpha, defense, seed),
                       lambda args=(attack, name, alpha, defense, seed): run_cell(*args))
                   for attack, name, alpha in _rows(config) for defense in DEFENSES]


def build(config, results):
    seed = config.seeds[0]
    names = [name for name in (QUICK_SETS if config.quick else SETS) if results.get(("honest", name, seed))]
    matrix = Table(f"Agreement 1-R_test / 1-R_unif % by defence (seed {seed}; honest rows over {', '.join(names)})",
                   ["attack", "data set", "alpha", *DEFENSES, "paper (none)"])
    losses = [results[("honest", name, seed)] for name in names]
    benign = [results.get(("benign", name, seed)) for name in names]
    flagged, clients = sum(run["flagged"] for run in benign if run), sum(run["clients"] for run in benign if run)
    kept, changed = [], []
    for defense in DEFENSES:
        if defense == "monitor":
            kept.append("100.0")
            changed.append(f"false alarms {flagged}/{clients}")
            continue
        shares = [loss[defense][0] for loss in losses]
        kept.append(f"{100 * np.mean(shares):.1f} (lowest {100 * min(shares):.1f})" if shares else "-")
        changed.append("withheld" if defense == "labels only" else
                       f"{max(loss[defense][1] for loss in losses):.3f}" if losses else "-")
    matrix.add("honest user: label kept %", "test rows", "-", *kept, "")
    matrix.add("honest user: largest confidence change", "test rows", "-", *changed, "")
    reasons, detections = {}, []
    for attack, name, alpha in _rows(config):
        cells = [results.get((attack.name, name, alpha, defense, seed)) for defense in DEFENSES]
        if any(cell is None for cell in cells):
            matrix.unavailable(attack.name, name, "-" if alpha is None else alpha)
            continue
        for defense, cell in zip(DEFENSES, cells, strict=True):
            if "why" in cell:
                reasons.setdefault((attack.name, defense), cell["why"])
        monitor = cells[list(DEFENSES).index("monitor")]
        if "queries" in monitor:
            detections.append((attack.name, monitor["flagged"], monitor["queries"]))
        kind = "tree" if attack.tree else linear(dataset(name, seed))
        paper = attack.paper or PAPER_RETRAINING.get((attack.name, kind, alpha), "")
        matrix.add(attack.name, name, "-" if alpha is None else alpha, *[cell["text"] for cell in cells], paper)
    monitor = QueryMonitor()
    detection = Table(f"The monitor (Shapiro-Wilk W of the distances and of their logarithms < {monitor.threshold}, "
                      f"from query {monitor.min_queries}): benign clients flagged {flagged}/{clients}",
                      ["attack", "runs flagged", "flagged after (median queries)", "queries sent (median)"])
    for attack in ATTACKS:
        runs = [(after, queries) for name, after, queries in detections if name == attack.name]
        hits = [after for after, _ in runs if after]
        detection.add(attack.name, f"{len(hits)}/{len(runs)}", f"{np.median(hits):,.0f}" if hits else "-",
                      f"{np.median([queries for _, queries in runs]):,.0f}" if runs else "-")
    why = Table("n/a and failed, why (first case of each)", ["attack", "defence", "why"])
    for (attack, defense), reason in reasons.items():
        why.add(attack, defense, " ".join(reason.split()).replace("|", "/"))
    return Section(NAME, TITLE, __doc__.split("\n\n", 1)[1].strip(), [matrix, detection, why])
