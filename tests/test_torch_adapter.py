"""filteropt.to_torch and the torch-convention recipes against torch.optim.

``to_torch(params, "<x>_torch:...", lr)`` and torch.optim's own optimizer run
side by side on the same hypothesis-drawn hyperparameters
(``filteropt.testing.literature_configs``, the strategies of the Keras
classes, whose arguments are torch's) and gradients whose columns have
scales from 1e-8 to 1e2, with a torch learning-rate scheduler on both;
float64 to ``TOLERANCE["float64"]`` (1e-9) and float32 to
``TOLERANCE["float32"]`` (3e-4) relative (``helpers.relative_error``).
The steps are compared from the same parameters (``lockstep``; why: the
test's docstring). The largest errors seen, over 100 draws of 150 steps
per optimizer and dtype, are 1.1e-13 in float64 and 1.6e-5 in float32.

torch keeps NAdam's product of momenta mu[1] ... mu[t] in the default dtype
(float32 unless set), even for float64 parameters; the adapter keeps it in
float64. The float64 references therefore run under
``torch.set_default_dtype(torch.float64)`` (with the float32 default the two
differ by about 3e-10 relative, torch's rounding).

The Keras classes (``filteropt.SGDTorch`` ...) are checked against
torch.optim on TensorFlow in float64 at the end (marked slow: TensorFlow's
import). Keras holds the learning rate as a float32 variable, so torch gets
the float32 value there.
"""

import contextlib
import inspect
import io

import numpy as np
import pytest
import torch
from helpers import TOLERANCE, relative_error
from hypothesis import given, settings
from hypothesis import strategies as st

import filteropt
from filteropt import recipes
from filteropt.adapters.torch import XP, RecipeOptimizer
from filteropt.recipes.torch_conventions import TORCH_LEARNING_RATES
from filteropt.testing import gradient_sequences, literature_configs

torch.set_num_threads(1)

STEPS, WIDTH = 60, 6
DTYPES = ["float64", "float32"]
SETTINGS = settings(max_examples=12, deadline=None)
CONFIGS = literature_configs()

#: Keras class -> (recipe name, torch.optim class)
TORCH = {
    "SGDTorch": ("sgd_torch", torch.optim.SGD),
    "AdamTorch": ("adam_torch", torch.optim.Adam),
    "AdamWTorch": ("adamw_torch", torch.optim.AdamW),
    "RMSpropTorch": ("rmsprop_torch", torch.optim.RMSprop),
    "AdagradTorch": ("adagrad_torch", torch.optim.Adagrad),
    "NAdamTorch": ("nadam_torch", torch.optim.NAdam),
}

SCHEDULES = {
    None: None,
    "step": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5),
    "exponential": lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.97),
    "lambda": lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda k: 1.0 / (1.0 + 0.1 * k)),
}


