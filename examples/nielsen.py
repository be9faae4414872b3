"""Nielsen's function fitted by a 3x64 ReLU MLP, with and without dropout.

    python examples/nielsen.py [--quick] [--out DIR] [--epochs N] [--dropout P]

f(x) = 0.2 + 0.4 x^2 + 0.3 x sin(15 x) + 0.05 cos(50 x) on [0, 1], the
lecture's "crazy function" (neuralnetworksanddeeplearning.com, chapter 4).
Trains the same network, from the same initial weights, once without and
once with dropout after each hidden layer, with filteropt's Adam; plots both
fits and their learning curves. --quick trains 2 epochs.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import filteropt
from filteropt.cli import tasks
from filteropt.plotting import legend_outside

parser = tasks.example_parser(__doc__.splitlines()[0])
parser.add_argument("--dropout", type=float, default=0.2, help="dropout rate of the second run")
args = parser.parse_args()

task = tasks.get("nielsen")
epochs = args.epochs or (2 if args.quick else task.default_epochs)
x_train, y_train, x_val, y_val = task.load(args.seed)
x_grid, y_grid = task.load_test(args.seed)  # a dense grid on [0, 1], to draw the fit
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

fits = {}
for rate in (0.0, args.dropout):
    label = f"dropout {rate:g}" if rate else "no dropout"
    model = task.build_model(seed=args.seed, dropout=rate)  # same seed: same initial weights
    # 3e-3 rather than Adam's default 1e-3: ten times lower error in 40 epochs.
    model.compile(optimizer=filteropt.Adam(learning_rate=3e-3), loss=task.loss)
    results = model.fit(
        x_train,
        y_train,
        epochs=epochs,
        batch_size=task.default_batch_size,
        validation_data=(x_val, y_val),
        verbose=0,
    )
    print(
        f"{label:>12}: loss {results.history['loss'][-1]:.5f}, "
        f"val_loss {results.history['val_loss'][-1]:.5f}"
    )
    prefix = "nielsen_" + ("no_dropout_" if not rate else "dropout_")
    for path in tasks.plot_learning_curves(results, out, prefix, ylabel="mean squared error"):
        print("saved", path)
    fits[label] = model.predict(x_grid, verbose=0)  # dropout is off at inference

fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
ax.plot(x_train[:, 0], y_train[:, 0], ".", color="0.75", markersize=3, label="training points")
ax.plot(x_grid, y_grid, "k", label="f(x)")
for label, y_fit in fits.items():
    ax.plot(x_grid, y_fit, label=label)
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_title(f"Nielsen's function, {epochs} epochs of Adam")
legend_outside(ax)
fig.savefig(out / "nielsen_fit.png", dpi=100)
print("saved", out / "nielsen_fit.png")
