"""Quantum kernel and classifiers: the kernel is a Gram matrix of states, analytic 1-qubit values, shot noise, learning."""
from __future__ import annotations

import numpy as np
import pytest

from hepilot.models.metrics import roc_auc
from hepilot.models.quantum.encoding import QubitEncoder
from hepilot.models.quantum.qsvm import QSVM, QSVMConfig, zz_kernel
from hepilot.models.quantum.vqc import VQCClassifier, VQCConfig


def _two_qubit_fidelity(x, y):
    """One ZZ layer on 2 qubits: H H, then the diagonal phase 2 x1 b1 + 2 x2 b2 + 2 (pi - x1)(pi - x2) (b1 xor b2)
    on |b1 b2>, so <phi(y)|phi(x)> = 1/4 sum_b exp(i [phase_x(b) - phase_y(b)])."""
    def phase(v, b1, b2):
        return 2 * v[0] * b1 + 2 * v[1] * b2 + 2 * (np.pi - v[0]) * (np.pi - v[1]) * (b1 ^ b2)

    amp = sum(np.exp(1j * (phase(x, b1, b2) - phase(y, b1, b2))) for b1 in (0, 1) for b2 in (0, 1)) / 4
    return abs(amp) ** 2


def test_two_qubit_kernel_matches_the_analytic_fidelity():
    x = np.array([[0.0, 0.1], [0.3, -0.2], [1.1, 0.5], [-0.7, 0.9]])
    k = zz_kernel(x, config=QSVMConfig(n_qubits=2, reps=1))
    want = np.array([[_two_qubit_fidelity(a, b) for b in x] for a in x])
    np.testing.assert_allclose(k, want, atol=1e-12)


def test_kernel_is_a_gram_matrix_of_normalised_states():
    x = np.random.default_rng(0).uniform(-1, 1, size=(25, 4))
    cfg = QSVMConfig(n_qubits=4)
    k = zz_kernel(x, config=cfg)
    np.testing.assert_allclose(np.diag(k), 1.0, atol=1e-12)
    np.testing.assert_allclose(k, k.T, atol=1e-12)
    assert k.min() >= -1e-12 and k.max() <= 1 + 1e-12
    assert np.linalg.eigvalsh(k).min() > -1e-10  # positive semi-definite
    cross = zz_kernel(x[:5], x[5:9], config=cfg)
    np.testing.assert_allclose(cross, k[:5, 5:9], atol=1e-12)


def test_shot_noise_kernel_scatters_binomially_around_the_exact_one():
    x = np.random.default_rng(1).uniform(-0.5, 0.5, size=(4, 2))
    exact = zz_kernel(x, config=QSVMConfig(n_qubits=2))
    shots = 4000
    noisy = zz_kernel(x, config=QSVMConfig(n_qubits=2, shots=shots), seed=3)
    sigma = np.sqrt(exact * (1 - exact) / shots) + 1e-12
    off = ~np.eye(4, dtype=bool)
    assert np.all(np.abs(noisy - exact)[off] <= 5 * sigma[off] + 1e-9)  # 5 sigma per entry
    assert not np.allclose(noisy[off], exact[off])  # it really sampled


def test_encoder_reduces_and_scales_to_the_bandwidth():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 7)) * [1, 2, 3, 4, 5, 6, 7]
    enc = QubitEncoder(n_qubits=3, bandwidth=0.4).fit(x)
    z = enc.transform(x)
    assert z.shape == (200, 3)
    assert z.min() == pytest.approx(-0.4) and z.max() == pytest.approx(0.4)
    assert np.all(np.abs(enc.transform(x * 10)) <= 0.4 + 1e-12)  # clipped outside the training range
    assert enc.explained_variance_ratio_.sum() == pytest.approx(3 / 7, abs=0.1)  # standardised: ~1/7 each
    with pytest.raises(ValueError, match="PCA cannot make 8"):
        QubitEncoder(n_qubits=8).fit(x)


def _blobs(n, seed, sep=1.5):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n // 2), np.ones(n // 2)].astype(int)
    x = rng.normal(size=(n, 3)) + sep * y[:, None] * np.array([1.0, 0.5, 0.0])
    return x, y


