"""Self-checks for the notebooks' exercises: right or wrong, with a hint.

Each check takes the learner's answer (a value, or a function it calls on cases of its
own) and returns a :class:`Verdict`, which shows itself as one line when it ends a cell.
An answer left at ``None`` is "not answered yet"; a function that raises is a wrong
answer, never an error in the notebook.
"""

from __future__ import annotations

import html
from functools import cache

import numpy as np
from scipy.special import expit

from .api import PredictionAPI
from .attacks import lowd_meek, online_extraction, path_finding
from .attacks.equations import equation_solving
from .data import load_dataset
from .features import Feature
from .metrics import agreement
from .targets import train_target


class Verdict:
    """The outcome of a check.

    Attributes
    ----------
    ok : bool or None
        True if right, False if wrong, None if not answered yet.
    message : str
        What to tell the learner (the hint when wrong).
    """

    def __init__(self, ok, message):
        self.ok = ok
        self.message = message

    def __bool__(self):
        return self.ok is True

    def __repr__(self):
        return f"{_MARKS[self.ok]} {self.message}"

    def _repr_html_(self):
        colour = {True: "#009E73", False: "#D55E00", None: "#555555"}[self.ok]
        return (f"<div class='kit-check'><b style='color:{colour}'>{_MARKS[self.ok]}</b> "
                f"{html.escape(self.message)}</div>")


_MARKS = {True: "Right!", False: "Not yet.", None: "Not answered yet:"}


def _unanswered(what):
    return Verdict(None, f"replace None with {what}, then run the cell again.")


def _verdict(ok, praise, hint):
    return Verdict(bool(ok), praise if ok else f"Hint: {hint}")


def _number(answer, expected, *, praise, hint, rtol=1e-9):
    """Check a numeric answer against the expected value."""
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return Verdict(False, f"expected a number, got {answer!r}. Hint: {hint}")
    return _verdict(np.isclose(value, expected, rtol=rtol, atol=0), praise, hint)


def _call(function, *args):
    """Call the learner's function; (result, None) or (None, a Verdict saying what went wrong)."""
    if not callable(function):
        return None, Verdict(False, f"expected a function, got {type(function).__name__}")
    try:
        return function(*args), None
    except Exception as error:  # a learner's bug is a wrong answer, not a crash
        return None, Verdict(False, f"your function raised {type(error).__name__}: {error}")


def _choice(answer, options):
    """A multiple-choice answer: ``options`` maps each letter to ``(right, why)``; every choice is explained."""
    if answer is None:
        return _unanswered(f"one of the letters {', '.join(repr(letter) for letter in options)}")
    letter = str(answer).strip().lower()
    if letter not in options:
        return Verdict(False, f"expected one of {', '.join(repr(letter) for letter in options)}, got {answer!r}")
    right, why = options[letter]
    return Verdict(right, f"({letter}) {why}")


def _prediction(predicted, run, *, close, explain):
    """Predict, then run: nothing runs until the learner has committed a prediction.

    Parameters
    ----------
    predicted : number or None
        The learner's prediction.
    run : callable
        ``run() -> measured``: the experiment, run only once a prediction is given.
    close : callable
        ``close(predicted, measured) -> bool``: whether the prediction was right.
    explain : callable
        ``explain(measured) -> str``: what the experiment shows, said whether the prediction was right or not.
    """
    if predicted is None:
        return _unanswered("your prediction (a number), before the experiment runs")
    try:
        predicted = float(predicted)
    except (TypeError, ValueError):
        return Verdict(False, f"expected a number, got {predicted!r}")
    measured = run()
    return Verdict(bool(close(predicted, measured)), f"you predicted {predicted:g}, the experiment gave "
                                                     f"{measured:g}. {explain(measured)}")


def _final(target):
    """The model at the end of a target pipeline (checks are the teacher's view: they may look)."""
    return target.steps[-1][1] if hasattr(target, "steps") else target


# --- 01 equation solving -----------------------------------------------------------------


def logit(function):
    """Exercise: ``function(p)`` is the logit, the inverse of the sigmoid, on arrays of probabilities."""
    if function is None:
        return _unanswered("a function logit(p)")
    z = np.linspace(-6, 6, 25)
    result, failure = _call(function, expit(z))
    if failure is not None:
        return failure
    ok = np.shape(result) == z.shape and np.allclose(result, z, atol=1e-8)
    return _verdict(ok, "logit(sigmoid(z)) = z: confidences give you w.x + b directly.",
                    "logit(p) = log(p / (1 - p)); use numpy so it works on a whole array.")


def logit_weights(answer, target):
    """Exercise: ``answer = (w, b)``, the weights and bias of a binary LR target, from its API."""
    if answer is None:
        return _unanswered("(w, b) solved from your queries")
    model = _final(target)
    expected = np.append(model.coef_[0], model.intercept_[0])
    try:
        w, b = answer
        found = np.append(np.asarray(w, dtype=float).ravel(), float(b))
    except (TypeError, ValueError):
        return Verdict(False, "expected a pair (w, b): an array of d weights and a number")
    ok = found.shape == expected.shape and np.allclose(found, expected, rtol=1e-6, atol=1e-8)
    return _verdict(ok, "exactly the secret model's parameters, from d + 1 queries.",
                    "stack the rows of your queries with a column of ones, A = [X, 1], and solve "
                    "A @ [w, b] = logit(p) with np.linalg.solve (take p for class 1: answer.proba[:, 1]).")


def d_plus_one(answer):
    """Multiple choice: why equation solving needs d + 1 queries for binary LR, not d."""
    return _choice(answer, {
        "a": (False, "the API publishes its classes for free (api.classes): every answer is a full equation."),
        "b": (True, "d weights and a bias make d + 1 unknowns, and each confidence gives one equation "
                    "logit(f(x)) = w.x + b: d + 1 unknowns need d + 1 independent equations."),
        "c": (False, "the logit undoes the sigmoid exactly: each equation logit(f(x)) = w.x + b is linear, "
                     "nothing is left to correct."),
        "d": (False, "nothing is kept back: with exact confidences d + 1 equations have one solution, "
                     "the secret (w, b) itself."),
    })


