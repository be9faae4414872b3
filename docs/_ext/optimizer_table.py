"""The optimizer table of the docs, generated from the registry at build time.

``.. optimizer-table::`` (in ``optimizers.rst``) writes one row per entry of
:data:`filteropt.recipes.REGISTRY`, and a paragraph per entry below it, from
what the library itself computes: the recipe at its default hyperparameters,
:func:`filteropt.analysis.describe` of it (the words for its filters, its
normalizer and where the learning rate enters), and the coefficients
``(b, a)`` of its gradient filter H(z) and variance filter V(z), from which the
difference equation and the transfer function are written. Nothing is typed
in per optimizer, so the page cannot disagree with the code.

:func:`rows` is plain Python (no Sphinx), so that ``tests/test_docs.py`` can
check it; :func:`setup` registers the directive.
"""

from __future__ import annotations

import re

import numpy as np

#: Coefficients closer to zero than this (relative to the largest) are left out.
_ZERO = 1e-12


def number(value: float) -> str:
    """A coefficient in LaTeX: 6 significant digits, ``1e-07`` as ``10^{-7}``."""
    text = f"{value:.6g}"
    m = re.fullmatch(r"(-?[0-9.]+)e([+-])0*([0-9]+)", text)
    if m:
        mantissa, sign, exponent = m.groups()
        power = f"10^{{{'-' if sign == '-' else ''}{exponent}}}"
        text = power if mantissa in ("1", "-1") else f"{mantissa} \\cdot {power}"
        if mantissa == "-1":
            text = "-" + text
    return text


def _terms(coefficients, symbol) -> list[tuple[float, str]]:
    """``[(c, "x[n-k]")]`` of the non-zero coefficients; ``symbol(k)`` names term k."""
    c = np.real_if_close(np.asarray(coefficients, dtype=complex)).astype(float)
    scale = max(1.0, float(np.max(np.abs(c)))) if c.size else 1.0
    return [(float(v), symbol(k)) for k, v in enumerate(c) if abs(v) > _ZERO * scale]


def _sum(terms: list[tuple[float, str]]) -> str:
    """``0.1 x[n] - 0.9 x[n-1]`` in LaTeX (a unit coefficient is not written)."""
    if not terms:
        return "0"
    out = []
    for i, (c, name) in enumerate(terms):
        sign = "-" if c < 0 else "+"
        mag = abs(c)
        body = (
            name
            if (name and abs(mag - 1.0) < 1e-12)
            else (number(mag) + (f"\\, {name}" if name else ""))
        )
        out.append(("-" if sign == "-" else "") + body if i == 0 else f" {sign} {body}")
    return "".join(out)


def _delay(base: str):
    return lambda k: f"{base}[n]" if k == 0 else f"{base}[n-{k}]"


def _power(k: int) -> str:
    return "" if k == 0 else ("z^{-1}" if k == 1 else f"z^{{-{k}}}")


def difference_equation(f, out: str = "y", inp: str = "x") -> str:
    """The difference equation of ``f`` (an ARMAFilter, or None for H = 1) in
    LaTeX, in scipy's convention ``a[0] y[n] = sum b[k] x[n-k] - sum a[k] y[n-k]``."""
    if f is None:
        return f"{out}[n] = {inp}[n]"
    b, a = np.asarray(f.b, dtype=float), np.asarray(f.a, dtype=float)
    b, a = b / a[0], a / a[0]
    terms = _terms(b, _delay(inp)) + [(-c, name) for c, name in _terms(a, _delay(out))[1:]]
    return f"{out}[n] = {_sum(terms)}"


def transfer_function(f, name: str = "H") -> str:
    """``H(z) = B(z^-1) / A(z^-1)`` of ``f`` (None: H = 1) in LaTeX."""
    if f is None:
        return f"{name}(z) = 1"
    b, a = np.asarray(f.b, dtype=float), np.asarray(f.a, dtype=float)
    b, a = b / a[0], a / a[0]
    num = _sum(_terms(b, _power))
    den_terms = _terms(a, _power)
    if len(den_terms) <= 1:
        return f"{name}(z) = {num}"
    return f"{name}(z) = \\frac{{{num}}}{{{_sum(den_terms)}}}"


def _stage_words(stages) -> str:
    words = {"lr": "learning rate", "filter": "H(z)", "normalize": "normalizer"}
    return " → ".join(words[s] for s in stages)


