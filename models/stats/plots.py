"""Figures of the statistical tests: NPLM calibration and learned density ratio, C2ST scores, p-value uniformity.

Every function writes one PNG (matplotlib, Agg backend) and returns its path.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import stats as sps

__all__ = ["plot_nplm_calibration", "plot_nplm_reconstruction", "plot_c2st_scores", "plot_pvalue_uniformity"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_nplm_calibration(t_null: np.ndarray, dof: int, path: str | Path, *, t_obs: float | None = None,
                          ks_pvalue: float | None = None, title: str = "NPLM null distribution") -> Path:
    """Histogram of t from null toys against the chi^2(dof) density, with the observed t."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    hi = max(float(np.max(t_null)) if len(t_null) else 0.0, sps.chi2(dof).ppf(0.999), t_obs or 0.0) * 1.05
    bins = np.linspace(0, hi, 30)
    ax.hist(t_null, bins=bins, density=True, alpha=0.5, color="tab:blue",
            label=f"null toys (n={len(t_null)}, mean {np.mean(t_null):.1f})" if len(t_null) else "no toys")
    grid = np.linspace(0, hi, 400)
    ks = f", KS p = {ks_pvalue:.3f}" if ks_pvalue is not None and np.isfinite(ks_pvalue) else ""
    ax.plot(grid, sps.chi2(dof).pdf(grid), color="k", label=f"chi2(dof={dof}){ks}")
    if t_obs is not None:
        ax.axvline(t_obs, color="tab:red", ls="--", label=f"observed t = {t_obs:.2f}")
    ax.set_xlabel("t = -2 min L")
    ax.set_ylabel("density")
    return _finish(plt, fig, ax, title, path)


def plot_nplm_reconstruction(x_ref: np.ndarray, x_data: np.ndarray, f_ref: np.ndarray, n_expected: float,
                             feature_names: list[str], path: str | Path, *, bins: int = 40) -> Path:
    """Per feature: data, reference (x N_D/N_R) and the learned model n(x|w) = n(x|R) e^f, with ratios
    to the reference below; where model and data rise above the reference the excess was learned."""
    plt = _pyplot()
    n_feat = x_ref.shape[1]
    fig, axes = plt.subplots(2, n_feat, figsize=(4.5 * n_feat, 5), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1.3]}, sharex="col")
    w_ref = np.full(len(x_ref), n_expected / len(x_ref))
    for j in range(n_feat):
        lo, hi = np.percentile(np.concatenate([x_ref[:, j], x_data[:, j]]), [0.1, 99.9])
        edges = np.linspace(lo, hi, bins + 1)
        centres = 0.5 * (edges[1:] + edges[:-1])
        ref_h = np.histogram(x_ref[:, j], edges, weights=w_ref)[0]
        model_h = np.histogram(x_ref[:, j], edges, weights=w_ref * np.exp(f_ref))[0]
        data_h = np.histogram(x_data[:, j], edges)[0]
        top, bottom = axes[0, j], axes[1, j]
        top.step(centres, ref_h, where="mid", color="k", label="reference")
        top.step(centres, model_h, where="mid", color="tab:red", label="NPLM model n(x|R) e^f")
        top.errorbar(centres, data_h, yerr=np.sqrt(data_h), fmt="o", ms=3, color="tab:blue", label="data")
        top.set_yscale("log")
        top.legend(fontsize=7)
        safe = np.where(ref_h > 0, ref_h, np.nan)
        bottom.plot(centres, model_h / safe, color="tab:red")
        bottom.errorbar(centres, data_h / safe, yerr=np.sqrt(data_h) / safe, fmt="o", ms=3, color="tab:blue")
        bottom.axhline(1, color="k", lw=0.8)
        bottom.set_ylabel("ratio to ref.")
        bottom.set_xlabel(feature_names[j] if j < len(feature_names) else f"x{j}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_c2st_scores(scores: np.ndarray, labels: np.ndarray, path: str | Path, *, auc: float,
                     names: tuple[str, str] = ("sample A", "sample B")) -> Path:
    """Classifier score distributions of the two samples on the held-out test split."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(0, 1, 31)
    ax.hist(scores[labels == 0], bins=bins, histtype="step", lw=1.5, label=names[0])
    ax.hist(scores[labels == 1], bins=bins, histtype="step", lw=1.5, label=names[1])
    ax.set_xlabel(f"classifier output P({names[1]})")
    ax.set_ylabel("test events")
    ax.set_title(f"classifier two-sample test: AUC = {auc:.4f}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_pvalue_uniformity(pvalues: dict[str, np.ndarray], path: str | Path, *, title: str) -> Path:
    """Empirical CDFs of p-values from repeats under H0 against the uniform diagonal (KS p in legend)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, p in pvalues.items():
        p = np.sort(np.asarray(p))
        ks = sps.kstest(p, "uniform").pvalue
        ax.step(p, np.arange(1, len(p) + 1) / len(p), where="post", label=f"{name} (n={len(p)}, KS p={ks:.2f})")
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set_xlabel("p-value")
    ax.set_ylabel("fraction of repeats with p' <= p")
    return _finish(plt, fig, ax, title, path)


def _finish(plt, fig, ax, title: str, path: str | Path) -> Path:
    """Title, legend, tight layout; save at 110 dpi and close."""
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