_BUDGETS = (3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 32, 40, 50, 64, 80, 100, 130, 160, 200, 250, 320, 400)
"""The budgets a predict-then-run check tries, about 25% apart."""


def queries_at_two_decimals(predicted, target, dataset, goal=0.999, seeds=5):
    """Predict, then run: the fewest queries (of :data:`_BUDGETS`) at which equation solving steals the binary LR
    ``target`` from an API rounding to 2 decimals with ``goal`` agreement on uniform rows (mean of ``seeds`` runs).

    A prediction within a factor of 2 of the measured count is right.
    """
    def run():
        for budget in _BUDGETS:
            stolen = [equation_solving(PredictionAPI(target, dataset.features, decimals=2), model="logreg",
                                       budget=budget, random_state=seed).model for seed in range(seeds)]
            if np.mean([agreement(target, model, dataset).uniform for model in stolen]) >= goal:
                return budget
        return np.inf

    return _prediction(predicted, run, close=lambda guess, measured: measured / 2 <= guess <= 2 * measured,
                       explain=lambda measured: (
                           f"{measured:g} is the smallest budget at which the mean of {seeds} runs (different "
                           f"random queries) reaches {goal:.1%}. At 2 decimals a confidence is off by at most "
                           "0.005, so d + 1 = 3 equations give a copy close to the target, not equal to it; more "
                           "equations let least squares average those small errors, which fall on both sides. "
                           "At 0 or 1 decimal they do not all average out: see the section on heavy rounding."))


def where_rounding_hurts(answer):
    """Multiple choice: where the equations of an API rounding to 1 decimal are most wrong."""
    return _choice(answer, {
        "a": (False, "near the boundary the logit is flattest (slope 1 / (p (1 - p)) = 4 at p = 0.5): a "
                     "confidence of 0.53 read as 0.5 moves the logit by only 0.12, an error the next equations "
                     "average away."),
        "b": (False, "the rounding error of a confidence is at most 0.05 everywhere, but what the solve uses is "
                     "the logit, and the logit turns the same 0.05 into a small error near p = 0.5 and an "
                     "unbounded one near 0 or 1."),
        "c": (True, "every confidence above 0.95 reads 1.0 (and below 0.05 reads 0.0): its logit, truly 3 or 10, "
                    "becomes one clipped value, always on the same side. A bias of the same sign on all the far "
                    "points is not averaged away by more of them, and the error falls far more slowly than at 2 "
                    "decimals (about 0.2% of test rows still with 400 queries)."),
        "d": (False, "the copy is close, not exact: at 1 decimal a thin disagreement region stays at every "
                     "budget (R_unif about 0.6% with 400 queries, averaged over random query sets)."),
    })


def coarsest_rounding(panel, goal=0.999):
    """Panel task: the panel shows the fewest decimals at which its equation-solving copy still agrees with the
    target on ``goal`` of uniform rows; checked by stealing again, through the kit, with one decimal fewer.
    """
    decimals = None if panel is None else panel.decimals.value
    if decimals is None or decimals == "none" or panel.attack_picker.value != "equation solving":
        return Verdict(None, "set the panel's rounding to a number of decimals (attack: equation solving), "
                             "then run this cell again.")
    if panel.result is None:
        return Verdict(False, f"the panel has no stolen model: {panel.message}")
    if panel.result.uniform < goal:
        return Verdict(False, f"with {panel.budget.value} queries and rounding to {decimals}, the copy agrees on "
                              f"{panel.result.uniform:.2%} of uniform rows, short of {goal:.1%}: keep more decimals.")
    if decimals == 0:
        return Verdict(True, "even labels alone (0 decimals) reach it at this budget.")
    coarser = PredictionAPI(panel.target, panel.dataset.features, decimals=decimals - 1)
    stolen = equation_solving(coarser, model=panel.target_picker.value, budget=panel.budget.value,
                              random_state=panel.random_state, restarts=1)
    below = agreement(panel.target, stolen.model, panel.dataset, random_state=panel.random_state).uniform
    if below >= goal:
        return Verdict(False, f"rounding to {decimals - 1} still gives {below:.2%}: the API can round harder.")
    return Verdict(True, f"rounding to {decimals} gives {panel.result.uniform:.2%}, to {decimals - 1} only "
                         f"{below:.2%}: each decimal dropped multiplies the rounding error by ten.")


# --- 02 softmax, one-vs-rest, neural networks ---------------------------------------------


def unknowns(answer, kind, d, c, hidden=20):
    """Exercise: the number of parameters k the attack must find (paper section 4.1.2).

    ``kind`` is "softmax", "ovr" (``c (d + 1)``) or "mlp" (``hidden (d + 1) + c (hidden + 1)``);
    binary models have one output (c counts as 1).
    """
    if kind not in ("softmax", "ovr", "mlp"):
        raise ValueError(f"kind must be 'softmax', 'ovr' or 'mlp', got {kind!r}")
    if answer is None:
        return _unanswered("a number of unknowns")
    outputs = 1 if c == 2 else c  # a binary model has one output: the other class's score is its complement
    if kind == "mlp":
        expected = hidden * (d + 1) + outputs * (hidden + 1)
        hint = (f"a hidden layer of {hidden} units has {hidden} x (d + 1) weights and biases; "
                f"the output layer has c x ({hidden} + 1).")
    else:
        expected = outputs * (d + 1)
        hint = "one weight vector of d weights plus a bias for each of the c classes."
    return _number(answer, expected, praise=f"k = {expected:,} unknowns.", hint=hint)


