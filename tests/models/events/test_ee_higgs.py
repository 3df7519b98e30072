"""e+e- -> ZH truth samples: decays as forced, cross sections, preselection bookkeeping, determinism."""
import awkward as ak
import numpy as np
import pytest

from hepilot.models.design.observables import M_Z, diphoton, dimuon
from hepilot.models.events.ee_higgs import EEConfig, generate_ee_chunk, generate_ee_sample, read_truth_sample
from hepilot.models.events.samples import SampleError


def test_zh_gamgam_and_zh_mumu(tmp_path):
    cfg = EEConfig(processes=("zh_gamgam", "zh_mumu"), n_events=300, seed=2)
    manifest = generate_ee_sample(cfg, tmp_path / "truth.root")
    s = read_truth_sample(tmp_path)
    gg = diphoton(s.of("zh_gamgam"))
    # the two most energetic photons are the Higgs decay products: m_gg = m_H = 125 GeV (Pythia's default)
    assert np.median(gg["m_gg"]) == pytest.approx(125.0, abs=0.5) and gg["valid"].all()
    mm = dimuon(s.of("zh_mumu"))
    assert np.median(mm["m_mumu"][mm["valid"]]) == pytest.approx(M_Z, abs=1.5)
    assert mm["valid"].mean() > 0.95
    # sigma(ZH) ~ 0.2 pb at 240 GeV; with BR(H->gg) = 2.3e-3 and BR(Z->qq) = 0.70 it is 3.2e-4 pb (shared/PYTHIA.md)
    assert manifest["per_process"]["zh_gamgam"]["sigma_pb"] == pytest.approx(3.24e-4, rel=0.1)
    # energy conservation: the final state (ISR photons included) carries sqrt(s); float32 storage rounds
    e = ak.to_numpy(ak.sum(s.particles.e, axis=1))
    assert e == pytest.approx(np.full(len(e), 240.0), abs=0.01)
    assert s.expected_events("zh_gamgam", 1000.0) == pytest.approx(manifest["per_process"]["zh_gamgam"]["sigma_pb"] * 1e6)


def test_preselection_is_bookkept_and_chunks_are_deterministic():
    cfg = EEConfig(processes=("zgam_qq",), n_events=40, seed=3, min_photons=2, photon_e_min=15.0,
                   diphoton_window=(100.0, 150.0))
    a, b = generate_ee_chunk(cfg, "zgam_qq", 0, 40), generate_ee_chunk(cfg, "zgam_qq", 0, 40)
    assert ak.all(ak.flatten(a["particles"].px) == ak.flatten(b["particles"].px))
    assert a["n_generated"] > 40  # the diphoton window keeps ~10% of Z/gamma* + gamma events
    m = diphoton(a["particles"], e_min=15.0)["m_gg"]
    assert np.all((m > 100) & (m < 150))
    charges = ak.to_numpy(ak.flatten(a["particles"].charge))
    assert set(np.unique(charges)) <= {-1.0, 0.0, 1.0}
    with pytest.raises(ValueError, match="unknown e\\+e- processes"):
        generate_ee_sample(EEConfig(processes=("zz",)), "/tmp/never.root")


def test_bad_files(tmp_path):
    with pytest.raises(SampleError, match="no truth sample"):
        read_truth_sample(tmp_path / "none.root")
    (tmp_path / "x.root").write_bytes(b"not root")
    with pytest.raises(SampleError, match="not a readable ROOT file"):
        read_truth_sample(tmp_path / "x.root")
