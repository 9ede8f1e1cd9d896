"""IBM's Adversarial Robustness Toolbox (ART) against a kit API: its extraction attacks, counted by the kit.

Three lines run any ART extraction attack through a :class:`kit.PredictionAPI`::

    import kit.peers.art                             # before ART: it quiets ART's import-time warning
    from art.attacks.extraction import KnockoffNets
    stolen = kit.peers.art.extract(KnockoffNets, api, nb_stolen=300)   # a kit.Extraction

:func:`victim` is the API as an ART classifier (each row ART asks is one query of the API,
counted and priced), :func:`make_thief` a scikit-learn model for ART to train that takes the
API's raw rows (the kit's public one-hot encoding is its first step), :func:`extract` runs
an attack with both and returns a :class:`kit.Extraction`.  They handle what ART 1.20 does
not expect of a prediction API:

- ART passes a network's ``batch_size``, ``nb_epochs`` and ``verbose`` to the thief's
  ``fit``; a scikit-learn ``fit`` takes none of them (TypeError): :class:`Thief` drops them.
- ART hands the thief raw rows, categorical codes included: :func:`make_thief` encodes them as
  the target does; ART's answers are class indices, which :class:`PeerModel` maps back to labels.
- ART draws its rows from numpy's global generator: :func:`extract` seeds it with
  ``random_state`` and gives the caller's state back afterwards.
- ART's ``nb_stolen`` is a cap, not a count (it asks fewer rows when its pool is smaller):
  ``Extraction.queries`` is the API's own count.
- FunctionallyEquivalentExtraction's line search divides by answers that do not change
  and then asks rows with NaN, and it leaves the feature box: the victim refuses a NaN row,
  and a row outside the box unless ``out_of_range`` says otherwise, before the API charges it.
- ART's black-box classifier casts rows and answers to float32, too coarse for the finite
  differences of FunctionallyEquivalentExtraction: the victim passes both in float64.

:func:`compare` measures ART's KnockoffNets, CopycatCNN and FunctionallyEquivalentExtraction
against the kit's attacks at equal query budgets.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline

from ..api import PredictionAPI, check_query
from ..attacks import budget_for, equation_solving, retraining
from ..attacks.budget import check_budget, check_choice, check_whole, n_parameters
from ..data import DataUnavailable, load_dataset
from ..extraction import Extraction
from ..features import OUT_OF_RANGE, FeatureEncoder, check_ranges, sample_uniform
from ..metrics import agreement
from ..targets import train_target

try:
    with warnings.catch_warnings():
        # ART 1.20 warns on import that PyTorch is missing (for certification tools); nothing here needs it.
        warnings.filterwarnings("ignore", message="PyTorch not found", category=UserWarning)
        from art.attacks.attack import ExtractionAttack
        from art.attacks.extraction import CopycatCNN, FunctionallyEquivalentExtraction, KnockoffNets
        from art.estimators.classification import BlackBoxClassifier, BlackBoxClassifierNeuralNetwork
        from art.estimators.classification.scikitlearn import ScikitlearnClassifier
        from art.estimators.estimator import NeuralNetworkMixin
except ImportError as error:  # pragma: no cover - the [peers] extra is not installed
    raise ImportError("kit.peers.art needs IBM's Adversarial Robustness Toolbox: pip install -e .[peers]") from error

__all__ = ["PeerModel", "Thief", "compare", "extract", "make_thief", "seeded", "victim"]

NAN_ROW = ("ART asked a row with NaN (its search divided answers that did not change, as "
           "FunctionallyEquivalentExtraction does where the confidences saturate); refused before the API charged it")


class _Float64Answers:
    """ART's black-box ``predict`` in float64, in one query.

    ART's own casts rows to float32 on the way in (its identity standardisation) and
    answers to float32 on the way out, and sends batches of ``batch_size`` rows; a victim
    has no preprocessing or defences of ART's to apply, and the API counts rows, not batches.
    """

    def predict(self, x, batch_size=None, **kwargs):
        return self._predict_fn(np.asarray(x, dtype=float))


class Victim(_Float64Answers, BlackBoxClassifier):
    """A kit API as an ART black-box classifier (made by :func:`victim`)."""


class NetworkVictim(_Float64Answers, BlackBoxClassifierNeuralNetwork):
    """A kit API as an ART black-box neural network answering logits (made by :func:`victim` with ``logits=True``)."""


def victim(api, *, logits=False, out_of_range="refuse"):
    """A kit API as an ART classifier: each row ART asks is one query of ``api``, counted and priced.

    Parameters
    ----------
    api : PredictionAPI or RemoteAPI
        A classifier's API (confidences or labels only).
    logits : bool
        False: answer the API's confidence vectors (one-hot labels from a labels-only API),
        as an ART ``BlackBoxClassifier``.  True: answer centred log-confidences
        ``log p - mean(log p)``, which are the target's scores up to a shift per row (the
        logits FunctionallyEquivalentExtraction expects), as an ART neural network; a
        confidence that underflowed to 0 counts as the smallest positive float.
    out_of_range : {"refuse", "clip", "answer"}
        A row outside the feature box of the public schema is refused with a ValueError
        before the API charges it, clipped into the box, or sent as it is
        (:func:`kit.features.check_ranges`).  Rows with NaN are always refused.

    Returns
    -------
    Victim or NetworkVictim
        Its ``predict(x)`` queries the API once for all rows of ``x`` and answers in float64.
    """
    check_choice("out-of-range policy", out_of_range, OUT_OF_RANGE)
    if len(api.classes) < 2:
        raise ValueError("ART's extraction attacks steal classifiers; this API predicts values, not classes")
    if logits and api.output == "label":
        raise ValueError("logits=True needs an API that answers confidences; this one answers labels only")
    position = {label: j for j, label in enumerate(api.classes)}

    def answers(x):
        rows = np.asarray(x, dtype=float)
        if np.isnan(rows).any():
            raise ValueError(NAN_ROW)
        answer = api.query(check_ranges(api.features, check_query(api.features, rows), out_of_range))
        if answer.proba is None:
            return np.eye(len(api.classes))[[position[label] for label in answer.labels.tolist()]]
        if not logits:
            return answer.proba
        scores = np.log(np.maximum(answer.proba, np.finfo(float).tiny))  # 0 is a confidence that underflowed
        return scores - scores.mean(axis=1, keepdims=True)

    kind = NetworkVictim if logits else Victim
    return kind(answers, input_shape=(len(api.features),), nb_classes=len(api.classes))


class Thief(ScikitlearnClassifier):
    """A scikit-learn model for ART to train on the API's raw rows: the public encoding, then ``estimator``.

    Made by :func:`make_thief`.  ART gives it rows and one-hot answers (class indices in the
    order of ``api.classes``); answers of a single class fit a constant, as the kit's
    retraining does, since there is nothing to separate yet.
    """

    def __init__(self, features, estimator, n_classes):
        self.features, self.estimator, self._n_classes = tuple(features), estimator, n_classes
        super().__init__(make_pipeline(FeatureEncoder(self.features), clone(estimator)))

    def _get_input_shape(self, model):
        return (len(self.features),)  # known before the fit (ART would warn on stderr that it is not)

    def _get_nb_classes(self):
        return self._n_classes

    def fit(self, x, y, **kwargs):
        """Fit on ART's rows and answers; ``kwargs`` (``batch_size``, ``nb_epochs``, ``verbose``) are for networks."""
        labels = np.argmax(y, axis=1)
        final = self.estimator if len(np.unique(labels)) > 1 else DummyClassifier(strategy="most_frequent")
        self._model = make_pipeline(FeatureEncoder(self.features), clone(final))
        with warnings.catch_warnings():
            # Answers of a model of the thief's own class are (nearly) separable: the solver pushes the weights up
            # to its iteration cap long after the boundary stopped moving (as in kit.attacks.retraining).
            warnings.simplefilter("ignore", ConvergenceWarning)
            self._model.fit(np.asarray(x, dtype=float), labels)

    def predict(self, x, **kwargs):
        """Confidences over all of the API's classes (a class the answers never showed gets 0)."""
        proba = self._model.predict_proba(np.asarray(x, dtype=float))
        scores = np.zeros((len(proba), self._n_classes))
        scores[:, self._model.classes_] = proba
        return scores


