"""What an optimizer does, from its recipe: responses, tables, the closed loop.

- :mod:`~filteropt.analysis.responses`: frequency, step, impulse and
  pole-zero responses, group delay, the effective learning rate;
- :mod:`~filteropt.analysis.summary`: words for filters and recipes, and the
  lecture's "Summary of Optimizers" table;
- :mod:`~filteropt.analysis.closed_loop`: the optimizer on a quadratic:
  characteristic polynomial, rates, noise gains and optima;
- :mod:`~filteropt.analysis.stability`: the stability limit, the step
  eta lambda at which that loop first becomes unstable;
- :mod:`~filteropt.analysis.measured`: :class:`ProbeRecord`, what a
  :class:`filteropt.GradientProbe` recorded in training, its spectra and
  the optimizer's measured response.

numpy and scipy only: nothing here imports a deep-learning backend. Every
function takes a recipe (or its name, ``"nesterov:momentum=0.95"``), a
filteropt optimizer instance, or a bare :class:`~filteropt.ARMAFilter`.
"""

from .closed_loop import *  # noqa: F403
from .closed_loop import __all__ as _closed_loop
from .measured import ProbeRecord, band_fraction
from .responses import *  # noqa: F403
from .responses import __all__ as _responses
from .stability import *  # noqa: F403
from .stability import __all__ as _stability
from .summary import *  # noqa: F403
from .summary import __all__ as _summary

__all__ = [*_responses, *_summary, *_closed_loop, *_stability, "ProbeRecord", "band_fraction"]
