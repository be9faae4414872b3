"""The doctests of the package (``pytest`` collects ``filteropt/`` with
``--doctest-modules``): quiet TensorFlow, the names every example may use,
and a temporary working directory, so an example that saves a figure writes
nowhere in the checkout."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest
from _pytest.doctest import DoctestItem


@pytest.fixture(autouse=True)
def _doctest_setup(request):
    if not isinstance(request.node, DoctestItem):
        yield
        return
    namespace = request.getfixturevalue("doctest_namespace")
    namespace["np"] = np
    request.getfixturevalue("monkeypatch").chdir(request.getfixturevalue("tmp_path"))
    with np.printoptions(precision=6, suppress=True, legacy=False):
        yield
