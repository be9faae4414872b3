"""``python -m filteropt.cli``: the ``filteropt`` command."""

import sys

from .command import main

sys.exit(main())
