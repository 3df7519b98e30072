"""Plots of a symbolic-regression fit: data, chosen expression, reference curve and residuals (PNG)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["plot_fit"]


def plot_fit(path: Path, X: np.ndarray, y: np.ndarray, predict: Callable[[np.ndarray], np.ndarray], *,
             sigma: np.ndarray | None = None, names: list[str], target: str, label: str,
             reference: Callable[[np.ndarray], np.ndarray] | None = None, reference_label: str = "",
             title: str = "") -> Path:
    """One input variable: y vs x with the curve(s) and a residual (or pull) panel below.
    Several inputs: predicted vs observed and residuals vs predicted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 6.0), sharex=X.shape[1] == 1,
                                      gridspec_kw={"height_ratios": [3, 1.3]})
    pred = predict(X)
    resid = y - pred
    ylab = "pull (data - fit) / error" if sigma is not None else "data - fit"
    res = resid / sigma if sigma is not None else resid
    if X.shape[1] == 1:
        x = X[:, 0]
        order = np.argsort(x)
        grid = np.linspace(x.min(), x.max(), 400)[:, None]
        top.errorbar(x, y, yerr=sigma, fmt="o", ms=3, color="k", label="data")
        top.plot(grid[:, 0], predict(grid), color="C0", label=label)
        if reference is not None:
            top.plot(grid[:, 0], reference(grid), "--", color="C3", label=reference_label)
        bottom.errorbar(x[order], res[order], yerr=None if sigma is None else np.ones_like(x), fmt="o", ms=3,
                        color="k")
        bottom.set_xlabel(names[0])
    else:
        top.scatter(pred, y, s=6, color="k", label="data")
        lim = [min(pred.min(), y.min()), max(pred.max(), y.max())]
        top.plot(lim, lim, color="C0", label=label)
        top.set_xlabel("prediction")
        bottom.scatter(pred, res, s=6, color="k")
        bottom.set_xlabel("prediction")
    bottom.axhline(0, color="C0", lw=1)
    bottom.set_ylabel(ylab)
    top.set_ylabel(target)
    top.legend(fontsize=8)
    if title:
        top.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
