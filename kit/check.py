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
from .features import Feature


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


def queries_for_binary_lr(answer, d):
    """Exercise: how many queries equation solving needs for binary LR on ``d`` encoded features."""
    if answer is None:
        return _unanswered("a number of queries")
    return _number(answer, d + 1, praise=f"d + 1 = {d + 1} unknowns, so {d + 1} equations.",
                   hint="count the unknowns: one weight per encoded feature, plus the bias.")


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
    lower = _panel_uniform_agreement(budget - 1)
    if lower >= 0.99:
        return Verdict(False, f"{budget} queries reach 99%, but so do {budget - 1} ({lower:.2%}): go down.")
    return Verdict(True, f"{budget} queries reach 1-R_unif {panel.result.uniform:.2%}, {budget - 1} only "
                         f"{lower:.2%}. Exact answers need 3 (d + 1): rounding multiplied the price, and the curve "
                         "is not even monotone, since each budget draws other random queries.")


def _panel_uniform_agreement(budget):
    """1-R_unif of notebook 05's panel attack (equation solving on blobs softmax at 2 decimals), through the kit."""
    from .attacks.equations import equation_solving
    from .data import load_dataset
    from .metrics import agreement
    from .targets import train_target

    dataset = load_dataset("blobs")
    target = train_target(dataset, "softmax")
    api = PredictionAPI(target, dataset.features, decimals=2)
    try:
        stolen = equation_solving(api, model="softmax", budget=budget, restarts=1)
    except ValueError:  # below d + 1 queries
        return 0.0
    return agreement(target, stolen.model, dataset).uniform


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

        from .attacks.equations import kernel_leakage

        model = _final(target)
        api = PredictionAPI(target, dataset.features)
        stolen = kernel_leakage(api, n_representers=len(model.representers_), gamma=model.gamma, budget=budget)
        named = pairwise_distances_argmin(stolen.info["representers"], dataset.X_train)
        return len(set(named.tolist()) & set(model.representer_index_.tolist()))

    return _prediction(predicted, run, close=lambda p, m: abs(p - m) <= 2, explain=lambda m: (
        f"{budget} queries named {m} of the secret rows, with barely as many equations as unknowns and a copy "
        "that agrees on under half the test rows. A representer need not be exact to give its row away: the "
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
