"""The Keras 3 engine: a recipe run on slot variables.

Per model variable the optimizer keeps the recipe's slots (the gradient
filter's ``order`` states, then the normalizer's), all created in ``build``.
Per optimizer step it advances a few scalars shared by every variable
(transient compensation of higher-order filters, Nadam's schedule), in
``_backend_update_step`` as Keras's Nadam does; a first-order filter's
compensation comes from the step count and keeps no scalar. ``update_step`` reads the slots, calls
:meth:`filteropt.recipes.Recipe.step` with ``keras.ops`` and writes back
through ``self.assign*`` only, so clipping, weight decay, EMA, gradient
accumulation, loss scaling, schedules and distribution are Keras's own.

On TensorFlow (``fused=True``, the default) the update is XLA-compiled
even when nothing compiles the step around it (Keras's default on CPU):
the whole step (scalars, Keras's weight decay and every variable) as one
function; where that cannot be (``tf.distribute``, a sparse gradient in the
step) each dense variable's update as one function per device, and a
sparse gradient's rows by Keras's per-operation path.
``skip_nonfinite=True`` skips a step with inf/NaN gradients whole and counts
it in ``nonfinite_steps``.
"""

from __future__ import annotations

import keras
from keras import ops

from .. import recipes as R
from ..analysis.summary import describe_recipe
from ..signal import normalizers as N
from ..signal import realisation

__all__ = ["RecipeOptimizer", "FilterOptimizer"]


def _scalar_dtype():
    """float64 for the compensation recursions, unless the backend lacks it."""
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:
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


