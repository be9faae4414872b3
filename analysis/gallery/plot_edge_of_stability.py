"""
Sharpness at the edge of stability
==================================

On a quadratic, momentum's closed loop is stable while the step times the
curvature, ``eta lambda``, stays below the gradient filter's stability limit
``s*`` (for heavy ball, ``2 (1 + beta)``: where a root of the characteristic
polynomial leaves the unit circle, :func:`filteropt.analysis.stability_limit`).
A network's loss is not a quadratic, but near the weights it is one, with the
Hessian's largest eigenvalue ``lambda_max`` as the curvature that matters.

Here momentum 0.9 at ``eta = 0.3`` trains the Nielsen regression with full
batches (1,000 examples, so the gradient carries no minibatch noise) for 400
steps, while a :class:`filteropt.GradientProbe` measures ``lambda_max`` every
20 steps on the training set (Lanczos on Hessian-vector products). The
sharpness ``eta lambda_max`` starts well below ``s*`` and grows as training
goes on until it reaches the limit, where the loop would turn unstable in the
steepest direction, and goes no further: the "edge of stability" of Cohen et
al. (2021), at the limit the gradient filter sets. ``filteropt inspect`` draws the same figure as
``stability.png`` for any task and optimizer.
"""

import numpy as np

from filteropt import analysis as A
from filteropt.cli.inspect import summary
from filteropt.plotting import probe as probe_plots

SPEC = "momentum:momentum=0.9,learning_rate=0.3"
STEPS = 400
MEASUREMENTS = 20

# %%
# Training with sharpness measurements
# ------------------------------------


def train(spec=SPEC, steps=STEPS, measurements=MEASUREMENTS):
    """(record, recipe, s*) of ``spec`` training the Nielsen task with full batches."""
    from filteropt.cli import quiet

    quiet.import_tensorflow()
    import keras

    from filteropt import recipes
    from filteropt.cli import tasks
    from filteropt.keras.optimizers import get as get_optimizer
    from filteropt.keras.probe import GradientProbe

    task = tasks.get("nielsen")
    x, y, _, _ = task.load(0)
    optimizer = get_optimizer(spec)
    limit = A.stability_limit(optimizer)
    probe = GradientProbe(
        projections=4,
        seed=0,
        max_steps=steps,
        sharpness_every=steps // measurements,
        sharpness_data=(x, y),
    )
    model = task.build_model(0)
    model.compile(optimizer=optimizer, loss=task.loss)
    keras.utils.set_random_seed(0)
    model.fit(x, y, batch_size=len(x), epochs=steps, verbose=0, callbacks=[probe])
    return probe.record, recipes.get(spec), limit


# %%
# Sharpness against the stability limit
# -------------------------------------
# Printed: what ``filteropt inspect`` prints for the run, the shares of the
# gradient's power above 0.1 cycles per step, the measured response against
# the filter's, and the peak sharpness as a fraction of ``s*``.


def stability_figure(record, recipe, limit):
    """``eta lambda_max`` over training against ``s*``."""
    for line in summary(record, recipe, limit):
        print(line)
    table = record.sharpness_table
    sharpness = table[:, 1] * table[:, 3]
    print(
        f"eta lambda_max: {sharpness[0] / limit:.2f} s* at the start, "
        f"{np.max(sharpness[len(sharpness) // 2 :]) / limit:.2f} s* at most in the second half"
    )
    return probe_plots.plot_stability(record, limit, label=recipe.name)


if __name__ == "__main__":  # run by the gallery; make_figures.py imports figures()
    stability_figure(*train())


# %%
# The figure as a file
# --------------------
# Not among the committed figures; ``filteropt inspect --task nielsen
# --optimizer momentum`` writes its own.


def figures(spec=SPEC, steps=STEPS, measurements=MEASUREMENTS):
    """{file name: figure}."""
    return {"edge_of_stability_nielsen.png": stability_figure(*train(spec, steps, measurements))}
