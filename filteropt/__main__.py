"""``python -m filteropt``: the ``filteropt`` command."""

import sys

from .cli.command import main

sys.exit(main())
