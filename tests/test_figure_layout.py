"""Figures fit to be looked at: no legend covers data or an axis label, the
pole-zero plot has equal aspect, and every curve is named by the spec as it
was given (not with every default spelled out).

Each figure kind of :mod:`filteropt.plotting` is drawn (Agg), and its
legend's window extent is checked against every visible data point of every
line and collection (in display coordinates) and against the x/y labels and
tick labels of every axes. ``test_the_check_fails_on_a_legend_inside_the_axes``
shows that the check sees a legend placed inside the axes (the old
``loc="best"``).
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.collections import PathCollection

from filteropt import plotting as P
from filteropt import recipes
from filteropt.plotting import responses as PR
from filteropt.signal import filters as F

SPECS = ["momentum", "nesterov:momentum=0.95", "butterworth:order=3,cutoff=0.1", "adam"]


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


# -- the check ---------------------------------------------------------------------


def data_points(ax) -> np.ndarray:
    """(n, 2) display coordinates of the drawn data of ``ax``: every line's
    points, every scatter's offsets, every other collection's vertices
    (bands, contours, error bars), those inside the axes only (the rest is
    clipped, never drawn)."""
    out = [np.zeros((0, 2))]
    for line in ax.get_lines():
        xy = np.asarray(line.get_xydata(), float).reshape(-1, 2)
        if len(xy):
            out.append(line.get_transform().transform(xy))
    for coll in ax.collections:
        offsets = np.asarray(coll.get_offsets(), float).reshape(-1, 2)
        if isinstance(coll, PathCollection) and len(offsets):
            out.append(coll.get_offset_transform().transform(offsets))
            continue
        for path in coll.get_paths():
            if len(path.vertices):
                out.append(coll.get_transform().transform(path.vertices))
    pts = np.concatenate(out)
    pts = pts[np.isfinite(pts).all(axis=1)]
    return pts[_inside(pts, ax.get_window_extent())]


def _inside(pts, box) -> np.ndarray:
    x, y = pts[:, 0], pts[:, 1]
    return (x >= box.x0) & (x <= box.x1) & (y >= box.y0) & (y <= box.y1)


def _texts(ax):
    return [
        t
        for t in (ax.xaxis.label, ax.yaxis.label, *ax.get_xticklabels(), *ax.get_yticklabels())
        if t.get_visible() and t.get_text().strip()
    ]


def _within(inner, outer, tol=1.0) -> bool:
    return (
        inner.x0 >= outer.x0 - tol
        and inner.y0 >= outer.y0 - tol
        and inner.x1 <= outer.x1 + tol
        and inner.y1 <= outer.y1 + tol
    )


def legends_of(fig):
    return [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)


def assert_fit(fig, n_legends=1):
    """Draws ``fig``; asserts that it has ``n_legends`` legends, that each
    lies whole in the figure and covers no data point and no axis or tick
    label of any axes, and that every axis label lies whole in the figure.
    Returns the legends."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        for label in (ax.xaxis.label, ax.yaxis.label):
            if label.get_text():
                assert _within(label.get_window_extent(renderer), fig.bbox), label.get_text()
    found = legends_of(fig)
    assert len(found) == n_legends
    for legend in found:
        box = legend.get_window_extent(renderer)
        assert _within(box, fig.bbox), "the legend is cut off by the figure's edge"
        for ax in fig.axes:
            under = _inside(data_points(ax), box)
            assert not under.any(), f"the legend covers {under.sum()} data points"
            for text in _texts(ax):
                assert not box.overlaps(text.get_window_extent(renderer)), (
                    f"the legend covers the label {text.get_text()!r}"
                )
    return found


def legend_texts(legend):
    return [t.get_text() for t in legend.get_texts()]


# -- the figures -------------------------------------------------------------------


