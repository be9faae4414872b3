"""The gallery (analysis/gallery/plot_*.py) and the committed figures come
from one source: make_figures.py saves what the scripts' figures() return,
the docs run the scripts (docs/gallery_conf.py), and a script run by the
docs writes nothing."""

import importlib.util
import os
import re
import runpy

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
GALLERY = os.path.join(ROOT, "analysis", "gallery")
FIGURES = os.path.join(ROOT, "analysis", "figures")
SCRIPTS = sorted(f for f in os.listdir(GALLERY) if f.startswith("plot_") and f.endswith(".py"))


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gallery(name):
    return load(os.path.join(GALLERY, f"{name}.py"), f"gallery_{name}")


def conf():
    return load(os.path.join(ROOT, "docs", "gallery_conf.py"), "gallery_conf").sphinx_gallery_conf


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_script_has_a_titled_docstring_and_figures(script):
    """Each script opens with an RST title, has cells, and defines figures();
    importing it draws nothing (make_figures imports it)."""
    import matplotlib.pyplot as plt

    with open(os.path.join(GALLERY, script)) as fh:
        source = fh.read()
    lines = source.split('"""', 2)[1].strip("\n").splitlines()
    assert lines[0] and set(lines[1]) == {"="} and len(lines[1]) == len(lines[0]), lines[:2]
    assert "\n# %%\n" in source
    before = plt.get_fignums()
    module = gallery(script[:-3])
    assert callable(module.figures)
    assert plt.get_fignums() == before


def test_every_committed_figure_has_one_gallery_script():
    """make_figures.py's scripts are the gallery's (all but the edge of
    stability, which ``filteropt inspect`` writes), and every committed PNG is
    named by exactly one of them: literally, or as ``f"prefix_{...}.png"``."""
    make_figures = load(os.path.join(ROOT, "analysis", "make_figures.py"), "make_figures_")
    listed = [s for s, _, _ in make_figures.SCRIPTS]
    assert sorted(f"{s}.py" for s in listed) == sorted(
        s for s in SCRIPTS if s != "plot_edge_of_stability.py"
    )
    committed = sorted(p for p in os.listdir(FIGURES) if p.endswith(".png"))
    owners = {p: [] for p in committed}
    for script in listed:
        with open(os.path.join(GALLERY, f"{script}.py")) as fh:
            source = fh.read()
        for name in re.findall(r"\"([a-z0-9_]+\.png)\"", source):
            assert name in owners, (script, name)
            owners[name].append(script)
        for prefix in re.findall(r"f\"([a-z0-9_]+_)\{[a-z]+\}\.png\"", source):
            for p in committed:
                if p.startswith(prefix):
                    owners[p].append(script)
    assert {p: len(set(s)) for p, s in owners.items()} == dict.fromkeys(committed, 1)


def test_the_docs_run_every_script_but_the_two_long_studies():
    c = conf()
    assert os.path.normpath(os.path.join(ROOT, "docs", c["examples_dirs"])) == os.path.normpath(
        GALLERY
    )
    assert c["gallery_dirs"] == "auto_examples"
    assert c["abort_on_example_error"] is True
    assert c["matplotlib_animations"] == (True, "jshtml")
    run = [s for s in SCRIPTS if re.search(c["filename_pattern"], os.path.join(GALLERY, s))]
    assert sorted(set(SCRIPTS) - set(run)) == ["plot_adam_performance.py", "plot_sensitivity.py"]
    for script in ("plot_adam_performance.py", "plot_sensitivity.py"):
        # the page shows the committed figure, and says how to make it again
        with open(os.path.join(GALLERY, script)) as fh:
            doc = fh.read().split('"""', 2)[1]
        images = re.findall(r"\.\. image:: \.\./\.\./analysis/figures/(\S+\.png)", doc)
        assert images and all(os.path.isfile(os.path.join(FIGURES, p)) for p in images)
        assert "python analysis/" in doc


def test_a_script_run_as_the_docs_run_it_draws_and_writes_nothing(tmp_path, monkeypatch):
    """Run as __main__ (as sphinx-gallery does), a script leaves its figures
    open for the scraper, the same number as its figures() returns, and saves
    no file."""
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    plt.close("all")
    for script in ("plot_ar1_compensation", "plot_frequency_responses", "plot_rates"):
        runpy.run_path(os.path.join(GALLERY, f"{script}.py"), run_name="__main__")
        shown = len(plt.get_fignums())
        plt.close("all")
        made = gallery(script).figures()
        assert shown == len(made) >= 3, script
        assert all(hasattr(f, "savefig") for f in made.values())
        plt.close("all")
    assert not list(tmp_path.iterdir())


def test_the_surface_animation_draws_each_path_up_to_its_step():
    """plot_surfaces.animation: a frame every ``every`` steps and one at the
    last step, where every path is drawn whole; it becomes a JavaScript player
    without ffmpeg."""
    import matplotlib.pyplot as plt
    import numpy as np

    surfaces = gallery("plot_surfaces")
    surface, paths = surfaces.paths_on("beale", steps=25)
    anim = surfaces.animation(surface, paths, every=10)
    html = anim.to_jshtml()
    frames = re.findall(r"frames\[(\d+)\]", html)
    assert sorted({int(f) for f in frames}) == [0, 1, 2, 3]  # steps 0, 10, 20 and 25
    ax = plt.gcf().axes[0]
    assert ax.get_title().endswith("step 25")
    lines = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    for t in paths.values():  # after the last frame, each path's line is the whole path
        assert sum(np.array_equal(line.get_xydata(), t.points) for line in lines) == 1
    heads = [line for line in ax.get_lines() if line.get_visible() and line.get_marker() == "o"]
    ends = {tuple(t.points[-1]) for t in paths.values()}
    assert ends <= {tuple(h.get_xydata()[-1]) for h in heads if len(h.get_xydata())}
    plt.close("all")


def test_the_edge_of_stability_figure(capsys):
    """plot_edge_of_stability: the probe's sharpness measurements against the
    filter's limit s*, and what ``filteropt inspect`` prints."""
    import matplotlib.pyplot as plt

    script = gallery("plot_edge_of_stability")
    (fig,) = script.figures(steps=64, measurements=4).values()
    out = capsys.readouterr().out
    assert "eta lambda_max reached" in out and "s* = 3.8" in out
    ax = fig.axes[0]
    measured, limit = ax.get_lines()
    assert len(measured.get_xdata()) == 5  # steps 0, 16, 32, 48 and 64
    assert limit.get_ydata()[0] == pytest.approx(3.8)
    assert 0 < max(measured.get_ydata()) < 2 * 3.8
    plt.close("all")
