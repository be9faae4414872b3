"""Figures of analysis results (matplotlib; nothing here computes what it draws).

- :mod:`~filteropt.plotting.responses`: frequency, step and pole-zero
  responses, rate maps, the closed-loop picture;
- :mod:`~filteropt.plotting.design`: the rate-noise trade-off of designs;
- :mod:`~filteropt.plotting.probe`: a training run's measured spectra and
  sharpness (:class:`filteropt.GradientProbe`);
- :mod:`~filteropt.plotting.comparison`: tuned, repeated training runs
  (``filteropt compare``): learning curves with their spread, sensitivity
  to the learning rate;
- :mod:`~filteropt.plotting.trajectories`: optimizer paths on a 2-D
  function, a contour plot and its GIF (``filteropt surface``).

Schedule figures need Keras to evaluate the schedules:
:mod:`filteropt.keras.schedule_plots`.
"""

from .comparison import *  # noqa: F403
from .comparison import __all__ as _comparison
from .design import *  # noqa: F403
from .design import __all__ as _design
from .probe import *  # noqa: F403
from .probe import __all__ as _probe
from .responses import *  # noqa: F403
from .responses import __all__ as _responses
from .trajectories import *  # noqa: F403
from .trajectories import __all__ as _trajectories

__all__ = [*_responses, *_design, *_probe, *_comparison, *_trajectories]
