"""A recipe as an ``optax.GradientTransformation``, run in ``jax.numpy``.

:func:`to_optax` drives a :class:`filteropt.recipes.Recipe` as
:func:`filteropt.recipes.simulate` does, with ``jax.numpy`` for numpy: the
recipe's own :meth:`~filteropt.recipes.Recipe.step` on every leaf, so the
transformation runs the formulas the Keras optimizers and the analysis
read. With the ``*_optax`` recipes (:mod:`filteropt.recipes.optax_conventions`)
it follows optax's own optimizers step for step (``tests/test_optax_adapter.py``).
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ..recipes import Recipe, get

__all__ = ["FilterOptState", "to_optax"]


class FilterOptState(NamedTuple):
    """The state of :func:`to_optax`'s transformation.

    Attributes:
        count: the number of steps taken (int32, from 0): the schedule's
            argument, as optax's ``scale_by_schedule`` counts.
        scalars: the recipe's per-step scalars (:meth:`Recipe.scalar_init`,
            advanced by :meth:`Recipe.advance`), shared by every leaf.
        slots: one pytree like the params per slot, in
            :meth:`Recipe.slots` order.
    """

    count: Any
    scalars: tuple
    slots: tuple


def _scalar_dtype():
    """float64 for the per-step scalars when JAX has x64 mode, else float32."""
    return jnp.zeros((), dtype=float).dtype


def _in(dtype, c):
    """A gain in the leaf dtype; a Python number stays one (constant folding)."""
    return c if isinstance(c, numbers.Number) else jnp.asarray(c, dtype)


def to_optax(spec_or_recipe, learning_rate, weight_decay=None) -> optax.GradientTransformation:
    """An optax ``GradientTransformation`` that runs a recipe.

    Per step, with t = count + 1 (count: the steps taken, from 0)::

        scalars = recipe.advance(scalars, t); gains = recipe.gains(scalars, t)
        eta = learning_rate(count)   (or the constant)
        Delta, slots = recipe.step(g, eta, slots, gains)    per leaf
        u = Delta + (recipe.decayed(theta, eta, lambda) - theta)

    and ``optax.apply_updates(params, u)`` gives theta[i] = (1 - eta lambda)
    theta[i-1] + Delta[i]. Each leaf runs in its params' dtype (float32, or
    float64 with ``JAX_ENABLE_X64``); the per-step scalars in float64 where
    JAX has it. ``update`` is pure and may be ``jax.jit``-compiled.

    Args:
        spec_or_recipe: a recipe spec (``"adam_optax:b1=0.8"``, see
            :func:`filteropt.recipes.get`) or a :class:`Recipe`.
        learning_rate: a finite float >= 0, or an optax schedule (a callable
            of the step count, from 0: ``optax.exponential_decay(...)``).
        weight_decay: decoupled weight decay lambda, replacing the recipe's
            (``adamw_optax`` has one; ``"lion"`` takes optax.lion's this
            way); None keeps the recipe's. With lambda != 0, ``update``
            needs ``params``.

    Returns:
        ``optax.GradientTransformation(init, update)``; the state is a
        :class:`FilterOptState`.

    Example:
        >>> import jax.numpy as jnp, optax
        >>> import filteropt
        >>> tx = filteropt.to_optax("adam_optax:b1=0.8", optax.linear_schedule(1e-2, 0.0, 100))
        >>> params = {"w": jnp.ones(3)}
        >>> state = tx.init(params)
        >>> updates, state = tx.update({"w": jnp.array([1.0, -2.0, 0.5])}, state, params)
        >>> [round(float(u), 6) for u in optax.apply_updates(params, updates)["w"]]
        [0.99, 1.01, 0.99]
    """
    if not isinstance(spec_or_recipe, (str, Recipe)):
        raise TypeError(
            "`spec_or_recipe` must be a recipe spec (a str) or a "
            f"filteropt.recipes.Recipe. Received: {spec_or_recipe!r}"
        )
    recipe = get(spec_or_recipe)
    if weight_decay is not None:
        recipe = recipe.with_weight_decay(weight_decay)
    if isinstance(learning_rate, bool) or not (
        callable(learning_rate) or isinstance(learning_rate, numbers.Real)
    ):
        raise TypeError(
            "`learning_rate` must be a float or an optax schedule (a callable of "
            f"the step count). Received: learning_rate={learning_rate!r}"
        )
    if not callable(learning_rate) and not 0.0 <= learning_rate < float("inf"):
        raise ValueError(
            "`learning_rate` must be a finite number >= 0. "
            f"Received: learning_rate={learning_rate!r}"
        )
    wd = recipe.weight_decay

    def init(params):
        slots = tuple(
            jax.tree.map(lambda p, v=value: jnp.full_like(p, v), params)
            for _, value in recipe.slots()
        )
        scalars = tuple(jnp.asarray(s, _scalar_dtype()) for s in recipe.scalar_init())
        return FilterOptState(jnp.zeros([], jnp.int32), scalars, slots)

    def update(updates, state, params=None):
        if wd and params is None:
            raise ValueError(
                f"recipe {recipe.name!r} decays the weights (weight_decay={wd}): "
                "`params` must be passed to update."
            )
        t = jnp.asarray(state.count + 1, _scalar_dtype())
        scalars = [
            jnp.asarray(s, _scalar_dtype()) for s in recipe.advance(jnp, list(state.scalars), t)
        ]
        gains = recipe.gains(jnp, scalars, t)
        lr = learning_rate(state.count) if callable(learning_rate) else float(learning_rate)
        treedef: Any  # a PyTreeDef: jaxlib ships no type stubs for it
        leaves, treedef = jax.tree.flatten(updates)
        slot_leaves = [treedef.flatten_up_to(s) for s in state.slots]
        thetas = treedef.flatten_up_to(params) if params is not None else [None] * len(leaves)
        out: list[Any] = []
        new_slots: list[list[Any]] = [[] for _ in slot_leaves]
        for i, (g, theta) in enumerate(zip(leaves, thetas)):
            dtype = (theta if theta is not None else g).dtype
            eta = _in(dtype, lr)
            leaf_gains = tuple(tuple(_in(dtype, c) for c in part) for part in gains)
            delta, slots = recipe.step(
                jnp, jnp.asarray(g, dtype), eta, [s[i] for s in slot_leaves], leaf_gains
            )
            if wd:
                delta = delta + (recipe.decayed(theta, eta, _in(dtype, wd)) - theta)
            out.append(jnp.asarray(delta, dtype))
            for k, value in enumerate(slots):
                new_slots[k].append(jnp.asarray(value, dtype))
        return treedef.unflatten(out), FilterOptState(
            optax.safe_increment(state.count),
            tuple(scalars),
            tuple(treedef.unflatten(s) for s in new_slots),
        )

    return optax.GradientTransformation(init, update)