def make_thief(api, estimator=None):
    """A thief for ART's KnockoffNets and CopycatCNN: the API's public one-hot encoding, then ``estimator``.

    Parameters
    ----------
    api : PredictionAPI or RemoteAPI
        Gives the public schema and the classes.
    estimator : scikit-learn classifier or None
        Cloned for every fit.  Default: logistic regression, weakly regularised (``C=1e5``),
        as the kit's retraining fits it.
    """
    estimator = LogisticRegression(C=1e5, max_iter=1000) if estimator is None else estimator
    return Thief(api.features, estimator, len(api.classes))


class PeerModel:
    """What an ART attack stole, as a kit model: raw rows in, the API's labels out.

    Attributes
    ----------
    estimator : ART classifier
        The thief, or the model the attack built (FunctionallyEquivalentExtraction's network).
    classes_ : ndarray
        The API's classes, in the order of the estimator's outputs.
    """

    def __init__(self, estimator, classes):
        self.estimator = estimator
        self.classes_ = np.asarray(classes)

    def predict(self, X):
        return self.classes_[np.argmax(self.estimator.predict(np.asarray(X, dtype=float)), axis=1)]

    def __repr__(self):
        return f"PeerModel({type(self.estimator).__name__})"


@contextlib.contextmanager
def seeded(random_state):
    """Seed numpy's global generator (which ART draws from) for a block, then give the caller's state back."""
    state = np.random.get_state()  # noqa: NPY002 - ART's own draws use the legacy global generator
    np.random.seed(random_state)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _needs_network(attack):
    """Whether an ART attack class takes only neural networks (as FunctionallyEquivalentExtraction does)."""
    flat = []
    for requirement in getattr(attack, "_estimator_requirements", None) or ():
        flat.extend(requirement if isinstance(requirement, tuple) else [requirement])
    return NeuralNetworkMixin in flat