def softmax_differences(answer, target):
    """Exercise: ``answer`` has one row ``(w_i - w_c, b_i - b_c)`` per class i < c of a softmax target."""
    if answer is None:
        return _unanswered("an array of shape (c - 1, d + 1)")
    model = _final(target)
    weights = np.column_stack([model.coef_, model.intercept_])
    expected = weights[:-1] - weights[-1]
    found = np.asarray(answer, dtype=float)
    ok = found.shape == expected.shape and np.allclose(found, expected, rtol=1e-6, atol=1e-8)
    return _verdict(ok, "the softmax is known up to a shift common to all classes: nothing more can be learnt.",
                    "log(p_i / p_c) = (w_i - w_c).x + (b_i - b_c) is linear: solve [X, 1] @ D.T = "
                    "log(P[:, :-1] / P[:, -1:]) with d + 1 queries (np.linalg.solve).")


def shift_invariance(answer):
    """Multiple choice: why d + 1 queries steal a softmax with c classes, where the paper used k = c (d + 1)."""
    return _choice(answer, {
        "a": (False, "the c confidences of an answer sum to 1, so it gives only c - 1 independent equations; "
                     "with all c (d + 1) unknowns to find, 3 answers (6 equations) would not be enough for 9."),
        "b": (False, "nothing is guessed: w_c changes no answer once the differences are known, so the copy may "
                     "set it to 0 and still answer exactly as the target (TV about 1e-16 above)."),
        "c": (False, "with exact confidences the cross-entropy is lowest at the target too, from d + 1 answers; "
                     "the paper simply budgeted one query per unknown, counting the ones no answer can reveal."),
        "d": (True, "adding the same vector to every w_i (and the same number to every b_i) changes no "
                    "confidence, so only the c - 1 differences w_i - w_c can be learnt: (c - 1)(d + 1) unknowns, "
                    "and each answer gives c - 1 independent equations: d + 1 answers."),
    })


def mlp_budget(answer):
    """Multiple choice: why the moons MLP (k = 81 unknowns, 2 classes) takes at least k queries, 2k by default."""
    return _choice(answer, {
        "a": (False, "d + 1 counts the unknowns of a linear model; in the network each of the 20 hidden units has "
                     "d + 1 weights of its own, and the output layer 21 more: k = 81."),
        "b": (False, "the two confidences sum to 1, so an answer gives one independent equation, not two: 41 "
                     "answers are 41 equations for 81 unknowns."),
        "c": (True, "each answer gives c - 1 = 1 independent equation, so 81 unknowns need at least 81 answers; "
                    "the equations are not linear and the fit can stop in a wrong minimum, so the kit (like the "
                    "paper) buys more equations than unknowns: 2k = 162."),
        "d": (False, "the budget follows from k: below k answers the equations cannot pin the network down, and "
                     "with 2k the copy above agrees with the target on 100.00% of the test rows."),
    })


# --- 03 decision trees --------------------------------------------------------------------


def threshold_search(function, epsilon=1e-3):
    """Exercise: ``function(ask, low, high, epsilon)`` finds where ``ask(x)`` changes leaf on [low, high].

    The check hides thresholds, counts the calls to ``ask`` and wants the threshold within
    ``epsilon`` in about ``log2((high - low) / epsilon)`` calls (binary search).
    """
    if function is None:
        return _unanswered("a function threshold(ask, low, high, epsilon)")
    allowed = int(np.ceil(np.log2(2 / epsilon))) + 2
    for secret in (-0.7312, 0.05, 0.9071):
        calls = []

        def ask(x, secret=secret, calls=calls):
            calls.append(x)
            return "left leaf" if x <= secret else "right leaf"

        found, failure = _call(function, ask, -1.0, 1.0, epsilon)
        if failure is not None:
            return failure
        if found is None or not abs(float(found) - secret) <= epsilon:
            return Verdict(False, f"for a split at {secret} you answered {found}. Hint: keep an interval [lo, hi] "
                                  "with ask(lo) != ask(hi); query its middle and keep the half where the leaf changes.")
        if len(calls) > allowed:
            return Verdict(False, f"right threshold, but {len(calls)} queries: halve the interval each time "
                                  f"(about {allowed - 2} queries for epsilon = {epsilon}).")
    return Verdict(True, f"binary search finds a split to {epsilon} in about log2(2 / epsilon) queries.")


def leaf_count(answer, target):
    """Exercise: the number of leaves of the secret tree, read from what the attack saw."""
    if answer is None:
        return _unanswered("a number of leaves")
    expected = _final(target).get_n_leaves()
    return _number(answer, expected, praise=f"the tree has {expected} leaves.",
                   hint="each leaf has its own identifier: count the distinct ids in the log's nodes.")


def precision_cost(predicted, target, dataset):
    """Predict, then run: the queries top-down path finding needs at epsilon 1e-6 (it used some at 1e-3).

    The check steals ``target`` (a tree trained on ``dataset``) at both precisions, through a fresh API.
    """
    def queries(epsilon):
        api = PredictionAPI(target, dataset.features, output="leaf")
        return path_finding(api, method="top-down", epsilon=epsilon).queries

    def explain(measured):
        coarse = queries(1e-3)
        return (f"From epsilon 1e-3 ({coarse} queries) to 1e-6, each line search needs log2(1000), about 10, more "
                f"halvings, not 1,000 times more queries: {measured - coarse:.0f} more in all, about "
                f"{(measured - coarse) / 10:.0f} line searches of 10 more queries each. Binary search makes "
                "precision cheap: its cost grows with log(1 / epsilon).")

    return _prediction(predicted, lambda: queries(1e-6), close=lambda p, m: abs(p - m) <= 0.25 * m,
                       explain=explain)


