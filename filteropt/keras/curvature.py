"""Curvature of a Keras model's loss: the lambda_max and kappa a design needs.

:func:`filteropt.design.design_filter` works with curvatures scaled so that
the largest is 1; a model's learning rate is then design.learning_rate /
lambda_max. :func:`estimate_curvature` estimates lambda_max, the largest
eigenvalue of the Hessian of the (mean) training loss, by power iteration
on Hessian-vector products (double backpropagation: nested
``tf.GradientTape``), and a smallest *useful* curvature lambda_min:

- ``"lanczos"`` (default): the smallest Ritz value of ``iterations``
  Lanczos steps on H (the Krylov space power iteration explores, used in
  full; it converges far faster than the next option);
- ``"shifted"``: power iteration on lambda_max I - H, whose largest
  eigenvalue is lambda_max - lambda_min(H);
- ``"gradient"``: the Rayleigh quotient along the gradient,
  g^T H g / g^T g, the curvature the gradient sees now (clipped the same way).

A network's Hessian has many zero or negative eigenvalues, so lambda_min is
clipped at ``min_ratio * lambda_max``. The gradient's Rayleigh quotient is
always reported; ``method`` picks the estimate behind lambda_min and
kappa = lambda_max / lambda_min.

This module imports Keras (and, for the Hessian-vector products, needs the
TensorFlow backend).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["METHODS", "CurvatureEstimate", "estimate_curvature", "hessian_vector_product"]

METHODS = ("lanczos", "shifted", "gradient")


@dataclass(frozen=True)
class CurvatureEstimate:
    """What :func:`estimate_curvature` found.

    Attributes:
        lambda_max: the largest Hessian eigenvalue (power iteration).
        lambda_min: the smallest useful curvature (see ``method``), > 0.
        kappa: lambda_max / lambda_min.
        method: ``"lanczos"``, ``"shifted"`` or ``"gradient"``, how
            lambda_min was found.
        lambda_min_raw: lambda_min before clipping (may be <= 0 for a
            network: its Hessian is indefinite).
        lambda_gradient: g^T H g / g^T g, before clipping.
        iterations: power iterations per eigenvalue.
        n_samples: examples the loss averages over.
        converged: the last relative change of the power iterations,
            ``(lambda_max, shifted)`` (nan where not run).
        description: how it was computed, in words.
    """

    lambda_max: float
    lambda_min: float
    kappa: float
    method: str
    lambda_min_raw: float
    lambda_gradient: float
    iterations: int
    n_samples: int
    converged: tuple
    description: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _tf():
    import keras

    if keras.backend.backend() != "tensorflow":
        raise NotImplementedError(
            "estimate_curvature computes Hessian-vector products with tf.GradientTape and "
            f"needs Keras's TensorFlow backend; this Keras runs {keras.backend.backend()!r}"
        )
    import tensorflow as tf

    return tf


def _loss_fn(model, loss):
    import keras

    if loss is None:
        loss = getattr(model, "loss", None)
        if loss is None:
            raise ValueError(
                "`loss` is None and the model is not compiled with one: pass "
                "loss='mse' (or any Keras loss)"
            )
    fn = keras.losses.get(loss) if isinstance(loss, (str, dict)) else loss
    if not callable(fn):
        raise ValueError(f"`loss` must be a Keras loss, its name or a callable. Received: {loss!r}")
    return fn


def _batches(data, batch_size):
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError("`data` must be a pair (x, y) of arrays")
    x, y = (np.asarray(v) for v in data)
    n = len(x)
    if n == 0 or len(y) != n:
        raise ValueError(
            f"`data` must hold as many targets as inputs (> 0); got {len(x)} and {len(y)}"
        )
    batch_size = n if batch_size is None else int(batch_size)
    if batch_size < 1:
        raise ValueError(f"`batch_size` must be >= 1. Received: batch_size={batch_size}")
    return [(x[i : i + batch_size], y[i : i + batch_size]) for i in range(0, n, batch_size)], n


class _HVP:
    """Hessian-vector products of the mean loss over ``data``, compiled once."""

    def __init__(self, model, data, loss, batch_size, include_regularization):
        tf = _tf()
        self.tf = tf
        self.variables = list(model.trainable_variables)
        if not self.variables:
            raise ValueError("the model has no trainable variables")
        self.batches, self.n = _batches(data, batch_size)
        loss_fn = _loss_fn(model, loss)
        self.dtype = self.variables[0].dtype
        variables = self.variables

        def batch_loss(x, y):
            pred = model(x, training=False)
            value = tf.reduce_mean(tf.cast(loss_fn(y, pred), self.dtype))
            if include_regularization and model.losses:
                value = value + tf.add_n([tf.cast(v, self.dtype) for v in model.losses])
            return value

        @tf.function(reduce_retracing=True)
        def hvp(x, y, vs):
            with tf.GradientTape() as outer:
                with tf.GradientTape() as inner:
                    value = batch_loss(x, y)
                grads = inner.gradient(value, variables)
                grads = [tf.zeros_like(v) if g is None else g for g, v in zip(grads, variables)]
                dot = tf.add_n([tf.reduce_sum(g * v) for g, v in zip(grads, vs)])
            hv = outer.gradient(dot, variables)
            hv = [tf.zeros_like(v) if h is None else h for h, v in zip(hv, variables)]
            return hv, grads

        self._hvp = hvp

    def __call__(self, vector):
        """(H v, gradient) of the mean loss, as flat float64 numpy arrays."""
        tf = self.tf
        vs = self._split(vector)
        total_h = np.zeros_like(vector)
        total_g = np.zeros_like(vector)
        for x, y in self.batches:
            hv, g = self._hvp(tf.convert_to_tensor(x), tf.convert_to_tensor(y), vs)
            w = len(x) / self.n
            total_h += w * self._flat(hv)
            total_g += w * self._flat(g)
        return total_h, total_g

    def size(self):
        return int(sum(int(np.prod(v.shape)) for v in self.variables))

    def _split(self, vector):
        out, i = [], 0
        for v in self.variables:
            k = int(np.prod(v.shape))
            out.append(
                self.tf.constant(vector[i : i + k].reshape(tuple(v.shape)), dtype=self.dtype)
            )
            i += k
        return out

    @staticmethod
    def _flat(tensors):
        return np.concatenate([np.asarray(t, dtype=np.float64).ravel() for t in tensors])


def hessian_vector_product(
    model, data, vector, loss=None, batch_size=None, include_regularization=True
) -> np.ndarray:
    """H v for the mean loss over ``data`` = (x, y); ``vector`` flat, in the
    order of ``model.trainable_variables``."""
    hvp = _HVP(model, data, loss, batch_size, include_regularization)
    return hvp(np.asarray(vector, dtype=np.float64))[0]


def _power(apply, v, iterations):
    """Power iteration: (eigenvalue estimate, vector, last relative change)."""
    v = v / np.linalg.norm(v)
    value, change = 0.0, math.inf
    for _ in range(iterations):
        w = apply(v)
        new = float(v @ w)
        norm = np.linalg.norm(w)
        if norm == 0.0:
            return 0.0, v, 0.0
        change = abs(new - value) / max(abs(new), 1e-300)
        value, v = new, w / norm
    return value, v, change


def _lanczos(apply, v, iterations):
    """Ritz values of H after ``iterations`` Lanczos steps (full
    reorthogonalisation), ascending; stops early on an invariant subspace."""
    q = v / np.linalg.norm(v)
    basis, alphas, betas = [], [], []
    for _ in range(iterations):
        basis.append(q)
        w = apply(q)
        alpha = float(q @ w)
        alphas.append(alpha)
        qs = np.array(basis)
        for _ in range(2):
            w = w - qs.T @ (qs @ w)
        beta = float(np.linalg.norm(w))
        if beta <= 1e-10 * max(abs(alpha), 1e-300) or len(basis) == len(v):
            break
        betas.append(beta)
        q = w / beta
    k = len(alphas)
    t = np.diag(alphas) + np.diag(betas[: k - 1], 1) + np.diag(betas[: k - 1], -1)
    return np.linalg.eigvalsh(t)


def estimate_curvature(
    model,
    data,
    loss=None,
    iterations: int = 20,
    batch_size: int | None = 1024,
    method: str = "lanczos",
    min_ratio: float = 1e-6,
    seed: int = 0,
    include_regularization: bool = True,
) -> CurvatureEstimate:
    """lambda_max and a useful lambda_min of the Hessian of the mean training loss.

    Args:
        model: a built Keras model (TensorFlow backend).
        data: ``(x, y)`` arrays; the loss is their mean (``batch_size``
            examples per Hessian-vector product, accumulated exactly, so the
            batch size only trades memory for speed).
        loss: a Keras loss or its name; default the model's compiled loss.
        iterations: power iterations for each eigenvalue.
        method: ``"lanczos"``, ``"shifted"`` or ``"gradient"`` (see the module
            docstring).
        min_ratio: lambda_min is at least ``min_ratio * lambda_max``.
        seed: the random starting vector.
        include_regularization: add ``model.losses`` (L2 penalties) to the loss.

    For a linear model with the mean squared error the Hessian is
    2 X^T X / n (X with a column of ones for the bias), and both estimates
    converge to its extreme eigenvalues.

    Example:
        >>> import keras, numpy as np, filteropt
        >>> x = np.random.default_rng(0).normal(size=(256, 3)).astype("float32")
        >>> y = x.sum(axis=1, keepdims=True)
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        >>> model.compile(loss="mse")
        >>> est = filteropt.estimate_curvature(model, (x, y))
        >>> x1 = np.hstack([x, np.ones((256, 1), "float32")])  # the bias's column
        >>> exact = np.linalg.eigvalsh(2 * x1.T @ x1 / 256)
        >>> bool(np.isclose(est.lambda_max, exact[-1], rtol=1e-3))
        True
    """
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {list(METHODS)}. Received: method={method!r}")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(
            f"`iterations` must be an integer >= 1. Received: iterations={iterations!r}"
        )
    if not 0.0 < float(min_ratio) < 1.0:
        raise ValueError(f"`min_ratio` must be in (0, 1). Received: min_ratio={min_ratio!r}")
    hvp = _HVP(model, data, loss, batch_size, include_regularization)
    rng = np.random.default_rng(seed)
    v0 = rng.standard_normal(hvp.size())

    cache = {}

    def apply(v):
        h, g = hvp(v)
        cache["g"] = g
        return h

    lam_max, _, change_max = _power(apply, v0, iterations)
    grad = cache["g"]
    start = rng.standard_normal(hvp.size())
    lam_lanczos = lam_top_shifted = math.nan
    change_other = math.nan
    if method == "lanczos":
        ritz = _lanczos(apply, start, iterations)
        lam_lanczos = float(ritz[0])
        lam_max = max(lam_max, float(ritz[-1]))  # both are lower bounds on lambda_max
        raw = lam_lanczos
    elif method == "shifted":
        shift = lam_max
        lam_top_shifted, _, change_other = _power(lambda v: shift * v - apply(v), start, iterations)
        raw = shift - lam_top_shifted
    gnorm = float(grad @ grad)
    lam_grad = float(grad @ hvp(grad)[0]) / gnorm if gnorm > 0 else float("nan")
    if method == "gradient":
        raw = lam_grad
    if not lam_max > 0:
        raise ValueError(
            f"the largest curvature found is {lam_max:g} <= 0: the loss is not "
            "locally convex along any direction power iteration found"
        )
    floor = float(min_ratio) * lam_max
    lam_min = max(raw, floor) if np.isfinite(raw) else floor
    how = (
        f"power iteration, {iterations} Hessian-vector products (nested tf.GradientTape) "
        f"for lambda_max; lambda_min by "
        + {
            "lanczos": f"the smallest Ritz value of {iterations} Lanczos steps",
            "shifted": "power iteration on lambda_max I - H",
            "gradient": "the Rayleigh quotient along the gradient",
        }[method]
        + f", clipped at {min_ratio:g} lambda_max; mean loss over {hvp.n} examples"
    )
    return CurvatureEstimate(
        float(lam_max),
        float(lam_min),
        float(lam_max / lam_min),
        method,
        float(raw),
        float(lam_grad),
        int(iterations),
        hvp.n,
        (float(change_max), float(change_other)),
        how,
    )
