"""Substructure observables against brute-force definitions and limiting cases."""
import itertools

import awkward as ak
import numpy as np
import pytest

from hepilot.models import physics
from hepilot.models.events.substructure import energy_correlations, nsubjettiness


def _jets(rng, n_jets=4, n=25):
    pt = rng.exponential(20.0, (n_jets, n)) + 1.0
    eta = rng.normal(0.0, 0.2, (n_jets, n))
    phi = rng.normal(0.0, 0.2, (n_jets, n))
    e, px, py, pz = physics.p4_from_pt_eta_phi_m(pt, eta, phi, 0.0)
    return ak.zip({"px": px, "py": py, "pz": pz, "e": e}), pt, eta, phi


def test_energy_correlations_match_brute_force_sums():
    parts, pt, eta, phi = _jets(np.random.default_rng(1))
    e2, e3 = energy_correlations(parts)
    for j in range(len(pt)):
        z = pt[j] / pt[j].sum()
        d = physics.delta_r(eta[j][:, None], phi[j][:, None], eta[j][None, :], phi[j][None, :])
        b2 = sum(z[a] * z[b] * d[a, b] for a, b in itertools.combinations(range(len(z)), 2))
        b3 = sum(z[a] * z[b] * z[c] * d[a, b] * d[a, c] * d[b, c] for a, b, c in itertools.combinations(range(len(z)), 3))
        assert e2[j] == pytest.approx(b2, rel=1e-10)
        assert e3[j] == pytest.approx(b3, rel=1e-10)


def test_nsubjettiness_limits():
    # two hard, well separated particles: one axis leaves tau1 > 0, two axes fit exactly (tau2 = 0)
    e, px, py, pz = physics.p4_from_pt_eta_phi_m(np.array([[100.0, 100.0, 1.0]]), np.array([[0.2, -0.2, 0.0]]),
                                                 np.zeros((1, 3)), 0.0)
    parts = ak.zip({"px": px, "py": py, "pz": pz, "e": e})
    taus = nsubjettiness(parts, jet_r=0.8, n_max=3)
    assert taus[0, 0] > 0.1
    assert taus[0, 1] < 0.02  # only the soft particle is off-axis
    assert taus[0, 2] == 0.0  # three axes on three particles


def test_nsubjettiness_is_ordered():
    parts, *_ = _jets(np.random.default_rng(2))
    taus = nsubjettiness(parts, jet_r=0.8, n_max=3)
    assert np.all(taus[:, 0] >= taus[:, 1]) and np.all(taus[:, 1] >= taus[:, 2])