def bigml_ids(choice):
    """Multiple choice: why top-down finds all the Iris tree's leaves though two share BigML's identifier."""
    return _choice(choice, {
        "a": (False, "no: with node_ids='bigml' the API gives the pair (label, confidence) and nothing else; "
                     "look at stolen.log.nodes."),
        "b": (True, "yes: a point is a known leaf only if it lies in a box already found with that identifier "
                    "(the leaf's predicates hold), so a second leaf with the same identifier elsewhere is new. "
                    "The paper's Algorithm 1 does the same."),
        "c": (False, "no: BigML's confidence depends only on the leaf's class shares and its number of training "
                     "rows; two pure leaves of 2 rows each have the same confidence to every decimal."),
        "d": (False, "no: it matters. If the walk along a feature trusted identifiers alone, it would merge two "
                     "leaves with the same identifier into one box, across any leaf of another class between "
                     "them; the copy would answer wrongly there (the paper's Steak tree: 92% bottom-up)."),
    })


def _smallest_budget(panel, *, dataset, target, attack, goal, steal):
    """A panel task: is the panel at the smallest budget where ``attack`` reaches ``goal`` test agreement?

    ``steal(target, features, budget, random_state) -> Extraction`` reruns the attack through
    the kit with one query fewer, which must miss the goal.  Returns a Verdict when the panel
    is not there yet (what to change), else None.
    """
    asked = {"data set": (dataset, panel.dataset_picker.value), "target": (target, panel.target_picker.value),
             "attack": (attack, panel.attack_picker.value)}
    for name, (wanted, shown) in asked.items():
        if shown != wanted:
            return Verdict(False, f"set the panel's {name} to {wanted!r} (it shows {shown!r}).")
    budget = panel.budget.value
    if panel.result is None:
        return Verdict(False, f"no stolen model at {budget} queries ({panel.message}): raise the budget.")
    if panel.result.test < goal:
        return Verdict(False, f"at {budget} queries 1-R_test is {panel.result.test:.2%}, under {goal:.0%}: "
                              "raise the budget.")
    try:
        fewer = steal(panel.target, panel.dataset.features, budget - 1, panel.random_state)
        below = agreement(panel.target, fewer.model, panel.dataset).test
    except ValueError:  # too few queries for the attack to run at all
        below = 0.0
    if below >= goal:
        return Verdict(False, f"{budget - 1} queries reach {below:.2%} too: lower the budget.")
    return None


def tree_budget(panel):
    """Panel task: the smallest budget at which top-down path finding agrees with the circles tree on 99% of
    test rows."""
    def steal(target, features, budget, random_state):
        api = PredictionAPI(target, features, output="leaf")
        return path_finding(api, method="top-down", budget=budget, random_state=random_state)

    failure = _smallest_budget(panel, dataset="circles", target="tree", attack="path finding (top-down)",
                               goal=0.99, steal=steal)
    if failure is not None:
        return failure
    stolen = panel.extraction
    return Verdict(True, f"{stolen.queries} queries, one fewer misses. The attack stopped with a pruned tree of "
                         f"{stolen.model.n_leaves} leaves (the target has {_final(panel.target).get_n_leaves()}): "
                         "the nodes it had not split yet answer with their majority class, and the leaves still "
                         "missing cover few test rows. Mapping the whole tree takes more queries (the readout at "
                         "the default budget shows how many).")


# --- 04 labels only -----------------------------------------------------------------------


def labels_budget(answer, alpha, d):
    """Exercise: the query budget ``alpha (d + 1)`` for a labels-only attack on binary LR."""
    if answer is None:
        return _unanswered("a number of queries")
    return _number(answer, alpha * (d + 1), praise=f"alpha x (d + 1) = {alpha * (d + 1):,} queries.",
                   hint="the paper's budgets are alpha times the number of unknowns; binary LR has d + 1.")


def boundary_point(function, epsilon=1e-3):
    """Exercise: ``function(api, x_a, x_b, epsilon)`` returns a point within ``epsilon`` of the boundary
    on the segment between two points the API labels differently (Lowd-Meek's line search).
    """
    if function is None:
        return _unanswered("a function boundary_point(api, x_a, x_b, epsilon)")
    target = _HiddenLine(np.array([1.3, -0.6]), 0.2)
    features = (Feature("x1"), Feature("x2"))
    for x_a, x_b in (([-0.9, -0.8], [0.9, 0.7]), ([0.8, -0.9], [-0.5, 0.6])):
        api = PredictionAPI(target, features, output="label")
        found, failure = _call(function, api, np.array(x_a), np.array(x_b), epsilon)
        if failure is not None:
            return failure
        distance = target.distance(found)
        if distance is None or distance > epsilon:
            return Verdict(False, f"your point {found} is {distance} from the boundary. Hint: bisect: query the "
                                  "midpoint, keep the half whose ends have different labels, until it is shorter "
                                  "than epsilon.")
        if api.queries_used > 3 * np.log2(4 / epsilon):
            return Verdict(False, f"on the boundary, but {api.queries_used} queries: halve the segment each time.")
    return Verdict(True, "a boundary point to within epsilon in about log2(length / epsilon) label queries.")


class _HiddenLine:
    """A binary linear classifier the boundary check hides behind an API."""

    classes_ = np.array([0, 1])

    def __init__(self, w, b):
        self.w, self.b = w, b

    def predict(self, X):
        return (np.asarray(X) @ self.w + self.b > 0).astype(int)

    def distance(self, x):
        """Distance from ``x`` to the boundary, or None if ``x`` is not a 2-D point."""
        try:
            x = np.asarray(x, dtype=float).reshape(2)
        except (TypeError, ValueError):
            return None
        return float(abs(x @ self.w + self.b) / np.linalg.norm(self.w))


_LOWD_MEEK_EPSILON = 1e-9  # the attack's default line-search precision


