"""The Keras 3 engine: a recipe run on slot variables.

Per model variable the optimizer keeps the recipe's slots (the gradient
filter's ``order`` states, then the normalizer's), all created in ``build``.
Keras's base optimizer clips the gradients and calls
``_apply_weight_decay`` (a no-op here: the decay is part of the update),
then ``_backend_update_step``, where one step runs:

1. Once for all variables: whether the gradients are finite (with
   ``skip_nonfinite``), and the recipe's per-step scalars (transient
   compensation of higher-order filters, Nadam's schedule, advanced as
   Keras's Nadam advances its own; a first-order filter's compensation
   comes from the step count and keeps no scalar) with the gains read from
   them. These, the learning rate and the weight decay in each variable
   dtype, and the finite flag are the step's :class:`StepScalars`, passed
   to every variable's update.
2. Per variable, :meth:`RecipeOptimizer._update_dense` (or, for a
   row-sparse gradient, ``_update_sparse``) reads the slots, calls
   :meth:`filteropt.recipes.Recipe.step` with ``keras.ops`` and writes
   theta[i] = (1 - eta lambda) theta[i-1] + Delta[i]
   (:meth:`~filteropt.recipes.Recipe.decayed`: Keras's decoupled weight
   decay and its rounding, for the variables ``exclude_from_weight_decay``
   leaves) and the slots through ``self.assign*``; on a skipped step it
   writes the old values back.

On Keras's torch backend the recipe computes with torch's functions, on
the slots' tensors, and decays as Keras's torch optimizers do
(:mod:`filteropt.keras.backend_ops`).

Clipping, EMA, gradient accumulation, loss scaling, schedules and
distribution are Keras's own. On TensorFlow the dense updates can run
XLA-compiled even when nothing compiles the step around it (Keras's default
on CPU), :mod:`filteropt.keras.fused`: those of a step in one launch, or
per variable and device under ``tf.distribute``. ``fused="auto"`` (the
default) compiles the update of a variable of at least
:data:`filteropt.keras.fused.MIN_SIZE` parameters, below which the launch
costs more than the passes it saves; ``True`` every dense update,
``False`` none. The trajectory is the same.

The module is long because it is one class whose build, per-step scalars,
dense and sparse updates and config read one another's slots; the helpers
it shares with other modules live in :mod:`~filteropt.keras.backend_ops`,
:mod:`~filteropt.keras.fused` and :mod:`~filteropt.keras.gradients`.
"""

from __future__ import annotations

import contextlib
from typing import NamedTuple

import keras
from keras import ops

from .. import recipes as R
from ..analysis.summary import describe_recipe
from ..signal import realisation
from . import backend_ops as B
from . import fused as F
from . import gradients as G

__all__ = ["COMMON_ARGS", "RecipeOptimizer", "StepScalars"]

#: The arguments every RecipeOptimizer takes beyond its recipe's, as the
#: ``Args`` of a docstring.
COMMON_ARGS = """name: a string, the optimizer's name (it prefixes the names of
            its variables); ``None`` takes the class name.
        skip_nonfinite: a bool: skip a step whose gradients hold inf or NaN
            (variables, slots, EMA averages and the decay untouched; the
            step is counted in ``nonfinite_steps``, not in ``iterations``).
            Defaults to ``False``.
        fused: ``"auto"``, ``True`` or ``False``: on TensorFlow, whether
            XLA compiles the update when nothing compiles the step around
            it (Keras's default on CPU). ``"auto"`` compiles the update of
            each variable of at least ``filteropt.keras.fused.MIN_SIZE``
            (100k) parameters (a smaller one runs faster operation by
            operation), ``True`` of every variable, ``False`` of none; the
            trajectory is the same. Defaults to ``"auto"``.
        **kwargs: Keras's base optimizer arguments, as
            ``keras.optimizers.Optimizer`` takes them: ``weight_decay`` (a
            float: decoupled decay lambda, theta[i] = (1 - eta lambda)
            theta[i-1] + Delta[i], for every variable not excluded with
            ``exclude_from_weight_decay``), ``clipnorm``, ``clipvalue``,
            ``global_clipnorm`` (gradient clipping, per variable or over
            all), ``use_ema``, ``ema_momentum``, ``ema_overwrite_frequency``
            (a moving average of the weights), ``loss_scale_factor`` and
            ``gradient_accumulation_steps``."""


