"""JetNet-style metrics: W1 on known distributions, EFPs against analytic and brute-force values."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from hepilot.models.fastsim import metrics


def _random_jets(n_jets: int, n_particles: int, *, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    jets = np.zeros((n_jets, n_particles, 3))
    jets[..., 0] = rng.normal(0, 0.2, (n_jets, n_particles))
    jets[..., 1] = rng.normal(0, 0.2, (n_jets, n_particles))
    jets[..., 2] = rng.exponential(0.05, (n_jets, n_particles))
    return jets


def test_w1_of_a_shifted_sample_is_the_shift():
    a = np.random.default_rng(0).normal(size=(5000, 2))
    w = metrics.w1_features(a, a + np.array([0.3, -1.25]))
    np.testing.assert_allclose(w, [0.3, 1.25], rtol=1e-10)


def test_w1_between_two_gaussians_with_different_means():
    """W1(N(0,1), N(d,1)) = d; with 50k vs 50k samples the estimate is within ~0.02 (3 sigma)."""
    rng = np.random.default_rng(1)
    w = metrics.w1_features(rng.normal(size=50_000), rng.normal(0.5, 1.0, 50_000))
    assert w[0] == pytest.approx(0.5, abs=0.03)


def test_two_particle_mass_and_efps_are_analytic():
    """m^2 = 2 pT1 pT2 (cosh d_eta - cos d_phi); for two particles every EFP is a sum of z1^a z2^b theta^4."""
    jet = np.zeros((1, 3, 3))
    jet[0, 0] = [0.1, -0.05, 0.6]
    jet[0, 1] = [-0.2, 0.15, 0.3]  # third slot is padding
    m = metrics.jet_mass_rel(jet)[0]
    assert m**2 == pytest.approx(2 * 0.6 * 0.3 * (np.cosh(0.3) - np.cos(0.2)), rel=1e-12)
    z1, z2 = 0.6 / 0.9, 0.3 / 0.9
    th4 = (0.3**2 + 0.2**2) ** 2
    even = 2 * z1**2 * z2**2 * th4  # alternating index patterns 1212, 2121
    expected = [even, 0.0, even, even, z1 * z2 * (z1**2 + z2**2) * th4]  # the triangle needs 3 particles
    np.testing.assert_allclose(metrics.efps_d4(jet)[0], expected, rtol=1e-12, atol=1e-15)


def test_efps_match_brute_force_sums():
    jets = _random_jets(3, 5, seed=2)
    jets[1, 3:, 2] = 0.0
    graphs = [[(0, 1), (1, 2), (2, 3), (3, 0)], [(0, 1), (1, 2), (2, 0), (2, 3)], [(0, 1), (1, 2), (1, 2), (2, 3)],
              [(0, 1), (0, 1), (1, 2), (2, 3)], [(1, 0), (1, 0), (1, 2), (1, 3)]]
    got = metrics.efps_d4(jets)
    for j in range(3):
        pt = jets[j, :, 2]
        z = pt / pt.sum()
        th = np.hypot(jets[j, :, None, 0] - jets[j, None, :, 0], jets[j, :, None, 1] - jets[j, None, :, 1])
        for g, graph in enumerate(graphs):
            total = sum(np.prod(z[list(idx)]) * np.prod([th[idx[a], idx[b]] for a, b in graph])
                        for idx in itertools.product(range(5), repeat=4))
            assert got[j, g] == pytest.approx(total, rel=1e-10)


def test_mass_and_efps_are_boost_and_rotation_invariant():
    jets = _random_jets(200, 30, seed=3)
    moved = jets.copy()
    moved[..., 0] += 0.7  # longitudinal boost
    moved[..., 1] += 0.4  # azimuthal rotation (no wrap-around for these small angles)
    np.testing.assert_allclose(metrics.jet_mass_rel(moved), metrics.jet_mass_rel(jets), rtol=1e-9)
    np.testing.assert_allclose(metrics.efps_d4(moved), metrics.efps_d4(jets), rtol=1e-9)
    assert metrics.w1m(jets, moved, n_eval=200, n_batches=1)[0] == pytest.approx(0.0, abs=1e-12)


def test_w1m_and_w1p_of_scaled_jets():
    """Scaling every pT_rel by k scales the mass by k: W1M = (k - 1) mean(m); W1P(pT) = (k - 1) mean(pT)."""
    jets = _random_jets(500, 30, seed=4)
    k = 1.2
    scaled = jets.copy()
    scaled[..., 2] *= k
    m = metrics.jet_mass_rel(jets)
    assert metrics.w1m(jets, scaled, n_eval=500, n_batches=2)[0] == pytest.approx((k - 1) * m.mean(), rel=1e-9)
    mean, _, per = metrics.w1p(jets, scaled, n_eval=500, n_batches=2)
    assert per[2] == pytest.approx((k - 1) * jets[..., 2].mean(), rel=1e-9)
    assert per[0] == per[1] == 0.0
    assert mean == pytest.approx(per.mean())


def test_masked_particles_are_ignored():
    jets = _random_jets(50, 30, seed=5)
    noisy = jets.copy()
    mask = np.ones((50, 30), bool)
    mask[:, 20:] = False
    noisy[:, 20:, :2] = 9.0  # garbage in padded slots must not matter
    np.testing.assert_allclose(metrics.efps_d4(noisy, mask), metrics.efps_d4(jets[:, :20]), rtol=1e-12)
    np.testing.assert_allclose(metrics.jet_mass_rel(noisy, mask), metrics.jet_mass_rel(jets[:, :20]), rtol=1e-12)


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="n_jets, n_particles, 3"):
        metrics.jet_mass_rel(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="mask shape"):
        metrics.efps_d4(np.zeros((2, 4, 3)), np.ones((2, 5), bool))