def lowd_meek_queries(predicted, dataset):
    """Predict, then run: the queries Lowd-Meek needs on a binary LR target of ``dataset`` (continuous features).

    The check trains the target (``train_target(dataset, "logreg")``) and steals it through a labels-only API.
    """
    def run():
        target = train_target(dataset, "logreg")
        return lowd_meek(PredictionAPI(target, dataset.features, output="label"), epsilon=_LOWD_MEEK_EPSILON).queries

    def explain(measured):
        d, halvings = dataset.n_encoded, int(np.ceil(np.log2(1 / _LOWD_MEEK_EPSILON)))
        searches = (d + 1) * (halvings + 2)
        return (f"Lowd-Meek runs d + 1 = {d + 1} line searches (a first boundary point, then one per weight), each "
                f"{halvings} halvings plus 2 queries for its ends: {searches:,} queries. The other "
                f"{measured - searches:,.0f} went to finding a negative and a positive row to start from (and to "
                "retrying any step off the boundary that went too far). Like equation solving's d + 1 queries, the "
                f"cost grows in proportion to d: here {measured / (d + 1):.0f} times theirs (the paper: about 50).")

    return _prediction(predicted, run, close=lambda p, m: m / 1.5 <= p <= 1.5 * m, explain=explain)


def labels_cost(choice):
    """Multiple choice: why labels-only attacks need many times k queries when equation solving needs k."""
    return _choice(choice, {
        "a": (True, "yes: a confidence p gives logit(p) = w.x + b, one exact equation in the unknowns, so k "
                    "queries fix k unknowns. A label says only on which side of the boundary x lies, an "
                    "inequality: it narrows the boundaries still possible (at best by half) but never pins one, "
                    "so precision costs more queries, about log2(1 / epsilon) per unknown for Lowd-Meek."),
        "b": (False, "no: the API is deterministic and asking the same row again gives the same label; there is "
                     "no noise to average out, only too little information in each answer."),
        "c": (False, "no: the price per query is the same; what grows is the number of queries."),
        "d": (False, "no: the copy here is a logistic regression like the target; even in the right model class, "
                     "labels leave the weights known only up to a factor and the boundary only to within the "
                     "queries' precision."),
    })


def lowd_meek_budget(panel):
    """Panel task: the smallest budget at which Lowd-Meek agrees with the moons logistic regression on 99% of
    test rows."""
    def steal(target, features, budget, random_state):
        api = PredictionAPI(target, features, output="label")
        return lowd_meek(api, budget=budget, random_state=random_state)

    failure = _smallest_budget(panel, dataset="moons", target="logreg", attack="Lowd-Meek", goal=0.99,
                               steal=steal)
    if failure is not None:
        return failure
    budget = panel.budget.value
    return Verdict(True, f"{budget} queries, one fewer misses. Lowd-Meek's 3 line searches (a boundary point, then "
                         f"one per weight) share the budget: each gets only about {(budget - 2) // 3 - 2} halvings, "
                         "so the boundary is placed roughly, which is enough for 99% of test rows but not for all "
                         "(raise the budget until the readout says 100.00% on uniform rows). Now switch to adaptive "
                         "retraining at the same budget: a rough copy is cheap; exactness is what Lowd-Meek's "
                         "queries buy.")


# --- 05 countermeasures and economics -----------------------------------------------------


def rounding_payback(predicted):
    """Exercise: by what factor does R_unif shrink when 100 times more queries meet 2-decimal answers?

    Runs the experiment of notebook 05 (softmax on 5-class, cross-entropy fit, API rounding to 2
    decimals) at k and 100 k queries, three seeds each; a prediction within a factor of 2 is right.
    """
    def run():
        return _mean_uniform_error(budget=105) / _mean_uniform_error(budget=10_500)

    return _prediction(predicted, run, close=lambda p, m: m / 2 <= p <= 2 * m, explain=lambda m: (
        f"100 times the queries cut the error about {m:.0f}-fold, close to the 10-fold by which averaging shrinks "
        "noise (1 / sqrt(100)): each answer places every confidence within 0.005 of the truth, and the fit "
        "averages those errors over many answers. Exact answers needed k queries and left no error; rounded "
        "ones make the last errors cost thousands of queries (and at 1 decimal the error levels off)."))


@cache
def _mean_uniform_error(budget, decimals=2, seeds=3):
    """R_unif of notebook 05's softmax stolen with ``budget`` queries at ``decimals`` decimals, over ``seeds``."""
    from .attacks.equations import equation_solving
    from .data import load_dataset
    from .metrics import agreement
    from .targets import train_target

    dataset = load_dataset("5-class")
    target = train_target(dataset, "softmax")
    errors = []
    for seed in range(seeds):
        api = PredictionAPI(target, dataset.features, decimals=decimals)
        stolen = equation_solving(api, model="softmax", method="cross-entropy", budget=budget, random_state=seed)
        errors.append(1 - agreement(target, stolen.model, dataset, random_state=seed).uniform)
    return float(np.mean(errors))


def choice_rounding(answer):
    """Exercise (multiple choice): why rounding slows equation solving down but does not stop it."""
    return _choice(answer, {
        "a": (False, "no: the API still gives the label and every confidence, each to within 0.005; the "
                     "equations are approximate, not gone."),
        "b": (True, "yes: each rounded answer still says the confidence lies in an interval 0.01 wide; the fit "
                    "finds the model closest to all of them, and more answers narrow down the weights, slowly."),
        "c": (False, "no: rounding is deterministic (the same row always gets the same answer) and its errors "
                     "never cancel exactly; that is why more queries help only slowly."),
        "d": (False, "no: this API counts and bills queries but never refuses them; a monitor that spots "
                     "attack-like queries (PRADA, Juuti et al. 2019) is a different defence."),
    })


