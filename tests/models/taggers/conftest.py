"""Synthetic jets for tagger tests: massless particles around a jet axis, as numpy and as a JetSample."""
from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import torch

from hepilot.models import physics
from hepilot.models.events.samples import JetSample


def make_jets(n_jets: int, *, seed: int = 0, n_min: int = 5, n_max: int = 30, wide: np.ndarray | None = None):
    """(JetSample, labels): jets of massless particles; label-1 jets are wider (a learnable difference)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n_jets) if wide is None else wide
    counts = rng.integers(n_min, n_max + 1, n_jets)
    jet_eta, jet_phi = rng.uniform(-1.5, 1.5, n_jets), rng.uniform(-np.pi, np.pi, n_jets)
    rows = []
    for i in range(n_jets):
        width = 0.05 + 0.15 * labels[i]
        pt = np.sort(rng.exponential(30.0, counts[i]) + 1.0)[::-1]
        eta = jet_eta[i] + rng.normal(0, width, counts[i])
        phi = physics.delta_phi(jet_phi[i] + rng.normal(0, width, counts[i]), 0.0)
        e, px, py, pz = physics.p4_from_pt_eta_phi_m(pt, eta, phi, 0.0)
        rows.append({"px": px, "py": py, "pz": pz, "e": e, "pid": np.full(counts[i], 211), "charge": np.ones(counts[i])})
    particles = ak.Array([{k: r[k].tolist() for k in r} for r in rows])
    particles = ak.zip({k: particles[k] for k in ("px", "py", "pz", "e", "pid", "charge")})
    sx = ak.to_numpy(ak.sum(particles.px, axis=1))
    sy = ak.to_numpy(ak.sum(particles.py, axis=1))
    sz = ak.to_numpy(ak.sum(particles.pz, axis=1))
    se = ak.to_numpy(ak.sum(particles.e, axis=1))
    jets = ak.zip({"label": labels.astype(np.int32), "jet_pt": physics.pt(sx, sy), "jet_eta": physics.eta(sx, sy, sz),
                   "jet_phi": physics.phi(sx, sy), "jet_mass": physics.mass(se, sx, sy, sz), "jet_e": se,
                   "truth_matched": np.ones(n_jets, bool), "event": np.arange(n_jets), "chunk": np.zeros(n_jets, np.int32)})
    return JetSample(jets, particles, {"processes": ["narrow", "wide"]}), labels


@pytest.fixture(scope="session")
def synthetic_jets():
    return make_jets(64, seed=3)


@pytest.fixture(autouse=True)
def _seed_and_one_thread(one_torch_thread):
    """Fixed seeds; one torch thread (tiny networks, and two threads on a shared CPU spin against each other)."""
    torch.manual_seed(0)
    np.random.seed(0)
