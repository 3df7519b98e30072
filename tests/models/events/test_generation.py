"""Pythia 8 + FastJet jet generation: kinematic selection, truth matching, four-momentum, determinism."""
import awkward as ak
import numpy as np
import pytest

from hepilot.models import physics
from hepilot.models.events.generation import JetGenConfig, chunk_seed, chunk_tasks, generate_chunk
from hepilot.models.events.samples import read_jet_sample


def test_selection_window_and_truth_matching(tiny_jets):
    s = read_jet_sample(tiny_jets.path)
    pt = ak.to_numpy(s.jets.jet_pt)
    assert np.all((pt > 550) & (pt < 650))
    assert np.all(np.abs(ak.to_numpy(s.jets.jet_eta)) < 2.0)
    top = s.labels == s.processes.index("top")
    assert ak.all(s.jets.truth_matched[top])
    # three-prong top jets: the mass peak sits near m_top (172.6 GeV) and far above QCD's
    m = ak.to_numpy(s.jets.jet_mass)
    assert 150 < np.median(m[top]) < 200
    assert np.median(m[~top]) < np.median(m[top]) - 40
    assert tiny_jets.n_jets == {"top": 120, "qcd": 120}
    assert 0 < tiny_jets.efficiencies["top"] < 1


def test_jet_momentum_equals_sum_of_constituents():
    # truth level, no constituent cap: the E-scheme jet is exactly the sum of its constituents
    cfg = JetGenConfig(processes=("qcd",), n_jets=15, detector="none", max_constituents=1000, seed=5)
    out = generate_chunk(cfg, "qcd", 0, 15)
    parts = out["particles"]
    px, py = ak.to_numpy(ak.sum(parts.px, axis=1)), ak.to_numpy(ak.sum(parts.py, axis=1))
    assert physics.pt(px, py) == pytest.approx(out["jets"]["jet_pt"], rel=1e-5)
    assert ak.to_numpy(ak.sum(parts.e, axis=1)) == pytest.approx(out["jets"]["jet_e"], rel=1e-5)
    assert out["sigma_pb"] > 0


def test_chunks_are_deterministic_and_independent_of_order():
    cfg = JetGenConfig(processes=("qcd",), n_jets=8, seed=9)
    a = generate_chunk(cfg, "qcd", 0, 8)
    b = generate_chunk(cfg, "qcd", 0, 8)
    assert np.array_equal(a["jets"]["jet_pt"], b["jets"]["jet_pt"])
    assert ak.all(ak.flatten(a["particles"].px) == ak.flatten(b["particles"].px))
    assert chunk_seed(9, "qcd", 0) != chunk_seed(9, "qcd", 1) != chunk_seed(9, "top", 0)
    big = JetGenConfig(processes=("top", "qcd"), n_jets=2500)
    assert [(t[1], t[2], t[3]) for t in chunk_tasks(big)] == [
        ("top", 0, 1000), ("top", 1, 1000), ("top", 2, 500), ("qcd", 0, 1000), ("qcd", 1, 1000), ("qcd", 2, 500)]