def _scalar_dtype():
    """float64 for the compensation recursions, unless the backend lacks it."""
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:  # type: ignore[attr-defined]  # options added at runtime
            return "float32"
    return "float64"


def casts_round_through_float32() -> bool:
    """Whether Keras's ``ops.cast(python_float, "float64")`` rounds the float
    through float32 on this backend.

    TensorFlow's ``tf.cast`` makes a float32 tensor of a Python float first,
    so Keras's built-ins use, say, momentum ``float32(0.9)`` on float64
    variables; JAX (with x64), torch and numpy cast it exactly. The drop-ins
    pass this as ``keras_casts`` to round where Keras rounds, and only then.
    """
    return keras.backend.backend() == "tensorflow"


class StepScalars(NamedTuple):
    """What every variable's update shares in one step, in one dtype.

    Attributes:
        learning_rate: eta, the step's learning rate.
        gains: the recipe's gains (:meth:`filteropt.recipes.Recipe.gains`).
        weight_decay: lambda, or None without decay.
        finite: a boolean tensor, False on a step to skip; None without
            ``skip_nonfinite``.
        decay_learning_rate: the eta the decay multiplies: ``learning_rate``,
            or 1.0 where ``weight_decay`` is eta lambda as Keras rounds it
            (torch, :func:`filteropt.keras.backend_ops.decay_factor`).
    """

    learning_rate: object
    gains: tuple
    weight_decay: object
    finite: object
    decay_learning_rate: object = None


