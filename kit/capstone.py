"""The capstone: steal a model you cannot see, then hand in one grade line.

A teacher's seed draws a hidden target (:func:`challenge`): its kind, the data set it was trained on, and
the prediction API in front of it (output kind, rounding, perturbations, a query monitor), with a budget
and a price.  The learner gets the API and a brief of what the service's documentation says, attacks with
:mod:`kit.attacks`, and scores the stolen model with :meth:`Challenge.score`, which prints one line::

    CAPSTONE seed=7 student=alice agreement_test=99.12 agreement_uniform=98.70 queries=412 budget=500 cost=0.0412
    flagged=no grade=A

(on one line).  The teacher collects the lines and ranks them with :func:`leaderboard`.

What the brief reveals, as a 2016 service's documentation did: the features and their ranges, the classes,
the output kind, the rounding, the budget and the price, and whether a query monitor watches the clients.
It never names the data set, nor the perturbations of the confidences (noise, reverse sigmoid); it names
the model family only when the seed says the documentation does.

Grades (:func:`grade`): A for at least 99% agreement on test rows and 95% on uniform rows; B for 95% on test
rows; C for 90%; D for 75%; else F.  A "+" goes to a passing grade that spent at most half the budget; a
client the monitor flagged loses one letter (D becomes F).

How hidden is the target?  In process, :attr:`Challenge.api` is a :class:`SealedAPI`: its attributes are the
public description, and its only link to the model is a closure; it refuses to be pickled or copied.  That
keeps the model out of reach of the notebook's variables and of ``vars``, ``dir`` and ``repr``, not out of
reach of a determined reader: Python hides nothing from code in the same process (a closure's cells can be
read, and anyone with the seed can draw the same target again).  Over the service (:meth:`Challenge.serve`),
from another process with only a URL and a key, the target is truly hidden.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pandas as pd

from . import service
from .api import PredictionAPI
from .data import load_dataset
from .defenses import GaussianNoise, QueryMonitor, ReverseSigmoid, Rounding
from .extraction import Extraction
from .metrics import agreement
from .targets import train_target

DATASETS = {"circles": (2, 2), "moons": (2, 2), "breast-cancer-diagnostic": (2, 30), "blobs": (3, 2),
            "iris": (3, 4), "5-class": (5, 20), "digits": (10, 64)}
"""The data sets a target may be trained on (all ship with the kit): numbers of classes and of (continuous) features."""
MOST_QUERIES = 5000
"""The largest budget drawn (the query monitor compares each query with all the earlier ones)."""
KINDS = {2: ("logreg", "tree", "rbf-svm", "mlp"), "many": ("softmax", "tree", "mlp")}
"""The target kinds drawn for two classes and for more."""
PRICES = (0.0001, 0.0005, 0.005)
"""Dollars per query: Amazon (2016), Google ($0.50 per 1,000), BigML's dearest ($5 per 1,000)."""
GRADES = ("A+", "A", "B+", "B", "C+", "C", "D+", "D", "F")
"""Every grade, best first."""
STUDENT = re.compile(r"[A-Za-z0-9_.-]+")
LINE = re.compile(
    r"CAPSTONE seed=(?P<seed>\d+) student=(?P<student>[A-Za-z0-9_.-]+) agreement_test=(?P<agreement_test>\d+\.\d\d) "
    r"agreement_uniform=(?P<agreement_uniform>\d+\.\d\d) queries=(?P<queries>\d+) budget=(?P<budget>\d+) "
    r"cost=(?P<cost>\d+\.\d+) flagged=(?P<flagged>yes|no) grade=(?P<grade>[A-D]\+?|F)"
)
"""A grade line, as :meth:`Challenge.score` prints it."""


@dataclass(frozen=True)
class _Settings:
    """What a seed draws: the hidden target and its API (the teacher's view; never handed to the learner)."""

    dataset: str
    kind: str
    output: str
    decimals: int | None
    perturbation: str | None
    monitor: bool
    family_public: bool
    budget: int
    price: float


