"""The optimizers Keras lacks, against independent implementations.

Each filteropt optimizer runs step for step beside another project's code
on the same gradients: optax (``nadam``, ``adabelief``, ``lion``, ``sgd``),
the authors' own ``qhoptim`` (QHM, QHAdam) and ``adabelief-pytorch``
(AdaBelief), and ``torch-optimizer`` (AggMo). 80 steps of gradients on a
(3, 4) variable whose coordinates have scales from 1e-6 to 1e4 (log-spaced),
float64 and float32, with hyperparameters drawn by hypothesis and with each
optimizer's defaults.

Tolerances: float64 1e-9 relative (``helpers.relative_error``); float32
``FLOAT32_TOLERANCE``. The two sides round every operation in their own
order (optax folds the bias corrections into one factor, qhoptim
renormalises its EMAs every step, torch-optimizer moves the parameter once
per velocity, Keras applies weight decay in a pass of its own), so each
step differs by a few ulps, which add up along 80 steps: at most about
80 float32 ulps, 1e-5 relative. The largest errors seen over 25 random
cases per optimizer (the strategies below, extremes included) are 9e-14
in float64 and 6e-6 in float32 (Lion with weight decay, where theta is
rounded twice a step by Keras and once by optax).

Keras holds the learning rate as a float32 variable, and the drop-ins (SGD,
Lion) round their coefficients to float32 where Keras does (see
``recipes._f32``), even for float64 variables: the references get the same
float32 values (``LR`` below; hyperparameters drawn with ``width=32``).
"""

import numpy as np
import pytest
from helpers import TOLERANCE, relative_error, trajectory
from hypothesis import given, settings
from hypothesis import strategies as st

import filteropt
from filteropt import analysis
from filteropt.testing import gradient_sequences

pytestmark = pytest.mark.filterwarnings(
    # qhoptim calls Tensor.add_(Number, Tensor), an overload torch deprecates
    "ignore:This overload of add_ is deprecated:UserWarning",
)

STEPS = 80
SHAPE = (3, 4)
DTYPES = ["float64", "float32"]
# float32: a few ulps a step for 80 steps (module docstring), with room;
# a tenth of helpers.TOLERANCE["float32"], which is for Keras's built-ins.
FLOAT32_TOLERANCE = TOLERANCE["float32"] / 10


def _lr(value):
    """The learning rate as Keras's float32 variable holds it."""
    return float(np.float32(value))


def _tolerance(dtype):
    return TOLERANCE["float64"] if dtype == "float64" else FLOAT32_TOLERANCE


def _grads(data_or_seed, dtype):
    """(STEPS, 3, 4) gradients, one scale per coordinate from 1e-6 to 1e4."""
    if isinstance(data_or_seed, int):
        rng = np.random.default_rng(data_or_seed)
        scales = 10.0 ** rng.permutation(np.linspace(-6, 4, 12))
        g = (rng.standard_normal(12) + rng.standard_normal((STEPS, 12))) * scales
    else:
        g = data_or_seed.draw(
            gradient_sequences(steps=STEPS, width=12, min_scale=1e-6, max_scale=1e4), label="grads"
        )
    return g.reshape((STEPS,) + SHAPE).astype(dtype)


# -- the references ------------------------------------------------------------


def optax_trajectory(tx, grads, theta0=0.0):
    """theta[1..n] of an optax GradientTransformation, in the gradients' dtype."""
    import jax

    # float64 needs JAX's x64 mode (conftest sets JAX_ENABLE_X64 before any
    # import, so this is normally a no-op; Keras here runs on TensorFlow).
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    p = jnp.full(grads.shape[1:], theta0, dtype=grads.dtype)
    state = tx.init(p)
    out = []
    for g in grads:
        updates, state = tx.update(jnp.asarray(g), state, p)
        p = optax.apply_updates(p, updates)
        out.append(np.asarray(p))
    assert out[-1].dtype == grads.dtype, "optax ran in another precision"
    return np.array(out, dtype=float)


def torch_trajectory(make, grads, theta0=0.0):
    """theta[1..n] of a torch.optim optimizer ``make(params)``."""
    import torch

    torch.set_num_threads(1)
    dtype = {np.dtype("float64"): torch.float64, np.dtype("float32"): torch.float32}[grads.dtype]
    p = torch.nn.Parameter(torch.full(grads.shape[1:], float(theta0), dtype=dtype))
    opt = make([p])
    out = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=dtype)
        opt.step()
        out.append(p.detach().numpy().copy())
    assert out[-1].dtype == grads.dtype
    return np.array(out, dtype=float)


