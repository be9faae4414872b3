"""The signal layer: filters as values, how they run, and what surrounds them.

- :mod:`~filteropt.signal.arma`: :class:`ARMAFilter`, an immutable LTI filter
  in scipy.signal's conventions, with its ``ba``/``sos``/``zpk``/parallel
  forms and its algebra (``f * g`` in series, ``f + g`` in parallel);
- :mod:`~filteropt.signal.sections`: the stages a filter runs as;
- :mod:`~filteropt.signal.filters`: the named filters (ema, trace, nesterov,
  butterworth, ...) and the public ``filteropt.filters`` namespace;
- :mod:`~filteropt.signal.realisation`: the state forms the stages run in,
  one step at a time, and the check of a realisation in a dtype;
- :mod:`~filteropt.signal.folding`: constant folding for traced updates;
- :mod:`~filteropt.signal.compensation`: a filter with transient
  compensation (:class:`FilterPath`, :class:`NadamSchedule`);
- :mod:`~filteropt.signal.normalizers`: RMS, max, sign and Adadelta.

numpy and scipy only; nothing here knows about recipes or any backend.
"""

from . import filters, normalizers
from .arma import ARMAFilter
from .compensation import FilterPath, NadamSchedule

__all__ = ["ARMAFilter", "FilterPath", "NadamSchedule", "filters", "normalizers"]
