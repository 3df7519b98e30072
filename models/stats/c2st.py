"""Classifier two-sample test (C2ST): is sample A distinguishable from sample B by a trained classifier?

Lopez-Paz & Oquab, "Revisiting Classifier Two-Sample Tests", arXiv:1610.06545; with Bayesian
(Optuna TPE) hyper-parameter tuning on a validation split as practised at BESIII.

Procedure (`ClassifierTwoSampleTest.fit(x_a, x_b)`):
  1. balance: the larger sample is randomly subsampled to the size of the smaller one, so that
     every split holds the two classes in equal numbers and chance accuracy is exactly 1/2;
  2. split stratified into train / validation / test;
  3. tune the classifier (xgboost or an MLP) with Optuna TPE maximising the validation AUC, refit
     the best configuration on train;
  4. evaluate once on the held-out test split: accuracy, AUC (+- its standard error) and
       p_binomial    = P(K >= k_obs),  K ~ Binomial(n_test, 1/2)   (k = correct test predictions),
       p_permutation = (1 + #{AUC_perm >= AUC_obs}) / (1 + n_perm)   (test labels permuted,
                       classifier fixed: the exact conditional null of the test AUC).
Under H0 (same distribution) the classifier's test predictions are independent of the test labels;
with balanced classes the number correct then has mean n/2 and a variance m(n-m)/(n-1) <= n/4
(m = number predicted as A), so the binomial p-value is exact up to this slightly conservative
variance. An unbalanced test split would make chance accuracy the majority fraction, not 1/2.

AUC and its uncertainty (the standard deviation of a stratified bootstrap) come from
hepilot.models.metrics, shared with every classifier in hepilot.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from scipy import stats as sps

from hepilot.models.metrics import bootstrap_ci, roc_auc

__all__ = [
    "C2STConfig",
    "ClassifierTwoSampleTest",
    "classifier_two_sample_auc",
    "binomial_p_value",
    "CLASSIFIERS",
]

log = logging.getLogger(__name__)

ClassifierName = Literal["xgboost", "mlp"]
CLASSIFIERS: tuple[str, ...] = ("xgboost", "mlp")
_MIN_PER_SAMPLE = 20


@dataclass(frozen=True)
class C2STConfig:
    """Settings of the test; defaults follow common C2ST practice, `small()` is for tests/CPU.

    model:          "xgboost" (gradient-boosted trees) or "mlp" (sklearn multi-layer perceptron)
    test_fraction:  share of the balanced events held out for the final evaluation
    val_fraction:   share used to tune hyper-parameters (0 with n_trials 0 disables tuning)
    n_trials:       Optuna TPE trials; 0 uses the fixed default hyper-parameters
    n_permutations: label permutations of the test split for the permutation p-value
    """

    model: ClassifierName = "xgboost"
    test_fraction: float = 0.3
    val_fraction: float = 0.2
    n_trials: int = 25
    n_permutations: int = 1000
    n_threads: int = 1

    @classmethod
    def small(cls, **kw: Any) -> C2STConfig:
        return replace(cls(n_trials=5, n_permutations=200), **kw)


def binomial_p_value(n_correct: int, n_test: int) -> float:
    """P(K >= n_correct) for K ~ Binomial(n_test, 1/2): the chance of doing this well by guessing."""
    if not 0 <= n_correct <= n_test:
        raise ValueError(f"n_correct must be between 0 and n_test = {n_test}, got {n_correct}")
    return float(sps.binom.sf(n_correct - 1, n_test, 0.5))


def _rank_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """AUC as the Mann-Whitney statistic P(score_1 > score_0) (ties 1/2); cheap inside Optuna trials."""
    labels = np.asarray(labels).astype(bool)
    ranks = sps.rankdata(scores)
    n1, n0 = int(labels.sum()), int((~labels).sum())
    return float((ranks[labels].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _as_2d(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a (n_events, n_features) array, got shape {arr.shape}")
    if len(arr) < _MIN_PER_SAMPLE:
        raise ValueError(f"{name} has {len(arr)} events; a two-sample test needs at least {_MIN_PER_SAMPLE}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf values; drop or fill them first")
    return arr


def _make_classifier(model: str, params: dict[str, Any], *, seed: int, n_threads: int):
    if model == "xgboost":
        from xgboost import XGBClassifier

        base = {"n_estimators": 200, "max_depth": 4, "learning_rate": 0.1, "subsample": 0.8,
                "min_child_weight": 1.0, "reg_lambda": 1.0}
        return XGBClassifier(**{**base, **params}, tree_method="hist", n_jobs=n_threads, random_state=seed,
                             eval_metric="logloss")
    if model == "mlp":
        from sklearn.neural_network import MLPClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        p = {"width": 64, "depth": 2, "alpha": 1e-4, "learning_rate_init": 1e-3, **params}
        mlp = MLPClassifier(hidden_layer_sizes=(int(p["width"]),) * int(p["depth"]), alpha=p["alpha"],
                            learning_rate_init=p["learning_rate_init"], max_iter=300, early_stopping=True,
                            n_iter_no_change=10, random_state=seed)
        return make_pipeline(StandardScaler(), mlp)
    raise ValueError(f"unknown classifier {model!r}; use one of {', '.join(CLASSIFIERS)}")


def _suggest(trial, model: str) -> dict[str, Any]:
    if model == "xgboost":
        return {"n_estimators": trial.suggest_int("n_estimators", 50, 500, log=True),
                "max_depth": trial.suggest_int("max_depth", 2, 8),
                "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
                "subsample": trial.suggest_float("subsample", 0.5, 1.0),
                "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 20.0, log=True),
                "reg_lambda": trial.suggest_float("reg_lambda", 0.1, 10.0, log=True)}
    return {"width": trial.suggest_categorical("width", [16, 32, 64, 128]),
            "depth": trial.suggest_int("depth", 1, 3),
            "alpha": trial.suggest_float("alpha", 1e-6, 1e-2, log=True),
            "learning_rate_init": trial.suggest_float("learning_rate_init", 1e-4, 1e-2, log=True)}


def _score(clf, x: np.ndarray) -> np.ndarray:
    return clf.predict_proba(x)[:, 1]


class ClassifierTwoSampleTest:
    """Classifier two-sample test with Optuna-tuned hyper-parameters (sklearn-style estimator).

    After `fit(x_a, x_b)`: `auc_`, `auc_err_`, `accuracy_`, `n_correct_`, `p_binomial_`, `p_permutation_`,
    `z_binomial_`, `n_test_`, `best_params_`, `test_scores_`, `test_labels_` (1 = sample B).
    """

    def __init__(self, *, config: C2STConfig | None = None, seed: int = 0):
        self.config = config
        self.seed = seed

    def _split(self, x_a: np.ndarray, x_b: np.ndarray, rng: np.random.Generator):
        n = min(len(x_a), len(x_b))
        x_a = x_a[rng.permutation(len(x_a))[:n]]
        x_b = x_b[rng.permutation(len(x_b))[:n]]
        cfg = self.config_
        n_test = max(int(round(cfg.test_fraction * n)), 5)
        n_val = int(round(cfg.val_fraction * n)) if cfg.n_trials > 0 else 0
        n_train = n - n_test - n_val
        if n_train < 5 or (cfg.n_trials > 0 and n_val < 5):
            raise ValueError(f"{n} events per balanced sample are too few for train/validation/test splits "
                             f"of {1 - cfg.test_fraction - cfg.val_fraction:.2f}/{cfg.val_fraction}/{cfg.test_fraction}")
        cuts = np.cumsum([n_train, n_val])
        parts = []
        for a, b in zip(np.split(x_a, cuts), np.split(x_b, cuts)):
            x = np.concatenate([a, b])
            y = np.concatenate([np.zeros(len(a)), np.ones(len(b))])
            order = rng.permutation(len(x))
            parts.append((x[order], y[order]))
        return parts

    def _tune(self, train, val) -> dict[str, Any]:
        import optuna

        cfg = self.config_
        optuna.logging.set_verbosity(optuna.logging.WARNING)

        def objective(trial) -> float:
            clf = _make_classifier(cfg.model, _suggest(trial, cfg.model), seed=self.seed, n_threads=cfg.n_threads)
            clf.fit(*train)
            return _rank_auc(_score(clf, val[0]), val[1])

        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=self.seed))
        study.optimize(objective, n_trials=cfg.n_trials)
        self.best_val_auc_ = float(study.best_value)
        return dict(study.best_params)

    def fit(self, x_a: Any, x_b: Any) -> ClassifierTwoSampleTest:
        self.config_ = self.config or C2STConfig()
        if self.config_.model not in CLASSIFIERS:
            raise ValueError(f"unknown classifier {self.config_.model!r}; use one of {', '.join(CLASSIFIERS)}")
        x_a, x_b = _as_2d(x_a, "sample A"), _as_2d(x_b, "sample B")
        if x_a.shape[1] != x_b.shape[1]:
            raise ValueError(f"samples have different numbers of features ({x_a.shape[1]} vs {x_b.shape[1]})")
        rng = np.random.default_rng(self.seed)
        train, val, test = self._split(x_a, x_b, rng)
        self.best_params_ = self._tune(train, val) if self.config_.n_trials > 0 else {}
        clf = _make_classifier(self.config_.model, self.best_params_, seed=self.seed, n_threads=self.config_.n_threads)
        clf.fit(*train)
        self.classifier_ = clf
        scores, labels = _score(clf, test[0]), test[1]
        self.test_scores_, self.test_labels_ = scores, labels
        self.n_train_, self.n_test_ = len(train[1]), len(labels)
        auc = bootstrap_ci(roc_auc, labels, scores, n_boot=200, seed=self.seed)
        self.auc_, self.auc_err_ = auc.value, auc.std
        correct = int(((scores > 0.5) == labels.astype(bool)).sum())
        self.accuracy_ = correct / len(labels)
        self.n_correct_ = correct
        self.p_binomial_ = binomial_p_value(correct, len(labels))
        self.z_binomial_ = float(sps.norm.isf(max(self.p_binomial_, 1e-300)))
        self.p_permutation_ = self._permutation_p(scores, labels, rng)
        log.info("C2ST %s: AUC %.4f +- %.4f, acc %.4f on %d test events, p_binom %.3g, p_perm %.3g",
                 self.config_.model, self.auc_, self.auc_err_, self.accuracy_, self.n_test_, self.p_binomial_,
                 self.p_permutation_)
        return self

    def _permutation_p(self, scores: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> float:
        n_perm = self.config_.n_permutations
        if n_perm <= 0:
            return float("nan")
        ranks = sps.rankdata(scores)
        n1 = int(labels.sum())
        observed = ranks[labels.astype(bool)].sum()
        exceed = 0
        for start in range(0, n_perm, 256):  # chunks bound the (chunk, n_test) memory
            k = min(256, n_perm - start)
            picks = np.argsort(rng.random((k, len(ranks))), axis=1)[:, :n1]  # (k, n1) random positive sets
            exceed += int((ranks[picks].sum(axis=1) >= observed - 1e-9).sum())
        return (1 + exceed) / (1 + n_perm)

    def _check_fitted(self) -> None:
        if not hasattr(self, "auc_"):
            raise RuntimeError("ClassifierTwoSampleTest is not fitted; call fit(x_a, x_b) first")

    def summary(self) -> dict[str, Any]:
        """The test's numbers as a JSON-ready dict."""
        self._check_fitted()
        return {"auc": self.auc_, "auc_err": self.auc_err_, "accuracy": self.accuracy_,
                "p_binomial": self.p_binomial_, "z_binomial": self.z_binomial_,
                "p_permutation": self.p_permutation_, "n_train": self.n_train_, "n_test": self.n_test_,
                "best_params": self.best_params_, "model": self.config_.model}


def classifier_two_sample_auc(x_a: Any, x_b: Any, *, seed: int = 0, model: ClassifierName = "xgboost"
                              ) -> tuple[float, float]:
    """Held-out AUC of a classifier separating x_a from x_b, and its standard error (0.5 = identical).

    Fixed default hyper-parameters (no tuning), half of the balanced events for training and half
    for the test; use `ClassifierTwoSampleTest` for the tuned test with p-values.
    """
    cfg = C2STConfig(model=model, test_fraction=0.5, val_fraction=0.0, n_trials=0, n_permutations=0)
    test = ClassifierTwoSampleTest(config=cfg, seed=seed).fit(x_a, x_b)
    return test.auc_, test.auc_err_
