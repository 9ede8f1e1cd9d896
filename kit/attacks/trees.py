"""Decision trees: path-finding attacks (paper section 4.2, Algorithm 1 and Appendix C).

A tree cuts the feature space into boxes, one per leaf: an interval for every
continuous feature, a set of values for every categorical one.  An API that names
the leaf that answered (BigML's node identifiers) lets an attacker map these boxes:

- **bottom-up** (Algorithm 1, leaf-identity oracle): from a random point, walk along
  each feature to find where the leaf changes (binary search to precision epsilon for
  a continuous feature, every value for a categorical one); that gives the leaf's box;
  every other piece met on the way is a point of another leaf, queued; repeat until
  no unseen leaf is left.
- **top-down** (node-identity oracle, incomplete queries): the empty query stops at
  the root; setting a feature makes it go further only if the root splits on it.
  Find that feature, then the pieces of its range that lead to different children,
  and recurse layer by layer.  Only features on the path are searched, so it needs
  fewer queries.

The attack works in the raw feature space the API publishes (continuous ranges,
categorical codes), never in the one-hot encoding the target uses inside.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from numbers import Real

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if

from ..api import BudgetExceeded
from ..extraction import Extraction
from ..features import CATEGORICAL, check_rows, sample_uniform, validate_rows
from ..plots import OKABE_ITO
from .budget import certify, check_budget

METHODS = ("top-down", "bottom-up")


# --- The stolen tree --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """One leaf of a stolen tree: a box of the raw feature space and the API's answer there.

    Attributes
    ----------
    region : tuple
        One constraint per feature: None (any value), ``(low, high)`` for
        ``low < x <= high`` (infinite at the edges of the feature's range), or a
        frozenset of category codes.
    node : object
        The node identifier the API gave.
    label : object
        The class (a regression tree: the value) the API answered.
    proba : ndarray or None
        The confidence vector the API answered (None: labels or values only).
    """

    region: tuple
    node: object
    label: object
    proba: np.ndarray | None

    def contains(self, X) -> np.ndarray:
        """Which rows of ``X`` lie in the leaf's box."""
        return _inside(self.region, X)


def _inside(region, X):
    """Which rows of ``X`` satisfy every constraint of ``region`` (the leaf's predicates)."""
    inside = np.ones(len(X), dtype=bool)
    for column, constraint in zip(X.T, region, strict=True):
        if isinstance(constraint, frozenset):
            inside &= np.isin(column, list(constraint))
        elif constraint is not None:
            inside &= (column > constraint[0]) & (column <= constraint[1])
    return inside


class StolenTree(BaseEstimator):
    """A decision tree rebuilt from its leaves' boxes; it takes raw rows like the target.

    Built, not fitted: its leaves are the model, and :meth:`fit` learns nothing.

    Parameters
    ----------
    features : sequence of Feature
        The API's public schema.
    classes : sequence
        The API's classes (empty for a regression tree).
    leaves : list of Leaf
        The leaves found, in the order the attack found them.
    default : Leaf
        What to answer outside every leaf (only a partial extraction leaves gaps): the
        first answer the attack got.

    Attributes
    ----------
    classes_ : ndarray
        ``classes`` as an array.
    n_features_in_ : int
        ``len(features)``: rows must have one column per feature.
    """

    def __init__(self, features=(), classes=(), leaves=(), default=None):
        self.features = features
        self.classes = classes
        self.leaves = leaves
        self.default = default

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False  # built from its leaves
        return tags

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.classes)

    @property
    def n_features_in_(self) -> int:
        return len(self.features)

    def fit(self, X=None, y=None):
        """Nothing to learn: the leaves are the model; rows ``X``, if given, must have one column per feature."""
        if X is not None:
            validate_rows(self, X)
        return self

    @property
    def n_leaves(self) -> int:
        return len(self.leaves)

    def apply(self, X) -> np.ndarray:
        """Index of the leaf each row falls in (``n_leaves`` where none: the default).

        Boxes overlap only after a partial top-down run (a node and some of its
        children); the later, deeper one wins.
        """
        X = check_rows(self.features, validate_rows(self, X, allow_nan=True))  # codes; a one-line error for NaN
        index = np.full(len(X), len(self.leaves))
        for i, leaf in enumerate(self.leaves):
            index[leaf.contains(X)] = i
        return index

    def predict(self, X) -> np.ndarray:
        """The class (or value) of each row's leaf."""
        return np.asarray([leaf.label for leaf in [*self.leaves, self.default]])[self.apply(X)]

    def _has_proba(self):
        return all(leaf.proba is not None for leaf in [*self.leaves, self.default])

    @available_if(_has_proba)
    def predict_proba(self, X) -> np.ndarray:
        """The confidence vector of each row's leaf, as the API gave it."""
        return np.vstack([leaf.proba for leaf in [*self.leaves, self.default]])[self.apply(X)]

    def rules(self) -> str:
        """The tree as readable rules, one line per leaf."""
        return "\n".join(
            f"leaf {i}: if {_describe_region(self.features, leaf.region)} then {_describe_answer(leaf)}"
            for i, leaf in enumerate(self.leaves)
        )

    def __repr__(self):
        return f"StolenTree({self.n_leaves} leaves)"


