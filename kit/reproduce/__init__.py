"""Reproduce the paper's tables and figures with the kit: ``python -m kit reproduce [--quick]``.

One module per experiment (Table 4 ``equations``, Figure 7 ``rounding``, Table 6 ``trees``,
Figures 4-6 ``labels``, model ``inversion``, the Amazon table ``amazon``, the ``defenses`` matrix, and ``peers`` when
ART is installed), each planning its work as jobs and building its tables from their results;
:mod:`kit.reproduce.report` writes ``report.md`` and the plots.

>>> from kit.reproduce import Config, reproduce
>>> reproduce(Config.default(quick=True), only=["amazon"], out="reproduction/quick")  # doctest: +SKIP
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

from tqdm.auto import tqdm

from . import amazon, defenses, equations, inversion, labels, peers, rounding, trees
from .core import Config, Section, Table
from .report import rewrite_readme, write_report

EXPERIMENTS = {module.NAME: module
               for module in (equations, rounding, inversion, trees, labels, amazon, defenses, peers)}
"""Name (for ``--only``) -> experiment module, in the order of the report."""

__all__ = ["EXPERIMENTS", "Config", "Section", "Table", "reproduce", "run_experiment"]


def run_experiment(module, config, *, overall=None, progress=True) -> Section:
    """Run one experiment's jobs with a progress bar, then build its section of the report.

    The warnings a run raises (an attack that cannot certify its result, say) go into the
    section, named by the run, instead of the terminal.
    """
    start = time.perf_counter()
    jobs = module.plan(config)
    results, raised = {}, {}
    with tqdm(jobs, desc=module.NAME, unit="run", leave=False, disable=not progress) as bar:
        for job in bar:
            bar.set_postfix_str(" ".join(map(str, job.key)), refresh=False)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                results[job.key] = job.run()
            for warning in caught:
                raised.setdefault(f"{warning.category.__name__}: {warning.message}", " ".join(map(str, job.key)))
            if overall is not None:
                overall.update()
    section = module.build(config, results)
    section.seconds = time.perf_counter() - start
    section.warnings = [f"{run}: {message}" for message, run in raised.items()]
    return section


def reproduce(config, *, only=None, out="reproduction", readme=None, progress=True):
    """Run the experiments (all, or those named in ``only``), write the report into ``out``.

    Returns
    -------
    (Path, float)
        The report's path and the wall time in seconds.
    """
    names = list(EXPERIMENTS) if not only else list(dict.fromkeys(only))
    unknown = [name for name in names if name not in EXPERIMENTS]
    if unknown:
        raise ValueError(f"unknown experiment {unknown[0]!r}; choose among {', '.join(EXPERIMENTS)}")
    if any(not isinstance(seed, int) or seed < 0 for seed in config.seeds) or not config.seeds:
        raise ValueError(f"seeds must be whole numbers of at least 0, got {config.seeds!r}")
    if readme and not Path(readme).is_file():
        raise ValueError(f"--readme must name an existing file whose marked sections are rewritten, got {readme!r}")
    start = time.perf_counter()
    total = sum(len(EXPERIMENTS[name].plan(config)) for name in names)
    sections = []
    with tqdm(total=total, desc="reproduction", unit="run", disable=not progress) as overall:
        for name in names:
            sections.append(run_experiment(EXPERIMENTS[name], config, overall=overall, progress=progress))
            # written after each experiment: a long run that is stopped keeps what it measured
            path = write_report(sections, config, time.perf_counter() - start, Path(out))
            if readme:
                rewrite_readme(readme, sections[-1:], config)
    return path, time.perf_counter() - start