def test_qsvm_learns_separated_classes():
    x, y = _blobs(120, 3)
    xt, yt = _blobs(200, 4)
    enc = QubitEncoder(n_qubits=3, bandwidth=0.4).fit(x)
    model = QSVM(config=QSVMConfig(n_qubits=3, reps=1), seed=0).fit(enc.transform(x), y)
    # optimal AUC for a 1.68 sigma separation is Phi(1.68/sqrt 2) = 0.88; require > 0.8
    assert roc_auc(yt, model.decision_function(enc.transform(xt))) > 0.8
    checks = model.kernel_checks()
    assert checks["max_diag_deviation"] < 1e-9 and checks["min_eigenvalue"] > -1e-9


def test_vqc_learns_separated_classes_with_the_right_orientation():
    x, y = _blobs(60, 5, sep=3.0)
    xt, yt = _blobs(200, 6, sep=3.0)
    enc = QubitEncoder(n_qubits=2, bandwidth=0.1).fit(x)
    model = VQCClassifier(config=VQCConfig(n_qubits=2, feature_reps=1, ansatz_reps=1, maxiter=40), seed=1)
    auc = roc_auc(yt, model.fit(enc.transform(x), y).decision_function(enc.transform(xt)))
    # random AUC on 100 + 100 events has sigma 0.041: require 3 sigma above 0.5 (inverted scores give < 0.38)
    assert auc > 0.5 + 3 * np.sqrt(201 / (12 * 100 * 100))
    with pytest.raises(ValueError, match="both classes"):
        VQCClassifier(config=VQCConfig.small()).fit(np.zeros((4, 3)), np.zeros(4))


def _zz_state(x: np.ndarray, reps: int) -> np.ndarray:
    """|Phi(x)> = (U_phi(x) H^n)^reps |0> built in numpy, independently of qiskit: H^n is a Walsh-Hadamard
    transform, U_phi(x) the diagonal phase 2 sum_i x_i b_i + 2 sum_{i<j} (pi - x_i)(pi - x_j) (b_i xor b_j)."""
    n = len(x)
    bits = (np.arange(2**n)[:, None] >> np.arange(n)) & 1  # (2^n, n): bit i of each basis state
    phase = 2 * bits @ x
    for i in range(n):
        for j in range(i + 1, n):
            phase = phase + 2 * (np.pi - x[i]) * (np.pi - x[j]) * (bits[:, i] ^ bits[:, j])
    h = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
    psi = np.zeros(2**n, dtype=complex)
    psi[0] = 1.0
    for _ in range(reps):
        psi = psi.reshape((2,) * n)
        for axis in range(n):
            psi = np.moveaxis(np.tensordot(h, psi, axes=([1], [axis])), 0, axis)
        psi = np.exp(1j * phase) * psi.reshape(-1)
    return psi


def test_six_qubit_kernel_equals_the_overlap_of_independently_built_statevectors():
    """The paper's setting (6 qubits, ZZ map, full entanglement, 2 reps): K_ij = |<Phi(x_i)|Phi(x_j)>|^2 to 1e-10."""
    x = np.random.default_rng(7).uniform(-1, 1, size=(3, 6))
    k = zz_kernel(x, config=QSVMConfig())
    states = [_zz_state(v, reps=2) for v in x]
    assert all(abs(np.vdot(s, s) - 1) < 1e-12 for s in states)
    want = np.array([[abs(np.vdot(a, b)) ** 2 for b in states] for a in states])
    np.testing.assert_allclose(k, want, atol=1e-10)
    assert 0.0 < want[0, 1] < 0.99  # the points are distinguishable: the check is not of a constant


def test_vqc_with_shot_noise_on_aer_still_learns():
    """VQC sampled with 512 shots per circuit on qiskit-aer (noisy loss for COBYLA): AUC > 0.5 + 3 sigma on an easy set."""
    x, y = _blobs(20, 8, sep=3.0)
    xt, yt = _blobs(100, 9, sep=3.0)
    enc = QubitEncoder(n_qubits=2, bandwidth=0.1).fit(x)
    model = VQCClassifier(config=VQCConfig(n_qubits=2, feature_reps=1, ansatz_reps=1, maxiter=12, shots=512), seed=1)
    scores = model.fit(enc.transform(x), y).decision_function(enc.transform(xt))
    assert np.all((scores >= 0) & (scores <= 1))
    assert np.all(np.abs(scores * 512 - np.round(scores * 512)) < 1e-9)  # frequencies of 512 shots: really sampled
    assert roc_auc(yt, scores) > 0.5 + 3 * np.sqrt(101 / (12 * 50 * 50))