def _check(ours, expected, dtype):
    assert np.all(np.isfinite(ours))
    err = relative_error(ours, expected)
    assert err <= _tolerance(dtype), f"relative error {err:.3g} ({dtype})"


_beta = st.floats(0.0, 0.999)
_beta2 = st.floats(0.0, 0.9999)
_eps = st.sampled_from([1e-16, 1e-12, 1e-8, 1e-7, 1e-3])
_lrs = st.sampled_from([1e-4, 1e-3, 0.01, 0.1])
SETTINGS = settings(max_examples=8, deadline=None)


# -- Nadam: optax.nadam -----------------------------------------------------------


@pytest.mark.slow  # about 5 s a dtype
@pytest.mark.parametrize("dtype", DTYPES)
@SETTINGS
@given(data=st.data(), b1=_beta, b2=_beta2, eps=_eps, lr=_lrs)
def test_nadam_lti_is_optax_nadam(data, dtype, b1, b2, eps, lr):
    """optax's nadam (scale_by_adam with nesterov=True, eps_root = 0)."""
    import optax

    grads = _grads(data, dtype)
    ours = trajectory(
        filteropt.NadamLTI(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps), grads, dtype
    )
    theirs = optax_trajectory(optax.nadam(_lr(lr), b1=b1, b2=b2, eps=eps), grads)
    _check(ours, theirs, dtype)


