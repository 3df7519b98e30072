"""Classical preprocessing for qubit encodings: reduce features to the qubit count and scale them to the feature map's range.

Quantum feature maps take one real number per qubit as a rotation angle. `QubitEncoder`
(sklearn-style) standardises the inputs, reduces them to `n_qubits` columns (PCA, or a chosen
subset of columns), maps each column linearly onto [-1, 1] using the training range (test values
outside it are clipped) and multiplies by `bandwidth`:

    x_enc = bandwidth * (2 (z - z_min) / (z_max - z_min) - 1),   z = reduced, standardised input

For the ZZ feature map (phases 2 x_i and 2 (pi - x_i)(pi - x_j)) the bandwidth sets how fast the
state, and so the kernel |<phi(x)|phi(x')>|^2, changes with x: it plays the role of the RBF kernel's
width (too large: the kernel matrix tends to the identity and the SVM memorises; too small: all
states coincide). Tune it on a validation split (Shaydulin & Wild, arXiv:2111.05451).
"""
from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["QubitEncoder"]


class QubitEncoder:
    """Standardise -> PCA (or column choice) to n_qubits -> [-1, 1] -> x bandwidth."""

    def __init__(self, *, n_qubits: int = 6, reduction: Literal["pca", "select"] = "pca",
                 columns: list[int] | None = None, bandwidth: float = 1.0):
        self.n_qubits = n_qubits
        self.reduction = reduction
        self.columns = columns
        self.bandwidth = bandwidth

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> QubitEncoder:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"features must be a 2D (n_events, n_features) array, got shape {x.shape}")
        if self.n_qubits < 1:
            raise ValueError(f"n_qubits must be >= 1, got {self.n_qubits}")
        self.mean_ = x.mean(0)
        self.std_ = np.where(x.std(0) > 0, x.std(0), 1.0)
        z = (x - self.mean_) / self.std_
        if self.reduction == "pca":
            if self.n_qubits > x.shape[1]:
                raise ValueError(f"PCA cannot make {self.n_qubits} components from {x.shape[1]} features; "
                                 f"use n_qubits <= {x.shape[1]}")
            _, s, vt = np.linalg.svd(z - z.mean(0), full_matrices=False)
            self.components_ = vt[: self.n_qubits]  # (n_qubits, n_features)
            self.explained_variance_ratio_ = (s**2 / np.sum(s**2))[: self.n_qubits]
        elif self.reduction == "select":
            cols = list(self.columns if self.columns is not None else range(self.n_qubits))
            if len(cols) != self.n_qubits or max(cols) >= x.shape[1]:
                raise ValueError(f"select needs {self.n_qubits} valid column indices (< {x.shape[1]}), got {cols}")
            self.components_ = np.eye(x.shape[1])[cols]
            self.explained_variance_ratio_ = np.full(self.n_qubits, np.nan)
        else:
            raise ValueError(f"reduction must be 'pca' or 'select', got {self.reduction!r}")
        r = z @ self.components_.T
        self.low_, self.high_ = r.min(0), r.max(0)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """(n_events, n_qubits) angles in [-bandwidth, bandwidth]."""
        if not hasattr(self, "components_"):
            raise RuntimeError("QubitEncoder is not fitted; call fit(x) first")
        r = ((np.asarray(x, dtype=np.float64) - self.mean_) / self.std_) @ self.components_.T
        span = np.where(self.high_ > self.low_, self.high_ - self.low_, 1.0)
        unit = np.clip(2 * (r - self.low_) / span - 1, -1.0, 1.0)
        return self.bandwidth * unit

    def fit_transform(self, x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        return self.fit(x, y).transform(x)
