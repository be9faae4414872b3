"""The update XLA-compiled on its own, for TensorFlow without XLA around it.

Keras's default on CPU runs the optimizer step operation by operation: each
elementwise operation is a pass over the parameters, and a fresh buffer for
most of them. Compiled, the filters, the normalizer, the decay and the
write of a variable fuse into a few passes over buffers updated in place.
:class:`filteropt.keras.engine.RecipeOptimizer` compiles, with
:func:`update_fn`, the update of a list of dense variables as one launch:

- in a step (no ``tf.distribute``), every variable that :func:`pays`, in
  one launch; the others (and any row-sparse gradient) take Keras's
  per-operation path;
- under ``tf.distribute`` (Keras updates each variable per device in
  cross-replica code), each such variable in a launch of its own, per
  device.

The launch traces :meth:`RecipeOptimizer._update_dense`, the update the
per-operation path runs, with the step's scalars computed once outside it,
so the two paths cannot differ. A launch has a fixed cost (argument
handling, the dispatch of its loops, which XLA splits across threads from
a few ten thousand elements on) that the passes it saves repay only from
some size on: with ``fused="auto"`` (the default) a variable is compiled
when it has at least :data:`MIN_SIZE` parameters, the crossover measured
for one variable (``benchmarks/step_time.py --crossover``,
``benchmarks/RESULTS.md``, "Small models"). Below it the per-operation path
costs about Keras's (fewer operations per step, the same passes; Adam's
update, b2 v + (1 - b2) g^2 where Keras adds (g^2 - v)(1 - b2) in place,
writes one fresh buffer more).
"""

from __future__ import annotations

import math

import keras

__all__ = ["MIN_SIZE", "pays", "run", "update_fn"]

#: Parameters from which a variable's update is faster compiled than run
#: operation by operation, without XLA around the step, on CPU: the
#: crossover measured for one variable, 70k for Adam and 100k for SGD with
#: momentum and RMSprop (``benchmarks/step_time.py --crossover``,
#: ``benchmarks/RESULTS.md``).
MIN_SIZE = 100_000


def pays(variable) -> bool:
    """Whether compiling ``variable``'s update beats the per-operation path:
    it has at least :data:`MIN_SIZE` parameters."""
    return math.prod(variable.shape) >= MIN_SIZE


def update_fn(opt):
    """The update of dense variables by ``opt``, XLA-compiled (traced once
    per set of shapes; the hyperparameters are constants in it).

    ``fn(variables, slots, grads, scalars, decays, in_place)`` updates each
    variable from its gradient and its slot variables, with the step's
    ``{dtype: StepScalars}`` and whether it decays. With ``in_place`` it
    writes the slots itself. Otherwise (``Recipe.updates_in_place`` False:
    slot updates that read each other's old values) it returns the new slot
    values, which :func:`run` assigns outside the compiled code: written in
    place, XLA would first copy the slots to order the reads before the
    writes (one extra pass per state).
    """
    import tensorflow as tf

    def update(variables, slots, grads, scalars, decays, in_place):
        results = []
        for variable, slot_vars, gradient, decay in zip(variables, slots, grads, decays):
            step = scalars[keras.backend.standardize_dtype(variable.dtype)]
            state = opt._update_dense(
                variable, slot_vars, gradient, step, decay, write_slots=in_place
            )
            results.append([] if in_place else state)
        return results

    return tf.function(update, jit_compile=True, autograph=False)


def run(fn, variables, slots, grads, scalars, decays, in_place):
    """Calls :func:`update_fn`'s ``fn`` on the tf.Variables of Keras's (each
    slot's copy on its variable's device under ``tf.distribute``) and
    assigns the slot values it returns."""
    variables = [_tf_variable(v) for v in variables]
    slots = [[_on_device_of(s, v) for s in slot_vars] for v, slot_vars in zip(variables, slots)]
    results = fn(variables, slots, list(grads), scalars, list(decays), in_place)
    # Assigned outside the compiled function: TensorFlow hands the fresh
    # buffer to the slot, no copy.
    for slot_vars, state in zip(slots, results):
        for var, new in zip(slot_vars, state):
            var.assign(new)


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
