"""The attacks of Tramer et al. (2016), one module per family.

Each attack is ``attack(api, *, budget=None, random_state=0, **knobs) -> Extraction``
and reaches the target only through ``api``.
"""

from .equations import equation_solving, kernel_leakage, plot_representers
from .labels import budget_for, lowd_meek, lowd_meek_poly, retraining
from .online import UncertifiedWarning, online_extraction
from .trees import StolenTree, path_finding, plot_leaves

__all__ = []
__all__ += ["equation_solving", "kernel_leakage", "plot_representers"]
__all__ += ["budget_for", "lowd_meek", "lowd_meek_poly", "retraining"]
__all__ += ["StolenTree", "path_finding", "plot_leaves"]
__all__ += ["UncertifiedWarning", "online_extraction"]