def choice_labels_budget(answer):
    """Exercise (multiple choice): why a labels-only attack needs a budget of alpha times the k unknowns."""
    return _choice(answer, {
        "a": (False, "no: a label is not an equation. It says which side of the boundary a point lies on: an "
                     "inequality worth at most log2(c) bits, so k answers cannot pin down k real unknowns."),
        "b": (False, "no: the 2016 services charged the same per prediction whatever they returned; the cost "
                     "is in the number of queries."),
        "c": (True, "yes: each label is only an inequality; pinning each of the k unknowns to within a small "
                    "error needs many points near the boundary, so the paper's budgets are alpha = 10 to 100 "
                    "queries per unknown."),
        "d": (False, "no: labels-only APIs answer every query; retraining and Lowd-Meek work, at a higher price "
                     "in queries."),
    })


def panel_rounding_budget(panel):
    """Exercise on notebook 05's panel: at 2 decimals, a budget at which equation solving first reaches 99%
    uniform agreement on blobs' softmax: the panel's result must reach it, and one query fewer (run
    through the kit) must miss.
    """
    if panel is None:
        return _unanswered("your panel (the variable `panel`)")
    settings = (panel.dataset_picker.value, panel.target_picker.value, panel.attack_picker.value,
                panel.decimals.value)
    if settings != ("blobs", "softmax", "equation solving", 2):
        return Verdict(False, f"set the panel to blobs, softmax, equation solving and rounding 2 (it shows "
                              f"{', '.join(map(str, settings))}).")
    budget = panel.budget.value
    if panel.result is None or panel.result.uniform < 0.99:
        return Verdict(False, f"at {budget} queries 1-R_unif is below 99%: press the right arrow key on the "
                              "queries slider, one query at a time, and watch 1-R_unif.")
    lower = _panel_uniform_agreement(panel, budget - 1)
    if lower >= 0.99:
        return Verdict(False, f"{budget} queries reach 99%, but so do {budget - 1} ({lower:.2%}): go down.")
    return Verdict(True, f"{budget} queries reach 1-R_unif {panel.result.uniform:.2%}, {budget - 1} only "
                         f"{lower:.2%}. Exact answers need 3 (d + 1): rounding multiplied the price, and the curve "
                         "is not even monotone, since each budget draws other random queries.")


def _panel_uniform_agreement(panel, budget):
    """1-R_unif of the panel's attack (equation solving at 2 decimals) on its own target at ``budget``, through the
    kit, as the panel steals (same seed, one start)."""
    api = PredictionAPI(panel.target, panel.dataset.features, decimals=2)
    try:
        stolen = equation_solving(api, model="softmax", budget=budget, random_state=panel.random_state, restarts=1)
    except ValueError:  # below d + 1 queries
        return 0.0
    return agreement(panel.target, stolen.model, panel.dataset, random_state=panel.random_state).uniform


def reverse_sigmoid_retraining(predicted):
    """Exercise (predict, then run): the 1-R_unif in % that adaptive retraining (100 queries) reaches on the
    blobs softmax through an API with the reverse sigmoid (beta 0.5, gamma 1.5); within 2 points.
    """
    from .defenses import ReverseSigmoid

    def attack(name):
        return _defended_agreement(name, ReverseSigmoid(beta=0.5), budget=100, dataset="blobs", kind="softmax")

    def explain(measured):
        solved = attack("equation solving").uniform
        return (f"The reverse sigmoid moves every confidence but no label (beta x gamma = 0.75 < 1: the map is "
                "increasing), and retraining reads labels only: it meets the very answers an undefended API "
                f"gives. The same API and the same 100 queries leave equation solving, which fits the "
                f"confidences, at {solved:.2%}. A defence that keeps the honest user's labels cannot stop an "
                "attacker who needs nothing else.")

    return _prediction(predicted, lambda: 100 * attack("retraining (adaptive)").uniform,
                       close=lambda p, m: abs(p - m) <= 2, explain=explain)


def _defended_agreement(attack, defense, *, budget, dataset, kind):
    """The agreement of ``attack`` (a key of kit.widgets.ATTACKS) through an API with ``defense``."""
    from .data import load_dataset
    from .widgets import ATTACKS

    data = load_dataset(dataset)
    target = train_target(data, kind)
    api = PredictionAPI(target, data.features, budget=budget, defenses=[defense])
    return agreement(target, ATTACKS[attack].run(api, kind, budget, 0).model, data)


def choice_break_even(answer):
    """Exercise (multiple choice): where the break-even point moves when the price per prediction doubles."""
    return _choice(answer, {
        "a": (False, "no: a dearer answer makes the theft dearer too; both lines rise by the same factor."),
        "b": (False, "no: the thief pays the same price for each of the extraction's queries as the customer for "
                     "each prediction, so the price cancels out of the comparison."),
        "c": (True, "yes: stealing costs queries x price, honest use predictions x price; they meet at predictions "
                    "= queries whatever the price. The price sets how many dollars are at stake, not where the "
                    "lines cross: to move it, a service must make extraction need more queries."),
        "d": (False, "no: the thief pays once and the customer for ever, so for enough predictions stealing "
                     "always wins, at any price."),
    })


def panel_noise_strength(panel):
    """Exercise on notebook 05's defence panel: the smallest Gaussian noise scale (slider step 0.01) at which
    equation solving with 20 queries on moons' logistic regression falls below 99% test agreement; one step
    less (run through the kit) must stay at 99% or more.
    """
    from .defenses import GaussianNoise

    if panel is None:
        return _unanswered("your defence panel (the variable `defense_panel`)")
    settings = (panel.attack_picker.value, panel.defense_picker.value, panel.budget.value)
    if settings != ("equation solving", "Gaussian noise", 20):
        return Verdict(False, f"set the panel to equation solving, Gaussian noise and 20 queries (it shows "
                              f"{', '.join(map(str, settings))}).")
    scale = round(panel.strength.value, 2)
    if panel.result is None or panel.result.test >= 0.99:
        return Verdict(False, f"at noise scale {scale} 1-R_test is still 99% or more: move the strength up.")
    lower = _defended_agreement("equation solving", GaussianNoise(round(scale - 0.01, 2)), budget=20,
                                 dataset="moons", kind="logreg").test
    if lower < 0.99:
        return Verdict(False, f"noise {scale} brings 1-R_test below 99%, but so does {scale - 0.01:.2f} "
                              f"({lower:.2%}): go down.")
    return Verdict(True, f"noise {scale} gives 1-R_test {panel.result.test:.2%}, {scale - 0.01:.2f} still "
                         f"{lower:.2%}. Look at the honest user's line: the same noise already changes labels "
                         "near the boundary, which the paper's countermeasures never do.")


