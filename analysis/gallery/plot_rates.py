"""
Convergence rates on a quadratic
================================

On a quadratic with curvature ``lambda`` the gradient is ``lambda theta``, so
the optimizer and the loss close a feedback loop: the gradient filter
``H(z)`` in the forward path, the step ``eta lambda`` as the loop gain. The
loop's poles are the roots of its characteristic polynomial, and the error
shrinks per step by the largest pole magnitude, the *rate* (below 1:
converges; the smaller, the faster). It depends on ``eta lambda`` alone.

The first figure draws the rate against ``eta lambda`` for several filters;
the two maps draw it over momentum and step for heavy ball and Nesterov:
the loop converges where the rate is below 1, up to a largest step, the
stability limit (``2 (1 + a)`` for heavy ball).
"""

import numpy as np

from filteropt import filters as F
from filteropt import plotting as P

# %%
# Rate against the step
# ---------------------


def rate_vs_step():
    """The closed-loop rate against eta lambda for four gradient filters."""
    return P.plot_rate(
        ["momentum", "nesterov", "butterworth:order=2,cutoff=0.2", "qhm:nu=0.7,beta=0.9"]
    )


if __name__ == "__main__":  # run by the gallery; make_figures.py imports figures()
    rate_vs_step()

# %%
# Rate maps: heavy ball and Nesterov
# ----------------------------------
# 100 momenta from 0 to 0.99 against 220 steps ``eta lambda`` up to 4.2.

MAPS = {
    "rate_map_heavy_ball.png": (F.trace, "heavy-ball momentum: convergence rate"),
    "rate_map_nesterov.png": (F.nesterov, "Nesterov momentum: convergence rate"),
}


def rate_map(family, title):
    """The rate over (momentum, eta lambda) for one family of filters."""
    params = np.linspace(0.0, 0.99, 100)
    steps = np.linspace(0.005, 4.2, 220)
    return P.plot_rate_map(family, params, steps, title=title)


if __name__ == "__main__":
    for family, title in MAPS.values():
        rate_map(family, title)


# %%
# The figures in ``analysis/figures/``
# ------------------------------------


def figures():
    """{file name: figure} for ``analysis/make_figures.py``."""
    return {"rate_vs_step.png": rate_vs_step()} | {
        name: rate_map(*args) for name, args in MAPS.items()
    }
