"""GradientProbe: a Keras callback that records what the optimizer sees and does.

Every step i of ``model.fit`` and for each trainable variable theta (keyed by
``variable.path``) the probe records, on the device, into a ring buffer of the
last ``max_steps`` steps:

    gradient[i, j] = d_j . g[i],   update[i, j] = d_j . (theta[i] - theta[i-1]),
    gradient_norm[i] = ||g[i]||,   learning_rate[i] = eta[i]

d_1 .. d_k fixed random unit directions of the variable (``projections=k``,
``seed``). It works with any Keras optimizer, built-in or filteropt's,
``jit_compile`` on or off, and does not change the model: for the length of
``fit`` it wraps the optimizer's ``apply_gradients`` (the one call of the
train step that sees both the gradients and the variables) and rebuilds the
train function; ``on_train_end`` undoes both. Reading the buffer (once per
epoch) is the only transfer to the host.

With ``sharpness_every=K`` and ``sharpness_data=(x, y)`` it also measures,
before training (after the first step, for an adaptive optimizer, whose
scale does not exist before it) and every K steps, lambda_max of the Hessian of the training
loss on that fixed sample (Lanczos on Hessian-vector products,
:mod:`filteropt.keras.curvature`), preconditioned for an adaptive optimizer
by its frozen normaliser, P^{-1/2} H P^{-1/2}
(:mod:`filteropt.keras.preconditioning`), so that eta lambda_max compares
with :func:`filteropt.analysis.stability_limit`.

The analysis (spectra, the measured response, files) is the backend-free
:class:`filteropt.analysis.measured.ProbeRecord`; the probe's methods of the
same names delegate to :attr:`GradientProbe.record`. Needs Keras's
TensorFlow backend.
"""

from __future__ import annotations

import numbers
from typing import Any

import keras
import numpy as np

from ..analysis.measured import ProbeRecord
from . import curvature, preconditioning

__all__ = ["GradientProbe"]


def _columns(k: int) -> int:
    """Buffer columns per variable (:meth:`GradientProbe._record`)."""
    return 2 * k + 1


def _count(value, name, low, none_ok=False):
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
    return int(value)