def test_nadam_lti_steps_a_constant_gradient_as_optax():
    """A constant gradient: optax steps -1.474 eta, -1.157 eta, -1.078 eta, ...
    (its two branches are compensated one step apart), not a constant -eta;
    the analysis's step response of the recipe is optax's update for g = 1
    (eps = 0, so that v^ = 1 divides exactly)."""
    import optax

    g = np.ones((30, 1))
    ours = np.diff(trajectory(filteropt.NadamLTI(learning_rate=0.01), g), axis=0, prepend=0.0)
    theirs = np.diff(optax_trajectory(optax.nadam(_lr(0.01)), g), axis=0, prepend=0.0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert theirs[0, 0] < -1.4 * _lr(0.01) and theirs[1, 0] < -1.1 * _lr(0.01)
    updates = optax_trajectory(optax.scale_by_adam(b1=0.9, b2=0.999, eps=0.0, nesterov=True), g)
    np.testing.assert_allclose(
        analysis.step_response("nadam_lti", 30), np.diff(updates[:, 0], prepend=0.0), rtol=1e-12
    )


# -- AdaBelief: optax.adabelief and the authors' adabelief-pytorch ------------------

# AdaBelief's g - m is a difference that cancels: g - m[t] = beta_1 (g -
# m[t-1]), computed from two numbers of the size of g, so it carries a
# relative error of about ulp / beta_1, and |g| / |g - m[t-1]| more where g
# happens to land near m[t-1]; with beta_2 near 0, s is that one difference
# squared, not an average of many, and the step m^ / sqrt(s^) then takes
# the error whole. Any two implementations differ there by their rounding
# times that factor, not by a formula. Measured against optax (3 gradient
# draws): float32, beta_2 = 0: 3e-4 at beta_1 = 0.25, 1e-2 at 3e-3;
# beta_2 = 0.999: 2e-5 at beta_1 = 1e-3; float64, beta_2 = 0: 1e-9 at
# beta_1 = 1e-5. With both betas >= 0.5 (40 random cases, extremes
# included): 3e-6 in float32, 6e-14 in float64.
_belief_b1 = st.floats(0.5, 0.999)
_belief_b2 = st.floats(0.5, 0.9999)


@pytest.mark.parametrize("dtype", DTYPES)
@SETTINGS
@given(data=st.data(), b1=_belief_b1, b2=_belief_b2, eps=_eps, eps_root=_eps, lr=_lrs)
def test_adabelief_is_optax_adabelief(data, dtype, b1, b2, eps, eps_root, lr):
    """optax adds eps_root to the stored s every step, eps outside the root."""
    import optax

    grads = _grads(data, dtype)
    ours = trajectory(
        filteropt.AdaBelief(
            learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps, epsilon_root=eps_root
        ),
        grads,
        dtype,
    )
    theirs = optax_trajectory(
        optax.adabelief(_lr(lr), b1=b1, b2=b2, eps=eps, eps_root=eps_root), grads
    )
    _check(ours, theirs, dtype)


def _authors_adabelief(lr, betas, eps, weight_decay=0.0):
    from adabelief_pytorch import AdaBelief

    # rectify=False: the authors' default (True) rectifies the step as RAdam
    # does, which AdaBelief's Algorithm 1 (and filteropt) does not.
    # weight_decouple=True (their default): theta *= 1 - lr * wd, Keras's.
    return lambda params: AdaBelief(
        params,
        lr=lr,
        betas=betas,
        eps=eps,
        weight_decay=weight_decay,
        weight_decouple=True,
        rectify=False,
        print_change_log=False,
    )


@pytest.mark.slow  # about 5 s a dtype
@pytest.mark.parametrize("dtype", DTYPES)
@SETTINGS
@given(
    data=st.data(),
    b1=_belief_b1,
    b2=_belief_b2,
    eps=_eps,
    lr=_lrs,
    wd=st.sampled_from([0.0, 0.0, 0.01, 0.5]),
)
def test_adabelief_is_the_authors_adabelief(data, dtype, b1, b2, eps, lr, wd):
    """adabelief-pytorch adds its one eps to s in place every step and again
    outside the root: filteropt's epsilon = epsilon_root = eps. Its decoupled
    weight decay is Keras's weight_decay (float32 in Keras: drawn exact)."""
    grads = _grads(data, dtype)
    ours = trajectory(
        filteropt.AdaBelief(
            learning_rate=lr,
            beta_1=b1,
            beta_2=b2,
            epsilon=eps,
            epsilon_root=eps,
            weight_decay=wd if wd else None,
        ),
        grads,
        dtype,
        theta0=1.5,
    )
    theirs = torch_trajectory(
        _authors_adabelief(_lr(lr), (b1, b2), eps, _lr(wd)), grads, theta0=1.5
    )
    _check(ours, theirs, dtype)


# -- Lion and SGD: optax --------------------------------------------------------


_b32 = st.floats(0.0, float(np.float32(0.999)), width=32)


@pytest.mark.parametrize("dtype", DTYPES)
@SETTINGS
@given(
    data=st.data(),
    b1=st.floats(float(np.float32(0.01)), 1.0, width=32),
    b2=_b32,
    lr=_lrs,
    wd=st.sampled_from([0.0, 0.0, 0.01, 0.5]),
)
def test_lion_is_optax_lion(data, dtype, b1, b2, lr, wd):
    """optax's lion names beta_1, beta_2 b1, b2 and defaults to
    weight_decay=1e-3 (Keras: None), which it adds to the update before the
    learning rate: -eta (sign(.) + wd theta), the same as Keras's theta -=
    eta wd theta before the step. Keras rounds b1, b2 and wd to float32."""
    import optax

    grads = _grads(data, dtype)
    ours = trajectory(
        filteropt.Lion(learning_rate=lr, beta_1=b1, beta_2=b2, weight_decay=wd if wd else None),
        grads,
        dtype,
        theta0=1.5,
    )
    theirs = optax_trajectory(
        optax.lion(_lr(lr), b1=b1, b2=b2, weight_decay=_lr(wd)), grads, theta0=1.5
    )
    _check(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@SETTINGS
@given(data=st.data(), momentum=_b32, nesterov=st.booleans(), lr=_lrs)
def test_sgd_is_optax_sgd(data, dtype, momentum, nesterov, lr):
    """Keras (and filteropt) put the learning rate before the filter,
    v = m v - eta g, Delta = v (Nesterov: m v - eta g); optax after it,
    v = m v + g, Delta = -eta v (Nesterov: -eta (m v + g)). The two agree
    for a constant learning rate (here), not under a schedule. Keras rounds
    the momentum to float32 (drawn exact)."""
    import optax

    grads = _grads(data, dtype)
    ours = trajectory(
        filteropt.SGD(learning_rate=lr, momentum=momentum, nesterov=nesterov), grads, dtype
    )
    theirs = optax_trajectory(optax.sgd(_lr(lr), momentum=momentum, nesterov=nesterov), grads)
    _check(ours, theirs, dtype)


# -- QHM and QHAdam: the authors' qhoptim --------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@SETTINGS
@given(data=st.data(), nu=st.floats(0.0, 1.0), beta=_beta, lr=_lrs)
def test_qhm_is_the_authors_qhm(data, dtype, nu, beta, lr):
    """qhoptim.pyt.QHM: buf = beta buf + (1 - beta) g, theta -= lr (nu buf +
    (1 - nu) g); its ``momentum`` is filteropt's ``beta``."""
    from qhoptim.pyt import QHM

    grads = _grads(data, dtype)
    ours = trajectory(filteropt.QHM(learning_rate=lr, nu=nu, beta=beta), grads, dtype)
    theirs = torch_trajectory(lambda p: QHM(p, lr=_lr(lr), momentum=beta, nu=nu), grads)
    _check(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@SETTINGS
@given(
    data=st.data(),
    b1=_beta,
    b2=_beta2,
    nu1=st.floats(0.0, 1.0),
    nu2=st.floats(0.0, 1.0),
    eps=_eps,
    lr=_lrs,
)
def test_qhadam_is_the_authors_qhadam(data, dtype, b1, b2, nu1, nu2, eps, lr):
    """qhoptim.pyt.QHAdam renormalises its EMAs every step (beta_adj = 1 -
    1 / (1 + beta + ... + beta^(t-1))) where filteropt divides by 1 - beta^t:
    the same m^ and v^. eps outside the root in both."""
    from qhoptim.pyt import QHAdam

    grads = _grads(data, dtype)
    ours = trajectory(
        filteropt.QHAdam(learning_rate=lr, beta_1=b1, beta_2=b2, nu_1=nu1, nu_2=nu2, epsilon=eps),
        grads,
        dtype,
    )
    theirs = torch_trajectory(
        lambda p: QHAdam(p, lr=_lr(lr), betas=(b1, b2), nus=(nu1, nu2), eps=eps), grads
    )
    _check(ours, theirs, dtype)


# -- AggMo: torch-optimizer ------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@SETTINGS
@given(data=st.data(), betas=st.lists(_beta, min_size=1, max_size=4, unique=True), lr=_lrs)
def test_aggmo_is_torch_optimizers_aggmo(data, dtype, betas, lr):
    """Lucas et al. (2019): v_i = beta_i v_i - g, theta += eta / K sum_i v_i.
    torch-optimizer keeps +g in its buffers and subtracts eta / K buf_i, one
    velocity at a time: the same, with the learning rate after the filter
    (filteropt's is before it; equal for a constant learning rate). Its
    buffers are keyed by the beta's value, so a repeated beta would share
    one buffer, updated twice a step: the betas are drawn distinct."""
    from torch_optimizer import AggMo

    grads = _grads(data, dtype)
    ours = trajectory(filteropt.AggMo(learning_rate=lr, betas=betas), grads, dtype)
    theirs = torch_trajectory(lambda p: AggMo(p, lr=_lr(lr), betas=betas), grads)
    _check(ours, theirs, dtype)


# -- the defaults -------------------------------------------------------------------


def _defaults():
    import optax
    from qhoptim.pyt import QHM, QHAdam
    from torch_optimizer import AggMo

    lr = 0.01
    return [
        ("NadamLTI", filteropt.NadamLTI(lr), lambda g: optax_trajectory(optax.nadam(_lr(lr)), g)),
        (
            "AdaBelief-optax",
            filteropt.AdaBelief(lr),
            lambda g: optax_trajectory(optax.adabelief(_lr(lr)), g),
        ),
        # the authors' defaults but rectify=False (see _authors_adabelief)
        (
            "AdaBelief-authors",
            filteropt.AdaBelief(lr),
            lambda g: torch_trajectory(_authors_adabelief(_lr(lr), (0.9, 0.999), 1e-16), g),
        ),
        # optax's lion decays the weights by 1e-3 by default, Keras's not at all
        (
            "Lion",
            filteropt.Lion(lr),
            lambda g: optax_trajectory(optax.lion(_lr(lr), weight_decay=0.0), g),
        ),
        # qhoptim's QHM has no defaults: filteropt's are the paper's nu = 0.7, beta = 0.999
        (
            "QHM",
            filteropt.QHM(lr),
            lambda g: torch_trajectory(lambda p: QHM(p, lr=_lr(lr), momentum=0.999, nu=0.7), g),
        ),
        # qhoptim's QHAdam defaults to nus=(1, 1) (Adam); filteropt's nu_1 = 0.7
        (
            "QHAdam",
            filteropt.QHAdam(lr),
            lambda g: torch_trajectory(lambda p: QHAdam(p, lr=_lr(lr), nus=(0.7, 1.0)), g),
        ),
        (
            "AggMo",
            filteropt.AggMo(lr),
            lambda g: torch_trajectory(lambda p: AggMo(p, lr=_lr(lr)), g),
        ),
    ]


DEFAULT_NAMES = [
    "NadamLTI",
    "AdaBelief-optax",
    "AdaBelief-authors",
    "Lion",
    "QHM",
    "QHAdam",
    "AggMo",
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", DEFAULT_NAMES)
def test_defaults_are_the_references_defaults(name, dtype):
    """With only a learning rate, filteropt's defaults and the reference's
    (where they differ, the comment in _defaults says how, and the reference
    is given filteropt's)."""
    ((_, ours, reference),) = [case for case in _defaults() if case[0] == name]
    grads = _grads(3, dtype)
    _check(trajectory(ours, grads, dtype), reference(grads), dtype)