# --- 06 training-data leakage -------------------------------------------------------------


def choice_agreement_gap(answer):
    """Exercise (multiple choice): why the stolen kernel model agrees more on uniform rows than on test rows."""
    return _choice(answer, {
        "a": (False, "no: 10,000 uniform rows measure the agreement more precisely than the test rows do, but "
                     "the size of a sample does not move the value it measures."),
        "b": (True, "yes: a random row of [-1, 1]^64 is far from every digit, all its kernel values are small "
                    "(the largest about 0.05), and both models answer nearly one class there; test rows lie near the "
                    "representers, where a representer a little off changes the answer."),
        "c": (False, "no: this API does not round, and it cannot tell a test row from any other query."),
        "d": (False, "no: the attacker never saw a test row; it queried random rows of the feature space, which "
                     "is exactly why the copy is best there."),
    })


def leaked_rows_prediction(predicted, target, dataset, budget=84):
    """Exercise (predict, then run): how many secret training rows leak when the attack has ``budget`` queries.

    Runs :func:`kit.attacks.kernel_leakage` on ``target`` (its representers and kernel width known, as
    in notebook 06) and counts the secret rows named by the nearest training row of a recovered
    representer (as in :func:`leaked_rows`); a prediction within 2 rows is right.
    """
    def run():
        from sklearn.metrics import pairwise_distances_argmin

        from .attacks.kernel import kernel_leakage

        model = _final(target)
        api = PredictionAPI(target, dataset.features)
        stolen = kernel_leakage(api, n_representers=len(model.representers_), gamma=model.gamma, budget=budget)
        named = pairwise_distances_argmin(stolen.info["representers"], dataset.X_train)
        return len(set(named.tolist()) & set(model.representer_index_.tolist()))

    return _prediction(predicted, run, close=lambda p, m: abs(p - m) <= 2, explain=lambda m: (
        f"{budget} queries named {m} of the secret rows, with barely as many equations as unknowns and a copy "
        "that agrees on about half the test rows. A representer need not be exact to give its row away: the "
        "nearest training row of a rough one is often already right, and a few dozen more queries name most "
        "rows while the copy still disagrees on many test rows (move the panel to 120 queries)."))


def leaked_rows(answer, target):
    """Exercise: ``answer`` lists the training rows the target kept as its representers.

    Right when at least two thirds of the secret rows are named, in no more rows than there
    are representers (an extraction may miss a few).
    """
    if answer is None:
        return _unanswered("a list of training-row indices")
    expected = set(_final(target).representer_index_.tolist())
    try:
        found = {int(i) for i in np.asarray(answer).ravel()}
    except (TypeError, ValueError):
        return Verdict(False, "expected a list of integer row indices")
    hits = len(expected & found)
    ok = 3 * hits >= 2 * len(expected) and len(found) <= len(expected)
    return _verdict(ok, f"{hits} of the {len(expected)} secret training rows leaked through the API.",
                    f"{hits} of {len(expected)} found, in {len(found)} rows: for each stolen representer, "
                    "take the one training row nearest to it.")


def inversion_ratio(answer, steps, c, d, extraction):
    """Exercise: how many times more online queries black-box inversion pays than extract-then-invert.

    Black box: ``steps`` gradient steps for each of ``c`` classes, each a batch of ``d + 1`` rows (the
    row and its ``d`` forward-difference neighbours); the stolen route pays only the extraction's
    ``extraction`` queries.  Right within 1%.
    """
    if answer is None:
        return _unanswered("a ratio (a number)")
    black_box = steps * c * (d + 1)
    return _number(answer, black_box / extraction, rtol=0.01,
                   praise=f"{steps} x {c} x {d + 1} = {black_box:,} queries against {extraction:,}: "
                          f"{black_box / extraction:,.0f} times as many.",
                   hint="every step of every class asks for d + 1 rows (the row and one neighbour per feature); "
                        "the stolen route asks only for the extraction.")


# --- 07 online attacks --------------------------------------------------------------------


def online_queries(predicted, dataset, bins):
    """Predict, then run: the queries :func:`kit.attacks.online_extraction` spends (incomplete queries, epsilon
    1e-3) on a logistic regression of ``dataset`` whose continuous features are each cut into ``bins`` quantile bins.

    A prediction within a factor of 1.5 of the measured count is right.
    """
    scan, epsilon = 5, 1e-3
    found = {}

    def run():
        kind = "logreg" if len(dataset.classes) == 2 else "softmax"
        target = train_target(dataset, kind, extraction="amazon", bins=bins)
        found["stolen"] = online_extraction(PredictionAPI(target, dataset.features), epsilon=epsilon, scan=scan)
        return found["stolen"].queries

    def explain(measured):
        stolen = found["stolen"]
        features = len(stolen.info["edges"])
        edges = sum(len(values) for values in stolen.info["edges"].values())
        searches = measured - 1 - scan * features
        step = 2 / (scan - 1)
        return (f"1 empty query, {scan} scan values for each of the {features} features ({scan * features}), then "
                f"{searches:.0f} queries to place the {edges} edges: {searches / edges:.1f} per edge. Each line "
                f"search halves the scan's step of {step:g} until it is under epsilon = {epsilon:g}: "
                f"log2({step:g} / {epsilon:g}) is about {np.log2(step / epsilon):.0f} halvings, a few fewer when two "
                "edges fall in the same scan interval and share their first halvings. The cost grows with the "
                "number of edges times log2(1 / epsilon), whatever the bins' widths.")

    return _prediction(predicted, run, close=lambda guess, measured: measured / 1.5 <= guess <= 1.5 * measured,
                       explain=explain)


