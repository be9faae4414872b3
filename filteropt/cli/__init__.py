"""The ``filteropt`` command line (see :mod:`filteropt.cli.command`).

- :mod:`~filteropt.cli.command`: the parser and the subcommands;
- :mod:`~filteropt.cli.compare`: ``filteropt compare``, training the lecture's
  models with several optimizers;
- :mod:`~filteropt.cli.tasks`: the models and data ``compare`` trains on.

The top layer: it may import everything below it; only ``compare`` (and the
schedule figure) import Keras.
"""

from .command import UsageError, main

__all__ = ["main", "UsageError"]