@contextlib.contextmanager
def default_dtype(dtype):
    """torch's default dtype (where NAdam keeps its momentum product)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, dtype))
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def run(make, grads, dtype="float64", schedule=None, theta0=0.5):
    """theta[1..n] of the optimizer ``make(params)`` on one parameter."""
    tdtype = getattr(torch, dtype)
    p = torch.nn.Parameter(torch.full(grads.shape[1:], theta0, dtype=tdtype))
    opt = make([p])
    sched = SCHEDULES[schedule](opt) if schedule else None
    out = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=tdtype)
        opt.step()
        if sched is not None:
            sched.step()
        out.append(p.detach().numpy().copy())
    assert out[-1].dtype == np.dtype(dtype)
    return np.array(out, dtype=float)


def lockstep(make_ours, make_theirs, grads, dtype, schedule=None):
    """The steps Delta[1..n] of both optimizers, each step taken from torch's
    parameters theta[i-1] (ours is reset to them first: teacher forcing),
    theta[0] = 0; the states run open loop on the same gradients."""
    tdtype = getattr(torch, dtype)
    p, q = (torch.nn.Parameter(torch.zeros(grads.shape[1:], dtype=tdtype)) for _ in range(2))
    opts = make_ours([p]), make_theirs([q])
    scheds = [SCHEDULES[schedule](o) for o in opts] if schedule else []
    ours, theirs = [], []
    for g in grads:
        with torch.no_grad():
            p.copy_(q)
        before = q.detach().numpy().astype(float)
        p.grad, q.grad = torch.tensor(g, dtype=tdtype), torch.tensor(g, dtype=tdtype)
        for o in (*opts, *scheds):
            o.step()
        ours.append(p.detach().numpy().astype(float) - before)
        theirs.append(q.detach().numpy().astype(float) - before)
    assert p.dtype == q.dtype == tdtype
    return np.array(ours), np.array(theirs)


def spec(name, kwargs):
    """``name:key=repr(value),...`` (repr round-trips floats exactly)."""
    return name + ":" + ",".join(f"{k}={v!r}" for k, v in kwargs.items())


def check(ours, theirs, dtype):
    assert np.all(np.isfinite(theirs))
    err = relative_error(ours, theirs)
    assert err <= TOLERANCE[dtype], f"relative error {err:.3g} ({dtype})"
    return err


# -- step for step, every torch.optim optimizer ------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", list(TORCH))
@SETTINGS
@given(data=st.data(), schedule=st.sampled_from(list(SCHEDULES)))
def test_to_torch_is_torch_optim(cls, dtype, data, schedule):
    """SGD (momentum, dampening, nesterov, weight_decay), Adam (amsgrad,
    weight_decay), AdamW, RMSprop (centered, momentum, weight_decay),
    Adagrad (initial_accumulator_value, eps, weight_decay) and NAdam
    (momentum_decay, decoupled_weight_decay), each under a scheduler.

    The steps are compared, each from the same parameters (``lockstep``):
    torch's coupled weight decay feeds theta back into the gradient, and
    where it outweighs a small gradient, Adam's, RMSprop's and NAdam's
    normalizers turn it into a sign-like loop around theta = 0 that
    amplifies rounding differences about 1.3 times a step (measured:
    from 1e-16 to 1e-1 in 150 steps, both implementations alike). From the
    same theta the gradients g + wd theta agree to the bit, the states run
    open loop, and a relative slip eps in the step still shows as eps."""
    kwargs = data.draw(CONFIGS[cls], label="config")
    lr = kwargs.pop("learning_rate")
    name, torch_cls = TORCH[cls]
    grads = data.draw(gradient_sequences(steps=STEPS, width=WIDTH), label="grads")
    with default_dtype(dtype):
        ours, theirs = lockstep(
            lambda p: filteropt.to_torch(p, spec(name, kwargs), lr=lr),
            lambda p: torch_cls(p, lr=lr, **kwargs),
            grads,
            dtype,
            schedule,
        )
    check(ours, theirs, dtype)


@pytest.mark.parametrize("cls", list(TORCH))
def test_defaults_are_torchs(cls):
    """No arguments at all, the learning rate included: torch's defaults."""
    name, torch_cls = TORCH[cls]
    grads = np.random.default_rng(3).standard_normal((30, 4))
    with default_dtype("float64"):
        theirs = run(torch_cls, grads)
    ours = run(lambda p: filteropt.to_torch(p, name), grads)
    check(ours, theirs, "float64")
    assert TORCH_LEARNING_RATES[name] == inspect.signature(torch_cls).parameters["lr"].default


def test_adagrad_lr_decay_is_a_schedule():
    """torch's Adagrad(lr_decay) is LambdaLR(lambda k: 1 / (1 + k lr_decay));
    adagrad_torch refuses lr_decay itself."""
    grads = np.random.default_rng(4).standard_normal((40, 4))
    theirs = run(lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.05), grads)
    SCHEDULES["adagrad"] = lambda o: torch.optim.lr_scheduler.LambdaLR(
        o, lambda k: 1.0 / (1.0 + 0.05 * k)
    )
    try:
        ours = run(
            lambda p: filteropt.to_torch(p, "adagrad_torch", lr=0.1), grads, schedule="adagrad"
        )
    finally:
        del SCHEDULES["adagrad"]
    check(ours, theirs, "float64")
    with pytest.raises(ValueError, match=r"lr_decay.*LambdaLR"):
        recipes.get("adagrad_torch:lr_decay=0.05")