def _describe_region(features, region):
    parts = []
    for feature, constraint in zip(features, region, strict=True):
        if constraint is None:
            continue
        if isinstance(constraint, frozenset):
            if len(constraint) < feature.width:
                names = [feature.categories[code] for code in sorted(constraint)]
                parts.append(f"{feature.name} = {names[0]}" if len(names) == 1 else
                             f"{feature.name} in {{{', '.join(names)}}}")
        elif np.isfinite(constraint).any():
            low = f"{constraint[0]:.4g} < " if np.isfinite(constraint[0]) else ""
            high = f" <= {constraint[1]:.4g}" if np.isfinite(constraint[1]) else ""
            parts.append(f"{low}{feature.name}{high}")
    return " and ".join(parts) or "always"


def _describe_answer(leaf):
    if leaf.proba is None:
        return f"{leaf.label!r}"
    return f"{leaf.label!r} (confidence {leaf.proba.max():.3g})"


def plot_leaves(model, *, ax=None, n_leaves=None):
    """Draw the boxes of a stolen tree on 2 continuous features (for instance over
    :func:`kit.plot_boundaries`' target regions: ``plot_leaves(model, ax=plot.ax)``).

    Parameters
    ----------
    model : StolenTree
    ax : matplotlib Axes or None
        Where to draw (a new figure if None).
    n_leaves : int or None
        Draw only the first ``n_leaves`` leaves found (to step through an attack with
        ``extraction.info["steps"]``); None draws all.

    Returns
    -------
    matplotlib Axes
    """
    features = model.features
    if len(features) != 2 or any(feature.kind == CATEGORICAL for feature in features):
        raise ValueError(f"plot_leaves needs a tree on 2 continuous features; this one has {len(features)} features")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    classes = model.classes_.tolist()
    for leaf in model.leaves[:n_leaves]:
        (x0, x1), (y0, y1) = [
            (feature.low, feature.high) if bounds is None
            else (max(bounds[0], feature.low), min(bounds[1], feature.high))
            for bounds, feature in zip(leaf.region, features, strict=True)
        ]
        colour = OKABE_ITO[classes.index(leaf.label) % len(OKABE_ITO)] if classes else "grey"
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=colour, alpha=0.3, edgecolor="black",
                               linestyle="--", linewidth=1))
    ax.set_xlim(features[0].low, features[0].high)
    ax.set_ylim(features[1].low, features[1].high)
    return ax


# --- Asking the API ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reply:
    node: object
    label: object
    proba: np.ndarray | None