class RecipeOptimizer(keras.optimizers.Optimizer):
    """A Keras optimizer that runs a :class:`filteropt.recipes.Recipe`.

    Subclasses call ``super().__init__`` with Keras's base arguments, then
    :meth:`_set_recipe`, and list their own hyperparameters in
    :meth:`_recipe_config` (so ``get_config`` mirrors ``__init__``).
    """

    def __init__(self, learning_rate=0.001, name=None, skip_nonfinite=False, fused=True,
                 **kwargs):
        if not isinstance(skip_nonfinite, bool):
            raise TypeError(f"`skip_nonfinite` must be a bool. Received: {skip_nonfinite!r}")
        if not isinstance(fused, bool):
            raise TypeError(f"`fused` must be a bool. Received: {fused!r}")
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
        self._finite = None
        self._fused_fn = None
        self._variable_fn = None
        # Per apply: whether this step fuses (decided with the gradients, so
        # that Keras's weight decay can be deferred into the fused pass).
        self._fusing = None

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
            made = self.add_optimizer_variables(variables, names, initializer=inits)
            self._slots = list(made)
        if self.skip_nonfinite:
            self._nonfinite_steps = self.add_variable(
                shape=(), initializer="zeros", dtype="int64", name="nonfinite_steps",
                aggregation="only_first_replica",
            )
        dtype = _scalar_dtype()
        self._scalar_state = [
            self.add_variable(
                shape=(),
                initializer=_Fill(init),
                dtype=dtype,
                name=f"compensation_{i}",
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

    # -- skipping non-finite steps (skip_nonfinite=True) ----------------------
    @property
    def nonfinite_steps(self):
        """How many steps were skipped for inf/NaN gradients (skip_nonfinite)."""
        return getattr(self, "_nonfinite_steps", None)

    def _clip_gradients(self, grads):
        # Called by Keras right before weight decay and the update, with the
        # gradients the update will use (averaged when accumulating).
        grads = super()._clip_gradients(grads)
        if self.skip_nonfinite:
            self._finite = _all_finite(grads)
        self._fusing = self._can_fuse(grads)
        return grads

    def _apply_weight_decay(self, variables):
        if self.weight_decay is not None and self._fusing:
            return None  # theta - theta wd lr, in the fused step's pass
        if self._finite is None or self.weight_decay is None:
            return super()._apply_weight_decay(variables)
        decay = self.weight_decay
        try:  # Keras casts self.weight_decay per variable: 0 skips the decay.
            self.weight_decay = ops.where(self._finite, decay, 0.0)
            super()._apply_weight_decay(variables)
        finally:
            self.weight_decay = decay

    def apply(self, grads, trainable_variables=None):
        try:
            super().apply(grads, trainable_variables)
        finally:
            self._finite = None
            self._fusing = None

    def _count_skipped(self):
        # Runs where the update runs (inside Keras's accumulation branch too).
        skipped = ops.cast(ops.logical_not(self._finite), "int64")
        self._nonfinite_steps.assign_add(skipped)
        if not self.gradient_accumulation_steps:
            self._iterations.assign_sub(ops.cast(skipped, self._iterations.dtype))

    def _update_model_variables_moving_average(self, trainable_variables):
        if self._finite is None or self.gradient_accumulation_steps:
            return super()._update_model_variables_moving_average(trainable_variables)
        momentum = self.ema_momentum
        try:  # momentum 1 keeps the average on a skipped step
            self.ema_momentum = ops.where(self._finite, momentum, 1.0)
            super()._update_model_variables_moving_average(trainable_variables)
        finally:
            self.ema_momentum = momentum

    def _overwrite_model_variables_with_average_value(self, trainable_variables):
        if self._finite is None or self.gradient_accumulation_steps:
            return super()._overwrite_model_variables_with_average_value(trainable_variables)
        for var, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                self.assign(var, ops.where(self._finite, ops.convert_to_tensor(average),
                                           ops.convert_to_tensor(var)))

    def _keep(self, new, old):
        """``new``, or ``old`` on a skipped step."""
        if self._finite is None:
            return new
        # ``old`` is a Variable: keras.ops.where hands it to jnp.where as is
        # on the JAX backend, which no longer reads a Keras Variable there.
        return ops.where(self._finite, new, ops.convert_to_tensor(old))

    def _step_count(self, dtype):
        return ops.cast(self.iterations + 1, dtype)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        # Weight decay was deferred to here when _clip_gradients (which Keras
        # calls right before it) found the step fusible.
        deferred = self._fusing is True and self.weight_decay is not None
        fusing = self._can_fuse(grads) if self._fusing is None else self._fusing
        if fusing:
            decayed = [deferred and self._use_weight_decay(v) for v in trainable_variables]
            self._run_fused(trainable_variables, grads, learning_rate,
                            self.weight_decay if any(decayed) else None, decayed)
        else:
            self._advance_scalars()
            super()._backend_update_step(grads, trainable_variables, learning_rate)
        if self._finite is not None:
            self._count_skipped()

    def _advance_scalars(self):
        if self._scalar_state:
            dtype = self._scalar_state[0].dtype
            new = self._recipe.advance(ops, list(self._scalar_state), self._step_count(dtype))
            for var, value in zip(self._scalar_state, new):
                # convert_to_tensor with the dtype: a Python float passed to
                # assign would be rounded through float32 by tf.cast.
                value = ops.convert_to_tensor(value, dtype=var.dtype)
                self.assign(var, self._keep(value, var))

    def _gains(self, dtype):
        recipe = self._recipe
        if not self._scalar_state and not recipe.uses_step_count:
            return recipe.gains(ops, [], None)
        sdtype = _scalar_dtype()
        scalars = [ops.convert_to_tensor(v) for v in self._scalar_state]
        gains = recipe.gains(ops, scalars, self._step_count(sdtype))
        cast = lambda c: c if isinstance(c, (int, float)) else ops.cast(c, dtype)  # noqa: E731
        return tuple(tuple(cast(c) for c in part) for part in gains)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        recipe = self._recipe
        lr = ops.cast(learning_rate, dtype)
        rows = _sparse_rows(gradient)
        if rows is not None and recipe.zero_gradient_keeps_state() and self._finite is None:
            # Rows without gradient keep their state and get no update: work
            # on the gradient's rows only (Adagrad, plain SGD).
            values, indices, shape = rows
            index = self._get_variable_index(variable)
            slot_vars = [slot[index] for slot in self._slots]
            state = [ops.take(v, indices, axis=0) for v in slot_vars]
            delta, new_state = recipe.step(
                ops, ops.cast(values, dtype), lr, state, self._gains(dtype)
            )
            for var, value in zip(slot_vars, new_state):
                self.assign(var, _slices(value, indices, shape))
            self.assign_add(variable, _slices(delta, indices, shape))
            return
        index = self._get_variable_index(variable)
        slot_vars = [slot[index] for slot in self._slots]
        if rows is None and self.fused and keras.backend.backend() == "tensorflow":
            # Not fused as a whole step (tf.distribute, or a sparse gradient
            # elsewhere in the step): one XLA launch for this variable.
            self._run_fused_variable(variable, slot_vars, ops.cast(gradient, dtype), lr)
            return
        delta = self._dense_update(variable, slot_vars, ops.cast(_dense(gradient), dtype), lr,
                                   self._finite, write_variable=rows is None)
        if rows is not None:
            if recipe.zero_gradient_gives_zero_update() and self._finite is None:
                # The state moves everywhere (RMSprop's variance decays) but
                # the variable only where there is a gradient: a sparse write.
                _, indices, shape = rows
                delta = _slices(ops.take(delta, indices, axis=0), indices, shape)
            self.assign_add(variable, delta)

    def _dense_values(self, variable, slot_vars, gradient, lr, finite, gains=None):
        """``(delta, new_state)`` of one variable (zero and the old state on a
        skipped step)."""
        if gains is None:
            gains = self._gains(variable.dtype)
        delta, new_state = self._recipe.step(ops, gradient, lr, slot_vars, gains)
        if finite is not None:
            delta = ops.where(finite, delta, ops.zeros_like(delta))
            # The slots may be Variables: keras.ops.where hands them to
            # jnp.where as they are on JAX, which no longer reads them.
            new_state = [ops.where(finite, new, ops.convert_to_tensor(old))
                         for new, old in zip(new_state, slot_vars)]
        return delta, new_state

    def _dense_update(self, variable, slot_vars, gradient, lr, finite, write_variable=True):
        """The update of one variable: slots, then the variable (or the delta)."""
        delta, new_state = self._dense_values(variable, slot_vars, gradient, lr, finite)
        for var, value in zip(slot_vars, new_state):
            self.assign(var, value)
        if not write_variable:
            return delta
        self.assign_add(variable, delta)
        return None

    # -- fusing the update (TensorFlow without XLA around it) ----------------
    def _can_fuse(self, grads) -> bool:
        if not self.fused or keras.backend.backend() != "tensorflow":
            return False
        import tensorflow as tf

        # Under tf.distribute the update runs per device in cross-replica
        # code, and sparse gradients update rows: there Keras's per-variable
        # path runs (each dense variable fused on its own, in update_step).
        return not tf.distribute.has_strategy() and not any(_is_indexed_slices(g) for g in grads)

    def _run_fused(self, trainable_variables, grads, learning_rate, weight_decay, decayed):
        """The whole step in one XLA launch (see :meth:`_fused_step`)."""
        variables = [_tf_variable(v) for v in trainable_variables]
        slots = [[_tf_variable(slot[self._get_variable_index(v)]) for slot in self._slots]
                 for v in trainable_variables]
        in_place = self._recipe.updates_in_place
        results = self._fused_step()(variables, slots, list(grads), _tf_variable(learning_rate),
                                     self._finite, weight_decay, decayed, in_place)
        for slot_vars, state in zip(slots, results):
            # Assigned outside the compiled function: TensorFlow hands the
            # fresh buffer to the slot, no copy.
            for var, new in zip(slot_vars, state):
                var.assign(new)

    def _run_fused_variable(self, variable, slot_vars, gradient, lr):
        """One variable's update in one XLA launch (see :meth:`_variable_step`)."""
        variable = _tf_variable(variable)
        state = self._variable_step()(
            variable, [_on_device_of(v, variable) for v in slot_vars], gradient, lr,
            self._gains(variable.dtype), self._finite, self._recipe.updates_in_place,
        )
        for var, new in zip(slot_vars, state):
            self.assign(var, new)

    def _variable_step(self):
        """The update of one variable, XLA-compiled: what Keras's path runs
        per variable (per device under tf.distribute), in one launch instead
        of one pass per operation. The per-step scalars come in as ``gains``;
        slots are written as in :meth:`_fused_step`."""
        if self._variable_fn is None:
            import tensorflow as tf

            def one(variable, slot_vars, gradient, lr, gains, finite, in_place):
                delta, state = self._dense_values(variable, slot_vars, gradient, lr, finite,
                                                  gains=gains)
                variable.assign_add(delta)
                if not in_place:
                    return state
                for var, new in zip(slot_vars, state):
                    var.assign(new)
                return []

            self._variable_fn = tf.function(one, jit_compile=True, autograph=False)
        return self._variable_fn

    def _fused_step(self):
        """One XLA-compiled function for the whole optimizer step.

        Without XLA around it (Keras's default on CPU) every elementwise
        operation is a separate pass over the parameters; compiled, the
        compensation scalars, Keras's weight decay, the filters, the
        normalizer and the update of every variable fuse into a few passes,
        in one launch. Traced once per set of variable shapes (and weight
        decay); the hyperparameters are constants in it.

        With ``in_place`` the function writes the variables and slots itself.
        Otherwise (``Recipe.updates_in_place`` False: slot updates that read
        each other's old values, as transposed direct form II does) it
        writes the variables and returns the new slot values: written in
        place, XLA would first copy the slots to order the reads before the
        writes (one extra pass at order 1, three at order 2).
        """
        if self._fused_fn is None:
            import tensorflow as tf

            def step(variables, slots, grads, learning_rate, finite, weight_decay, decayed,
                     in_place):
                outer, self._finite = self._finite, finite
                results = []
                try:
                    self._advance_scalars()
                    for variable, slot_vars, gradient, decay in zip(variables, slots, grads,
                                                                    decayed):
                        dtype = variable.dtype
                        lr = tf.cast(learning_rate, dtype)
                        delta, state = self._dense_values(variable, slot_vars,
                                                          tf.cast(gradient, dtype), lr, finite)
                        if in_place:
                            for var, new in zip(slot_vars, state):
                                var.assign(new)
                        else:
                            results.append(state)
                        if decay:  # Keras's decoupled decay: theta - theta wd lr
                            wd = tf.cast(weight_decay, dtype)
                            if finite is not None:
                                wd = tf.where(finite, wd, tf.zeros_like(wd))
                            value = tf.convert_to_tensor(variable)
                            variable.assign(value - value * wd * lr + delta)
                        else:
                            variable.assign_add(delta)
                finally:
                    self._finite = outer
                return results

            self._fused_fn = tf.function(step, jit_compile=True, autograph=False)
        return self._fused_fn

    def _recipe_config(self) -> dict:
        return {}

    def get_config(self):
        config = super().get_config()
        config.update(self._recipe_config())
        config["skip_nonfinite"] = self.skip_nonfinite
        config["fused"] = self.fused
        return config


def _tf_variable(variable):
    return variable.value if isinstance(variable, keras.Variable) else variable


def _on_device_of(slot, variable):
    """The tf.Variable of ``slot`` that lives with ``variable``: under
    tf.distribute Keras updates each device's copy of a variable in turn,
    and a compiled function must be handed that device's slot, not the
    mirrored whole."""
    import tensorflow as tf

    slot = _tf_variable(slot)
    if not tf.distribute.has_strategy():
        return slot
    for local in tf.distribute.get_strategy().experimental_local_results(slot):
        if local.device == variable.device:
            return local
    raise ValueError(f"no copy of {slot.name} on {variable.device}")


def _all_finite(grads):
    """True when every gradient is finite, agreed across replicas."""
    flags = [ops.all(ops.isfinite(_dense(g))) for g in grads if g is not None]
    finite = ops.all(ops.stack(flags)) if flags else ops.convert_to_tensor(True)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        ctx = tf.distribute.get_replica_context()
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            bad = ctx.all_reduce(tf.distribute.ReduceOp.SUM,
                                 tf.cast(tf.logical_not(finite), tf.int32))
            finite = tf.equal(bad, 0)
    return finite


class _Fill(keras.initializers.Initializer):
    """Constant fill at the variable's precision (``Constant`` rounds a
    Python float through float32 first)."""

    def __init__(self, value):
        self.value = float(value)

    def __call__(self, shape, dtype=None):
        return ops.full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


def _is_indexed_slices(gradient):
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return isinstance(gradient, tf.IndexedSlices)


def _dense(gradient):
    if _is_indexed_slices(gradient):
        import tensorflow as tf

        return tf.convert_to_tensor(gradient)
    return gradient


def _sparse_rows(gradient):
    """``(values, indices, dense_shape)`` of a row-sparse gradient with its
    duplicate indices summed (as the dense gradient has them), else None."""
    if not _is_indexed_slices(gradient):
        return None
    import tensorflow as tf

    unique, position = tf.unique(gradient.indices)
    values = tf.math.unsorted_segment_sum(gradient.values, position, tf.shape(unique)[0])
    return values, unique, gradient.dense_shape


def _slices(values, indices, dense_shape):
    import tensorflow as tf

    return tf.IndexedSlices(values, indices, dense_shape)


@keras.saving.register_keras_serializable(package="filteropt")
class FilterOptimizer(RecipeOptimizer):
    """Any ARMA gradient filter and normalizer as a Keras 3 optimizer.

    Delta[i] = -eta N(H{g})[i]   (or H{-eta g} with the learning rate first),
    theta[i] = theta[i-1] + Delta[i];

    H runs as its stages (:mod:`filteropt.realisation`: first-order stages in
    Keras's state forms, second-order sections in the delta form, banks
    branch by branch) on ``gradient_filter.order`` slots per variable; N is
    a :mod:`filteropt.normalizers` value. ``build`` judges each filter as it
    will run in the variables' dtype: an unstable realisation raises
    ValueError, a badly conditioned one warns.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable.
        gradient_filter: an :class:`~filteropt.ARMAFilter` (or its config
            dict); None means no filtering.
        normalizer: a normalizer (``filteropt.normalizers.RMS(...)``,
            ``MaxNorm``, ``Sign``, ``Adadelta``), its name, or None.
        transient_compensation: scale the filter output by H(1)/s[n].
        allow_unstable: accept a gradient filter with poles on or outside
            the unit circle (refused with a ValueError otherwise).
        stages: the order of ``"lr"``, ``"filter"`` and ``"normalize"``;
            None puts the learning rate first without a normalizer (Keras's
            SGD keeps it inside the momentum state) and last with one (Adam).
        **kwargs: ``skip_nonfinite`` and ``fused`` (see the module
            docstring), and Keras's base optimizer arguments (``clipnorm``,
            ``weight_decay``, ``use_ema``, ``gradient_accumulation_steps``,
            ``loss_scale_factor``, ...).

    Example:
        >>> import filteropt
        >>> opt = filteropt.FilterOptimizer(
        ...     learning_rate=0.01,
        ...     gradient_filter=filteropt.filters.butterworth(2, 0.2))
    """

    def __init__(
        self,
        learning_rate=0.01,
        gradient_filter=None,
        normalizer=None,
        transient_compensation=False,
        allow_unstable=False,
        stages=None,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        recipe = R.custom(
            gradient_filter, normalizer, transient_compensation, allow_unstable,
            tuple(stages) if isinstance(stages, list) else stages,
        )
        self._set_recipe(recipe)
        self.transient_compensation = transient_compensation
        self.allow_unstable = allow_unstable

    def _recipe_config(self):
        f = self._recipe.path.filter
        return {
            "gradient_filter": None if f.is_identity else f.get_config(),
            "normalizer": N.serialize(self._recipe.normalizer),
            "transient_compensation": self.transient_compensation,
            "allow_unstable": self.allow_unstable,
            "stages": list(self._recipe.stages),
        }