@settings(max_examples=10, deadline=None)
@given(m=st.floats(0.0, 0.95), d=st.floats(0.0, 0.99), wd=st.floats(0.0, 1.0))
def test_sgd_torch_filter_and_its_dc_gain(m, d, wd):
    """(1 - d) trace(m): DC gain (1 - d) / (1 - m), which a constant gradient's
    buffer reaches; the coupled weight decay is no part of the filters."""
    recipe = recipes.get(spec("sgd_torch", {"momentum": m, "dampening": d, "weight_decay": wd}))
    if m:
        assert recipe.gradient_filter.dc_gain == pytest.approx((1 - d) / (1 - m), rel=1e-12)
    assert recipe == recipes.get(spec("sgd_torch", {"momentum": m, "dampening": d}))
    steps = run(
        lambda p: filteropt.to_torch(p, recipe, lr=1.0, weight_decay=0.0),
        np.ones((500, 1)),
        theta0=0.0,
    )
    buffer = -np.diff(steps[:, 0], prepend=0.0)
    assert buffer[0] == pytest.approx(1.0, rel=1e-15)  # buf[1] = g[1]
    assert buffer[-1] == pytest.approx((1 - d) / (1 - m) if m else 1.0, rel=1e-9)


def test_schedulers_that_cycle_a_momentum_need_cycle_momentum_off():
    opt = filteropt.to_torch(_param(), "sgd_torch:momentum=0.9", lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=1.0, total_steps=10, cycle_momentum=False
    )
    opt.param_groups[0]["params"][0].grad = torch.ones(2)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] != 0.1


def test_nadam_torch_with_momentum_decay_one_is_kerass_nadam():
    grads = np.random.default_rng(5).standard_normal((50, 4))
    ours = run(
        lambda p: filteropt.to_torch(
            p, "nadam_torch:betas=(0.8,0.99),eps=1e-7,momentum_decay=1.0", lr=0.01
        ),
        grads,
    )
    keras_nadam = recipes.simulate("nadam:beta_1=0.8,beta_2=0.99", grads, 0.01, theta0=0.5)
    check(ours, keras_nadam, "float64")


# -- the optimizer's machinery ------------------------------------------------------


@pytest.mark.parametrize(
    "name, torch_cls, kwargs",
    [
        ("adam_torch", torch.optim.Adam, {"amsgrad": True}),
        ("adamw_torch", torch.optim.AdamW, {}),
        ("sgd_torch", torch.optim.SGD, {"momentum": 0.9, "dampening": 0.2}),
    ],
)
def test_param_groups_have_their_own_lr_and_weight_decay(name, torch_cls, kwargs):
    rng = np.random.default_rng(6)
    grads = rng.standard_normal((40, 3, 4))

    def trajectories(make):
        a = torch.nn.Parameter(torch.full((4,), 0.5, dtype=torch.float64))
        b = torch.nn.Parameter(torch.full((4,), -0.5, dtype=torch.float64))
        c = torch.nn.Parameter(torch.full((4,), 1.5, dtype=torch.float64))
        opt = make(
            [
                {"params": [a], "lr": 0.1, "weight_decay": 0.0},
                {"params": [b], "weight_decay": 0.3},
                {"params": [c]},
            ]
        )
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.95)
        out = []
        for g in grads:
            for p, gp in zip((a, b, c), g):
                p.grad = torch.tensor(gp)
            opt.step()
            sched.step()
            out.append(np.concatenate([p.detach().numpy() for p in (a, b, c)]))
        return np.array(out)

    theirs = trajectories(lambda groups: torch_cls(groups, lr=0.01, weight_decay=0.05, **kwargs))
    ours = trajectories(
        lambda groups: filteropt.to_torch(
            groups, spec(name, kwargs) if kwargs else name, lr=0.01, weight_decay=0.05
        )
    )
    check(ours, theirs, "float64")


