"""VQC: a variational quantum classifier, ZZ feature map + RealAmplitudes ansatz trained with COBYLA.

Havlicek et al., Nature 567, 209 (2019), arXiv:1804.11326 (the variational "quantum circuit
classifier" beside the quantum-kernel SVM); the comparison baseline of quantum kernels in
arXiv:2209.12788's line of work. qiskit-machine-learning's `VQC`: the circuit
|psi(x, theta)> = W(theta) U_phi(x) |0>, class probabilities from the parity of the measured
bitstring (qiskit's default interpretation for two classes), cross-entropy loss, COBYLA
(gradient-free) over theta.

Exact probabilities (statevector sampler) by default; `shots` samples the circuit on the
qiskit-aer simulator. Changed for CPU: COBYLA iterations capped (`maxiter`, 100 by default,
~90 s for 6 qubits on a few hundred events here); the training size is what limits VQC.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

__all__ = ["VQCConfig", "VQCClassifier"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VQCConfig:
    """VQC settings; `small()` for tests.

    feature_reps: ZZ feature-map repetitions;  ansatz_reps: RealAmplitudes layers;
    maxiter: COBYLA iterations;  shots: None = exact probabilities, int = aer sampling.
    """

    n_qubits: int = 6
    feature_reps: int = 2
    ansatz_reps: int = 3
    maxiter: int = 100
    shots: int | None = None

    @classmethod
    def small(cls, **kw: Any) -> VQCConfig:
        return replace(cls(n_qubits=3, feature_reps=1, ansatz_reps=1, maxiter=20), **kw)


class VQCClassifier:
    """sklearn-style wrapper of qiskit-machine-learning's VQC on already encoded inputs."""

    def __init__(self, *, config: VQCConfig | None = None, seed: int = 0):
        self.config = config
        self.seed = seed

    def fit(self, x: np.ndarray, y: np.ndarray) -> VQCClassifier:
        from qiskit.circuit.library import real_amplitudes, zz_feature_map
        from qiskit_machine_learning.algorithms import VQC
        from qiskit_machine_learning.optimizers import COBYLA

        self.config_ = cfg = self.config or VQCConfig()
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y).astype(int)
        if x.ndim != 2 or x.shape[1] != cfg.n_qubits:
            raise ValueError(f"encoded inputs must have shape (n, {cfg.n_qubits}), got {x.shape}")
        if len(np.unique(y)) != 2:
            raise ValueError("VQC needs both classes (labels 0 and 1) in the training set")
        ansatz = real_amplitudes(cfg.n_qubits, reps=cfg.ansatz_reps)
        rng = np.random.default_rng(self.seed)
        sampler = None
        if cfg.shots is not None:
            from qiskit_aer.primitives import SamplerV2

            sampler = SamplerV2(default_shots=int(cfg.shots), seed=self.seed)
        self.losses_: list[float] = []
        self.vqc_ = VQC(feature_map=zz_feature_map(cfg.n_qubits, reps=cfg.feature_reps), ansatz=ansatz,
                        optimizer=COBYLA(maxiter=cfg.maxiter), sampler=sampler,
                        initial_point=rng.uniform(-np.pi, np.pi, ansatz.num_parameters),
                        callback=lambda _w, loss: self.losses_.append(float(loss)))
        t0 = time.perf_counter()
        self.vqc_.fit(x, y)
        self.fit_seconds_ = time.perf_counter() - t0
        log.info("VQC: %d events, %d COBYLA evaluations, %.1f s", len(y), len(self.losses_), self.fit_seconds_)
        return self

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        """P(class 1) from the circuit's output distribution."""
        if not hasattr(self, "vqc_"):
            raise RuntimeError("VQCClassifier is not fitted; call fit(x, y) first")
        return np.asarray(self.vqc_.predict_proba(np.asarray(x, dtype=np.float64)))[:, 1]