def _probe_record(n=512, k=4, eta=0.05, momentum=0.9):
    from scipy import signal

    from filteropt.analysis.measured import ProbeRecord

    rng = np.random.default_rng(0)
    g = rng.standard_normal((n, k))
    u = -eta * signal.lfilter([1.0], [1.0, -momentum], g, axis=0)
    steps = np.arange(1, n + 1)
    sharp = np.c_[steps[::64], np.linspace(20, 39, 8), np.linspace(5, 9, 8), np.full(8, eta)]
    return ProbeRecord(
        paths=("w",),
        gradient={"w": g},
        update={"w": u},
        gradient_norm={"w": np.linalg.norm(g, axis=1)},
        steps=steps,
        learning_rate=np.full(n, eta),
        sharpness_table=sharp,
    )


def _runs(specs):
    from filteropt.cli.tuning import Run

    runs, best = [], {}
    for i, spec in enumerate(specs):
        for lr in (0.01, 0.1):
            for seed in (0, 1, 2):
                decay = np.exp(-(i + 1) * lr * 3 * np.arange(1, 9)) + 0.01 * seed
                runs.append(
                    Run(
                        spec=spec,
                        learning_rate=lr,
                        seed=seed,
                        effective_learning_rate=10 * lr,
                        history={
                            "loss": list(decay),
                            "val_loss": list(1.2 * decay),
                            "accuracy": list(1 - decay / 2),
                            "val_accuracy": list(1 - decay / 1.8),
                        },
                        train_loss=np.exp(-(i + 1) * lr * np.arange(60)) + 0.01 * seed,
                        target=0.3,
                    )
                )
        best[spec] = 0.1
    return runs, best


def _beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


BOX = (-4.5, 4.5, -4.5, 4.5)
PATHS = {
    f"{name} (lr 0.1)": np.c_[1 + dx * np.linspace(0, 1, 40), 1.5 - dy * np.linspace(0, 1, 40)]
    for name, dx, dy in (("adam", 2.0, 1.0), ("momentum:momentum=0.9", 3.4, 1.2), ("sgd", 1, 0.1))
}


RESPONSE_KINDS = ["frequency", "step", "impulse", "polezero", "rate", "groupdelay", "lrstep"]


@pytest.mark.parametrize("kind", RESPONSE_KINDS)
def test_a_response_legend_covers_nothing_and_names_the_specs(kind):
    fig = P.plot_response(kind, SPECS)
    (legend,) = assert_fit(fig)
    assert legend_texts(legend) == SPECS


def test_the_frequency_response_with_phase_and_the_variance_filter():
    fig = P.plot_frequency(SPECS, phase=True)
    (legend,) = assert_fit(fig)
    assert legend_texts(legend) == SPECS
    assert len(fig.axes) == 2
    fig = P.plot_frequency(["adam", "rmsprop"], which="variance")
    assert legend_texts(assert_fit(fig)[0]) == ["adam", "rmsprop"]


def test_the_step_response_compensated_both_ways():
    fig = P.plot_step(SPECS[:3], compensated="both")
    (legend,) = assert_fit(fig)
    assert [t.replace("\n", "") for t in legend_texts(legend)] == [
        f"{s}, {c}" for s in SPECS[:3] for c in ("compensated", "uncompensated")
    ]


def test_the_pole_zero_plot_has_equal_aspect_on_a_square_box_with_the_circle():
    specs = [*SPECS, "butterworth:order=4,cutoff=0.3"]
    fig = P.plot_polezero(specs)
    (legend,) = assert_fit(fig)
    ax = fig.axes[0]
    assert ax.get_aspect() == 1.0
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x1 - x0 == pytest.approx(y1 - y0)
    assert x0 < -1 and x1 > 1 and y0 < -1 and y1 > 1
    box = ax.get_window_extent()
    assert box.width == pytest.approx(box.height, rel=0.01)  # square on the page
    assert legend_texts(legend) == specs
    # the legend is off the circle: beyond the axes' right edge
    assert legend.get_window_extent().x0 > box.x1


def test_the_pole_zero_box_holds_a_pole_outside_the_circle():
    from filteropt.signal.arma import ARMAFilter

    fig = P.plot_polezero(ARMAFilter([1.0, 0.5], [1.0, -1.6]), labels=["unstable"])
    assert_fit(fig)
    ax = fig.axes[0]
    assert ax.get_xlim()[1] > 1.6 and ax.get_aspect() == 1.0