def omitted_features(choice):
    """Multiple choice: why a query that sets one feature and omits the others gives a one-unknown equation."""
    return _choice(choice, {
        "a": (False, "the service runs one model on all the encoded columns at once; what isolates one feature is "
                     "that the omitted features' columns are zeros, not a model per feature."),
        "b": (True, "an omitted feature encodes as all-zero columns, so its weights multiply 0 and drop out of the "
                    "score: log(p_i / p_0) is the bias difference (known from the empty query) plus the weight "
                    "difference of the one bin the set value falls in, one new unknown per query."),
        "c": (False, "a complete query's score adds the weights of one bin of every feature: d unknowns in one "
                     "equation. It is the zeros of the omitted features that leave only one (and it is the "
                     "log-ratio that is linear, not the softmax)."),
        "d": (False, "the bin edges are the owner's secret (the attacker finds them by line search); and even "
                     "known edges would not separate the features' weights in one complete answer."),
    })


def complete_queries(choice):
    """Multiple choice: what refusing incomplete queries does to the online attack's cost."""
    return _choice(choice, {
        "a": (False, "each answer does mix all the features' weights, but a query that changes one feature of a "
                     "fixed base row changes only that feature's term: the base row's answer measures the rest, "
                     "a constant."),
        "b": (False, "the queries do not multiply by d: each one still changes one feature, as with incomplete "
                     "queries."),
        "c": (True, "the attack fixes a base row (the centre of the space) and changes one feature per query; the "
                    "difference from the base row's answer is that feature's term alone, so the scans and line "
                    "searches are the same. Iris: 295 queries instead of 299 (the scan values at the centre are "
                    "the base row itself)."),
        "d": (False, "a logistic regression adds the features' terms, it never multiplies them: no combination of "
                     "bins needs asking, only each bin once."),
    })


def charge_first(choice):
    """Multiple choice: why the service charges a key before its model answers, in the statement that checks the
    budget."""
    return _choice(choice, {
        "a": (True, "check, answer, then count lets two requests that arrive together both pass the check and both "
                    "be answered: the budget is overshot (the kit's first in-process API, which worked that way, "
                    "answered 16 threads 1,021 to 1,116 rows against a budget of 1,000). Checking and charging "
                    "in one statement makes them one step; a request refused or failed is charged nothing, or "
                    "refunded."),
        "b": (False, "refusals cost nothing: bob's count stayed at 8 after the service refused his second batch."),
        "c": (False, "SQLite can read a count and write it later; the trouble is what other requests do in between."),
        "d": (False, "the order does not make the model faster: the service answers after charging either way."),
    })


# --- 08 capstone --------------------------------------------------------------------------


def capstone_attack(choice):
    """Multiple choice: the attack for a brief that promises labels only and names no model family."""
    return _choice(choice, {
        "a": (False, "equation solving needs confidences: with labels only there is no log-ratio to solve for, "
                     "and equation_solving refuses an API with output='label'."),
        "b": (True, "retraining needs nothing but labels and a model class of your choice: the adaptive strategy "
                    "spends the queries near the boundary it has found so far, and an RBF SVM or an MLP fits "
                    "boundaries a linear model cannot (paper section 6)."),
        "c": (False, "path finding needs the id of the leaf that answered; a labels-only API gives no ids, and "
                     "the brief does not even say the model is a tree."),
        "d": (False, "Lowd-Meek finds the weights of a linear binary classifier; with no family named, the "
                     "target may be a tree, an RBF SVM or a network, whose boundary no weight vector describes."),
    })


def capstone_mlp_queries(predicted):
    """Predict, then run: the queries ``equation_solving(api, model="mlp")`` spends by default on an API like the
    default challenge's (2 features, 2 classes, confidences): a 20-unit network trained on circles.

    A prediction within 10% of the measured count is right.
    """
    shape = {}

    def run():
        circles = load_dataset("circles")
        shape["d"] = len(circles.features)
        api = PredictionAPI(train_target(circles, "mlp"), circles.features)
        return equation_solving(api, model="mlp").queries

    def explain(measured):
        d, hidden = shape["d"], 20
        k = hidden * (d + 1) + hidden + 1
        return (f"the network has k = h(d + 1) + (h + 1) = {hidden * (d + 1)} + {hidden + 1} = {k} unknowns (h = "
                f"{hidden} hidden units, one output for two classes); its equations are not linear, so by default "
                f"the attack asks 2k = {2 * k}, twice the information limit. {measured:.0f} is more than half of a "
                f"300-query budget: a '+' needs a smaller budget= (at least k = {k}).")

    return _prediction(predicted, run, close=lambda guess, measured: abs(guess - measured) <= 0.1 * measured,
                       explain=explain)


def capstone_reverse_sigmoid(choice):
    """Multiple choice: why equation solving still agrees on labels with a binary logistic regression behind the
    reverse sigmoid."""
    return _choice(choice, {
        "a": (False, "2 decimals cannot undo a perturbation of up to beta/2 = 0.25; rounding only adds error."),
        "b": (True, "on two classes the perturbation is increasing and symmetric about 1/2 (beta * gamma < 1), so "
                    "every answer stays on its side of 1/2: the solved boundary w.x + b = 0 lands close to the "
                    "target's, while the solved weights' scale, hence the stolen confidences, are wrong. The grade "
                    "compares labels, so it does not see the damage; the TV distance of kit.agreement does."),
        "c": (False, "the reverse sigmoid perturbs two-class confidences too; notebook 05 measures it on binary "
                     "models."),
        "d": (False, "equation solving reads the confidences (their log-ratios), not the labels; that is why the "
                     "perturbation reaches it at all."),
    })