def rows() -> list[dict]:
    """One dict per entry of :data:`filteropt.recipes.REGISTRY`, in its order.

    Keys: ``name``, ``optimizer`` (the Keras class), ``keras`` (the built-in it
    equals, or None), ``summary``, ``hyperparameters`` (the defaults the
    equations are written at), ``gradient_filtering``, ``normalization``,
    ``variance_filtering``, ``learning_rate``, ``stages``, ``form``,
    ``equation`` and ``transfer_function`` (of H, LaTeX), and
    ``variance_equation`` and ``variance_transfer_function`` (of V, LaTeX, or
    None without a variance filter).
    """
    from filteropt import analysis, recipes

    out = []
    for e in recipes.REGISTRY.values():
        recipe = e.make()
        d = analysis.describe(recipe)
        h, v = d["gradient_filter"], d["variance_filter"]
        out.append(
            {
                "name": e.name,
                "optimizer": e.optimizer,
                "keras": e.keras,
                "summary": e.summary,
                "hyperparameters": d["hyperparameters"],
                "gradient_filtering": d["gradient_filtering"],
                "normalization": d["gradient_normalization"],
                "variance_filtering": d["variance_filter_kind"],
                "learning_rate": d["learning_rate"],
                "stages": _stage_words(d["stages"]),
                "form": "identity" if h is None else h.form,
                "weight_decay": d["weight_decay"],
                "equation": difference_equation(h),
                "transfer_function": transfer_function(h, "H"),
                "variance_equation": None if v is None else difference_equation(v, "s", "u"),
                "variance_transfer_function": None if v is None else transfer_function(v, "V"),
            }
        )
    return out


def _value(v) -> str:
    """A hyperparameter as a spec writes it (floats to 6 significant digits)."""
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(_value(x) for x in v) + ")"
    return repr(v) if isinstance(v, str) else str(v)


def _cell(text: str) -> str:
    """Plain words as reST: one line, inline markup characters escaped."""
    return re.sub(r"([\\`*|_])", r"\\\1", " ".join(str(text).split()))


def rst(table_rows: list[dict] | None = None) -> str:
    """The reST of the table and of the paragraph on each entry."""
    table_rows = rows() if table_rows is None else table_rows
    lines = [
        ".. list-table:: The named optimizers: spec, class, gradient filter at the defaults",
        "   :header-rows: 1",
        "   :widths: 14 18 12 56",
        "   :class: optimizer-table",
        "",
        "   * - spec",
        "     - Keras class",
        "     - equals",
        "     - H(z) at the defaults",
    ]
    for r in table_rows:
        keras = f"``keras.optimizers.{r['keras']}``" if r["keras"] else "—"
        lines += [
            f"   * - :ref:`{r['name']} <optimizer-{r['name']}>`",
            f"     - :class:`~filteropt.{r['optimizer']}`",
            f"     - {keras}",
            f"     - :math:`{r['transfer_function']}`",
        ]
    lines.append("")
    for r in table_rows:
        params = ", ".join(f"{k}={_value(v)}" for k, v in r["hyperparameters"].items())
        title = f"``{r['name']}``"
        lines += [f".. _optimizer-{r['name']}:", "", title, "~" * len(title), ""]
        # the summary is a docstring's first line: reST already
        lines += [" ".join(r["summary"].split()) or r["name"], ""]
        lines += [
            f"Keras class :class:`filteropt.{r['optimizer']}`"
            + (f", equal to ``keras.optimizers.{r['keras']}``" if r["keras"] else "")
            + f"; spec ``{r['name']}``, at the defaults ``{params or 'none'}``.",
            "",
            f"- gradient filter: {_cell(r['gradient_filtering'])}"
            + ("" if r["form"] == "identity" else f" (runs in the {r['form']} form)"),
            "",
            "  .. math::",
            "",
            f"     {r['equation']}",
            "",
            "  .. math::",
            "",
            f"     {r['transfer_function']}",
            "",
            f"- normalization: {_cell(r['normalization'])}",
        ]
        if r["variance_transfer_function"] is not None:
            lines += [
                (
                    f"- variance filter: {_cell(r['variance_filtering'])}, on the normalizer's"
                    " input :math:`u`, the square it averages (:math:`g^2` for RMS)"
                ),
                "",
                "  .. math::",
                "",
                f"     {r['variance_equation']}",
                "",
                "  .. math::",
                "",
                f"     {r['variance_transfer_function']}",
                "",
            ]
        lines += [
            f"- learning rate: {_cell(r['learning_rate'])}; stages {r['stages']}",
        ]
        if r["weight_decay"]:
            lines.append(
                f"- decoupled weight decay {r['weight_decay']:g}: "
                ":math:`\\theta[i] = (1 - \\eta \\lambda)\\, \\theta[i-1] + \\Delta[i]`"
            )
        lines.append("")
    return "\n".join(lines)


def setup(app):
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    class OptimizerTable(SphinxDirective):
        """``.. optimizer-table::``: the table and the entries, from the registry."""

        has_content = False

        def run(self):
            from docutils import nodes

            node = nodes.section()
            node.document = self.state.document
            source = self.get_source_info()[0]
            content = StringList(rst().splitlines(), source=source)
            nested_parse_with_titles(self.state, content, node)
            return node.children

    app.add_directive("optimizer-table", OptimizerTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
