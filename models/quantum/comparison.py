"""Side-by-side training of quantum (QSVM, VQC) and classical (RBF SVM, BDT) classifiers at equal training sizes.

Protocol (`compare_classifiers`): one stratified held-out test set and one validation set are
drawn first; for each training size n, a balanced training set of n events is drawn from the
rest. Every method sees the same n_qubits inputs (QubitEncoder: standardise -> PCA, or the first
n_qubits columns -> [-1, 1] x bandwidth) so the comparison is of learners, not of inputs; `bdt_all` additionally trains the BDT
on every feature as the classical reference. Hyper-parameters are chosen on the validation set:
the quantum-kernel bandwidth (grid), the RBF SVM's gamma and C (grid); the VQC reuses the QSVM's
bandwidth (its training is too slow to tune). AUCs on the test set carry the standard deviation
of a stratified bootstrap (hepilot.models.metrics). The QSVM's training-kernel time per n gives the
cost growth t ~ n^k (k = 2 expected: n(n-1)/2 circuit pairs).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from hepilot.models.metrics import bootstrap_ci, roc_auc
from hepilot.models.quantum.encoding import QubitEncoder
from hepilot.models.quantum.qsvm import QSVM, QSVMConfig
from hepilot.models.quantum.vqc import VQCClassifier, VQCConfig

__all__ = ["METHODS", "ComparisonConfig", "compare_classifiers", "kernel_cost_exponent"]

log = logging.getLogger(__name__)
METHODS = ("qsvm", "vqc", "svm_rbf", "bdt", "bdt_all")


@dataclass(frozen=True)
class ComparisonConfig:
    """Sizes and grids of the comparison (defaults sized for a 2-core CPU in minutes)."""

    methods: tuple[str, ...] = ("qsvm", "vqc", "svm_rbf", "bdt", "bdt_all")
    reduction: str = "pca"  # "pca" or "select" (the first n_qubits input columns)
    train_sizes: tuple[int, ...] = (100, 200, 400)
    n_test: int = 1000
    n_val: int = 200
    bandwidths: tuple[float, ...] = (0.025, 0.05, 0.1, 0.2, 0.4, 0.8)
    qsvm: QSVMConfig = QSVMConfig()
    vqc: VQCConfig = VQCConfig()
    vqc_max_train: int = 200
    n_boot: int = 200


def _balanced(idx: np.ndarray, y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    per = n // 2
    parts = [rng.permutation(idx[y[idx] == c])[:per] for c in (0, 1)]
    if min(len(p) for p in parts) < per:
        raise ValueError(f"not enough events of each class for a balanced training set of {n}")
    return np.concatenate(parts)


def _qsvm_scores(x_tr, y_tr, x_ev, cfg: QSVMConfig, seed: int) -> tuple[np.ndarray, QSVM]:
    model = QSVM(config=cfg, seed=seed).fit(x_tr, y_tr)
    return model.decision_function(x_ev), model


def _svm_rbf(x_tr, y_tr, x_val, y_val, x_te, seed: int) -> tuple[np.ndarray, dict]:
    from sklearn.svm import SVC

    best, best_auc = None, -1.0
    for gamma in (0.1, 0.3, 1.0, 3.0, 10.0):
        for c in (0.3, 1.0, 3.0):
            svc = SVC(kernel="rbf", gamma=gamma, C=c, random_state=seed).fit(x_tr, y_tr)
            auc = roc_auc(y_val, svc.decision_function(x_val))
            if auc > best_auc:
                best, best_auc = (gamma, c), auc
    svc = SVC(kernel="rbf", gamma=best[0], C=best[1], random_state=seed).fit(x_tr, y_tr)
    return svc.decision_function(x_te), {"gamma": best[0], "C": best[1], "val_auc": best_auc}


def _bdt(x_tr, y_tr, x_te, seed: int) -> np.ndarray:
    from xgboost import XGBClassifier

    clf = XGBClassifier(n_estimators=200, max_depth=3, learning_rate=0.1, subsample=0.8, n_jobs=1,
                        random_state=seed, eval_metric="logloss").fit(x_tr, y_tr)
    return clf.predict_proba(x_te)[:, 1]


def compare_classifiers(x: np.ndarray, y: np.ndarray, *, config: ComparisonConfig | None = None, seed: int = 0,
                        progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Train every method of `config` at every training size; return rows and diagnostics.

    x: (n_events, n_features) physics features; y: 1 = signal, 0 = background.
    Returns {"rows": [...], "kernel_checks": {...}, "test_labels": ..., "scores": {(method, n): scores}}.
    """
    cfg = config or ComparisonConfig()
    unknown = [m for m in cfg.methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y).astype(int)
    rng = np.random.default_rng(seed)
    idx = np.arange(len(y))
    test = _balanced(idx, y, cfg.n_test, rng)
    rest = np.setdiff1d(idx, test)
    val = _balanced(rest, y, cfg.n_val, rng)
    pool = np.setdiff1d(rest, val)
    y_te, y_val = y[test], y[val]
    rows, scores, kernel_checks = [], {}, {}

    def record(method: str, n: int, s: np.ndarray, seconds: float, **extra: Any) -> None:
        ci = bootstrap_ci(roc_auc, y_te, s, n_boot=cfg.n_boot, seed=seed)
        rows.append({"name": method, "n_train": n, "auc": ci.value, "auc_std": ci.std, "seconds": seconds, **extra})
        scores[(method, n)] = s
        log.info("%s n=%d: AUC %.4f +- %.4f (%.1f s)", method, n, ci.value, ci.std, seconds)
        if progress is not None:
            progress(1)

    for n in cfg.train_sizes:
        tr = _balanced(pool, y, n, rng)
        y_tr = y[tr]
        if any(m in cfg.methods for m in ("qsvm", "vqc", "svm_rbf", "bdt")):
            base = QubitEncoder(n_qubits=cfg.qsvm.n_qubits, reduction=cfg.reduction).fit(x[tr])
        best_bw = cfg.bandwidths[len(cfg.bandwidths) // 2]
        if "qsvm" in cfg.methods:
            t0 = time.perf_counter()
            val_auc = {}
            for bw in cfg.bandwidths:
                base.bandwidth = bw
                s_val, _ = _qsvm_scores(base.transform(x[tr]), y_tr, base.transform(x[val]), cfg.qsvm, seed)
                val_auc[bw] = roc_auc(y_val, s_val)
            best_bw = max(val_auc, key=val_auc.get)
            base.bandwidth = best_bw
            t1 = time.perf_counter()
            s, model = _qsvm_scores(base.transform(x[tr]), y_tr, base.transform(x[test]), cfg.qsvm, seed)
            kernel_checks = model.kernel_checks()
            record("qsvm", n, s, time.perf_counter() - t1, kernel_seconds=model.kernel_seconds_, bandwidth=best_bw,
                   tuning_seconds=t1 - t0, val_auc={f"{k:g}": v for k, v in val_auc.items()})
        if "vqc" in cfg.methods and n <= cfg.vqc_max_train:
            base.bandwidth = best_bw
            t0 = time.perf_counter()
            vqc = VQCClassifier(config=replace(cfg.vqc, n_qubits=cfg.qsvm.n_qubits), seed=seed)
            vqc.fit(base.transform(x[tr]), y_tr)
            record("vqc", n, vqc.decision_function(base.transform(x[test])), time.perf_counter() - t0,
                   bandwidth=best_bw, n_evaluations=len(vqc.losses_))
        if "svm_rbf" in cfg.methods:
            base.bandwidth = 1.0
            t0 = time.perf_counter()
            s, hp = _svm_rbf(base.transform(x[tr]), y_tr, base.transform(x[val]), y_val, base.transform(x[test]), seed)
            record("svm_rbf", n, s, time.perf_counter() - t0, **hp)
        if "bdt" in cfg.methods:
            base.bandwidth = 1.0
            t0 = time.perf_counter()
            record("bdt", n, _bdt(base.transform(x[tr]), y_tr, base.transform(x[test]), seed), time.perf_counter() - t0)
        if "bdt_all" in cfg.methods:
            t0 = time.perf_counter()
            record("bdt_all", n, _bdt(x[tr], y_tr, x[test], seed), time.perf_counter() - t0)
    return {"rows": rows, "kernel_checks": kernel_checks, "test_labels": y_te, "scores": scores,
            "n_test_signal": int(y_te.sum()), "n_test_background": int(len(y_te) - y_te.sum())}


def kernel_cost_exponent(sizes: list[int], seconds: list[float]) -> float:
    """k of a least-squares fit seconds ~ n^k (log-log); nan with fewer than two sizes."""
    if len(sizes) < 2:
        return float("nan")
    return float(np.polyfit(np.log(sizes), np.log(np.maximum(seconds, 1e-9)), 1)[0])