class RecipeOptimizer(keras.optimizers.Optimizer):
    """A Keras optimizer that runs a :class:`filteropt.recipes.Recipe`.

    Subclasses call ``super().__init__`` with Keras's base arguments, then
    :meth:`_set_recipe`, and list their own hyperparameters in
    :meth:`_recipe_config` (so ``get_config`` mirrors ``__init__``).

    Args:
        learning_rate: a float >= 0, a
            ``keras.optimizers.schedules.LearningRateSchedule``, or a callable
            of no arguments returning the value: eta. Defaults to ``0.001``.
        {common}
    """

    def __init__(
        self, learning_rate=0.001, name=None, skip_nonfinite=False, fused="auto", **kwargs
    ):
        if not isinstance(skip_nonfinite, bool):
            raise TypeError(f"`skip_nonfinite` must be a bool. Received: {skip_nonfinite!r}")
        if not (isinstance(fused, bool) or fused == "auto"):
            raise TypeError(f"`fused` must be True, False or 'auto'. Received: {fused!r}")
        if isinstance(learning_rate, bool) or (
            isinstance(learning_rate, (int, float)) and not 0.0 <= learning_rate < float("inf")
        ):
            raise ValueError(
                "`learning_rate` must be a finite number >= 0, a "
                "LearningRateSchedule or a callable. "
                f"Received: learning_rate={learning_rate!r}"
            )
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.skip_nonfinite = skip_nonfinite
        self.fused = fused
        self._update_fn = None
        # Whether this apply's gradients are finite (skip_nonfinite): set
        # where the update starts, read by Keras's EMA hooks, which run after
        # it and take no arguments of ours; None between applies.
        self._finite = None

    def _set_recipe(self, recipe: R.Recipe):
        self._recipe = recipe

    # -- what analysis reads ---------------------------------------------------
    @property
    def recipe(self) -> R.Recipe:
        """The plain-data description the engine runs (no backend inside),
        with the optimizer's decoupled ``weight_decay``."""
        return self._recipe.with_weight_decay(self.weight_decay)

    @property
    def gradient_filter(self):
        """The LTI gradient filter (an ARMAFilter), or None for plain SGD."""
        return self._recipe.gradient_filter

    @property
    def variance_filter(self):
        """The normalizer's variance filter (an ARMAFilter), or None."""
        return self._recipe.variance_filter

    def describe(self) -> dict:
        """Gradient filtering, normalization, variance filter, lr position."""
        return describe_recipe(self.recipe)

    # -- Keras ---------------------------------------------------------------
    def build(self, variables):
        if self.built:
            return
        for v in variables:
            if not keras.backend.is_float_dtype(v.dtype):
                raise TypeError(
                    f"{type(self).__name__} can only train floating-point variables; "
                    f"variable {getattr(v, 'path', v.name)!r} has dtype {v.dtype}."
                )
        super().build(variables)
        self._check_realisations(variables)
        slots = self._recipe.slots()
        self._slots = []
        if slots:
            names = [name for name, _ in slots]
            inits = [_Fill(init) for _, init in slots]
            self._slots = list(self.add_optimizer_variables(variables, names, initializer=inits))
        if self.skip_nonfinite:
            self._nonfinite_steps = self.add_variable(
                shape=(),
                initializer="zeros",
                dtype="int64",
                name="nonfinite_steps",
                aggregation="only_first_replica",
            )
        self._scalar_state = [
            self.add_variable(
                shape=(), initializer=_Fill(init), dtype=_scalar_dtype(), name=f"compensation_{i}"
            )
            for i, init in enumerate(self._recipe.scalar_init())
        ]

    def _check_realisations(self, variables):
        """Each filter judged as it will run, in each variable dtype (its
        coefficients rounded to it): an error when that realisation is
        unstable, a warning when it is badly conditioned."""
        dtypes = sorted({keras.backend.standardize_dtype(v.dtype) for v in variables})
        for dtype in dtypes:
            if dtype != "float64":
                for name, f in self._recipe.filters():
                    realisation.check(f, dtype, name=f"{type(self).__name__}.{name}")

    @property
    def nonfinite_steps(self):
        """How many steps were skipped for inf/NaN gradients (skip_nonfinite)."""
        return getattr(self, "_nonfinite_steps", None)

    # -- one step ----------------------------------------------------------------
    def apply(self, grads, trainable_variables=None):
        try:
            super().apply(grads, trainable_variables)
        finally:
            self._finite = None

    def _apply_weight_decay(self, variables):
        # Keras decays the variables in a pass of their own before the
        # update; here the update writes the decayed value (_write_variable).
        return None

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        # Keras calls this with the gradients the update uses (clipped,
        # averaged when accumulating), in replica context under tf.distribute.
        with B.no_grad():  # torch: eager apply_gradients records no graph
            self._update_step_all(grads, trainable_variables, learning_rate)

    def _update_step_all(self, grads, trainable_variables, learning_rate):
        finite = G.all_finite(grads) if self.skip_nonfinite else None
        self._finite = finite
        scalars = self._step_scalars(learning_rate, [v.dtype for v in trainable_variables], finite)
        compiled = self._compiled_in_step(grads, trainable_variables)
        if any(compiled):
            pairs = [(g, v) for g, v, c in zip(grads, trainable_variables, compiled) if c]
            self._launch([v for _, v in pairs], [g for g, _ in pairs], scalars)
        rest = [(g, v) for g, v, c in zip(grads, trainable_variables, compiled) if not c]
        if rest:
            # Keras's per-variable loop (per device under tf.distribute)
            # hands the step's scalars to update_step as its third argument.
            super()._backend_update_step([g for g, _ in rest], [v for _, v in rest], scalars)
        if finite is not None:
            self._count_skipped(finite)

    def _step_scalars(self, learning_rate, dtypes, finite):
        """``{dtype: StepScalars}`` for this step: the scalar state advanced
        (and written; kept on a skipped step), the recipe's gains from it,
        the learning rate and weight decay cast as Keras casts them."""
        recipe = self._recipe
        state = self._advance_scalars(finite)
        count = self._step_count() if state or recipe.uses_step_count else None
        gains = recipe.gains(B.namespace(), state, count)
        wd = self.weight_decay
        # theta f = theta - theta (1 - f), 1 - f exact
        factor = None if wd is None else B.decay_factor(wd, learning_rate)
        out = {}
        for dtype in sorted({keras.backend.standardize_dtype(d) for d in dtypes}):
            lr = ops.cast(learning_rate, dtype)
            decay, decay_lr = (None if wd is None else ops.cast(wd, dtype)), lr
            if factor is not None:
                decay, decay_lr = 1.0 - ops.cast(factor, dtype), 1.0
            out[dtype] = StepScalars(
                learning_rate=lr,
                gains=tuple(tuple(_cast(c, dtype) for c in part) for part in gains),
                weight_decay=decay,
                finite=finite,
                decay_learning_rate=decay_lr,
            )
        return out

    def _advance_scalars(self, finite):
        """The per-step scalar recursions, shared by all variables: writes
        and returns the new values (the old ones on a skipped step)."""
        if not self._scalar_state:
            return []
        old = [ops.convert_to_tensor(v) for v in self._scalar_state]
        new = self._recipe.advance(B.namespace(), old, self._step_count())
        out = []
        for var, value, before in zip(self._scalar_state, new, old):
            # convert_to_tensor with the dtype: a Python float passed to
            # assign would be rounded through float32 by tf.cast.
            value = _keep(ops.convert_to_tensor(value, dtype=var.dtype), before, finite)
            self.assign(var, value)
            out.append(value)
        return out

    def _step_count(self):
        return ops.cast(self.iterations + 1, _scalar_dtype())

    def update_step(self, gradient, variable, scalars):
        """One variable's update; ``scalars`` is the step's
        ``{dtype: StepScalars}`` (:meth:`_backend_update_step` hands it to
        Keras's per-variable loop in place of the learning rate)."""
        step = scalars[keras.backend.standardize_dtype(variable.dtype)]
        slots = self._slot_variables(variable)
        decay = self._decays(variable)
        rows = G.sparse_rows(gradient)
        if rows is not None:
            self._update_sparse(variable, slots, gradient, rows, step, decay)
        elif self._compiles(variable):  # under tf.distribute: per device
            self._launch([variable], [gradient], scalars)
        else:
            self._update_dense(variable, slots, gradient, step, decay)

    def _update_dense(self, variable, slots, gradient, step, decay, write_slots=True):
        """One variable's update from a dense gradient, the one every dense
        path runs, compiled or not: writes the variable (and, with
        ``write_slots``, the slots) and returns the slots' new values (the
        old ones on a skipped step)."""
        gradient = ops.cast(gradient, variable.dtype)
        old = B.operands(slots)
        delta, state = self._recipe.step(
            B.namespace(), gradient, step.learning_rate, old, step.gains
        )
        self._write_variable(variable, delta, step, decay)
        state = [_keep(new, o, step.finite) for new, o in zip(state, old)]
        if write_slots:
            # After Delta: the slot's write is then the last use of its new
            # value, whose buffer TensorFlow hands over instead of copying.
            with _after(delta):
                for var, value in zip(slots, state):
                    self.assign(var, value)
        return state

    def _update_sparse(self, variable, slots, gradient, rows, step, decay):
        """A row-sparse gradient (``rows``: its summed rows): the rows alone
        where the recipe allows, else the dense update of its dense form."""
        recipe = self._recipe
        values, indices, shape = rows
        dtype = variable.dtype
        if step.finite is None and recipe.zero_gradient_keeps_state():
            # Rows without gradient keep their state and get no update: work
            # on the gradient's rows only (Adagrad, plain SGD).
            state = [ops.take(v, indices, axis=0) for v in slots]
            delta, state = recipe.step(
                ops, ops.cast(values, dtype), step.learning_rate, state, step.gains
            )
            for var, value in zip(slots, state):
                self.assign(var, G.slices(value, indices, shape))
            self._write_variable(variable, G.slices(delta, indices, shape), step, decay)
            return
        gradient = G.dense(gradient)
        if step.finite is None and recipe.zero_gradient_gives_zero_update():
            # The state moves everywhere (RMSprop's variance decays) but the
            # variable only where there is a gradient: a sparse write.
            delta, state = recipe.step(
                ops, ops.cast(gradient, dtype), step.learning_rate, slots, step.gains
            )
            for var, value in zip(slots, state):
                self.assign(var, value)
            delta = G.slices(ops.take(delta, indices, axis=0), indices, shape)
            self._write_variable(variable, delta, step, decay)
            return
        self._update_dense(variable, slots, gradient, step, decay)

    def _write_variable(self, variable, delta, step, decay):
        """theta[i] = (1 - eta lambda) theta[i-1] + Delta[i] (Keras's decay,
        :meth:`Recipe.decayed`), or theta[i-1] on a skipped step; ``delta``
        may be row slices (then every row decays, as in Keras; the sparse
        paths run only without skipping)."""
        wd = step.weight_decay if decay else None
        if wd is None:
            self.assign_add(
                variable,
                delta if step.finite is None else _keep(delta, ops.zeros_like(delta), step.finite),
            )
            return
        theta = ops.convert_to_tensor(variable)
        decayed = self._recipe.decayed(theta, step.decay_learning_rate, wd)
        if G.is_indexed_slices(delta):
            self.assign(variable, decayed)
            self.assign_add(variable, delta)
        else:
            self.assign(variable, _keep(decayed + delta, theta, step.finite))

    def _slot_variables(self, variable):
        index = self._get_variable_index(variable)
        return [slot[index] for slot in self._slots]

    def _decays(self, variable) -> bool:
        """Whether Keras's weight decay applies to ``variable``."""
        return self.weight_decay is not None and self._use_weight_decay(variable)

    # -- compiling the update (TensorFlow without XLA around it) -------------
    def _compiles(self, variable) -> bool:
        """Whether ``variable``'s dense update runs XLA-compiled
        (:mod:`filteropt.keras.fused`)."""
        if self.fused is False or keras.backend.backend() != "tensorflow":
            return False
        return self.fused is True or F.pays(variable)

    def _compiled_in_step(self, grads, variables) -> list:
        """Which variables the step updates in its one launch: those that
        compile, with a dense gradient, and none under tf.distribute (there
        Keras's per-device loop launches each in update_step)."""
        if keras.backend.backend() != "tensorflow" or _has_strategy():
            return [False] * len(variables)
        return [not G.is_indexed_slices(g) and self._compiles(v) for g, v in zip(grads, variables)]

    def _launch(self, variables, grads, scalars):
        if self._update_fn is None:
            self._update_fn = F.update_fn(self)
        F.run(
            self._update_fn,
            variables,
            [self._slot_variables(v) for v in variables],
            grads,
            scalars,
            [self._decays(v) for v in variables],
            self._recipe.updates_in_place,
        )

    # -- skipped steps (skip_nonfinite=True) ---------------------------------
    def _count_skipped(self, finite):
        # Runs where the update runs (inside Keras's accumulation branch too).
        skipped = ops.cast(ops.logical_not(finite), "int64")
        self._nonfinite_steps.assign_add(skipped)
        if not self.gradient_accumulation_steps:
            self._iterations.assign_sub(ops.cast(skipped, self._iterations.dtype))

    def _ema_skips(self):
        # Under accumulation the flag lives in Keras's update branch, out of
        # the EMA's reach.
        return self._finite is not None and not self.gradient_accumulation_steps

    def _update_model_variables_moving_average(self, trainable_variables):
        if not self._ema_skips():
            return super()._update_model_variables_moving_average(trainable_variables)
        # Keras's average, written back as it was on a skipped step (copy:
        # on TensorFlow convert_to_tensor hands back the variable itself).
        averages = [a for a in self._model_variables_moving_average if a is not None]
        before = [ops.copy(a) for a in averages]
        super()._update_model_variables_moving_average(trainable_variables)
        for average, old in zip(averages, before):
            self.assign(average, _keep(ops.convert_to_tensor(average), old, self._finite))

    def _overwrite_model_variables_with_average_value(self, trainable_variables):
        if not self._ema_skips():
            return super()._overwrite_model_variables_with_average_value(trainable_variables)
        for var, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                self.assign(var, _keep(ops.convert_to_tensor(average), var, self._finite))

    def _recipe_config(self) -> dict:
        return {}

    def get_config(self):
        config = super().get_config()
        config.update(self._recipe_config())
        config["skip_nonfinite"] = self.skip_nonfinite
        config["fused"] = self.fused
        return config


