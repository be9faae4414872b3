"""A custom optimizer in a few lines: Chebyshev low-pass momentum + RMS normalization.

    python examples/custom_optimizer.py [--quick] [--out DIR] [--epochs N]

Adam filters the gradient with a first-order low-pass (an EMA) and divides
by an RMS estimate. Here the EMA is swapped for a 2nd-order Chebyshev type I
low-pass, compensated like Adam's; the normalizer is Adam's (EMA of g^2,
beta 0.999). Both train the digits MLP from the same initial weights.
--quick trains 2 epochs.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import filteropt
from filteropt import filters, normalizers
from filteropt.cli import tasks
from filteropt.plotting import legend_outside

args = tasks.example_parser(__doc__.splitlines()[0]).parse_args()

chebyshev = filteropt.FilterOptimizer(
    learning_rate=1e-3,
    gradient_filter=filters.lowpass("cheby1", 2, 0.1),  # order 2, cutoff 0.1 x Nyquist
    normalizer=normalizers.RMS(filters.ema(0.999), compensate=True, epsilon_mode="outside"),
    transient_compensation=True,
)
optimizers = {"Chebyshev + RMS": chebyshev, "Adam": filteropt.Adam(learning_rate=1e-3)}
print("Chebyshev gradient filter:", chebyshev.gradient_filter)

task = tasks.get("digits")
epochs = args.epochs or (2 if args.quick else task.default_epochs)
x_train, y_train, x_val, y_val = task.load(args.seed)
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

histories = {}
for name, optimizer in optimizers.items():
    model = task.build_model(seed=args.seed)  # same seed: same initial weights
    model.compile(optimizer=optimizer, loss=task.loss, metrics=task.metrics)
    h = model.fit(
        x_train,
        y_train,
        epochs=epochs,
        batch_size=task.default_batch_size,
        validation_data=(x_val, y_val),
        verbose=0,
    ).history
    histories[name] = h
    print(
        f"{name:>16}: val_loss {h['val_loss'][-1]:.4f}, "
        f"val_accuracy {100 * h['val_accuracy'][-1]:.2f}%"
    )

fig, (ax_h, ax_l) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for name, optimizer in optimizers.items():  # the gradient filters' magnitude responses
    w, h = optimizer.gradient_filter.freqz(512)
    ax_h.plot(w / np.pi, 20 * np.log10(np.maximum(np.abs(h), 1e-12)), label=name)
    epochs_axis = np.arange(1, len(histories[name]["val_loss"]) + 1)
    ax_l.plot(epochs_axis, histories[name]["val_loss"], "o-", label=name)
ax_h.set(xlabel="frequency (x Nyquist)", ylabel="|H| (dB)", title="gradient filter", ylim=(-60, 5))
ax_l.set(xlabel="epoch", ylabel="validation cross-entropy", title="digits")
legend_outside(ax_l)  # one legend: both panels draw the same optimizers
fig.savefig(out / "custom_optimizer.png", dpi=100)
print("saved", out / "custom_optimizer.png")