def extract(attack, api, *, pool=None, y=None, thief=None, out_of_range="refuse", random_state=0,
            **params) -> Extraction:
    """Run one of ART's extraction attacks through ``api``; return what it stole as a kit Extraction.

    Parameters
    ----------
    attack : type
        An ART extraction attack class (``KnockoffNets``, ``CopycatCNN``,
        ``FunctionallyEquivalentExtraction``, ...), built here on :func:`victim` (as a
        network answering logits when the attack takes only networks) with ``params``.
    api : PredictionAPI or RemoteAPI
    pool : int, array of shape (n, len(api.features)), or None
        The rows ART picks its queries from (its ``x``): these rows, or that many uniform
        rows of the feature box (:func:`kit.sample_uniform`).  Default: ``nb_stolen`` rows,
        or 100 for an attack without it.
    y : array or None
        Labels of the pool, for attacks that use them (KnockoffNets' adaptive sampling).
    thief : Thief or None
        The model ART trains (KnockoffNets, CopycatCNN); default :func:`make_thief` (logistic
        regression).  Attacks that build their own model ignore it.
    out_of_range : {"refuse", "clip", "answer"}
        What the victim does with rows outside the feature box (see :func:`victim`).
        FunctionallyEquivalentExtraction searches far outside it and needs ``"answer"``.
    random_state : int
        Seeds numpy's global generator while the attack is built and run (ART draws its
        rows there; the caller's state is given back afterwards) and the uniform pool.
    **params
        The attack's settings, for instance ``nb_stolen=300``.

    Returns
    -------
    Extraction
        ``model`` (a :class:`PeerModel`) takes raw rows and predicts the API's labels;
        ``queries`` is the API's count (ART's ``nb_stolen`` is only a cap); ``info`` has
        ``peer`` (the attack's name), ``nb_stolen`` (or None) and ``complete``.

    Raises
    ------
    ValueError
        A bad setting, or a budget the API cannot pay, before the first query; a row the
        victim refuses (NaN, outside the box) before the API charges it.
    """
    if not (isinstance(attack, type) and issubclass(attack, ExtractionAttack)):
        raise ValueError(f"attack must be an ART extraction attack class (such as KnockoffNets), got {attack!r}")
    random_state = check_whole("random_state", random_state, least=0)
    rng = np.random.RandomState(random_state)
    nb_stolen = params.get("nb_stolen")
    if pool is None or isinstance(pool, (int, np.integer)) and not isinstance(pool, bool):
        size = check_whole("pool", (nb_stolen or 100) if pool is None else pool)
        pool = sample_uniform(api.features, size, rng)
    rows = check_query(api.features, pool)
    if nb_stolen is not None:
        check_budget(api, min(check_whole("nb_stolen", nb_stolen), len(rows)), what=attack.__name__)
    thief = make_thief(api) if thief is None else thief
    start = api.queries_used
    target = victim(api, logits=_needs_network(attack), out_of_range=out_of_range)
    # FunctionallyEquivalentExtraction divides by slopes that can be 0 and filters the infinities it gets: numpy's
    # warnings about that are ART's business (a NaN it then asks is refused by the victim).
    with seeded(random_state), np.errstate(divide="ignore", invalid="ignore"):
        stolen = attack(target, **params).extract(rows, y, thieved_classifier=thief)
    return Extraction.from_api(PeerModel(stolen, api.classes), api, since=start, peer=attack.__name__,
                               nb_stolen=nb_stolen, complete=True)


