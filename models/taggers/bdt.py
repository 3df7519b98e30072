"""Boosted decision tree tagger on jet-substructure observables (xgboost), sklearn-style.

The classic baseline of the top-tagging comparison (arXiv:1902.09914, section "BDT on
substructure"): gradient-boosted trees on jet mass, N-subjettiness ratios, energy-correlation
ratios and multiplicities. Defaults are sized for a few thousand jets on a CPU.
"""
from __future__ import annotations

import numpy as np

__all__ = ["BDTTagger"]


class BDTTagger:
    """xgboost classifier; `fit(X, y)` returns self, `predict_proba(X)[:, 1]` is the signal score."""

    def __init__(self, *, n_estimators: int = 300, max_depth: int = 4, learning_rate: float = 0.1,
                 subsample: float = 0.8, seed: int = 0, n_jobs: int = 2):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.seed = seed
        self.n_jobs = n_jobs

    def fit(self, X: np.ndarray, y: np.ndarray, *, feature_names: list[str] | None = None) -> BDTTagger:
        from xgboost import XGBClassifier

        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        if X.ndim != 2 or len(X) != len(y):
            raise ValueError(f"X must be (n_jets, n_features) with one label per jet; got X {X.shape}, y {y.shape}")
        if set(np.unique(y)) != {0, 1}:
            raise ValueError("y must contain both classes, 0 (background) and 1 (signal)")
        if not np.all(np.isfinite(X)):
            raise ValueError("X has NaN or infinite entries; check the substructure features")
        self.model_ = XGBClassifier(n_estimators=self.n_estimators, max_depth=self.max_depth,
                                    learning_rate=self.learning_rate, subsample=self.subsample,
                                    random_state=self.seed, n_jobs=self.n_jobs, tree_method="hist",
                                    eval_metric="logloss")
        self.model_.fit(X, y)
        self.feature_names_ = list(feature_names) if feature_names else [f"f{i}" for i in range(X.shape[1])]
        self.feature_importances_ = dict(zip(self.feature_names_, map(float, self.model_.feature_importances_)))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise RuntimeError("BDTTagger is not fitted; call fit(X, y) first")
        return self.model_.predict_proba(np.asarray(X, dtype=np.float64))

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Signal score in [0, 1]."""
        return self.predict_proba(X)[:, 1]