def _draw(seed) -> _Settings:
    """The hidden settings a seed draws (the same seed, the same settings)."""
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    rng = np.random.default_rng([int(seed), 2016])
    dataset = str(rng.choice(list(DATASETS)))
    n_classes, n_features = DATASETS[dataset]
    kind = str(rng.choice(KINDS[2] if n_classes == 2 else KINDS["many"]))
    output = str(rng.choice(["label", "proba", "leaf"] if kind == "tree" else ["label", "proba"]))
    decimals = None if output == "label" else [None, 4, 2][rng.integers(3)]
    perturbation = [None, None, "noise", "reverse-sigmoid"][rng.integers(4)] if output == "proba" else None
    per_unknown = int(rng.choice([20, 50, 100]))
    unknowns = (n_features + 1) * max(1, n_classes - 1)  # a linear model's, as equation solving counts them
    budget = min(-(-per_unknown * unknowns // 50) * 50, MOST_QUERIES)  # rounded up to a multiple of 50
    return _Settings(dataset, kind, output, decimals, perturbation, monitor=bool(rng.random() < 1 / 3),
                    family_public=bool(rng.random() < 0.5), budget=int(budget), price=float(rng.choice(PRICES)))


def _defenses(settings):
    perturbation = {None: [], "noise": [GaussianNoise(0.02)], "reverse-sigmoid": [ReverseSigmoid()]}
    rounding = [] if settings.decimals is None else [Rounding(settings.decimals)]
    monitor = [QueryMonitor(action="flag")] if settings.monitor else []
    return perturbation[settings.perturbation] + rounding + monitor


class SealedAPI:
    """A prediction API that gives out its answers and its public description, never its model.

    It has the interface the attacks use (``query``, ``check``, ``features``, ``classes``, ``output``,
    ``decimals``, ``budget``, ``price_per_query``, ``queries_used``, ``cost``, ``remaining``, ``log``,
    ``accepts_incomplete``).  Its one link to the model is a closure; it cannot be pickled or copied.
    """

    __slots__ = ("_door", "features", "classes", "output", "decimals", "budget", "price_per_query",
                 "accepts_incomplete")

    def __init__(self, api: PredictionAPI):
        def door(name, *args):
            """The one way in: the wrapped API's public methods and counters, nothing else."""
            if name not in ("query", "check", "queries_used", "cost", "remaining", "log"):
                raise AttributeError(name)
            value = getattr(api, name)
            return value(*args) if name in ("query", "check") else value

        self._door = door
        for name in SealedAPI.__slots__[1:]:
            setattr(self, name, getattr(api, name))

    def query(self, X):
        """Answer rows as :meth:`kit.PredictionAPI.query` does (and with its errors)."""
        return self._door("query", X)

    def check(self, X):
        """Validate rows against the public schema (:meth:`kit.PredictionAPI.check`)."""
        return self._door("check", X)

    queries_used = property(lambda self: self._door("queries_used"), doc="Inputs answered so far.")
    cost = property(lambda self: self._door("cost"), doc="Dollars spent so far.")
    remaining = property(lambda self: self._door("remaining"), doc="Queries left in the budget.")
    log = property(lambda self: self._door("log"), doc="Every input answered and its answer.")

    def __reduce_ex__(self, protocol):
        raise TypeError("the capstone's API cannot be pickled or copied: its model stays with the teacher")

    def __repr__(self):
        return (f"SealedAPI(output={self.output!r}, decimals={self.decimals}, {self.queries_used} queries used "
                f"of {self.budget}, cost ${self.cost:,.4f})")


class Challenge:
    """A hidden target behind a :class:`SealedAPI`; made by :func:`challenge`.

    Attributes
    ----------
    seed : int
    api : SealedAPI
        The only door to the target.
    brief : str
        What the service's documentation says (print it).
    budget : int
        Queries the API answers in all.
    price : float
        Dollars per query.
    """

    __slots__ = ("seed", "api", "brief", "budget", "price", "_teacher")

    def __init__(self, seed):
        settings = _draw(seed)
        dataset = load_dataset(settings.dataset, random_state=seed)
        target = train_target(dataset, settings.kind, random_state=seed)
        api = PredictionAPI(target, dataset.features, output=settings.output, budget=settings.budget,
                            price_per_query=settings.price, defenses=_defenses(settings))
        self.seed, self.budget, self.price = int(seed), settings.budget, settings.price
        self.api = SealedAPI(api)
        self.brief = _brief(settings, api)

        served = []

        def teacher(action, *args):
            """The teacher's side, behind a closure: score a stolen model, read the monitors, or serve the target."""
            if action == "agreement":
                return agreement(target, args[0], dataset, random_state=seed)
            if action == "flagged":  # in process the client is None; over the service, the key's name
                watched = [(None, api)] + [(args[0], one) for one in served]
                return any(client in getattr(defense, "flagged", {}) for client, one in watched
                           for defense in one.defenses)
            served.append(PredictionAPI(target, dataset.features, output=settings.output,
                                        price_per_query=settings.price, defenses=_defenses(settings)))
            return service.start({"capstone": served[-1]})

        self._teacher = teacher

    def score(self, stolen, *, student, queries=None, flagged=None) -> str:
        """Score a stolen model against the hidden target; print and return the grade line.

        Parameters
        ----------
        stolen : Extraction or fitted estimator
            The stolen model (taking the API's raw rows, with ``predict``).
        student : str
            The name on the line: letters, digits, ``_``, ``.`` and ``-``.
        queries : int or None
            Queries spent; None counts this challenge's API (all attempts).  Over the service, the teacher
            passes the key's count: ``service.ledger.usage(key).queries_used``.
        flagged : bool or None
            Whether the monitor flagged the student; None asks the monitors of this challenge's API and of the
            services it started (there, for the key named ``student``).
        """
        if not isinstance(student, str) or not STUDENT.fullmatch(student):
            raise ValueError(f"student must be a name of letters, digits, '_', '.' or '-', got {student!r}")
        model = stolen.model if isinstance(stolen, Extraction) else stolen
        if not hasattr(model, "predict"):
            raise ValueError(f"expected an Extraction or a fitted model with predict(), got {type(model).__name__}")
        queries = self.api.queries_used if queries is None else queries
        if isinstance(queries, bool) or not isinstance(queries, Integral) or not 0 <= queries <= self.budget:
            raise ValueError(f"queries must be a whole number from 0 to the budget {self.budget}, got {queries!r}")
        flagged = self._teacher("flagged", student) if flagged is None else bool(flagged)
        measured = self._teacher("agreement", model)
        test, uniform = 100 * measured.test, 100 * measured.uniform
        line = (f"CAPSTONE seed={self.seed} student={student} agreement_test={test:.2f} "
                f"agreement_uniform={uniform:.2f} queries={queries} budget={self.budget} "
                f"cost={queries * self.price:.4f} flagged={'yes' if flagged else 'no'} "
                f"grade={grade(round(test, 2), round(uniform, 2), queries, self.budget, flagged=flagged)}")
        print(line)
        return line

    def serve(self) -> service.Service:
        """Serve the hidden target (as the model ``"capstone"``) on a background thread of this machine.

        Give each student a key with the challenge's budget, ``service.create_key(name, budget=challenge.budget)``;
        they attack ``kit.RemoteAPI(service.url, key)``, and hand in their stolen model; score it with
        ``score(model, student=name, queries=service.ledger.usage(key).queries_used)``.  The served target has
        its own monitor, which watches each key apart.
        """
        return self._teacher("serve")

    def __reduce_ex__(self, protocol):
        raise TypeError("a capstone challenge cannot be pickled or copied: draw it again from its seed")

    def __repr__(self):
        return f"Challenge(seed={self.seed}, budget={self.budget}, price=${self.price:g} per query)"


def challenge(seed=30) -> Challenge:
    """Draw the hidden target of ``seed`` and put it behind a :class:`SealedAPI` (teachers: set your own seed;
    the default, 30, is notebook 08's worked example)."""
    return Challenge(seed)


def _brief(settings, api):
    rounding = "" if settings.decimals is None else f" (rounded to {settings.decimals} decimals)"
    outputs = {"label": "the predicted class only",
               "proba": f"the predicted class and the confidence of every class{rounding}",
               "leaf": f"the predicted class, the confidences{rounding}, and the id of the decision-tree leaf that "
                       "answered"}
    features = ", ".join(f"{f.name} in [{f.low:g}, {f.high:g}]" for f in api.features)
    if len(api.features) > 6:
        features = f"{len(api.features)} continuous features ({features.split(', ')[0]}, ...)"
    family = (f"The documentation names the model family: {settings.kind}." if settings.family_public
              else "The model family is not published.")
    monitor = ("A query monitor watches every client's stream of queries and flags the ones that look like an "
               "extraction." if settings.monitor else "No query monitor is announced.")
    incomplete = " Rows may leave features out (incomplete queries)." if api.accepts_incomplete else ""
    return (f"Inputs: {features}.\nClasses: {', '.join(map(str, api.classes))}.\n"
            f"Each answer gives {outputs[settings.output]}.{incomplete}\n{family}\n{monitor}\n"
            f"Budget: {settings.budget} queries at ${settings.price:g} each "
            f"(${settings.budget * settings.price:,.2f} in all).")


def grade(agreement_test, agreement_uniform, queries, budget, *, flagged=False) -> str:
    """The grade of a stolen model: a letter from its agreement (percent), a "+" for thrift, a letter lost if flagged.

    A: test >= 99 and uniform >= 95; B: test >= 95; C: test >= 90; D: test >= 75; else F.  A passing grade that
    spent at most half the budget gains a "+"; a client flagged by the monitor drops one letter (D to F).
    """
    letters = "ABCDF"
    floors = [(99, 95), (95, 0), (90, 0), (75, 0)]
    letter = next((i for i, (test, uniform) in enumerate(floors)
                   if agreement_test >= test and agreement_uniform >= uniform), 4)
    letter = min(letter + bool(flagged), 4)
    return letters[letter] + ("+" if letter < 4 and 2 * queries <= budget else "")


def leaderboard(lines) -> pd.DataFrame:
    """Rank students' grade lines: best grade first, then agreement on test and uniform rows, then fewer queries.

    A student's best line counts.  Raises a one-line ValueError for a line that is not a grade line, whose grade
    does not follow from its figures, or from another seed than the others.
    """
    rows = []
    for number, line in enumerate(lines, start=1):
        found = LINE.fullmatch(str(line).strip())
        if not found:
            raise ValueError(f"line {number} is not a capstone grade line: {str(line)[:80]!r}; expected "
                             "'CAPSTONE seed=N student=NAME agreement_test=.. agreement_uniform=.. queries=N "
                             "budget=N cost=.. flagged=yes|no grade=G'")
        row = {name: found[name] for name in ("student", "grade", "flagged")}
        row |= {name: int(found[name]) for name in ("seed", "queries", "budget")}
        row |= {name: float(found[name]) for name in ("agreement_test", "agreement_uniform", "cost")}
        expected = grade(row["agreement_test"], row["agreement_uniform"], row["queries"], row["budget"],
                         flagged=row["flagged"] == "yes")
        if row["grade"] != expected or row["queries"] > row["budget"]:
            raise ValueError(f"line {number} ({row['student']}): its figures give grade {expected}, not "
                             f"{row['grade']} (or it spent more than its budget)")
        rows.append(row)
    if len({row["seed"] for row in rows}) > 1:
        raise ValueError(f"the lines come from several seeds ({sorted({row['seed'] for row in rows})}); "
                         "rank one challenge at a time")
    columns = ["student", "grade", "agreement_test", "agreement_uniform", "queries", "budget", "cost", "flagged"]
    table = pd.DataFrame(rows, columns=["seed", *columns])
    table["rank_of_grade"] = table["grade"].map(GRADES.index)
    table = table.sort_values(["rank_of_grade", "agreement_test", "agreement_uniform", "queries"],
                              ascending=[True, False, False, True], kind="stable")
    table = table.drop_duplicates("student").reset_index(drop=True)[columns]
    table.index = pd.RangeIndex(1, len(table) + 1, name="rank")
    return table
