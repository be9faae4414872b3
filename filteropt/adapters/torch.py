"""A recipe as a ``torch.optim.Optimizer``: :func:`to_torch`.

The optimizer runs the recipe's own maths (:meth:`filteropt.recipes.Recipe.step`)
on torch tensors, as :func:`filteropt.recipes.simulate` runs it on numpy
arrays. Per parameter, ``state[p]`` holds the recipe's slots
(:meth:`~filteropt.recipes.Recipe.slots`, tensors like ``p``, made at its
first step as torch's optimizers make theirs), ``"step"`` (an int) and
``"scalars"`` (the recipe's per-step scalar recursions, Python floats);
the gains come from these in float64 numpy, once per step for all the
parameters at the same step. A parameter whose ``grad`` is None is
skipped and its step not counted, as torch does.

Weight decay, per group (``group["weight_decay"]``, defaulting to the
recipe's), means what the recipe says it means:

- a recipe with ``hyperparameters["l2"]`` (torch's SGD, Adam, RMSprop,
  Adagrad, NAdam: :mod:`filteropt.recipes.torch_conventions`) takes it as
  torch's *coupled* weight decay, g <- g + weight_decay * theta before the
  recipe's step: the gradient of an L2 penalty, not a filter;
- any other recipe (AdamW's, NAdam's with ``decoupled_weight_decay``,
  Keras's recipes) takes it as decoupled decay,
  theta[i] = (1 - eta lambda) theta[i-1] + Delta[i]
  (:meth:`~filteropt.recipes.Recipe.decayed`).

Learning-rate schedulers of ``torch.optim.lr_scheduler`` work as with
torch's optimizers (they set ``group["lr"]``; those that cycle a momentum
need ``cycle_momentum=False``: the momentum is the recipe's), and so do
``zero_grad``, ``step(closure)``, ``add_param_group`` and
``state_dict``/``load_state_dict`` (plain tensors, ints and floats:
``torch.load`` with ``weights_only=True`` reads them). The recipe itself
is not in the state dict: load into an optimizer made with the same one.
Sparse gradients are made dense; complex parameters are refused.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..recipes import Recipe, parse
from ..recipes import get as get_recipe
from ..recipes.torch_conventions import TORCH_LEARNING_RATES

__all__ = ["RecipeOptimizer", "to_torch"]


def _sign(x):
    """numpy's sign: torch.sign(nan) is 0, numpy's (and the reference's) nan."""
    return torch.where(torch.isnan(x), x, torch.sign(x))


class _Namespace:
    """The array functions the signal layer calls (sqrt, maximum, abs, sign,
    ...), from torch on tensors and from numpy on Python numbers (the
    epsilon-hat gain sqrt(raw / k) is a scalar), with numpy's semantics
    (``sign`` keeps nan, as numpy's; ``power`` is ``torch.pow``)."""

    def __getattr__(self, name):
        own: dict[str, Callable[..., Any]] = {"power": torch.pow, "sign": _sign}
        fn_torch = own.get(name) or getattr(torch, name)
        fn_numpy = getattr(np, name)

        def call(*args):
            ref = next((a for a in args if isinstance(a, torch.Tensor)), None)
            if ref is None:
                return float(fn_numpy(*args))
            return fn_torch(
                *(
                    a
                    if isinstance(a, torch.Tensor)
                    else torch.as_tensor(a, dtype=ref.dtype, device=ref.device)
                    for a in args
                )
            )

        return call


XP = _Namespace()


def _check_rate(value, name):
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = float(value)
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not (math.isfinite(value) and float(value) >= 0.0)
    ):
        raise ValueError(f"`{name}` must be a finite number >= 0. Received: {name}={value!r}")
    return float(value)


def _coupled(recipe: Recipe) -> bool:
    """Whether the recipe's weight decay is torch's coupled L2 term."""
    return "l2" in recipe.hyperparameters


class RecipeOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` running a :class:`filteropt.recipes.Recipe`.

    Args:
        params: an iterable of tensors or of dicts (param groups), as
            torch's optimizers take them; a group may set ``lr`` and
            ``weight_decay``.
        recipe: a :class:`~filteropt.recipes.Recipe`.
        lr: a float >= 0: the learning rate eta (a group's default).
        weight_decay: a float >= 0 or None (the recipe's): coupled or
            decoupled as the recipe says (see the module docstring).
    """

    def __init__(self, params, recipe: Recipe, lr=1e-3, weight_decay=None):
        if not isinstance(recipe, Recipe):
            raise TypeError(f"`recipe` must be a filteropt Recipe. Received: {recipe!r}")
        self.recipe = recipe
        super().__init__(params, {"lr": _check_rate(lr, "lr"), "weight_decay": weight_decay})
        # (step, scalar state) -> (the state after the step, that step's gains)
        self._gains: dict[tuple, tuple[list[float], tuple[tuple[float, ...], ...]]] = {}

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        try:
            for p in group["params"]:
                if not p.is_floating_point():
                    raise TypeError(f"`params` must be floating-point tensors; got {p.dtype}")
            _check_rate(group["lr"], "lr")
            if group["weight_decay"] is None:
                r = self.recipe
                group["weight_decay"] = r.hyperparameters["l2"] if _coupled(r) else r.weight_decay
            _check_rate(group["weight_decay"], "weight_decay")
        except (TypeError, ValueError):
            self.param_groups.pop()  # the optimizer stays as it was
            raise

    def _scalars(self, scalars, t):
        """The scalar state after step ``t`` and that step's gains (cached:
        every parameter at the same step shares them)."""
        key = (t, tuple(scalars))
        if key not in self._gains:
            r, tf = self.recipe, float(t)
            new = [float(s) for s in r.advance(np, scalars, tf)]
            gains = tuple(tuple(float(c) for c in part) for part in r.gains(np, new, tf))
            self._gains[key] = (new, gains)
        return self._gains[key]

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter with a gradient; returns the
        closure's loss (``closure`` re-evaluates the model, as in torch)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        recipe, self._gains = self.recipe, {}
        names = [name for name, _ in recipe.slots()]
        coupled = _coupled(recipe)
        for group in self.param_groups:
            lr, wd = float(group["lr"]), float(group["weight_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.to_dense() if p.grad.is_sparse else p.grad
                state = self.state[p]
                if "step" not in state:
                    state["step"] = 0
                    state["scalars"] = [float(s) for s in recipe.scalar_init()]
                    for name, init in recipe.slots():
                        state[name] = torch.full_like(p, init, memory_format=torch.preserve_format)
                elif any(name not in state for name in names):
                    raise ValueError(
                        f"the loaded state has slots {sorted(state)}; recipe "
                        f"{recipe.name!r} needs {names}: load the same recipe's"
                    )
                state["step"] += 1
                state["scalars"], gains = self._scalars(state["scalars"], state["step"])
                if coupled and wd:
                    g = g.add(p, alpha=wd)
                delta, new = recipe.step(XP, g, lr, [state[n] for n in names], gains)
                for name, value in zip(names, new):
                    state[name] = value.clone() if value is p.grad else value
                if wd and not coupled:
                    p.copy_(recipe.decayed(p, lr, wd) + delta)
                else:
                    p.add_(delta)
        return loss


def to_torch(params, spec_or_recipe, lr=None, weight_decay=None) -> RecipeOptimizer:
    """A ``torch.optim.Optimizer`` that runs a recipe (see the module docstring).

    ``spec_or_recipe`` is a :class:`~filteropt.recipes.Recipe` or a spec
    (``"adam_torch:betas=(0.9,0.99)"``, :func:`filteropt.recipes.get`).
    ``lr`` defaults to the spec's ``learning_rate``, else to torch's default
    for a ``*_torch`` recipe (:data:`~filteropt.recipes.torch_conventions.TORCH_LEARNING_RATES`);
    other recipes need one. ``weight_decay`` (None: the recipe's) is
    coupled for torch's coupled recipes, decoupled otherwise.

    Example:
        torch's own SGD with dampening, and the same spec run by filteropt:

        >>> import torch, filteropt
        >>> ours, theirs = torch.nn.Linear(3, 1), torch.nn.Linear(3, 1)
        >>> _ = theirs.load_state_dict(ours.state_dict())  # the same initial weights
        >>> spec = "sgd_torch:momentum=0.9,dampening=0.1"
        >>> opt = filteropt.to_torch(ours.parameters(), spec, lr=0.1)
        >>> ref = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9, dampening=0.1)
        >>> for model, optimizer in ((ours, opt), (theirs, ref)):
        ...     sched = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        ...     for _ in range(4):
        ...         optimizer.zero_grad()
        ...         model(torch.ones(4, 3)).square().mean().backward()
        ...         optimizer.step()
        ...         sched.step()
        >>> torch.allclose(ours.weight, theirs.weight), torch.allclose(ours.bias, theirs.bias)
        (True, True)
    """
    if isinstance(spec_or_recipe, Recipe):
        recipe, spec_lr = spec_or_recipe, None
    elif isinstance(spec_or_recipe, str):
        spec_lr = parse(spec_or_recipe)[1].get("learning_rate")
        recipe = get_recipe(spec_or_recipe)
    else:
        raise TypeError(
            "`spec_or_recipe` must be a recipe spec (a string such as "
            f"'adam_torch:eps=1e-6') or a Recipe. Received: {spec_or_recipe!r}"
        )
    if lr is None:
        lr = spec_lr if spec_lr is not None else TORCH_LEARNING_RATES.get(recipe.name)
        if lr is None:
            raise ValueError(
                f"`lr` is needed: recipe {recipe.name!r} has no torch default. Received: lr=None"
            )
    return RecipeOptimizer(params, recipe, lr=lr, weight_decay=weight_decay)
