"""The prediction API: the only door an attacker has to a secret model.

It answers rows of raw feature values with what a 2016 ML-as-a-service answered
(paper section 3, Table 2): a label, a label with its confidence vector, or for trees
also the identifier of the node that answered (BigML).  It counts, prices and logs
every input it answers, refuses past its budget, and rounds confidences when told to
(the countermeasure of section 7).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from .defenses import MAX_DECIMALS, fold, perturbed
from .features import check_rows, encode, encoded_columns

OUTPUTS = ("label", "proba", "leaf")
NODE_IDS = ("unique", "bigml")
BIGML_DECIMALS = 5
"""Decimals of the confidence in a BigML-style node id when the API does not round."""


class BudgetExceeded(RuntimeError):
    """Raised when a batch would take the API past its query budget; nothing is answered."""


@dataclass(frozen=True)
class Answer:
    """What the API returns for a batch of ``n`` rows.

    Attributes
    ----------
    labels : ndarray of shape (n,)
        The predicted class of each row (a regression tree's predicted value).
    proba : ndarray of shape (n, n_classes) or None
        Confidence vectors (rounded if the API rounds); None when the API gives labels only.
    nodes : ndarray of shape (n,) or None
        Identifier of the tree node that answered (``output="leaf"`` only): the node's
        index, or with ``node_ids="bigml"`` the pair (label, rounded confidence).
    """

    labels: np.ndarray
    proba: np.ndarray | None = None
    nodes: np.ndarray | None = None

    def __len__(self):
        return len(self.labels)


class QueryLog:
    """Every input an API answered, in order, with its answer.

    ``len(log)`` is the number of rows answered; ``log.X``, ``log.labels``,
    ``log.proba`` and ``log.nodes`` stack them; ``log[i]`` is one row and
    ``log[a:b]`` a shorter log.
    """

    def __init__(self, X=None, answer=None):
        self._chunks = []
        if X is not None:
            self.append(X, answer)

    def append(self, X, answer):
        """Record a batch of answered rows."""
        self._chunks.append((np.asarray(X, dtype=float), answer))

    def _stack(self, part):
        values = [getattr(answer, part) if part else X for X, answer in self._chunks]
        if not values or any(value is None for value in values):
            return None
        return np.concatenate(values)

    @property
    def X(self) -> np.ndarray:
        """The queried rows, shape ``(len(log), n_features)``."""
        X = self._stack(None)
        return np.empty((0, 0)) if X is None else X

    @property
    def labels(self):
        return self._stack("labels")

    @property
    def proba(self):
        return self._stack("proba")

    @property
    def nodes(self):
        return self._stack("nodes")

    def __len__(self):
        return sum(len(X) for X, _ in self._chunks)

    def __getitem__(self, index):
        if isinstance(index, slice):
            parts = [self.labels, self.proba, self.nodes]
            picked = [None if part is None else part[index] for part in parts]
            return QueryLog(self.X[index], Answer(*picked)) if len(self) else QueryLog()
        row = self[index : index + 1 if index != -1 else None]
        if not len(row):
            raise IndexError(f"query log index {index} out of range for {len(self)} rows")
        return row

    def __repr__(self):
        return f"QueryLog({len(self)} rows)"


def check_query(features, X, *, allow_missing=False) -> np.ndarray:
    """Rows a prediction API accepts: :func:`~kit.features.check_rows`, and at least one of them."""
    X = check_rows(features, X, allow_missing=allow_missing)
    if not len(X):
        raise ValueError("a query needs at least one row; got an empty batch")
    return X


def _check_settings(output, decimals, budget, price_per_query):
    if output not in OUTPUTS:
        raise ValueError(f"unknown output kind {output!r}; choose one of: {', '.join(OUTPUTS)}")
    if decimals is not None and (
        isinstance(decimals, bool) or not isinstance(decimals, Integral) or not 0 <= decimals <= MAX_DECIMALS
    ):
        raise ValueError(
            f"decimals must be None (no rounding) or an integer from 0 to {MAX_DECIMALS}, got {decimals!r}"
        )
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, Integral) or budget < 1):
        raise ValueError(f"budget must be None (unlimited) or a positive whole number of queries, got {budget!r}")
    if isinstance(price_per_query, bool) or not isinstance(price_per_query, Real) or not (
        math.isfinite(price_per_query) and price_per_query >= 0
    ):
        raise ValueError(f"price_per_query must be a dollar amount >= 0, got {price_per_query!r}")


class _TreeWalker:
    """Evaluates a fitted scikit-learn tree node by node, so that it can stop early.

    This is the paper's node-identity oracle (section 4.2): a query with a missing
    feature stops at the first node that splits on that feature.
    """

    def __init__(self, tree, features):
        self.tree = tree.tree_
        self.classes = getattr(tree, "classes_", None)  # None: a regression tree
        self.features = features
        self.raw_feature = encoded_columns(features)  # encoded column -> raw feature
        self.left, self.right = self.tree.children_left, self.tree.children_right
        self.column, self.threshold = self.tree.feature, self.tree.threshold

    def nodes(self, X):
        """The node each row stops at: its leaf, or for an incomplete row the first node
        splitting on a missing feature (for a categorical feature: on any of its one-hot
        columns).  Values are compared in float32, as scikit-learn's own predict does."""
        encoded = encode(self.features, np.nan_to_num(X)).astype(np.float32)
        node = self.tree.apply(encoded)
        for i in np.flatnonzero(np.isnan(X).any(axis=1)):
            node[i] = self._stop(encoded[i], np.isnan(X[i]))
        return node

    def _stop(self, row, missing):
        node = 0
        while self.left[node] >= 0 and not missing[self.raw_feature[self.column[node]]]:
            node = self.left[node] if row[self.column[node]] <= self.threshold[node] else self.right[node]
        return node

    def answer(self, node):
        """Label and confidence vector of each node (a regression tree: its value and None)."""
        value = self.tree.value[node][:, 0, :]
        if self.classes is None:
            return value[:, 0], None
        proba = value / value.sum(axis=1, keepdims=True)
        return self.classes[proba.argmax(axis=1)], proba

    def bigml_ids(self, node, labels, proba, decimals):
        """BigML's node identifiers: the pairs (label, confidence rounded to ``decimals``).

        The confidence of a class is the lower bound of the 95% Wilson score interval of
        its share among the node's training rows (what BigML reports); a regression
        node's is the spread (standard deviation) of its training targets.  Different
        nodes can share an id: the duplicate ids of paper section 4.2.
        """
        if proba is None:
            confidence = np.sqrt(np.maximum(self.tree.impurity[node], 0))  # float error can dip below 0
        else:
            n, p, z = self.tree.n_node_samples[node], proba.max(axis=1), 1.96
            spread = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
            confidence = (p + z**2 / (2 * n) - spread) / (1 + z**2 / n)
        ids = np.empty(len(node), dtype=object)
        for i, pair in enumerate(zip(labels.tolist(), np.round(confidence, decimals).tolist(), strict=True)):
            ids[i] = pair
        return ids


def _find_tree(model, features):
    """The tree walker if the target is (a pipeline ending in) a decision tree, else None."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    return _TreeWalker(final, features) if hasattr(final, "tree_") else None


class PredictionAPI:
    """A secret model behind a prediction service.

    Parameters
    ----------
    model : fitted estimator
        The secret target (for instance from :func:`kit.train_target`); it takes raw rows.
    features : sequence of Feature
        The public description of the inputs.
    output : {"proba", "label", "leaf"}
        What each answer reveals: the label; the label and the confidence vector; or
        for trees also the node identifier (BigML's answers).  A regression tree
        answers its predicted value as the label, and no confidence vector.
    decimals : int or None
        Round every confidence to this many decimals (None: full precision).
    budget : int or None
        The most inputs this API will answer (None: unlimited).
    price_per_query : float
        Dollars charged per input answered (Amazon 2016: 0.0001).
    node_ids : {"unique", "bigml"}
        Trees with ``output="leaf"``: identify a node by its index (unique), or like
        BigML by the pair (label, confidence rounded to ``decimals``, else to 5), which
        different nodes may share.
    incomplete : bool
        Trees, and models behind a recipe that encodes omitted features (:class:`kit.recipes.Recipe`,
        Amazon's): whether rows may leave features unspecified (incomplete queries).
    defenses : sequence of kit.defenses.Defense
        Countermeasures (:mod:`kit.defenses`): rounding, labels only and refusing incomplete queries set
        ``decimals``, ``output`` and ``incomplete``; perturbations apply in order to every confidence vector,
        after the model and before rounding; monitors see every batch first and may refuse it.

    Attributes
    ----------
    queries_used : int
        Inputs answered so far (a batch of n counts n).
    log : QueryLog
        Every input answered and its answer.
    """

    def __init__(self, model, features, *, output="proba", decimals=None, budget=None, price_per_query=0.0,
                 node_ids="unique", incomplete=True, defenses=()):
        settings, self.defenses = fold(defenses, output=output, decimals=decimals, incomplete=incomplete)
        output, decimals, incomplete = settings["output"], settings["decimals"], settings["incomplete"]
        _check_settings(output, decimals, budget, price_per_query)
        if node_ids not in NODE_IDS or (node_ids == "bigml" and output != "leaf"):
            raise ValueError(f"node_ids must be one of {', '.join(NODE_IDS)} ('bigml' with output='leaf'), "
                             f"got {node_ids!r}")
        self.features = tuple(features)
        self._model = model
        self._tree = _find_tree(model, self.features)
        if output == "leaf" and self._tree is None:
            raise ValueError(f"output='leaf' needs a decision tree target; this one is {_name(model)}")
        if output != "label" and self._tree is None and not hasattr(model, "predict_proba"):
            raise ValueError(f"{_name(model)} gives no confidences; use output='label'")
        if output == "proba" and not hasattr(model, "classes_"):
            raise ValueError(f"{_name(model)} predicts values, not classes; use output='label' or 'leaf'")
        self._perturbs = any(defense.perturbs for defense in self.defenses)
        if self._perturbs and not (hasattr(model, "classes_") and (self._tree or hasattr(model, "predict_proba"))):
            raise ValueError(f"{_name(model)} gives no confidences to perturb; leave out GaussianNoise/ReverseSigmoid")
        self.classes = tuple(model.classes_.tolist()) if hasattr(model, "classes_") else ()
        self.node_ids = node_ids
        self.incomplete = bool(incomplete)
        self.output = output
        self.decimals = decimals
        self.budget = budget
        self.price_per_query = float(price_per_query)
        self.queries_used = 0
        self.log = QueryLog()
        self._lock = threading.Lock()

    @property
    def cost(self) -> float:
        """Dollars spent so far."""
        return self.queries_used * self.price_per_query

    @property
    def remaining(self):
        """Queries left in the budget (None: unlimited)."""
        return None if self.budget is None else self.budget - self.queries_used

    @property
    def accepts_incomplete(self) -> bool:
        """Whether rows may leave features unspecified (NaN or None): trees, and models behind a recipe."""
        return self.incomplete and (self._tree is not None or _takes_missing(self._model))

    def check(self, X) -> np.ndarray:
        """Validate rows against the public schema; return them as a 2-D float array.

        Raises
        ------
        ValueError
            The rows do not fit the schema, or there are none.
        """
        return check_query(self.features, X, allow_missing=self.accepts_incomplete)

    def query(self, X, *, client=None) -> Answer:
        """Answer one row or a batch of rows of raw feature values.

        The rows are reserved in the budget before the model answers, under a lock, so
        that threads sharing this API never go past the budget together; a batch that
        fails is given back and costs nothing.

        ``client`` names who asks (a key of the service), for the query monitors among the defences.

        Raises
        ------
        ValueError
            The rows do not fit the public schema; nothing is counted.
        BudgetExceeded
            The batch would go past the budget; nothing is answered or counted.
        kit.defenses.QueryRefused
            A defence refused the batch; nothing is answered or counted.
        """
        X = self.check(X)
        with self._lock:
            if self.budget is not None and self.queries_used + len(X) > self.budget:
                raise BudgetExceeded(
                    f"query budget of {self.budget} exceeded: {self.queries_used} used, "
                    f"this batch asks {len(X)} more; nothing was answered"
                )
            self.queries_used += len(X)
        try:
            answer = self.answer(X, client=client)
        except BaseException:
            with self._lock:
                self.queries_used -= len(X)
            raise
        with self._lock:
            self.log.append(X, answer)
        return answer

    def answer(self, X, *, client=None) -> Answer:
        """The model's answer to rows already checked by :meth:`check`: not counted, priced or logged.

        The owner's side of the door: a web service that keeps its own ledger of keys
        and budgets (:mod:`kit.service`) charges a key, then calls this.  Attacks use
        :meth:`query`.  ``client`` names who asks, for the query monitors among the defences.
        """
        for defense in self.defenses:
            defense.admit(X, self.features, client)
        if self._tree is not None:
            nodes = self._tree.nodes(X)
            labels, proba = self._tree.answer(nodes)
            if self.node_ids == "bigml":
                decimals = BIGML_DECIMALS if self.decimals is None else self.decimals
                nodes = self._tree.bigml_ids(nodes, labels, proba, decimals)
        else:
            nodes = None
            labels = self._model.predict(X)
            wanted = self.output != "label" or self._perturbs
            proba = self._model.predict_proba(X) if wanted else None
        labels, proba = perturbed(self.defenses, labels, proba, self.classes)
        if self.output == "label":
            return Answer(labels)
        if self.decimals is not None and proba is not None:
            proba = np.round(proba, self.decimals)
        return Answer(labels, proba, nodes if self.output == "leaf" else None)

    def __repr__(self):
        budget = "unlimited" if self.budget is None else f"{self.budget}"
        return (
            f"PredictionAPI(output={self.output!r}, decimals={self.decimals}, "
            f"{self.queries_used} queries used of {budget}, cost ${self.cost:,.4f})"
        )


def _takes_missing(model):
    """Whether the target's first step encodes omitted features itself (``takes_missing``, as a recipe does)."""
    first = model.steps[0][1] if hasattr(model, "steps") else model
    return getattr(first, "takes_missing", False)


def _name(model):
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    return type(final).__name__