@pytest.mark.parametrize("cls", list(TORCH))
@settings(max_examples=3, deadline=None)
@given(data=st.data(), split=st.integers(1, 29))
def test_state_dict_round_trip_continues_exactly(cls, data, split):
    """state_dict through torch.save / torch.load(weights_only=True) into a
    fresh optimizer (and scheduler) mid-run: the run continues bit for bit."""
    kwargs = data.draw(CONFIGS[cls], label="config")
    lr = kwargs.pop("learning_rate")
    name = TORCH[cls][0]
    grads = data.draw(gradient_sequences(steps=30, width=4), label="grads")

    def make(p):
        opt = filteropt.to_torch([p], spec(name, kwargs), lr=lr)
        return opt, torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)

    def steps(p, opt, sched, gs):
        for g in gs:
            p.grad = torch.tensor(g)
            opt.step()
            sched.step()
        return p.detach().numpy().copy()

    p = torch.nn.Parameter(torch.full((4,), 0.5, dtype=torch.float64))
    opt, sched = make(p)
    steps(p, opt, sched, grads[:split])
    buffer = io.BytesIO()
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict(), "p": p.detach()}, buffer)
    uninterrupted = steps(p, opt, sched, grads[split:])

    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    q = torch.nn.Parameter(saved["p"].clone())
    opt2, sched2 = make(q)
    opt2.load_state_dict(saved["opt"])
    sched2.load_state_dict(saved["sched"])
    np.testing.assert_array_equal(steps(q, opt2, sched2, grads[split:]), uninterrupted)


@pytest.mark.parametrize(
    "name, torch_cls, kwargs",
    [
        ("adam_torch", torch.optim.Adam, {}),
        ("nadam_torch", torch.optim.NAdam, {}),
        ("sgd_torch", torch.optim.SGD, {"momentum": 0.9, "dampening": 0.5}),
    ],
)
def test_a_parameter_without_gradient_is_skipped(name, torch_cls, kwargs):
    """grad None: neither moved nor counted (its own step count, as torch)."""
    rng = np.random.default_rng(7)
    grads = rng.standard_normal((30, 2, 3))
    missing = {3, 4, 10, 17, 18, 19}

    def trajectories(make):
        a = torch.nn.Parameter(torch.full((3,), 0.5, dtype=torch.float64))
        b = torch.nn.Parameter(torch.full((3,), -0.5, dtype=torch.float64))
        opt = make([a, b])
        out = []
        for i, (ga, gb) in enumerate(grads):
            a.grad = torch.tensor(ga)
            b.grad = None if i in missing else torch.tensor(gb)
            before = b.detach().clone()
            opt.step()
            if i in missing:
                assert torch.equal(b, before)
            out.append(np.concatenate([a.detach().numpy(), b.detach().numpy()]))
        return np.array(out), opt

    with default_dtype("float64"):
        theirs, _ = trajectories(lambda ps: torch_cls(ps, lr=0.05, **kwargs))
    ours, opt = trajectories(
        lambda ps: filteropt.to_torch(ps, spec(name, kwargs) if kwargs else name, lr=0.05)
    )
    check(ours, theirs, "float64")
    counts = [opt.state[p]["step"] for p in opt.param_groups[0]["params"]]
    assert counts == [30, 30 - len(missing)]


@pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning")
def test_closure_zero_grad_and_sparse_gradients():
    """step(closure) returns the closure's loss and uses its gradients;
    zero_grad clears them; a sparse gradient is made dense (torch's Adagrad
    takes it as it is: the same trajectory)."""
    target = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)

    def trajectory(make):
        p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
        opt = make([p])
        losses = []

        def closure():
            opt.zero_grad()
            loss = ((p - target) ** 2).sum()
            loss.backward()
            return loss

        for _ in range(25):
            losses.append(float(opt.step(closure).detach()))
        opt.zero_grad()
        assert p.grad is None
        return np.array(losses), p.detach().numpy()

    theirs = trajectory(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1))
    ours = trajectory(
        lambda ps: filteropt.to_torch(ps, "sgd_torch:momentum=0.9,dampening=0.1", lr=0.05)
    )
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)

    def sparse_run(make):
        torch.manual_seed(0)
        emb = torch.nn.Embedding(6, 2, sparse=True).double()
        opt = make(emb.parameters())
        for i in range(10):
            opt.zero_grad()
            emb(torch.tensor([i % 6, (2 * i) % 6])).sum().backward()
            assert emb.weight.grad.is_sparse
            opt.step()
        return emb.weight.detach().numpy()

    np.testing.assert_allclose(
        sparse_run(lambda ps: filteropt.to_torch(ps, "adagrad_torch", lr=0.1)),
        sparse_run(lambda ps: torch.optim.Adagrad(ps, lr=0.1)),
        rtol=1e-12,
    )


