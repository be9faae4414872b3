"""Optimizer specs: ``"name:key=value,..."`` as the command line and
``filteropt.get_optimizer`` take them."""

from __future__ import annotations

import ast

__all__ = ["parse"]


def parse(spec: str) -> tuple[str, dict]:
    """``"nesterov:momentum=0.95"`` -> ``("nesterov", {"momentum": 0.95})``.

    Example:
        >>> parse("nesterov:momentum=0.95,learning_rate=0.01")
        ('nesterov', {'momentum': 0.95, 'learning_rate': 0.01})
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"an optimizer spec must be a non-empty string. Received: {spec!r}")
    name, _, rest = spec.strip().partition(":")
    name = name.strip().lower()
    kwargs = {}
    if rest.strip():
        for item in _split_items(rest):
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise ValueError(f"hyperparameter {item!r} in {spec!r} must look like key=value")
            kwargs[key.strip()] = _literal(value.strip())
    return name, kwargs


def _split_items(text):
    items, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "(["
        depth -= ch in ")]"
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    return [i for i in items if i.strip()]


def _literal(value: str):
    try:
        out = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        low = value.lower()
        if low in ("true", "false"):
            return low == "true"
        return value
    return out