def test_the_rate_map_has_no_legend_and_its_labels_show():
    fig = P.plot_rate_map(F.trace, np.linspace(0, 0.99, 20), np.linspace(0.01, 4, 30))
    assert_fit(fig, n_legends=0)


def test_the_comparison_figures():
    from filteropt.plotting import comparison as C

    specs = ["adam", "momentum:momentum=0.9"]
    runs, best = _runs(specs)
    fig = C.plot_learning_curves(runs, best, metrics=("accuracy",), target=0.3)
    (legend,) = assert_fit(fig)
    assert legend_texts(legend) == [f"{s} (eta 0.1)" for s in specs] + ["target 0.3"]
    fig = C.plot_training_cost(runs, best, target=0.3)
    assert_fit(fig)
    fig = C.plot_sensitivity(runs)
    (legend,) = assert_fit(fig)
    assert legend_texts(legend) == specs


def test_the_probe_figures():
    from filteropt.plotting import probe

    record = _probe_record()
    fig = probe.plot_measured_spectrum(record, "momentum:momentum=0.9")
    assert_fit(fig, n_legends=2)
    fig = probe.plot_stability(record, 2 * 1.9, label="momentum")
    assert_fit(fig)


def test_the_tradeoff_figure(monkeypatch):
    """The figure's layout, not the designs: ``design.tradeoff`` answers a
    fixed frontier (the real one takes seconds; ``test_design`` draws it)."""
    from filteropt.design.tradeoff import Tradeoff
    from filteropt.plotting import design as design_plots

    def fake(kappa, family, order=2, n_points=12, noise="gradient", frontier=True, **kwargs):
        x = np.geomspace(0.05, 5.0, 6)
        shift = {"heavy_ball": 0.0, "nesterov": 0.01, "butterworth": 0.02}.get(family, 0.03)
        return Tradeoff(
            family=family,
            label=family if order is None else f"{family}, order {order}",
            parameter_name="p",
            parameter=np.linspace(0.1, 0.9, 6),
            learning_rate=np.linspace(0.1, 1, 6),
            rate=np.linspace(0.99, 0.6, 6) - shift,
            noise_gain=x,
            kappa=kappa,
        )

    monkeypatch.setattr(design_plots.D, "tradeoff", fake)
    fig = design_plots.plot_tradeoff(10.0, n_points=2, sweeps=True)
    (legend,) = assert_fit(fig)
    assert "heavy ball optimum" in legend_texts(legend)


def test_the_trajectories_and_their_animation(tmp_path):
    from PIL import Image

    from filteropt.plotting.trajectories import _still

    fig = P.plot_trajectories(_beale, BOX, PATHS, minima=[(3, 0.5)], start=(1, 1.5), title="b")
    (legend,) = assert_fit(fig)
    assert legend_texts(legend) == ["minimum", "start", *PATHS]
    # the animation's still: the legend outside the axes the paths are drawn in
    still, ax, _ = _still(_beale, BOX, PATHS, [(3, 0.5)], (1, 1.5), (), None, (6.6, 4.2), 70, 80)
    (legend,) = assert_fit(still)
    assert legend.get_window_extent().x0 > ax.get_window_extent().x1
    path = tmp_path / "paths.gif"
    n = P.animate_trajectories(
        _beale, BOX, PATHS, path, minima=[(3, 0.5)], start=(1, 1.5), resolution=60
    )
    assert n == 40 and Image.open(path).n_frames == 40


# -- labels ------------------------------------------------------------------------


def test_labels_are_the_specs_as_given_not_every_default():
    fig = P.plot_frequency(["adam", "momentum:momentum=0.9"])
    assert legend_texts(fig.axes[0].get_legend()) == ["adam", "momentum:momentum=0.9"]


