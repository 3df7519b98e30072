"""QSVM: a support-vector machine on the quantum kernel k(x, x') = |<phi(x)|phi(x')>|^2 of a ZZ feature map.

Havlicek et al., Nature 567, 209 (2019), arXiv:1804.11326; applied to e+e- -> ZH -> q q gamma gamma
at the CEPC by Fadol et al., arXiv:2209.12788 (QSVM-Kernel, 6 qubits, simulators and IBM / Origin
Quantum hardware).

|phi(x)> = U_phi(x) H^n ... U_phi(x) H^n |0>  (`reps` layers; qiskit `zz_feature_map`), with
U_phi(x) = exp(i sum_i x_i Z_i + i sum_{i<j} (pi - x_i)(pi - x_j) Z_i Z_j) (phases 2x as in qiskit).
The Gram matrix is computed exactly from statevectors (qiskit-machine-learning
FidelityStatevectorKernel), or, with `shots`, by sampling the compute-uncompute circuit
U(x')^dagger U(x) on the qiskit-aer simulator (FidelityQuantumKernel + ComputeUncompute): the
fidelity is the frequency of the all-zero outcome, with binomial shot noise. The SVM is
sklearn's SVC on the precomputed kernel. Cost: n(n-1)/2 kernel entries for training plus
n_test x n_train for prediction — it grows as n^2 (reported by `kernel_seconds_`).

Changed for CPU: simulators only (no hardware); the paper's data were CEPC full simulation, here
Pythia 8 + the parametric CEPC detector response (hepilot.models.events.ee_zh).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

__all__ = ["QSVMConfig", "QSVM", "zz_kernel"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QSVMConfig:
    """QSVM settings; defaults follow arXiv:2209.12788 (6 qubits, ZZ map), `small()` for tests.

    reps:          repetitions of the ZZ feature map layer (qiskit default 2)
    entanglement:  ZZ pairs: "full" (all pairs), "linear" (neighbours) or "circular"
    c:             SVM regularisation C
    shots:         None = exact statevector kernel; an integer = aer sampler with that many shots
    """

    n_qubits: int = 6
    reps: int = 2
    entanglement: Literal["full", "linear", "circular"] = "full"
    c: float = 1.0
    shots: int | None = None

    @classmethod
    def small(cls, **kw: Any) -> QSVMConfig:
        return replace(cls(n_qubits=3, reps=1), **kw)


def _kernel(config: QSVMConfig, seed: int):
    from qiskit.circuit.library import zz_feature_map
    from qiskit_machine_learning.kernels import FidelityQuantumKernel, FidelityStatevectorKernel

    fmap = zz_feature_map(config.n_qubits, reps=config.reps, entanglement=config.entanglement)
    if config.shots is None:
        return FidelityStatevectorKernel(feature_map=fmap)
    from qiskit_aer.primitives import SamplerV2
    from qiskit_machine_learning.state_fidelities import ComputeUncompute

    sampler = SamplerV2(default_shots=int(config.shots), seed=seed)
    return FidelityQuantumKernel(feature_map=fmap, fidelity=ComputeUncompute(sampler=sampler))


def zz_kernel(x: np.ndarray, y: np.ndarray | None = None, *, config: QSVMConfig | None = None,
              seed: int = 0) -> np.ndarray:
    """Quantum kernel matrix K_ij = |<phi(x_i)|phi(y_j)>|^2 (y = x when None); inputs already encoded."""
    config = config or QSVMConfig()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != config.n_qubits:
        raise ValueError(f"encoded inputs must have shape (n, {config.n_qubits}), got {x.shape}")
    kern = _kernel(config, seed)
    return np.asarray(kern.evaluate(x) if y is None else kern.evaluate(x, np.asarray(y, dtype=np.float64)))


class QSVM:
    """Quantum-kernel SVM (sklearn-style) on already encoded inputs (see QubitEncoder).

    After `fit(x, y)`: `train_kernel_` (n x n), `kernel_seconds_` (time of the training kernel),
    `svc_`; `decision_function(x)` evaluates the n_test x n_train kernel and the SVM.
    """

    def __init__(self, *, config: QSVMConfig | None = None, seed: int = 0):
        self.config = config
        self.seed = seed

    def fit(self, x: np.ndarray, y: np.ndarray) -> QSVM:
        from sklearn.svm import SVC

        self.config_ = self.config or QSVMConfig()
        y = np.asarray(y).astype(int)
        if len(np.unique(y)) != 2:
            raise ValueError("QSVM needs both classes (labels 0 and 1) in the training set")
        t0 = time.perf_counter()
        self.train_kernel_ = zz_kernel(x, config=self.config_, seed=self.seed)
        self.kernel_seconds_ = time.perf_counter() - t0
        self.x_train_ = np.asarray(x, dtype=np.float64)
        self.svc_ = SVC(kernel="precomputed", C=self.config_.c, random_state=self.seed).fit(self.train_kernel_, y)
        log.info("QSVM: %d training events, kernel %.2f s", len(y), self.kernel_seconds_)
        return self

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        """Signed distance to the SVM boundary (larger = more like class 1)."""
        if not hasattr(self, "svc_"):
            raise RuntimeError("QSVM is not fitted; call fit(x, y) first")
        k = zz_kernel(x, self.x_train_, config=self.config_, seed=self.seed + 1)
        return self.svc_.decision_function(k)

    def kernel_checks(self) -> dict[str, Any]:
        """Diagonal deviation from 1 and smallest eigenvalue of the training kernel (a Gram matrix)."""
        k = self.train_kernel_
        return {"n": int(len(k)), "shots": self.config_.shots,
                "max_diag_deviation": float(np.max(np.abs(np.diag(k) - 1.0))),
                "min_eigenvalue": float(np.linalg.eigvalsh(0.5 * (k + k.T)).min())}
