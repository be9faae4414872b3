"""Sphinx configuration of the filteropt documentation.

``python -m sphinx -W --keep-going -b html docs docs/_build/html`` builds the
site. ``FILTEROPT_DOCS_GALLERY=0`` leaves the gallery out (it runs its
scripts, about two and a half minutes on two cores), for a quick build.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
os.environ["CUDA_VISIBLE_DEVICES"] = ""
os.environ["MPLBACKEND"] = "Agg"

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "_ext"))

from sphinx.pycode import ModuleAnalyzer  # noqa: E402

import filteropt  # noqa: E402

# -- project -----------------------------------------------------------------------

project = "filteropt"
copyright = "The filteropt developers"
author = "The filteropt developers"
version = filteropt.__version__
release = filteropt.__version__

# -- extensions --------------------------------------------------------------------

GALLERY = os.environ.get("FILTEROPT_DOCS_GALLERY", "1") != "0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
    "optimizer_table",
]
if GALLERY:
    from gallery_conf import sphinx_gallery_conf  # noqa: F401  (read by sphinx_gallery)

    extensions.append("sphinx_gallery.gen_gallery")

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
if not GALLERY:
    exclude_patterns.append("auto_examples")
root_doc = "index"
source_suffix = {".rst": "restructuredtext"}
default_role = "code"  # `x` is code, as in the docstrings' plain-text maths

# -- autodoc, autosummary, napoleon -------------------------------------------------

autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
# The Keras classes override Keras's methods; Keras's docstrings are not ours.
autodoc_inherit_docstrings = False
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_class_signature = "mixed"

# The docstrings are Google style ("Args:", "Attributes:", "Example:").
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True
napoleon_use_rtype = False
napoleon_attr_annotations = True

# -- HTML --------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"filteropt {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
html_theme_options = {
    # Nothing is fetched from the network at build time.
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "header_links_before_dropdown": 8,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}

# -- generated text ---------------------------------------------------------------


def _write(name: str, text: str) -> None:
    """Writes ``docs/gen/NAME`` (an include, not a page), only if it changed."""
    os.makedirs(os.path.join(HERE, "gen"), exist_ok=True)
    path = os.path.join(HERE, "gen", name)
    if os.path.exists(path):
        with open(path) as fh:
            if fh.read() == text:
                return
    with open(path, "w") as fh:
        fh.write(text)


def _cli_help() -> str:
    """``filteropt --help`` and each subcommand's ``--help``, as reST."""
    from filteropt.cli.command import build_parser

    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "90"  # argparse wraps at the terminal's width
    try:
        parser = build_parser()
        parser.prog = "filteropt"
        sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
        helps = [("main", "filteropt", parser.format_help())]
        helps += [(n, f"filteropt {n}", p.format_help()) for n, p in sub.choices.items()]
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    lines = []
    for key, title, text in helps:
        lines += [f".. _cli-{key}:", "", title, "-" * len(title), "", "::", ""]
        lines += ["    " + t if t.strip() else "" for t in text.rstrip().splitlines()]
        lines += [""]
    return "\n".join(lines)


# The gallery's place in the index's toctree: an include, so that a build
# without the gallery names no page it does not have.
_write(
    "gallery_toctree.inc",
    ".. toctree::\n   :caption: Gallery\n\n   auto_examples/index\n" if GALLERY else "",
)
_write("cli_help.inc", _cli_help())


def _data_docstring(app, what, name, obj, options, lines):
    """A constant's own ``#:`` comment, not its type's docstring.

    A constant re-exported by a package (``filteropt.plotting.RESPONSES``) has
    its ``#:`` comment in the submodule that defines it, where autodoc does not
    look; it would show ``dict``'s docstring instead.
    """
    if what not in ("data", "attribute") or not lines:
        return
    own = getattr(type(obj), "__doc__", None)
    if not own or "\n".join(lines).strip() != inspect.cleandoc(own).strip():
        return
    package, _, attr = name.rpartition(".")
    lines[:] = []
    try:
        module = importlib.import_module(package)
    except ImportError:
        return
    for info in pkgutil.iter_modules(getattr(module, "__path__", []), package + "."):
        sub = importlib.import_module(info.name)
        if getattr(sub, attr, None) is not obj:
            continue
        found = ModuleAnalyzer.for_module(info.name).find_attr_docs().get(("", attr))
        if found:
            lines.extend(list(found))
            return


def setup(app):
    app.connect("autodoc-process-docstring", _data_docstring)
    return {"parallel_read_safe": True}