class GradientProbe(keras.callbacks.Callback):
    """Records projected gradients and updates every step (module docstring).

    Args:
        projections: k, the random unit directions per variable. Defaults to 4.
        seed: the directions' seed. Defaults to 0.
        max_steps: the ring buffer's length: the last ``max_steps`` steps are
            kept. Defaults to 8192.
        sharpness_every: K, measure lambda_max every K steps (None: never).
        sharpness_data: ``(x, y)``, the fixed training sample the Hessian is
            of (needed with ``sharpness_every``).
        sharpness_iterations: Lanczos steps per measurement. Defaults to 20.
        precondition: ``"auto"`` (by the normaliser of an adaptive optimizer)
            or False (the plain Hessian).
        loss: the loss the Hessian is of; default the model's compiled loss.

    Attributes:
        record: the :class:`~filteropt.analysis.measured.ProbeRecord` so far.
        sharpness: ``(m, 2)`` rows (step, lambda_max).

    Example:
        >>> import keras, numpy as np, filteropt
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(512, 4)).astype("float32")
        >>> y = x @ np.ones((4, 1), "float32") + 0.1 * rng.normal(size=(512, 1)).astype("float32")
        >>> keras.utils.set_random_seed(0)
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        >>> model.compile(optimizer=filteropt.SGD(0.02, momentum=0.9), loss="mse")
        >>> probe = filteropt.GradientProbe(projections=2)
        >>> _ = model.fit(x, y, batch_size=8, epochs=4, verbose=0, callbacks=[probe])
        >>> probe.record.n_steps
        256
        >>> f, h = probe.record.response()  # measured update / gradient
        >>> # eta |H(e^{j 2 pi f})|, H(z) = 1/(1 - 0.9 z^-1)
        >>> theory = 0.02 / np.abs(1 - 0.9 * np.exp(-2j * np.pi * f))
        >>> band = (f > 0.05) & (f < 0.45)
        >>> ratio = np.abs(h[band]) / theory[band]  # within 6% here (a Welch estimate)
        >>> bool(np.all(np.abs(ratio - 1) < 0.1))
        True
    """

    def __init__(
        self,
        projections: int = 4,
        seed: int = 0,
        max_steps: int = 8192,
        sharpness_every: int | None = None,
        sharpness_data=None,
        sharpness_iterations: int = 20,
        precondition="auto",
        loss=None,
    ):
        super().__init__()
        self.projections = _count(projections, "projections", 1)
        self.seed = _count(seed, "seed", 0)
        self.max_steps = _count(max_steps, "max_steps", 2)
        self.sharpness_every = _count(sharpness_every, "sharpness_every", 1, none_ok=True)
        self.sharpness_iterations = _count(sharpness_iterations, "sharpness_iterations", 2)
        if precondition not in ("auto", False):
            raise ValueError(
                f"`precondition` must be 'auto' or False. Received: precondition={precondition!r}"
            )
        self.precondition = precondition
        if self.sharpness_every is not None and sharpness_data is None:
            raise ValueError(
                "`sharpness_every` needs `sharpness_data`=(x, y), the fixed "
                "training sample whose Hessian is measured"
            )
        if sharpness_data is not None:
            curvature._batches(sharpness_data, None)  # checks the pair
        self.sharpness_data = sharpness_data
        self.loss = loss
        self._tf: Any = None  # the tensorflow module, imported by _setup
        self._model_id: int | None = None
        # (step, sharpness, gradient's Rayleigh quotient, learning rate) per measurement
        self._sharpness: list[tuple[float, float, float, float]] = []
        self._cached: tuple[int, ProbeRecord] | None = None

    # -- set up --------------------------------------------------------------------------
    def _setup(self, model):
        if keras.backend.backend() != "tensorflow":
            raise NotImplementedError(
                "GradientProbe wraps the TensorFlow train step and needs Keras's TensorFlow "
                f"backend; this Keras runs {keras.backend.backend()!r}"
            )
        import tensorflow as tf

        self._tf = tf
        variables = list(model.trainable_variables)
        if not variables:
            raise ValueError("GradientProbe: the model has no trainable variables")
        self._variables = variables
        self._paths = tuple(v.path for v in variables)
        self._index = {id(v): i for i, v in enumerate(variables)}
        k = self.projections
        # One compute dtype, so that the pieces of a row join without casts.
        self._dtype = "float64" if any(v.dtype == "float64" for v in variables) else "float32"
        self._directions = []
        for i, v in enumerate(variables):
            n = int(np.prod(v.shape))
            d = np.random.default_rng([self.seed, i]).standard_normal((k, n))
            d /= np.linalg.norm(d, axis=1, keepdims=True)
            self._directions.append(
                tf.Variable(d.astype(self._dtype), trainable=False, name=f"probe_directions_{i}")
            )
        self._width = len(variables) * _columns(k) + 1
        self._buffer = tf.Variable(
            tf.zeros((self.max_steps, self._width), tf.float64),
            trainable=False,
            name="probe_buffer",
        )
        self._written = tf.Variable(tf.constant(0, tf.int64), trainable=False, name="probe_written")
        self._model_id = id(model)
        self._hvp = None

    def _record(self, grads, before, learning_rate):
        """Writes one buffer row (the probe's variables in its order): per
        variable d . g (k), d . Delta (k) and g . g, then eta. Products and
        sums rather than a matmul: on a small model the step's cost is the
        number of operations and their thread-pool dispatch, and a matmul's
        is the dearest (``benchmarks/probe_cost.py``)."""
        tf = self._tf
        dtype = self._dtype
        pieces = []
        for v, d, g, old in zip(self._variables, self._directions, grads, before):
            g = tf.reshape(tf.cast(g, dtype), [-1])
            delta = tf.reshape(tf.cast(tf.convert_to_tensor(v.value) - old, dtype), [-1])
            pieces += [
                tf.reduce_sum(d * g[None], 1),
                tf.reduce_sum(d * delta[None], 1),
                tf.reduce_sum(g * g)[None],
            ]
        lr = tf.cast(tf.reshape(learning_rate, [1]), dtype)
        row = tf.cast(tf.concat(pieces + [lr], 0), tf.float64)
        slot = tf.math.floormod(self._written, self.max_steps)
        self._buffer.scatter_nd_update(tf.reshape(slot, [1, 1]), row[None])
        self._written.assign_add(1)

    def _wrap(self, optimizer):
        """Wraps ``optimizer.apply_gradients``: the variables are read before
        it, and the row is recorded after it."""
        probe = self
        tf = self._tf
        original = optimizer.apply_gradients

        def apply_gradients(grads_and_vars):
            pairs = list(grads_and_vars)
            lr = tf.convert_to_tensor(optimizer.learning_rate)
            by_index = {probe._index[id(v)]: (g, v) for g, v in pairs if id(v) in probe._index}
            grads, before = [], []
            for i, v in enumerate(probe._variables):
                g = by_index.get(i, (None, v))[0]
                grads.append(
                    tf.zeros(v.shape, v.dtype) if g is None else tf.convert_to_tensor(g)
                )  # IndexedSlices: dense
                # A read: the optimizer's assignment copies on write while it lives.
                before.append(tf.convert_to_tensor(v.value))
            result = original(pairs)
            probe._record(grads, before, lr)
            return result

        optimizer.apply_gradients = apply_gradients
        return original

    def on_train_begin(self, logs=None):
        model = self.model
        if self._model_id != id(model):
            self._setup(model)
        optimizer = model.optimizer
        if self.sharpness_every is not None:  # before any change: this may refuse
            self._adaptive = self.precondition == "auto" and preconditioning.is_adaptive(optimizer)
        self._optimizer = optimizer
        if "apply_gradients" in vars(optimizer):  # left by a fit that raised
            del optimizer.apply_gradients
        self._wrap(optimizer)
        # The train function is traced on its first call: rebuilt, it traces
        # the wrapped apply_gradients.
        model.make_train_function(force=True)
        self._steps = int(self._written.numpy())
        if self.sharpness_every is not None and not self._sharpness:
            self._measure_sharpness(self._steps)

    def on_train_batch_end(self, batch, logs=None):
        self._steps += 1
        if self.sharpness_every is not None and self._steps % self.sharpness_every == 0:
            self._measure_sharpness(self._steps)

    def on_train_end(self, logs=None):
        optimizer = self._optimizer
        if "apply_gradients" in vars(optimizer):
            del optimizer.apply_gradients
        # Rebuilt without the probe at the next fit.
        self.model.train_function = None

    # -- sharpness -----------------------------------------------------------------------
    def _measure_sharpness(self, step):
        model = self.model
        if self._hvp is None:
            self._hvp = curvature._HVP(model, self.sharpness_data, self.loss, 1024, True)
        hvp = self._hvp
        scale = None
        if self._adaptive:
            if int(np.asarray(self._optimizer.iterations)) == 0:
                return  # no scale before the first step: nothing to compare with s*
            p = preconditioning.diagonal_scale(self._optimizer, hvp.variables)
            assert p is not None  # an adaptive optimizer has a scale
            scale = 1.0 / np.sqrt(np.concatenate([np.ravel(x) for x in p]))
        cache: dict[str, np.ndarray] = {}

        def apply(v):
            w = v if scale is None else scale * v
            h, g = hvp(w)
            cache.setdefault("g", g)
            return h if scale is None else scale * h

        rng = np.random.default_rng([self.seed, step])
        ritz = curvature._lanczos(apply, rng.standard_normal(hvp.size()), self.sharpness_iterations)
        g = cache["g"] if scale is None else cache["g"] * scale
        gg = float(g @ g)
        lam_g = float(g @ apply(g)) / gg if gg > 0 else float("nan")
        lr = float(np.asarray(self._optimizer.learning_rate))
        self._sharpness.append((float(step), float(ritz[-1]), lam_g, lr))

    # -- reading ---------------------------------------------------------------------------
    @property
    def record(self) -> ProbeRecord:
        if self._model_id is None:
            raise ValueError(
                "GradientProbe has recorded nothing yet: pass it to model.fit in `callbacks`"
            )
        written = int(self._written.numpy())
        if self._cached is None or self._cached[0] != written:
            buf = self._buffer.numpy()
            n = min(written, self.max_steps)
            if written > self.max_steps:
                buf = np.roll(buf, -(written % self.max_steps), axis=0)
            buf = buf[:n]
            k = self.projections
            grad, upd, norm = {}, {}, {}
            width = _columns(k)
            for i, p in enumerate(self._paths):
                block = buf[:, i * width : (i + 1) * width]
                grad[p], upd[p] = block[:, :k], block[:, k : 2 * k]
                norm[p] = np.sqrt(np.maximum(block[:, 2 * k], 0.0))
            steps = np.arange(written - n + 1, written + 1)
            table = np.array(self._sharpness, dtype=float).reshape(-1, 4)
            adaptive = bool(getattr(self, "_adaptive", False))
            self._cached = (
                written,
                ProbeRecord(
                    self._paths,
                    grad,
                    upd,
                    norm,
                    steps,
                    buf[:, -1],
                    table,
                    adaptive,
                    type(preconditioning.inner_optimizer(self._optimizer)).__name__,
                ),
            )
        return self._cached[1]

    @property
    def sharpness(self) -> np.ndarray:
        return self.record.sharpness

    def spectrum(self, path=None, of="gradient", **kwargs):
        """:meth:`ProbeRecord.spectrum <filteropt.analysis.measured.ProbeRecord.spectrum>`."""
        return self.record.spectrum(path, of, **kwargs)

    def response(self, path=None, **kwargs):
        """:meth:`ProbeRecord.response <filteropt.analysis.measured.ProbeRecord.response>`."""
        return self.record.response(path, **kwargs)

    def coherence(self, path=None, **kwargs):
        """:meth:`ProbeRecord.coherence <filteropt.analysis.measured.ProbeRecord.coherence>`."""
        return self.record.coherence(path, **kwargs)

    def save(self, path) -> None:
        """Writes :attr:`record` as ``.npz`` (:meth:`ProbeRecord.save`)."""
        self.record.save(path)