RecipeOptimizer.__doc__ = (RecipeOptimizer.__doc__ or "").replace("{common}", COMMON_ARGS)


def _cast(c, dtype):
    """A gain in ``dtype``; a Python number stays one (folded when traced)."""
    return c if isinstance(c, (int, float)) else ops.cast(c, dtype)


def _has_strategy() -> bool:
    import tensorflow as tf

    return tf.distribute.has_strategy()


def _after(tensor):
    """A context whose operations run after ``tensor`` is computed (graph
    mode TensorFlow; elsewhere the order is the program's)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if not tf.executing_eagerly():
            return tf.control_dependencies([tensor])
    return contextlib.nullcontext()


def _keep(new, old, finite):
    """``new``, or ``old`` where ``finite`` is False (None: no skipping)."""
    if finite is None:
        return new
    # ``old`` may be a Variable: keras.ops.where hands it to jnp.where as is
    # on the JAX backend, which no longer reads a Keras Variable there.
    return ops.where(finite, new, ops.convert_to_tensor(old))


class _Fill(keras.initializers.Initializer):
    """Constant fill at the variable's precision (``Constant`` rounds a
    Python float through float32 first)."""

    def __init__(self, value):
        self.value = float(value)

    def __call__(self, shape, dtype=None):
        return ops.full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}