class _Oracle:
    """The API as the attack sees it: one reply per row, never paying twice for the
    same row, and refusing (BudgetExceeded) past the attack's own budget."""

    def __init__(self, api, budget):
        self.api = api
        self.budget = budget
        self.used = 0
        self.replies = {}

    def ask(self, rows):
        rows = np.atleast_2d(np.asarray(rows, dtype=float))
        new = list({row.tobytes(): row for row in rows if row.tobytes() not in self.replies}.values())
        if new:
            if self.budget is not None and self.used + len(new) > self.budget:
                raise BudgetExceeded(f"the attack's budget of {self.budget} queries is spent")
            answer = self.api.query(np.array(new))
            self.used += len(new)
            labels = answer.labels.tolist()  # plain Python labels, readable in rules
            for i, row in enumerate(new):
                proba = None if answer.proba is None else answer.proba[i]
                self.replies[row.tobytes()] = _Reply(answer.nodes[i], labels[i], proba)
        return [self.replies[row.tobytes()] for row in rows]

    def node(self, row):
        return self.ask(row)[0].node


# --- Walking along one feature ----------------------------------------------------------------------------------


def _with(x, j, values):
    """Copies of the point ``x`` with feature ``j`` set to each of ``values``."""
    rows = np.repeat(x[None, :], len(values), axis=0)
    rows[:, j] = values
    return rows


def _line(oracle, x, j, constraint, feature, epsilon):
    """Walk from ``x`` along feature ``j``, within ``constraint``, to where its node ends.

    Continuous feature: if the node changes between ``x`` and an end of the range,
    binary search for the cut down to width ``epsilon``.  Categorical feature: try
    every allowed value.

    Returns
    -------
    mine : constraint
        The part of ``constraint`` where ``x`` stays in its node.
    others : list of ndarray
        Points just outside it (one per other categorical value), to explore later.
    """
    home = oracle.node(x)
    if isinstance(constraint, frozenset):
        values = sorted(constraint)
        nodes = [reply.node for reply in oracle.ask(_with(x, j, values))]
        mine = frozenset(v for v, node in zip(values, nodes, strict=True) if node == home)
        return mine, list(_with(x, j, [v for v in values if v not in mine]))
    low, high = constraint
    # the box's own cuts are known to +- epsilon / 2: search that far inside them
    ends = [feature.low if np.isinf(low) else low + epsilon / 2, feature.high if np.isinf(high) else high - epsilon / 2]
    mine, others = [low, high], []
    for side, reply in enumerate(oracle.ask(_with(x, j, ends))):
        if reply.node != home:
            mine[side], beyond = _edge(oracle, x, j, ends[side], home, epsilon)
            others.append(_with(x, j, [beyond])[0])
    return tuple(mine), others


def _edge(oracle, x, j, outside, home, epsilon):
    """Binary search on feature ``j`` between ``x`` (in node ``home``) and ``outside`` (not).

    Returns the cut (the middle of the last bracket) and the bracket's outer end.
    """
    inside = x[j]
    while abs(outside - inside) > epsilon:
        middle = (inside + outside) / 2
        if oracle.node(_with(x, j, [middle])[0]) == home:
            inside = middle
        else:
            outside = middle
    return (inside + outside) / 2, outside


def _partition(oracle, start, region, features, epsilon):
    """Split a box into the regions of the nodes its points reach (Algorithm 1 inside the box).

    Only the box's constrained features are walked; unconstrained ones stay as they
    are in ``start`` (missing, in top-down).  A queued point that lies in a region
    already found is skipped: checking the predicates, not the node id, is what
    keeps two leaves with the same id apart.

    Yields
    ------
    region, point
        Each node region found, with the point from which it was found.
    """
    found = {}  # node id -> regions found for it
    queue = deque([start])
    while queue:
        x = queue.popleft()
        if _seen(found, oracle, x, epsilon):
            continue
        node = oracle.node(x)
        mine = list(region)
        for j, constraint in enumerate(region):
            if constraint is not None:
                mine[j], others = _line(oracle, x, j, constraint, features[j], epsilon)
                queue.extend(others)
        found.setdefault(node, []).append(tuple(mine))
        yield tuple(mine), x


def _seen(found, oracle, x, epsilon):
    """Whether ``x`` lies in a region found already (only those of its node, if its id is known).

    The cuts are known to +- epsilon / 2, and points queued just past a cut lie within
    epsilon of it: allow that much slack.
    """
    reply = oracle.replies.get(x.tobytes())
    candidates = found.get(reply.node, []) if reply else [known for regions in found.values() for known in regions]
    return any(_holds(known, x, epsilon) for known in candidates)


