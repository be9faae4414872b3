"""The sphinx-gallery configuration of the docs: ``from gallery_conf import sphinx_gallery_conf``.

The gallery's scripts are ``analysis/gallery/plot_*.py``, the one source of
the figures in ``analysis/figures/`` (``analysis/make_figures.py`` imports
them). The build runs every script but the two long training studies
(:data:`NOT_RUN`), whose pages show the committed PNG instead; a script that
fails fails the build. Paths are relative to ``docs/``. The build writes only
into ``docs/auto_examples/`` (and Sphinx's output folder): the scripts save
nothing, and the execution-times pages are not written (each example's page
states its own running time).
"""

from __future__ import annotations

import os
import re

#: Scripts the build does not run: the two long training studies (about 6 and
#: 3.5 minutes on two cores); their docstrings show the committed figure.
NOT_RUN = ("plot_adam_performance.py", "plot_sensitivity.py")

sphinx_gallery_conf = {
    "examples_dirs": "../analysis/gallery",
    "gallery_dirs": "auto_examples",
    # every plot_*.py, except those of NOT_RUN
    "filename_pattern": (
        re.escape(os.sep) + "(?!(?:" + "|".join(re.escape(n) for n in NOT_RUN) + ")$)plot_"
    ),
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    # FuncAnimation objects become JavaScript players (no ffmpeg needed)
    "matplotlib_animations": (True, "jshtml"),
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    # sg_execution_times.rst would be written into docs/ itself
    "write_computation_times": False,
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
}
