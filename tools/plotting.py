"""Shared plot helpers for tool outputs: mplhep style, class-overlaid histograms, ROC curves.

Every tool that writes a PNG uses these so reports look alike. Matplotlib runs headless (Agg).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["figure", "save", "hist_by_class", "roc_plot"]

_STYLE_SET = False


def figure(figsize=(6.0, 4.5)):
    """A new (fig, ax) in the CMS-like mplhep style."""
    global _STYLE_SET
    if not _STYLE_SET:
        import mplhep

        plt.style.use(mplhep.style.CMS)
        plt.rcParams.update({"font.size": 12, "axes.labelsize": 13, "legend.fontsize": 11, "figure.dpi": 100})
        _STYLE_SET = True
    return plt.subplots(figsize=figsize)


def save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


def hist_by_class(values: Mapping[str, np.ndarray], path: Path, *, xlabel: str, bins: int = 40,
                  range_: tuple[float, float] | None = None, density: bool = True) -> str:
    """Overlaid step histograms of one observable, one per class, normalised to unit area."""
    import mplhep

    fig, ax = figure()
    finite = [v[np.isfinite(v)] for v in values.values() if len(v)]
    if range_ is None and finite:
        allv = np.concatenate(finite)
        range_ = (float(np.quantile(allv, 0.001)), float(np.quantile(allv, 0.999)))
        if range_[0] == range_[1]:
            range_ = (range_[0] - 0.5, range_[1] + 0.5)
    for name, v in values.items():
        h, edges = np.histogram(v[np.isfinite(v)], bins=bins, range=range_, density=density)
        mplhep.histplot(h, edges, ax=ax, label=f"{name} ({len(v)})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("normalised" if density else "entries")
    ax.legend()
    return save(fig, path)


def roc_plot(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: Path, *, title: str = "") -> str:
    """Background rejection 1/eB versus signal efficiency eS, log scale, one line per classifier."""
    fig, ax = figure()
    for name, (fpr, tpr) in curves.items():
        ok = fpr > 0
        ax.plot(tpr[ok], 1.0 / fpr[ok], label=name)
    ax.set_yscale("log")
    ax.set_xlabel("signal efficiency $\\varepsilon_S$")
    ax.set_ylabel("background rejection $1/\\varepsilon_B$")
    ax.set_xlim(0, 1)
    if title:
        ax.set_title(title, fontsize=12)
    ax.legend()
    return save(fig, path)
