"""Designing the gradient filter on the closed loop (see :mod:`filteropt.analysis.closed_loop`).

:func:`design_filter` finds the ARMA filter and learning rate with the best
worst-case rate on a quadratic, optionally under a noise bound;
:func:`tradeoff` draws rate against noise for the classic families;
:func:`designed` is the design as a recipe (registered as ``"designed"``).
"""

from .search import *  # noqa: F401,F403
from .search import __all__ as _search
from .recipe import designed

__all__ = [*_search, "designed"]
