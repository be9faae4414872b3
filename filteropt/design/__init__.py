"""Designing the gradient filter on the closed loop (:mod:`filteropt.analysis.closed_loop`).

- :mod:`~filteropt.design.lattice`: reflection coefficients, the
  coordinates in which every filter is stable and minimum-phase;
- :mod:`~filteropt.design.problem`: the two criteria (worst-case rate,
  noise gain at lambda = 1 in two conventions), the checks, the objective;
- :mod:`~filteropt.design.search`: :func:`design_filter`, the ARMA filter
  and learning rate with the best worst-case rate on a quadratic, optionally
  under a noise bound, and its :class:`Design`;
- :mod:`~filteropt.design.tradeoff`: :func:`tradeoff`, rate against noise
  for the classic families and the designs;
- :mod:`~filteropt.design.frontier`: the classic families' Pareto frontiers
  over all their parameters (momentum or cutoff, and learning rate), which
  :func:`tradeoff` returns for them;
- :mod:`~filteropt.design.recipe`: :func:`designed`, a design as a recipe
  (registered as ``"designed"``);
- :mod:`~filteropt.design.measured`: :func:`design_from_record`, a design
  for the curvature and gradient noise a training run measured.

The closed-loop maths itself (rates, noise gains, optima) lives in
:mod:`filteropt.analysis.closed_loop`; ``worst_case_rate`` and
``nesterov_optimum`` stay importable from here as the same objects, but are
listed in :mod:`filteropt.analysis`.
"""

from ..analysis.closed_loop import nesterov_optimum, worst_case_rate  # noqa: F401 (same objects)
from .measured import MeasuredDesign, design_from_record
from .problem import MAX_ORDER, NOISE_MODES, loop_noise_gain
from .recipe import designed
from .search import Design, design_filter
from .tradeoff import FAMILIES, Tradeoff, tradeoff

__all__ = [
    "FAMILIES",
    "MAX_ORDER",
    "NOISE_MODES",
    "Design",
    "MeasuredDesign",
    "Tradeoff",
    "design_filter",
    "design_from_record",
    "designed",
    "loop_noise_gain",
    "tradeoff",
]
