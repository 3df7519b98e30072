"""Binary-classifier metrics shared by every tagger: ROC curve, AUC, rejection, accuracy, bootstrap intervals.

Conventions: label 1 = signal, 0 = background; a higher score is more signal-like. With a cut
`score >= t`,

    eS(t) = P(score >= t | signal)        (true-positive rate, signal efficiency)
    eB(t) = P(score >= t | background)    (false-positive rate, mistag rate)
    AUC   = P(s_sig > s_bkg) + 1/2 P(s_sig = s_bkg)        (area under eS(eB), trapezoids)
    R(eS*) = 1 / eB at the ROC point whose eS is closest to eS*

The rejection follows LorentzNet's `ROC.py` (`buildROC`: `idx = argmin |tpr - eS*|` over the points
of `sklearn.metrics.roc_curve`), the definition the ParticleNet/LorentzNet/ParT comparison uses.
When that point has eB = 0 the rejection is infinite: fewer background events than 1/eB were
tested, and `rejection_at` returns `math.inf` (callers report the lower bound n_background).
Accuracy is the fraction of events with `(score >= threshold) == label` (argmax of a two-class
softmax is threshold 0.5).

All metrics accept `sample_weight`. `bootstrap_ci` resamples signal and background separately
(stratified, so both classes are always present and the class fractions stay fixed) by drawing
multinomial counts used as weights, and returns the percentile interval.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "roc_curve",
    "roc_auc",
    "rejection_at",
    "signal_efficiency_at",
    "accuracy",
    "Interval",
    "paired_difference",
    "bootstrap_ci",
    "ClassifierMetrics",
    "evaluate_classifier",
]

Metric = Callable[..., float]


def _check(y_true, y_score, sample_weight=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y_true).ravel()
    s = np.asarray(y_score, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError(f"y_true has {y.size} entries but y_score has {s.size}; they must match")
    if y.size == 0:
        raise ValueError("y_true is empty; metrics need at least one signal and one background event")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"y_true must hold only 0 (background) and 1 (signal), got values {np.unique(y)[:5]}")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"y_score has {int((~np.isfinite(s)).sum())} non-finite entries (NaN/inf); fix the model output")
    w = np.ones_like(s) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    if w.shape != s.shape or np.any(w < 0):
        raise ValueError("sample_weight must be non-negative with one entry per event")
    y = y.astype(bool)
    if not (w[y].sum() > 0 and w[~y].sum() > 0):
        raise ValueError("metrics need both classes: y_true (with weights) has no signal or no background")
    return y, s, w


def roc_curve(y_true, y_score, *, sample_weight=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(eB, eS, thresholds) at every distinct score, starting at (0, 0) with threshold +inf.

    Same points as `sklearn.metrics.roc_curve(..., drop_intermediate=False)`.
    """
    y, s, w = _check(y_true, y_score, sample_weight)
    order = np.argsort(-s, kind="mergesort")
    s, y, w = s[order], y[order], w[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # last index of each distinct score
    tps = np.cumsum(w * y)[last]
    fps = np.cumsum(w * ~y)[last]
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return fpr, tpr, np.r_[np.inf, s[last]]


def roc_auc(y_true, y_score, *, sample_weight=None) -> float:
    """Area under the ROC curve (trapezoids; ties count one half)."""
    fpr, tpr, _ = roc_curve(y_true, y_score, sample_weight=sample_weight)
    return float(np.trapezoid(tpr, fpr))


def _closest_point(y_true, y_score, signal_eff: float, sample_weight) -> tuple[float, float]:
    if not 0.0 < signal_eff <= 1.0:
        raise ValueError(f"signal_eff must be in (0, 1], got {signal_eff}")
    fpr, tpr, _ = roc_curve(y_true, y_score, sample_weight=sample_weight)
    i = int(np.argmin(np.abs(tpr - signal_eff)))
    return float(fpr[i]), float(tpr[i])


def rejection_at(y_true, y_score, signal_eff: float = 0.3, *, sample_weight=None) -> float:
    """Background rejection 1/eB at the ROC point with eS closest to `signal_eff`; inf if eB = 0 there."""
    eb, _ = _closest_point(y_true, y_score, signal_eff, sample_weight)
    return math.inf if eb == 0.0 else 1.0 / eb


def signal_efficiency_at(y_true, y_score, signal_eff: float = 0.3, *, sample_weight=None) -> float:
    """The eS actually reached at the ROC point `rejection_at` uses (close to, not equal to, the target)."""
    return _closest_point(y_true, y_score, signal_eff, sample_weight)[1]


def accuracy(y_true, y_score, *, threshold: float = 0.5, sample_weight=None) -> float:
    """Weighted fraction of events with (score >= threshold) == label."""
    y, s, w = _check(y_true, y_score, sample_weight)
    return float(np.sum(w * ((s >= threshold) == y)) / np.sum(w))


@dataclass(frozen=True)
class Interval:
    """A metric on the full sample with its bootstrap percentile interval and standard deviation."""

    value: float
    low: float
    high: float
    std: float
    confidence: float
    n_boot: int

    def __str__(self) -> str:
        return f"{self.value:.4g} [{self.low:.4g}, {self.high:.4g}]"

    def rejection_text(self, n_background: int) -> str:
        """A rejection with its interval; an infinite value means no background passed: "> n_background"."""
        if not math.isfinite(self.value):
            return f"> {n_background}"
        return f"{self.value:.1f} [{self.low:.1f}, {self.high:.1f}]" if math.isfinite(self.high) else \
            f"{self.value:.1f} [{self.low:.1f}, > {n_background}]"


def bootstrap_ci(metric: Metric, y_true, y_score, *, n_boot: int = 200, confidence: float = 0.68,
                 seed: int = 0, sample_weight=None) -> Interval:
    """Stratified bootstrap of `metric(y_true, y_score, sample_weight=...)`: value and percentile interval.

    Infinite replicas (a rejection with eB = 0) are kept; they push `high` (and `std`) to inf.
    """
    if n_boot < 2:
        raise ValueError(f"n_boot must be >= 2, got {n_boot}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    y, s, w = _check(y_true, y_score, sample_weight)
    value = float(metric(y, s, sample_weight=w))
    reps = np.array([metric(y, s, sample_weight=w * counts) for counts in _replica_counts(y, n_boot, seed)])
    return _interval(value, reps, confidence)


def paired_difference(metric: Metric, y_true, score_a, score_b, *, n_boot: int = 200, confidence: float = 0.68,
                      seed: int = 0) -> Interval:
    """metric(score_a) - metric(score_b) on the same entries, both resampled by one stratified bootstrap.

    Two classifiers scored on one test set share its fluctuations, so the interval of the difference
    is narrower than the two separate intervals combined in quadrature.
    """
    if n_boot < 2:
        raise ValueError(f"n_boot must be >= 2, got {n_boot}")
    y, a, w = _check(y_true, score_a)
    b = _check(y_true, score_b)[1]
    value = float(metric(y, a, sample_weight=w) - metric(y, b, sample_weight=w))
    reps = np.array([metric(y, a, sample_weight=c) - metric(y, b, sample_weight=c)
                     for c in _replica_counts(y, n_boot, seed)])
    return _interval(value, reps, confidence)


def _replica_counts(y: np.ndarray, n_boot: int, seed: int):
    """Multiplicities of every entry in `n_boot` bootstrap replicas that keep the signal and background counts."""
    rng = np.random.default_rng(seed)
    sig, bkg = np.flatnonzero(y), np.flatnonzero(~y)
    for _ in range(n_boot):
        counts = np.zeros(y.size)
        for idx in (sig, bkg):
            counts[idx] = rng.multinomial(idx.size, np.full(idx.size, 1.0 / idx.size))
        yield counts


def _interval(value: float, reps: np.ndarray, confidence: float) -> Interval:
    n_boot = len(reps)
    alpha = (1.0 - confidence) / 2.0
    all_finite = bool(np.all(np.isfinite(reps)))
    # interpolating between infinite replicas is undefined: take order statistics then
    low, high = np.quantile(reps, [alpha, 1.0 - alpha], method="linear" if all_finite else "inverted_cdf")
    std = float(np.std(reps, ddof=1)) if all_finite else math.inf
    return Interval(value, float(low), float(high), std, confidence, n_boot)


@dataclass(frozen=True)
class ClassifierMetrics:
    """AUC, accuracy and rejections (at each target eS) of one classifier, each with a bootstrap interval."""

    auc: Interval
    accuracy: Interval
    rejection: dict[float, Interval]
    n_signal: int
    n_background: int
    extra: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float | None]:
        """Flat JSON-friendly numbers; an infinite rejection becomes None (see `rejection_lower_bound`)."""
        out: dict[str, float | None] = {"auc": self.auc.value, "auc_std": self.auc.std,
                                        "accuracy": self.accuracy.value, "accuracy_std": self.accuracy.std,
                                        "n_signal": self.n_signal, "n_background": self.n_background}
        for eff, r in self.rejection.items():
            key = f"rejection_{round(eff * 100)}"
            out[key] = r.value if math.isfinite(r.value) else None
            out[key + "_std"] = r.std if math.isfinite(r.std) else None
        return out

    @property
    def rejection_lower_bound(self) -> float:
        """The largest rejection the background count can show (1/eB with one background event passing)."""
        return float(self.n_background)


def evaluate_classifier(y_true, y_score, *, signal_effs: Sequence[float] = (0.3, 0.5), n_boot: int = 200,
                        confidence: float = 0.68, seed: int = 0, threshold: float = 0.5) -> ClassifierMetrics:
    """All standard numbers for one classifier on a test set, with stratified bootstrap intervals."""
    y, s, _ = _check(y_true, y_score)

    def acc(yt, ys, *, sample_weight=None):
        return accuracy(yt, ys, threshold=threshold, sample_weight=sample_weight)

    def rej(eff):
        return lambda yt, ys, *, sample_weight=None: rejection_at(yt, ys, eff, sample_weight=sample_weight)

    kw = dict(n_boot=n_boot, confidence=confidence, seed=seed)
    return ClassifierMetrics(
        auc=bootstrap_ci(roc_auc, y, s, **kw),
        accuracy=bootstrap_ci(acc, y, s, **kw),
        rejection={float(e): bootstrap_ci(rej(float(e)), y, s, **kw) for e in signal_effs},
        n_signal=int(y.sum()),
        n_background=int((~y).sum()),
        extra={f"signal_eff_{round(e * 100)}": signal_efficiency_at(y, s, e) for e in signal_effs},
    )
