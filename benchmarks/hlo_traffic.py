"""Memory traffic per parameter of one optimizer step, read off XLA's HLO.

    python benchmarks/hlo_traffic.py [--optimizers Adam SGD-momentum ...]

Timings on a shared machine are noisy; what XLA compiled is not. For each
drop-in (and Butterworth momentum of order 1-3), one step on one float32
variable of N parameters is compiled with XLA around it (``jit_compile=True``)
for Keras's built-in and for filteropt, and filteropt's own fused step is
compiled without XLA around it (``fused=True``; Keras's default on CPU). In the
optimized HLO each instruction of the entry computation that makes an array
of N elements (a loop fusion, an elementwise operation or a copy) reads its
N-element operands and writes its result once: the sum, in bytes per
parameter, is the step's memory traffic. The floor is the parameter, the
gradient and each slot read once and the parameter and each slot written
once. Each case runs in its own process (XLA's dump flag is read once).
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import CONFIGS, floor_bytes

N = 1_000_003  # a size no scalar or other array has

CASES = {
    **CONFIGS,
    "Butterworth-1": (None, 1),
    "Butterworth-2": (None, 2),
    "Butterworth-3": (None, 3),
}

_CHILD = r"""
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["XLA_FLAGS"] = "--xla_dump_to=" + sys.argv[4] + " --xla_dump_hlo_as_text"
import numpy as np, tensorflow as tf, keras, filteropt
name, lib, jit = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
kwargs = eval(sys.argv[5])
v = [tf.Variable(np.ones(%d, "float32"))]
g = [tf.constant(np.ones(%d, "float32"))]
if name.startswith("Butterworth"):
    f = filteropt.filters.butterworth(int(name.split("-")[1]), 0.1, gain="input")
    opt = (keras.optimizers.SGD(momentum=0.9) if lib == "keras"
           else filteropt.FilterOptimizer(gradient_filter=f, fused=True))
elif lib == "keras":
    opt = getattr(keras.optimizers, name.split("-")[0])(**kwargs)
else:
    opt = getattr(filteropt, name.split("-")[0])(fused=True, **kwargs)
opt.build(v)
step = tf.function(lambda: opt.apply(g, v), jit_compile=jit)
step()
""" % (N, N)  # noqa: UP031 - a template with braces of its own


def traffic(hlo_text: str) -> tuple[int, int]:
    """(bytes per parameter, copies) of the entry computation."""
    entry = hlo_text[hlo_text.index("\nENTRY") :]
    big = re.compile(rf"f32\[{N}\]")
    shapes, total, copies = {}, 0, 0
    for line in entry.splitlines()[1:]:
        m = re.match(r"\s*(ROOT )?%(\S+) = (\S+?)(?:\{[^}]*\})? (\w[\w-]*)\((.*?)\)", line)
        if not m:
            continue
        name, shape, op, operands = m.group(2), m.group(3), m.group(4), m.group(5)
        shapes[name] = shape
        if op in ("parameter", "tuple", "get-tuple-element", "bitcast") or not big.search(shape):
            continue
        reads = sum(
            1 for o in re.findall(r"%([\w.-]+)", operands) if big.fullmatch(shapes.get(o, ""))
        )
        writes = len(big.findall(shape))
        total += 4 * (reads + writes)
        copies += op == "copy"
    return total, copies


def _case(name):
    if name.startswith("Butterworth-"):
        return None, int(name.split("-")[1])
    return CASES[name]


def measure(name, lib, jit):
    kwargs = _case(name)[0] or {}
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(
            [sys.executable, "-c", _CHILD, name, lib, "1" if jit else "0", d, repr(kwargs)],
            check=True,
            capture_output=True,
        )
        total, copies = 0, 0
        for path in glob.glob(os.path.join(d, "*after_optimizations.txt")):
            with open(path) as f:
                t, c = traffic(f.read())
            total, copies = total + t, copies + c
    return total, copies


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optimizers", nargs="+", default=list(CASES))
    parser.add_argument(
        "--orders",
        nargs="+",
        type=int,
        default=None,
        help="instead: Butterworth momentum of these orders, bytes per order",
    )
    args = parser.parse_args()
    if args.orders:
        return orders(args.orders)
    print(
        "| optimizer | floor B/param | Keras, XLA | filteropt, XLA | filteropt fused, "
        "no XLA around | filteropt fused / floor |"
    )
    print("|---|---|---|---|---|---|")
    for name in args.optimizers:
        floor = floor_bytes(_case(name)[1])
        cells = []
        for lib, jit in (("keras", True), ("filteropt", True), ("filteropt", False)):
            total, copies = measure(name, lib, jit)
            cells.append((total, copies))

        def fmt(tc):
            return f"{tc[0]}" + (f" ({tc[1]} cop{'y' if tc[1] == 1 else 'ies'})" if tc[1] else "")

        label = name + (" (Keras: SGD momentum)" if name.startswith("Butterworth") else "")
        print(
            f"| {label} | {floor} | {fmt(cells[0])} | {fmt(cells[1])} | {fmt(cells[2])} "
            f"| {cells[2][0] / floor:.2f} |",
            flush=True,
        )


def orders(orders):
    """Compiled traffic of Butterworth momentum against its order: the fused
    step (no XLA around it) and XLA around the step."""
    print("| order | stages | floor B/param | fused | fused - floor | XLA around | XLA - floor |")
    print("|---|---|---|---|---|---|---|")
    for order in orders:
        name = f"Butterworth-{order}"
        floor = floor_bytes(order)
        fused, fc = measure(name, "filteropt", False)
        xla, xc = measure(name, "filteropt", True)
        copies = lambda c: f" ({c} copies)" if c else ""  # noqa: E731
        print(
            f"| {order} | {(order + 1) // 2} | {floor} | {fused}{copies(fc)} | {fused - floor} "
            f"| {xla}{copies(xc)} | {xla - floor} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
