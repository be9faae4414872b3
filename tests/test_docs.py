"""The docs' optimizer table (docs/_ext/optimizer_table.py) covers the registry.

The table is generated when the docs are built; these checks run its
generator without Sphinx, so a registry entry the generator cannot describe
fails here and not only in the docs build.
"""

import importlib.util
import os

import numpy as np
import pytest

from filteropt import recipes

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def _generator():
    path = os.path.join(ROOT, "docs", "_ext", "optimizer_table.py")
    spec = importlib.util.spec_from_file_location("optimizer_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def table():
    module = _generator()
    return module, module.rows()


def test_one_row_per_registry_entry_in_order(table):
    _, rows = table
    assert [r["name"] for r in rows] == list(recipes.REGISTRY)
    assert [r["optimizer"] for r in rows] == [e.optimizer for e in recipes.REGISTRY.values()]


def test_every_row_has_an_equation_and_a_transfer_function(table):
    _, rows = table
    for r in rows:
        assert r["equation"].startswith("y[n] = ") and len(r["equation"]) > len("y[n] = "), r
        assert r["transfer_function"].startswith("H(z) = "), r
        assert r["transfer_function"] != "H(z) = ", r
        assert (r["variance_equation"] is None) == (r["variance_transfer_function"] is None), r


def test_the_equations_are_the_recipes_coefficients(table):
    """Momentum, Nesterov and Adam's V(z), written from (b, a)."""
    _, rows = table
    by_name = {r["name"]: r for r in rows}
    assert by_name["sgd"]["transfer_function"] == "H(z) = 1"
    assert by_name["momentum"]["transfer_function"] == r"H(z) = \frac{1}{1 - 0.9\, z^{-1}}"
    assert by_name["momentum"]["equation"] == r"y[n] = x[n] + 0.9\, y[n-1]"
    assert by_name["nesterov"]["equation"] == r"y[n] = 1.9\, x[n] - 0.9\, x[n-1] + 0.9\, y[n-1]"
    assert by_name["adam"]["variance_transfer_function"] == (
        r"V(z) = \frac{0.001}{1 - 0.999\, z^{-1}}"
    )


def test_the_formatting_of_coefficients():
    module = _generator()
    assert module.number(1e-07) == "10^{-7}"
    assert module.number(2.5e-08) == r"2.5 \cdot 10^{-8}"
    f = recipes.get("butterworth:order=2,cutoff=0.1").gradient_filter
    b, a = f.b / f.a[0], f.a / f.a[0]
    text = module.transfer_function(f)
    # every coefficient the filter has, to 6 significant digits
    for c in [*b, *a[1:]]:
        assert f"{abs(c):.6g}" in text, (c, text)
    assert np.isclose(f.dc_gain, 1.0)


def test_the_page_links_every_entry(table):
    module, rows = table
    text = module.rst(rows)
    for r in rows:
        assert f".. _optimizer-{r['name']}:" in text
        assert f":ref:`{r['name']} <optimizer-{r['name']}>`" in text


def _api_sections():
    """{module name: the autosummary entries of its section of docs/api.rst}."""
    import re

    with open(os.path.join(ROOT, "docs", "api.rst")) as f:
        text = f.read()
    sections = re.split(r"^``([\w.]+)``\n-+\n", text, flags=re.M)
    return {
        module: re.findall(r"^   ~?([\w.]+)$", body, flags=re.M)
        for module, body in zip(sections[1::2], sections[2::2])
    }


def test_the_api_reference_lists_every_public_name():
    """Each module of docs/api.rst lists every object of the module's
    ``__all__``, by its name there or where it is documented
    (``filteropt.keras.get`` as ``filteropt.get_optimizer``): the page is
    written by hand, and a name added to a module and not to the page fails
    here."""
    import importlib

    sections = _api_sections()
    assert {"filteropt", "filteropt.recipes", "filteropt.analysis", "filteropt.keras"} <= set(
        sections
    )
    for module_name, entries in sections.items():
        module = importlib.import_module(module_name)
        shown = []
        for entry in entries:
            home, _, name = entry.rpartition(".")
            shown.append(getattr(importlib.import_module(home) if home else module, name))
        missing = [
            n
            for n in getattr(module, "__all__", ())
            if not any(getattr(module, n) is o for o in shown)
        ]
        assert not missing, f"docs/api.rst: {module_name} does not list {missing}"