# --- the peers table ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One target of the peers table and how the kit attacks it.

    ``alpha`` set: labels only, the kit's adaptive retraining at ``alpha`` times the
    target's parameters (paper section 6); else confidences and equation solving (4.1).
    """

    dataset: str
    kind: str
    peers: tuple
    alpha: int | None = None
    hidden: int | None = None  # a ReLU network of this many hidden units (FunctionallyEquivalentExtraction)

    @property
    def name(self):
        return f"{self.dataset} {'relu-mlp' if self.hidden else self.kind}"

    @property
    def answers(self):
        return "confidences" if self.alpha is None else "labels"


CASES = (
    Case("moons", "logreg", ("KnockoffNets", "CopycatCNN")),
    Case("adult-income", "logreg", ("KnockoffNets", "CopycatCNN")),
    Case("iris", "softmax", ("KnockoffNets", "CopycatCNN")),
    Case("digits", "softmax", ("KnockoffNets", "CopycatCNN")),
    Case("adult-income", "logreg", ("KnockoffNets", "CopycatCNN"), alpha=10),
    Case("adult-income", "logreg", ("KnockoffNets", "CopycatCNN"), alpha=50),
    Case("adult-race", "mlp", ("KnockoffNets",)),  # its thief is a network already: CopycatCNN would be the same
    # FunctionallyEquivalentExtraction: its search line runs over t in [-h^2, h^2] in steps of at most 0.05, so its
    # queries grow with h^2; it needs confidences that keep their precision far from the box (softmax's do; a binary
    # network's 1 - p cancels, and on moons it asks NaN rows after 6 queries).
    Case("iris", "mlp", ("FunctionallyEquivalentExtraction",), hidden=4),
)
QUICK = ("moons", "iris")
MATCH_CAP = {False: 20_000, True: 500}
"""The most queries tried when looking for the peer's queries to match the kit (quick mode: fewer)."""


