"""The ``filteropt`` command line (see :mod:`filteropt.cli.command`).

- :mod:`~filteropt.cli.command`: the parser and the subcommands;
- :mod:`~filteropt.cli.compare`: ``filteropt compare``, training the lecture's
  models with several optimizers;
- :mod:`~filteropt.cli.tuning`: what a tuned, repeated comparison means
  (learning-rate grids, steps to target, the choice of learning rate);
- :mod:`~filteropt.cli.inspect`: ``filteropt inspect``, training with a
  :class:`~filteropt.GradientProbe`;
- :mod:`~filteropt.cli.surface` and :mod:`~filteropt.cli.surfaces`:
  ``filteropt surface``, optimizers on the lecture's 2-D test functions;
- :mod:`~filteropt.cli.tasks`: the models and data ``compare`` and
  ``inspect`` train on;
- :mod:`~filteropt.cli.output`, :mod:`~filteropt.cli.progress`,
  :mod:`~filteropt.cli.quiet`: results written whole or not at all,
  progress lines, TensorFlow started without its log lines.

The top layer: it may import everything below it; only the commands that
train (and the schedule figure) import Keras.
"""

from .command import UsageError, main

__all__ = ["UsageError", "main"]
