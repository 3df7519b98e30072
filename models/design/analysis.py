"""Analysis design: maximise the expected discovery significance over cut flows and classifier working points.

Expected significance of s signal over b background events (Asimov, Cowan et al., arXiv:1007.1727):
    Z = sqrt(2 ((s + b) ln(1 + s/b) - s))
and with an absolute background uncertainty sigma_b (Cowan, "Discovery sensitivity for a counting
experiment with background uncertainty", 2012):
    Z = sqrt(2 ((s + b) ln((s + b)(b + sigma_b^2) / (b^2 + (s + b) sigma_b^2))
              - (b^2 / sigma_b^2) ln(1 + sigma_b^2 s / (b (b + sigma_b^2)))))
with sigma_b = (relative systematic) x b here.

Every row of the data is an event with a weight (expected events at the target luminosity). The
ladder of the talks is run on one stratified split: `train` (40%), `val` (20%), `test` (40%):
    cuts    Optuna TPE over a lower and an upper cut per variable (signal quantiles), Z on train+val
    bdt     xgboost BDT fit on train; score threshold by Optuna TPE on val
    tagger  a neural classifier (when given as `tagger_scores`), threshold on val
Every rung reports Z on the untouched test part (weights scaled by 1 / test fraction; an empty
background there counts as one background MC event). A selection keeping fewer than
`min_background_mc` background MC events scores Z = 0 while optimising, so the search cannot chase
empty corners of a finite background sample.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import optuna

from hepilot.models.events.samples import split_indices

__all__ = ["asimov_significance", "AnalysisData", "RungResult", "optimise_cuts", "optimise_threshold",
           "run_ladder", "SPLIT"]

log = logging.getLogger(__name__)

SPLIT = (0.4, 0.2, 0.4)  # train, val, test


def asimov_significance(s: float, b: float, *, sigma_b: float = 0.0) -> float:
    """Expected discovery significance Z of s signal on b background events (optional sigma_b)."""
    s, b = float(s), float(b)
    if s <= 0:
        return 0.0
    if b <= 0:
        return float("inf")
    if sigma_b <= 0:
        return float(np.sqrt(2 * ((s + b) * np.log1p(s / b) - s)))
    v = sigma_b**2
    term1 = (s + b) * np.log((s + b) * (b + v) / (b**2 + (s + b) * v))
    term2 = b**2 / v * np.log1p(v * s / (b * (b + v)))
    return float(np.sqrt(max(2 * (term1 - term2), 0.0)))


@dataclass
class AnalysisData:
    """Events as a table: X (n, d), y (1 signal, 0 background), w (expected events per row)."""

    X: np.ndarray
    y: np.ndarray
    w: np.ndarray
    names: list[str]

    def __post_init__(self):
        self.X = np.asarray(self.X, dtype=float)
        self.y = np.asarray(self.y).astype(np.int64)
        self.w = np.asarray(self.w, dtype=float)
        if self.X.ndim != 2 or len(self.X) != len(self.y) or len(self.y) != len(self.w):
            raise ValueError(f"X must be (n, d) with one label and weight per row; got {self.X.shape}, "
                             f"{self.y.shape}, {self.w.shape}")
        if set(np.unique(self.y)) != {0, 1}:
            raise ValueError("the data needs both signal (y = 1) and background (y = 0) events")
        if np.any(self.w < 0) or not np.all(np.isfinite(self.w)):
            raise ValueError("weights must be finite and >= 0")


@dataclass
class RungResult:
    method: str
    z: float  # on the test part
    s: float
    b: float
    z_optimisation: float  # on the part the selection was chosen on (optimistic)
    selection: dict = field(default_factory=dict)
    n_background_mc: int = 0  # background MC events passing on the test part

    def as_dict(self) -> dict:
        return {"method": self.method, "z": self.z, "s": self.s, "b": self.b, "z_optimisation": self.z_optimisation,
                "selection": self.selection, "n_background_mc": self.n_background_mc}


def _z(passed: np.ndarray, data: AnalysisData, idx: np.ndarray, scale: float, rel_syst: float,
       min_background_mc: int) -> tuple[float, float, float, int]:
    """(Z, s, b, background MC events) of a selection; min_background_mc = 0 marks a final evaluation,
    where an empty background is replaced by the weight of one background MC event (conservative)."""
    sel = idx[passed]
    sig = data.y[sel] == 1
    s = float(data.w[sel][sig].sum()) * scale
    b = float(data.w[sel][~sig].sum()) * scale
    n_b = int((~sig).sum())
    if n_b < min_background_mc:
        return 0.0, s, b, n_b
    b_eff = b if n_b > 0 else float(data.w[data.y == 0].mean()) * scale
    return asimov_significance(s, b_eff, sigma_b=rel_syst * b_eff), s, b, n_b


def _cut_mask(X: np.ndarray, names: list[str], cuts: dict[str, tuple[float, float]]) -> np.ndarray:
    mask = np.ones(len(X), dtype=bool)
    for j, name in enumerate(names):
        if name in cuts:
            lo, hi = cuts[name]
            mask &= (X[:, j] >= lo) & (X[:, j] <= hi)
    return mask


def optimise_cuts(data: AnalysisData, idx: np.ndarray, *, scale: float, n_trials: int = 200, seed: int = 0,
                  rel_syst: float = 0.0, min_background_mc: int = 10) -> tuple[dict[str, tuple[float, float]], float]:
    """Lower/upper cuts per variable maximising Z on the rows `idx` (weights x scale); returns (cuts, Z).

    The cuts are searched as quantiles of the signal distribution (lower in [0, 0.45], upper in
    [0.55, 1]), so a random trial keeps a sensible signal fraction in every variable (TMVA's
    signal-efficiency parametrisation of rectangular cuts).
    """
    X = data.X[idx]
    sig = X[data.y[idx] == 1]
    quantiles = np.linspace(0.0, 1.0, 201)
    grids = {n: np.quantile(sig[:, j], quantiles) for j, n in enumerate(data.names) if np.ptp(X[:, j]) > 0}
    full = {n: (float(np.min(X[:, j])), float(np.max(X[:, j]))) for j, n in enumerate(data.names)}

    def cuts_of(params: dict[str, float]) -> dict[str, tuple[float, float]]:
        cuts = {}
        for name, grid in grids.items():
            lo, hi = params[f"{name}:lo"], params[f"{name}:hi"]
            cuts[name] = (full[name][0] if lo <= 0 else float(np.interp(lo, quantiles, grid)),
                          full[name][1] if hi >= 1 else float(np.interp(hi, quantiles, grid)))
        return cuts

    def objective(trial: optuna.Trial) -> float:
        params = {}
        for name in grids:
            params[f"{name}:lo"] = trial.suggest_float(f"{name}:lo", 0.0, 0.45)
            params[f"{name}:hi"] = trial.suggest_float(f"{name}:hi", 0.55, 1.0)
        return _z(_cut_mask(X, data.names, cuts_of(params)), data, idx, scale, rel_syst, min_background_mc)[0]

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed, multivariate=True))
    study.enqueue_trial({f"{n}:{e}": v for n in grids for e, v in (("lo", 0.0), ("hi", 1.0))})  # no cut at all
    study.optimize(objective, n_trials=n_trials)
    return cuts_of(study.best_trial.params), float(study.best_value)


def optimise_threshold(scores: np.ndarray, data: AnalysisData, idx: np.ndarray, *, scale: float, n_trials: int = 60,
                       seed: int = 0, rel_syst: float = 0.0, min_background_mc: int = 10) -> tuple[float, float]:
    """Score threshold maximising Z on rows `idx` (scores aligned with idx); returns (threshold, Z)."""
    lo, hi = float(np.min(scores)), float(np.max(scores))

    def objective(trial: optuna.Trial) -> float:
        cut = trial.suggest_float("threshold", lo, hi)
        return _z(scores >= cut, data, idx, scale, rel_syst, min_background_mc)[0]

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.enqueue_trial({"threshold": lo})
    study.optimize(objective, n_trials=n_trials)
    return float(study.best_params["threshold"]), float(study.best_value)


def run_ladder(data: AnalysisData, *, methods: tuple[str, ...] = ("cuts", "bdt"), n_trials: int = 200, seed: int = 0,
               rel_syst: float = 0.0, min_background_mc: int = 10,
               tagger_scores: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
               ) -> tuple[list[RungResult], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Run the requested rungs on one split; returns the results and the (train, val, test) indices.

    tagger_scores(train, val, test) -> (val scores, test scores) of a classifier trained on `train`.
    """
    from hepilot.models.taggers.bdt import BDTTagger

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    train, val, test = split_indices(data.y, fractions=SPLIT, seed=seed)
    kw = {"rel_syst": rel_syst, "min_background_mc": min_background_mc}
    final = {"rel_syst": rel_syst, "min_background_mc": 0}
    test_scale = 1.0 / SPLIT[2]
    out: list[RungResult] = []
    if "cuts" in methods:
        opt = np.sort(np.r_[train, val])
        cuts, z_opt = optimise_cuts(data, opt, scale=1.0 / (SPLIT[0] + SPLIT[1]), n_trials=n_trials, seed=seed, **kw)
        z, s, b, nb = _z(_cut_mask(data.X[test], data.names, cuts), data, test, test_scale, **final)
        out.append(RungResult("cuts", z, s, b, z_opt, {k: list(v) for k, v in cuts.items()}, nb))
    classifiers: list[tuple[str, np.ndarray, np.ndarray]] = []
    if "bdt" in methods:
        model = BDTTagger(n_estimators=200, max_depth=3, seed=seed, n_jobs=1)  # one thread: no OpenMP spin on busy CPUs
        model.fit(data.X[train], data.y[train], feature_names=data.names)
        classifiers.append(("bdt", model.decision_function(data.X[val]), model.decision_function(data.X[test])))
    if "tagger" in methods and tagger_scores is not None:
        classifiers.append(("tagger", *tagger_scores(train, val, test)))
    for name, s_val, s_test in classifiers:
        cut, z_opt = optimise_threshold(s_val, data, val, scale=1.0 / SPLIT[1], n_trials=max(n_trials // 4, 20),
                                        seed=seed, **kw)
        z, s, b, nb = _z(s_test >= cut, data, test, test_scale, **final)
        out.append(RungResult(name, z, s, b, z_opt, {"threshold": cut}, nb))
    return out, (train, val, test)