def _holds(region, x, slack):
    """Whether the point ``x`` satisfies every constraint of ``region`` (the leaf's predicates), give or take
    ``slack`` on continuous features."""
    return all(
        constraint is None or (value in constraint if isinstance(constraint, frozenset) else
                               constraint[0] - slack < value <= constraint[1] + slack)
        for constraint, value in zip(region, x, strict=True)
    )


def _full_range(feature):
    """The constraint that lets a feature take any value."""
    return frozenset(range(feature.width)) if feature.kind == CATEGORICAL else (-np.inf, np.inf)


# --- The two attacks --------------------------------------------------------------------------------------------


def _bottom_up(oracle, features, rng, epsilon, leaf_found):
    """Algorithm 1: the whole space is one box to partition, from a random point."""
    start = sample_uniform(features, 1, rng)[0]
    for region, x in _partition(oracle, start, tuple(_full_range(f) for f in features), features, epsilon):
        leaf_found(region, x)


def _split_feature(oracle, x, reference):
    """The missing feature the node reached by ``x`` splits on (None: a leaf).

    Setting a group of missing features moves the query past the node only if the
    node splits on one of them, so halving the group finds it in log2(d) queries
    (paper: set one feature at a time).
    """
    free = np.flatnonzero(np.isnan(x))
    home = oracle.node(x)

    def moves(group):
        row = x.copy()
        row[group] = reference[group]
        return oracle.node(row) != home

    if not len(free) or not moves(free):
        return None
    while len(free) > 1:
        half, rest = free[: len(free) // 2], free[len(free) // 2 :]
        free = half if moves(half) else rest
    return int(free[0])


def _top_down(oracle, features, rng, epsilon, leaf_found, frontier):
    """Top-down path finding: from the empty query, split node by node, layer by layer."""
    reference = sample_uniform(features, 1, rng)[0]
    frontier.append(((None,) * len(features), np.full(len(features), np.nan)))
    while frontier:
        region, x = frontier[0]
        j = _split_feature(oracle, x, reference)
        if j is None:
            leaf_found(region, x)
        else:
            start = x.copy()
            start[j] = reference[j]
            wider = region[:j] + (_full_range(features[j]),) + region[j + 1 :]
            frontier.extend(_partition(oracle, start, wider, features, epsilon))
        frontier.popleft()


def _check(api, method, epsilon, budget):
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    if getattr(api, "output", None) != "leaf":
        raise ValueError("path finding needs node identifiers: a tree API with output='leaf'")
    if method == "top-down" and not api.accepts_incomplete:
        raise ValueError("top-down path finding needs incomplete queries, which this API refuses; "
                         "use method='bottom-up'")
    if isinstance(epsilon, bool) or not isinstance(epsilon, Real) or not 0 < epsilon < 1:
        raise ValueError(f"epsilon must be a number between 0 and 1 (the line-search precision), got {epsilon!r}")
    check_budget(api, budget)


def path_finding(api, *, method="top-down", epsilon=1e-3, budget=None, random_state=0) -> Extraction:
    """Steal a decision tree by mapping its leaves (paper section 4.2).

    Parameters
    ----------
    api : PredictionAPI
        A tree behind an API with ``output="leaf"`` (node identifiers, unique or
        BigML-style); ``"top-down"`` also needs ``api.accepts_incomplete``.
    method : {"top-down", "bottom-up"}
        Top-down path finding with incomplete queries, or Algorithm 1 (bottom-up,
        complete queries only).
    epsilon : float
        Precision of the binary search for a continuous split's threshold.
    budget : int or None
        The most queries the attack may send (None: until the tree is mapped).
    random_state : int
        Seeds the starting point (bottom-up) and the values set in queries (top-down).

    Returns
    -------
    Extraction
        ``model`` is a :class:`StolenTree`.  ``info["steps"]`` lists, for each leaf in
        the order found, ``{"leaf", "queries", "region", "label"}`` (queries sent so
        far) to step through the attack; ``info["complete"]`` says whether it finished.

    Notes
    -----
    Running out of queries (this budget or the API's) is not an error: the attack
    stops and returns what it has, with ``info["complete"] = False``.  Top-down then
    keeps the unexplored nodes as leaves with the answer they gave (a pruned tree);
    bottom-up answers its first reply wherever no leaf was found.
    """
    _check(api, method, epsilon, budget)
    since = api.queries_used
    oracle = _Oracle(api, budget)
    features = api.features
    leaves, steps, frontier = [], [], deque()

    def leaf_found(region, x):
        reply = oracle.ask(x)[0]
        leaves.append(Leaf(region, reply.node, reply.label, reply.proba))
        steps.append({"leaf": len(steps), "queries": oracle.used, "region": region, "label": reply.label})

    complete = True
    try:
        if method == "bottom-up":
            _bottom_up(oracle, features, check_random_state(random_state), epsilon, leaf_found)
        else:
            _top_down(oracle, features, check_random_state(random_state), epsilon, leaf_found, frontier)
    except BudgetExceeded:
        complete = False
    answered = [(region, x) for region, x in frontier if x.tobytes() in oracle.replies]
    for region, x in answered:
        reply = oracle.ask(x)[0]
        leaves.append(Leaf(region, reply.node, reply.label, reply.proba))
    if oracle.replies:
        first = next(iter(oracle.replies.values()))
        default = Leaf((None,) * len(features), first.node, first.label, first.proba)
    else:
        default = Leaf((None,) * len(features), None, api.classes[0] if api.classes else 0.0, None)
    model = StolenTree(features, api.classes, leaves, default)
    problems = _collisions(leaves[: len(steps)], oracle, epsilon)
    return Extraction.from_api(model, api, since=since, method=method, epsilon=epsilon, steps=steps,
                               complete=complete, unexplored=len(answered), **certify("path finding", problems))


def _collisions(leaves, oracle, epsilon):
    """What shows that nodes shared identifiers and the map is wrong (empty: nothing does).

    The attack tells nodes apart by their identifiers: where two nodes share one (BigML's
    label and rounded confidence), a walk can cross from one into the other without
    seeing a split.  Two signs of it, from the answers already paid for (the cuts are
    known to +- epsilon / 2, so boxes are shrunk by ``epsilon`` first):

    - two leaves' boxes overlap, which a tree's leaves never do;
    - a row asked lies inside a leaf's box but came back with another identifier.

    Leaves that share an identifier in boxes apart are no sign: the attack tells them
    apart by their predicates.  A collision that no answer shows cannot be seen.
    """
    inner = [_shrunk(leaf.region, epsilon) for leaf in leaves]
    overlaps = sum(_meet(a, b) for i, a in enumerate(inner) for b in inner[i + 1 :])
    problems = [f"{overlaps} pairs of leaves' boxes overlap"] if overlaps else []
    rows = np.array([np.frombuffer(key) for key in oracle.replies])
    nodes = [reply.node for reply in oracle.replies.values()]
    misplaced = np.zeros(len(rows), dtype=bool)
    for leaf, region in zip(leaves, inner, strict=True):
        for i in np.flatnonzero(_inside(region, rows)):
            misplaced[i] |= nodes[i] != leaf.node
    if misplaced.any():
        problems.append(f"{misplaced.sum()} rows asked lie inside a leaf's box but came back with another identifier")
    if problems:
        problems[-1] += ": nodes share identifiers (rounded confidences?) and the map is wrong"
    return problems


def _shrunk(region, epsilon):
    """``region`` with every interval narrowed by ``epsilon`` at each end."""
    return tuple((c[0] + epsilon, c[1] - epsilon) if isinstance(c, tuple) else c for c in region)


def _meet(region, other):
    """Whether two boxes share a point (None: any value; a set of categories; an interval ``low < x <= high``)."""
    for a, b in zip(region, other, strict=True):
        if a is None or b is None:
            continue
        if isinstance(a, frozenset):
            if not a & b:
                return False
        elif max(a[0], b[0]) >= min(a[1], b[1]):
            return False
    return True