@pytest.mark.parametrize("name", [n for n in recipes.names() if n != "designed"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_to_torch_runs_any_recipe_as_simulate_does(name, dtype):
    """Every registered recipe (Keras's conventions too: epsilon hat, Sign,
    MaxNorm, Adadelta, banks) through the torch namespace, against the numpy
    reference, under a learning-rate schedule."""
    recipe = recipes.get(name)
    grads = np.random.default_rng(8).standard_normal((40, 5)) * np.logspace(-6, 2, 5)
    rates = [0.01 * 0.97**i for i in range(40)]  # SCHEDULES["exponential"]
    ours = run(
        lambda p: filteropt.to_torch(p, recipe, lr=0.01), grads.astype(dtype), dtype, "exponential"
    )
    reference = recipes.simulate(recipe, grads, rates, theta0=0.5, dtype=dtype)
    check(ours, reference, dtype)


def test_the_torch_namespace_has_numpys_semantics():
    """Every array function the signal layer calls, on tensors and on
    Python numbers (the epsilon-hat gain is a scalar)."""
    x = np.array([0.0, -0.0, 2.5, -3.0, 1e-300, np.inf, -np.inf, np.nan])
    y = np.array([1.0, -1.0, -2.0, 4.0, 0.0, 1.0, np.inf, 0.5])
    t = torch.tensor(x)
    for fn in ("sqrt", "abs", "sign", "exp", "expm1"):
        with np.errstate(invalid="ignore", over="ignore"):
            np.testing.assert_array_equal(getattr(XP, fn)(t).numpy(), getattr(np, fn)(x))
        assert getattr(XP, fn)(0.25) == float(getattr(np, fn)(0.25))
    for fn in ("maximum", "minimum", "power"):
        # power: C's pow(-inf, 0.5) is inf, numpy's nan; the signal layer
        # raises Python scalars only (decay ** t), which go to numpy
        a, b = (x[x != -np.inf], y[x != -np.inf]) if fn == "power" else (x, y)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            np.testing.assert_array_equal(
                getattr(XP, fn)(torch.tensor(a), torch.tensor(b)).numpy(), getattr(np, fn)(a, b)
            )
            np.testing.assert_array_equal(
                getattr(XP, fn)(torch.tensor(a), 0.5).numpy(), getattr(np, fn)(a, 0.5)
            )
        assert getattr(XP, fn)(0.3, 2.0) == float(getattr(np, fn)(0.3, 2.0))


# -- why do PyTorch's and Keras's momentum differ? ---------------------------------


def test_keras_momentum_is_torch_sgd_only_at_a_constant_rate():
    """Keras filters -eta[k] g[k] (v = m v - eta g, Delta = v), torch scales its
    buffer of g by today's rate (Delta = -eta[n] buf): at a constant rate the
    same, and under a schedule the updates differ by exactly

        Delta_keras[n] - Delta_torch[n] = sum_k m^(n-k) (eta[n] - eta[k]) g[k]:

    at StepLR's tenfold cut torch's whole velocity shrinks tenfold, while
    Keras's coasts on at the old rate for some 1 / (1 - m) steps: here
    Keras's convention ends twice as far from the start (8.4 against 4.1
    in the first coordinate)."""
    m, steps = 0.9, 40
    grads = np.random.default_rng(9).standard_normal((steps, 4)) + 1.0

    def keras_like(p):
        return filteropt.to_torch(p, "momentum:momentum=0.9", lr=0.1)

    def torch_sgd(p):
        return torch.optim.SGD(p, lr=0.1, momentum=m)

    check(run(keras_like, grads), run(torch_sgd, grads), "float64")

    SCHEDULES["cut"] = lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.1)
    try:
        ours = run(keras_like, grads, schedule="cut")
        theirs = run(torch_sgd, grads, schedule="cut")
    finally:
        del SCHEDULES["cut"]
    assert 1.9 < (ours[-1] - 0.5).sum() / (theirs[-1] - 0.5).sum() < 2.1
    eta = 0.1 * 0.1 ** (np.arange(steps) // 10)
    n, k = np.meshgrid(np.arange(steps), np.arange(steps), indexing="ij")
    weights = np.where(k <= n, m ** np.maximum(n - k, 0) * (eta[n] - eta[k]), 0.0)
    predicted = weights @ grads
    theta0 = np.full((1, 4), 0.5)
    measured = np.diff(ours, axis=0, prepend=theta0) - np.diff(theirs, axis=0, prepend=theta0)
    np.testing.assert_allclose(measured, predicted, rtol=0, atol=1e-12)


# -- bad input ------------------------------------------------------------------------


def _param():
    return [torch.nn.Parameter(torch.zeros(2))]


@pytest.mark.parametrize(
    "make, exc, word",
    [
        (lambda: filteropt.to_torch(_param(), 3), TypeError, "spec_or_recipe"),
        (lambda: filteropt.to_torch(_param(), "adam_torch:betas=(0.9,)"), ValueError, "betas"),
        (
            lambda: filteropt.to_torch(_param(), "adam_torch:betas=(0.9,1.0)"),
            ValueError,
            "betas\\[1\\]",
        ),
        (lambda: filteropt.to_torch(_param(), "adam_torch", lr=-1.0), ValueError, "`lr`"),
        (lambda: filteropt.to_torch(_param(), "momentum"), ValueError, "`lr` is needed"),
        (lambda: filteropt.to_torch(_param(), "adam_torch:eps=-1e-8"), ValueError, "eps"),
        (lambda: filteropt.to_torch(_param(), "adam_torch:amsgrad=1"), TypeError, "amsgrad"),
        (lambda: filteropt.to_torch(_param(), "adam_torch:beta_1=0.9"), ValueError, "beta_1"),
        (lambda: filteropt.to_torch(_param(), "sgd_torch:momentum=1.5"), ValueError, "momentum"),
        (
            lambda: filteropt.to_torch(
                _param(), "sgd_torch:momentum=0.9,dampening=0.1,nesterov=True"
            ),
            ValueError,
            "Nesterov",
        ),
        (
            lambda: filteropt.to_torch(_param(), "sgd_torch:weight_decay=-0.1"),
            ValueError,
            "weight_decay",
        ),
        (
            lambda: filteropt.to_torch(_param(), "nadam_torch:momentum_decay=-1"),
            ValueError,
            "momentum_decay",
        ),
        (
            lambda: filteropt.to_torch(_param(), "adam_torch", weight_decay=-1.0),
            ValueError,
            "weight_decay",
        ),
        (
            lambda: filteropt.to_torch([torch.zeros(2, dtype=torch.complex64)], "adam_torch"),
            TypeError,
            "params",
        ),
        (lambda: RecipeOptimizer(_param(), "adam_torch"), TypeError, "recipe"),
    ],
)
def test_bad_input_is_refused_by_name(make, exc, word):
    with pytest.raises(exc, match=word):
        make()


def test_a_refused_group_or_state_leaves_the_optimizer_as_it_was():
    opt = filteropt.to_torch(_param(), "adam_torch")
    with pytest.raises(ValueError, match="weight_decay"):
        opt.add_param_group({"params": _param(), "weight_decay": -1.0})
    assert len(opt.param_groups) == 1
    opt.add_param_group({"params": _param(), "lr": 0.5})
    assert [g["lr"] for g in opt.param_groups] == [1e-3, 0.5]

    p = torch.nn.Parameter(torch.zeros(2))
    sgd = filteropt.to_torch([p], "sgd_torch:momentum=0.9")
    p.grad = torch.ones(2)
    sgd.step()
    adam = filteropt.to_torch([p], "adam_torch")
    adam.load_state_dict(sgd.state_dict())
    with pytest.raises(ValueError, match="same recipe"):
        adam.step()


def test_learning_rate_comes_from_the_spec_or_torch():
    assert filteropt.to_torch(_param(), "momentum:learning_rate=0.3").defaults["lr"] == 0.3
    assert filteropt.to_torch(_param(), "rmsprop_torch").defaults["lr"] == 0.01
    assert filteropt.to_torch(_param(), "rmsprop_torch", lr=0.5).defaults["lr"] == 0.5


# -- the Keras classes (TensorFlow) ------------------------------------------------


def _keras_cases():
    def f32(x):  # Keras's decoupled decay is cast through float32 on TensorFlow
        return float(np.float32(x))

    return [
        (
            "sgd_torch:momentum=0.9,dampening=0.3,weight_decay=0.05",
            torch.optim.SGD,
            {"momentum": 0.9, "dampening": 0.3, "weight_decay": 0.05},
            0.1,
        ),
        (
            "sgd_torch:momentum=0.8,nesterov=True",
            torch.optim.SGD,
            {"momentum": 0.8, "nesterov": True},
            0.1,
        ),
        (
            "adam_torch:betas=(0.8,0.99),amsgrad=True,weight_decay=0.1",
            torch.optim.Adam,
            {"betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 0.1},
            0.01,
        ),
        ("adamw_torch:weight_decay=0.1", torch.optim.AdamW, {"weight_decay": f32(0.1)}, 0.01),
        (
            "rmsprop_torch:momentum=0.5,centered=True,weight_decay=0.1",
            torch.optim.RMSprop,
            {"momentum": 0.5, "centered": True, "weight_decay": 0.1},
            0.01,
        ),
        (
            "adagrad_torch:initial_accumulator_value=0.1,eps=1e-6,weight_decay=0.1",
            torch.optim.Adagrad,
            {"initial_accumulator_value": 0.1, "eps": 1e-6, "weight_decay": 0.1},
            0.1,
        ),
        (
            "nadam_torch:momentum_decay=0.01,weight_decay=0.1",
            torch.optim.NAdam,
            {"momentum_decay": 0.01, "weight_decay": 0.1},
            0.01,
        ),
        (
            "nadam_torch:decoupled_weight_decay=True,weight_decay=0.1",
            torch.optim.NAdam,
            {"decoupled_weight_decay": True, "weight_decay": f32(0.1)},
            0.01,
        ),
    ]


@pytest.mark.slow  # TensorFlow's import, then about 1 s a case
def test_keras_classes_are_torch_optim():
    """filteropt.get_optimizer(spec) (the Keras classes, TensorFlow, float64)
    equals torch.optim and to_torch(spec); weight_decay is torch's: coupled
    in SGD, Adam, RMSprop, Adagrad and NAdam, decoupled in AdamW and NAdam
    with decoupled_weight_decay."""
    from helpers import trajectory

    # Open loop, 40 steps: the coupled decay's feedback (see
    # test_to_torch_is_torch_optim) grows rounding differences at most about
    # 1.3 times a step, to some 1e-12 here; about 1e-15 is seen.
    grads = np.random.default_rng(10).standard_normal((40, 6)) * np.logspace(-6, 2, 6)
    for s, torch_cls, kwargs, lr in _keras_cases():
        keras_opt = filteropt.get_optimizer(s, learning_rate=lr)
        assert type(keras_opt).__name__ in TORCH
        lr32 = float(np.float32(lr))
        with default_dtype("float64"):
            theirs = run(lambda p, c=torch_cls, k=kwargs, r=lr32: c(p, lr=r, **k), grads)
        check(trajectory(keras_opt, grads, theta0=0.5), theirs, "float64")
        check(
            run(
                lambda p, s=s, r=lr32, k=kwargs: filteropt.to_torch(
                    p, s, lr=r, weight_decay=k.get("weight_decay")
                ),
                grads,
            ),
            theirs,
            "float64",
        )


@pytest.mark.slow  # TensorFlow
def test_keras_classes_take_torchs_defaults_and_exclusions():
    """Every argument's default is torch's (the learning rate's too);
    get_config rebuilds the class; ``exclude_from_weight_decay`` exempts a
    variable from the coupled decay as a torch param group with
    weight_decay=0 does; Keras's InverseTimeDecay is Adagrad's lr_decay."""
    import keras

    for cls, (name, torch_cls) in TORCH.items():
        ours = inspect.signature(getattr(filteropt, cls)).parameters
        theirs = inspect.signature(torch_cls).parameters
        assert ours["learning_rate"].default == theirs["lr"].default == TORCH_LEARNING_RATES[name]
        for arg, p in ours.items():
            if arg not in ("learning_rate", "name", "kwargs"):
                assert p.default == theirs[arg].default, (cls, arg)
        opt = getattr(filteropt, cls)(weight_decay=0.02)
        again = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
        assert again.get_config() == opt.get_config()
        assert again.recipe == opt.recipe

    grads = np.random.default_rng(11).standard_normal((20, 2))
    kept, excluded = (
        keras.Variable(np.full(2, 0.5), name=n, dtype="float64") for n in ("kept", "excluded")
    )
    opt = filteropt.AdamTorch(learning_rate=0.01, weight_decay=0.3)
    opt.exclude_from_weight_decay(var_names=["excluded"])
    ours = []
    for g in grads:
        opt.apply_gradients(
            [(keras.ops.convert_to_tensor(g), kept), (keras.ops.convert_to_tensor(g), excluded)]
        )
        ours.append(np.concatenate([keras.ops.convert_to_numpy(v) for v in (kept, excluded)]))
    a, b = (torch.nn.Parameter(torch.full((2,), 0.5, dtype=torch.float64)) for _ in range(2))
    topt = torch.optim.Adam(
        [{"params": [a]}, {"params": [b], "weight_decay": 0.0}],
        lr=float(np.float32(0.01)),
        weight_decay=0.3,
    )
    theirs = []
    for g in grads:
        a.grad, b.grad = torch.tensor(g), torch.tensor(g)
        topt.step()
        theirs.append(np.concatenate([a.detach().numpy(), b.detach().numpy()]))
    check(np.array(ours), np.array(theirs), "float64")

    from helpers import trajectory

    schedule = keras.optimizers.schedules.InverseTimeDecay(0.1, 1, 0.05)
    ours = trajectory(filteropt.AdagradTorch(learning_rate=schedule), grads, theta0=0.5)
    theirs = run(lambda p: torch.optim.Adagrad(p, lr=float(np.float32(0.1)), lr_decay=0.05), grads)
    assert relative_error(ours, theirs) <= 1e-6  # Keras's schedule runs in float32
    with pytest.raises(ValueError, match="lr_decay"):
        filteropt.AdagradTorch(lr_decay=0.05)
    with pytest.raises(ValueError, match="Nesterov"):
        filteropt.SGDTorch(nesterov=True)
