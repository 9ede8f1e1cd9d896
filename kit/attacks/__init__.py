"""The attacks of Tramer et al. (2016), one module per idea of the paper.

=================  ===========  =============================================================
module             section      what it does
=================  ===========  =============================================================
``equations``      4.1.1-4.1.2  equation solving: LR, softmax and one-vs-rest from confidences
``network``        4.1.2        the stolen neural network and how it is fitted to confidences
``softlabels``     4.1          the losses and the optimiser shared by those fits
``kernel``         4.1.3        kernel LR leaks its training points (representers)
``inversion``      4.1.4        model inversion on the stolen model
``trees``          4.2          path finding on decision trees
``online``         5            feature extraction reverse engineering, then equation solving
``lowd_meek``      6            Lowd-Meek on linear models and polynomial-kernel SVMs
``retraining``     6            uniform, line-search and adaptive retraining from labels
``linesearch``     6            label-only bisection towards the boundary (shared)
``budget``         4.1, 6       unknowns, information limits, budgets and settings (shared)
=================  ===========  =============================================================

Each attack is ``attack(api, *, budget=None, random_state=0, **knobs) -> Extraction``
and reaches the target only through ``api``.
"""

from .budget import UncertifiedWarning, budget_for, information_limit, n_parameters, n_unknowns
from .equations import equation_solving
from .inversion import Inversion, model_inversion, plot_prototypes, prototype_similarity
from .kernel import kernel_leakage, plot_representers
from .lowd_meek import lowd_meek, lowd_meek_poly
from .online import online_extraction
from .retraining import retraining
from .trees import StolenTree, path_finding, plot_leaves

__all__ = ["budget_for", "information_limit", "n_parameters", "n_unknowns"]
__all__ += ["equation_solving", "kernel_leakage", "plot_representers"]
__all__ += ["Inversion", "model_inversion", "plot_prototypes", "prototype_similarity"]
__all__ += ["lowd_meek", "lowd_meek_poly", "retraining"]
__all__ += ["StolenTree", "path_finding", "plot_leaves"]
__all__ += ["UncertifiedWarning", "online_extraction"]