def test_a_recipe_or_a_filter_gets_a_short_label():
    assert P.short_label(recipes.get("adam")) == "adam"
    assert P.short_label(recipes.get("momentum:momentum=0.95")) == "momentum:momentum=0.95"
    assert (
        P.short_label(recipes.get("butterworth:order=3,cutoff=0.1"))
        == "butterworth:order=3"  # cutoff=0.1 is the default
    )
    assert P.short_label(F.trace(0.9)) == "ARMAFilter(b=[1], a=[1, -0.9])"
    assert P.short_label(F.butterworth(4, 0.05)) == "ARMA filter, order 4"
    fig = P.plot_step([recipes.get("adam"), F.trace(0.9)])
    assert legend_texts(assert_fit(fig)[0]) == ["adam", "ARMAFilter(b=[1], a=[1, -0.9])"]


def test_a_long_label_is_wrapped_not_squeezing_the_plot():
    spec = "butterworth:order=4,cutoff=0.05,momentum_gain=input"
    fig = P.plot_frequency(["momentum", spec])
    (legend,) = assert_fit(fig)
    text = legend_texts(legend)[1]
    assert "\n" in text and text.replace("\n", "") == spec
    assert max(map(len, text.split("\n"))) <= PR.LABEL_WIDTH
    ax = fig.axes[0]
    assert legend.get_window_extent().width < 0.32 * fig.bbox.width
    assert ax.get_window_extent().width > 0.55 * fig.bbox.width  # the plot keeps its room
    very_long = ",".join(f"k{i}=0.{i}" for i in range(40))
    cut = PR.wrap_label(very_long)
    assert cut.count("\n") == PR.LABEL_LINES - 1 and cut.endswith("\u2026")


def test_the_labels_must_match_the_optimizers():
    with pytest.raises(ValueError, match="labels"):
        P.plot_rate(SPECS, labels=["one"])


@pytest.mark.parametrize("response", ["polezero", "step", "frequency"])
def test_filteropt_plot_names_each_curve_by_the_spec_as_typed(tmp_path, monkeypatch, response):
    from filteropt import cli

    saved = []
    monkeypatch.setattr(P, "save", lambda fig, path: saved.append(fig))
    specs = ["momentum:momentum=0.9", "adam", "nesterov"]
    out = str(tmp_path / "x.png")
    assert cli.main(["plot", *specs, "--response", response, "--out", out]) == 0
    (fig,) = saved
    (legend,) = assert_fit(fig)
    assert legend_texts(legend) == specs
    if response == "polezero":
        assert fig.axes[0].get_aspect() == 1.0


# -- the check can fail ------------------------------------------------------------


@pytest.mark.parametrize(
    "draw",
    [
        lambda: P.plot_step(SPECS, compensated="both"),
        lambda: P.plot_polezero(SPECS),
    ],
    ids=["step", "polezero"],
)
def test_the_check_fails_on_a_legend_inside_the_axes(monkeypatch, draw):
    """With the old placement (``loc="best"``, inside the axes) the step
    response's legend sits on the curves and the pole-zero plot's on the
    poles, and :func:`assert_fit` says so."""
    monkeypatch.setattr(PR, "LEGEND_PLACEMENT", {"loc": "best", "fontsize": 10})
    with pytest.raises(AssertionError, match="covers"):
        assert_fit(draw())


# -- figures drawn outside filteropt.plotting ----------------------------------------


def _gallery(name):
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(__file__), "..", "analysis", "gallery", f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"layout_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_schedule_figure():
    """filteropt.keras draws its schedule figure itself (it does not import
    filteropt.plotting); its legend goes where legend_outside puts one."""
    from filteropt.keras.schedule_plots import plot_schedules

    specs = ["constant", "step", "sgdr", "cyclical:max_lr=0.2"]
    (legend,) = assert_fit(plot_schedules(specs, 0.1, 300, steps_per_epoch=10, log=True))
    assert legend_texts(legend) == specs


def test_the_gallery_ar1_figures():
    figures = _gallery("plot_ar1_compensation").figures()
    assert len(figures) == 3
    for fig in figures.values():
        assert_fit(fig)


def test_the_gallery_measured_spectrum_figure(capsys):
    """The lecture's measured-spectrum figure, on a synthetic record (the
    gallery's own trains a model for it)."""
    module = _gallery("plot_measured_spectrum")
    fig = module.measured_spectrum_figure(_probe_record())
    assert_fit(fig, n_legends=2)
    assert "worst" in capsys.readouterr().out