def _kit_attack(case, api, random_state):
    """The kit's attack on ``case``: (its name, Extraction)."""
    if case.alpha is not None:
        budget = budget_for(case.alpha, api, case.kind)
        stolen = retraining(api, strategy="adaptive", model=case.kind, budget=budget, random_state=random_state)
        return f"retraining adaptive, alpha {case.alpha}", stolen
    if case.hidden:  # the kit's stolen network is tanh: the wrong class for a ReLU target, at its default budget
        stolen = equation_solving(api, model="mlp", hidden=case.hidden, random_state=random_state)
        return f"equation_solving mlp ({case.hidden} tanh units)", stolen
    if case.kind == "mlp":  # half the unknowns (the paper's smallest budget in Table 4)
        stolen = equation_solving(api, model="mlp", budget=n_parameters(api, "mlp") // 2, random_state=random_state)
        return "equation_solving mlp", stolen
    return f"equation_solving {case.kind}", equation_solving(api, model=case.kind, random_state=random_state)


def _thief_estimator(case, peer, random_state):
    """KnockoffNets' thief is of the target's class (the kit's threat model); CopycatCNN's a generic network."""
    if peer == "KnockoffNets" and case.kind != "mlp":
        return LogisticRegression(C=1e5, max_iter=1000)
    return MLPClassifier(hidden_layer_sizes=(20,), activation="tanh", solver="lbfgs", max_iter=1000,
                         random_state=random_state)


FEE_NOTE = ("its query count is its own (no budget); it needs a ReLU network, logits (centred log-confidences), "
            "float64 answers and rows far outside the feature box answered")


def _peer_run(case, peer, dataset, target, budget, random_state):
    """KnockoffNets or CopycatCNN at ``budget`` on a fresh API: (queries counted by the API, agreement)."""
    api = PredictionAPI(target, dataset.features, output="proba" if case.alpha is None else "label")
    attack = KnockoffNets if peer == "KnockoffNets" else CopycatCNN
    stolen = extract(attack, api, thief=make_thief(api, _thief_estimator(case, peer, random_state)),
                     random_state=random_state, nb_stolen=budget)
    return stolen.queries, agreement(target, stolen.model, dataset, random_state=random_state)


def _fee_run(case, dataset, target, random_state):
    """FunctionallyEquivalentExtraction on a fresh API: (queries counted by the API, agreement or None, note)."""
    api = PredictionAPI(target, dataset.features)
    try:
        stolen = extract(FunctionallyEquivalentExtraction, api, pool=100, out_of_range="answer",
                         random_state=random_state, num_neurons=case.hidden)
    except (AssertionError, ValueError) as error:  # ART reports a failed critical-point search as an AssertionError
        return api.queries_used, None, f"failed: {error}"
    return stolen.queries, agreement(target, stolen.model, dataset, random_state=random_state), FEE_NOTE


def _peer_rows(case, dataset, target, common, random_state, cap):
    """The rows of each peer: at the kit's budget, then doubling budgets until it matches the kit's test agreement."""
    rows = []
    for peer in case.peers:
        if peer == "FunctionallyEquivalentExtraction":  # no budget to set, nothing to double
            queries, score, note = _fee_run(case, dataset, target, random_state)
            first = last = (queries, score)
        else:
            budget, note = common["budget"], ""
            first = last = _peer_run(case, peer, dataset, target, budget, random_state)
            while last[1].test < common["kit_test"] and 2 * budget <= cap:
                budget *= 2
                last = _peer_run(case, peer, dataset, target, budget, random_state)
        queries, score = first
        matched = last[1] is not None and last[1].test >= common["kit_test"]
        if not matched and not note:
            note = f"at the most queries tried, {last[0]:,}: test {last[1].test:.2%}, uniform {last[1].uniform:.2%}"
        rows.append({"target": common["target"], "answers": common["answers"], "peer": peer, **common,
                     "peer_queries": queries, "peer_test": None if score is None else score.test,
                     "peer_uniform": None if score is None else score.uniform,
                     "peer_queries_to_match": last[0] if matched else None, "note": note})
    return rows


def _case_rows(case, random_state, cap):
    try:
        dataset = load_dataset(case.dataset, random_state=random_state)
    except DataUnavailable as error:
        return [{"target": case.name, "answers": case.answers, "peer": peer, "budget": None, "kit_attack": None,
                 "kit_queries": None, "kit_test": None, "kit_uniform": None, "peer_queries": None, "peer_test": None,
                 "peer_uniform": None, "peer_queries_to_match": None, "note": f"skipped: {error}"}
                for peer in case.peers]
    params = {"activation": "relu", "hidden_layer_sizes": (case.hidden,)} if case.hidden else {}
    target = train_target(dataset, case.kind, random_state=random_state, **params)
    api = PredictionAPI(target, dataset.features, output="proba" if case.alpha is None else "label")
    kit_attack, stolen = _kit_attack(case, api, random_state)
    score = agreement(target, stolen.model, dataset, random_state=random_state)
    common = {"target": case.name, "answers": case.answers, "budget": stolen.queries, "kit_attack": kit_attack,
              "kit_queries": stolen.queries, "kit_test": score.test, "kit_uniform": score.uniform}
    return _peer_rows(case, dataset, target, common, random_state, cap)


def compare(*, quick=False, random_state=1) -> list[dict]:
    """The kit against ART's extraction attacks at equal query budgets, counted by the kit's API.

    For each target (:data:`CASES`) the kit's attack runs first; its query count is the
    budget each ART attack gets (``nb_stolen``, uniform rows of the feature box as ART's
    pool).  KnockoffNets' thief is of the target's model class (the kit's threat model),
    CopycatCNN's a network of 20 tanh units; with a scikit-learn thief both pick their rows
    from the pool at random and fit on the labels (ART's thieves learn from labels, not
    confidences).  Each peer is then run again at doubling budgets, up to
    :data:`MATCH_CAP`, until its test agreement reaches the kit's.  Data sets that are not
    available here give rows of None with a note.

    Parameters
    ----------
    quick : bool
        Only the small sets (moons, iris), and a lower cap: seconds.
    random_state : int
        Seeds the data split, the target, the kit's attack and ART (held-out seed 1 by
        default; the kit's defaults were tuned on seed 0).

    Returns
    -------
    list of dict
        One row per target and peer: ``target, answers, peer, budget, kit_attack,
        kit_queries, kit_test, kit_uniform, peer_queries, peer_test, peer_uniform,
        peer_queries_to_match`` (None if never within the cap), ``note`` (what the peer
        reached at the most queries tried when it never matched; why a row is empty).
    """
    if not isinstance(quick, bool):
        raise ValueError(f"quick must be True or False, got {quick!r}")
    random_state = check_whole("random_state", random_state, least=0)
    rows = []
    for case in CASES:
        if not quick or case.dataset in QUICK and not case.hidden:
            rows += _case_rows(case, random_state, MATCH_CAP[quick])
    return rows
