"""Parametric detector response: resolutions as configured, invisibles removed, granularity merging."""
import awkward as ak
import numpy as np
import pytest

from hepilot.models import physics
from hepilot.models.events.detector import DETECTOR_PRESETS, get_detector


def _particles(pid, e, n, *, eta=0.3, charge=0.0, mass=0.0, spread=1.0, seed=0):
    """n single-particle events of one species at fixed energy, random azimuth and eta near `eta`."""
    rng = np.random.default_rng(seed)
    etas = eta + spread * rng.uniform(-0.1, 0.1, n)
    phis = rng.uniform(-np.pi, np.pi, n)
    p = np.sqrt(e**2 - mass**2)
    pts = p / np.cosh(etas)
    ee, px, py, pz = physics.p4_from_pt_eta_phi_m(pts, etas, phis, mass)
    rec = ak.zip({"px": px, "py": py, "pz": pz, "e": ee, "pid": np.full(n, pid), "charge": np.full(n, charge)})
    return ak.unflatten(rec, np.ones(n, dtype=int))


@pytest.mark.parametrize("name", ["atlas", "cms", "cepc"])
def test_photon_energy_resolution_matches_config(name):
    # 20000 photons at 50 GeV: the spread of E_reco/E must equal sigma(E)/E of the ECAL; the
    # standard error of a standard deviation from n = 20000 is sigma/sqrt(2n) = 0.5%, so 3% is > 5 sigma
    det = get_detector(name)
    reco = det.apply(_particles(22, 50.0, 20000), rng=np.random.default_rng(1))
    e = ak.to_numpy(ak.flatten(reco.e))
    assert len(e) == 20000
    expected = det.config.ecal.energy_resolution(50.0)
    assert np.std(e / 50.0) == pytest.approx(expected, rel=0.03)
    assert np.mean(e) == pytest.approx(50.0, rel=5 * expected / np.sqrt(20000))


def test_muon_pt_resolution_matches_gluckstern_formula():
    det = get_detector("cms")
    pt_true = 50.0
    parts = _particles(13, pt_true * np.cosh(0.3), 20000, charge=-1.0, mass=0.1057, spread=0.0)
    reco = det.apply(parts, rng=np.random.default_rng(2))
    pt = ak.to_numpy(ak.flatten(physics.pt(reco.px, reco.py)))
    assert len(pt) == pytest.approx(20000 * det.config.tracker.efficiency, abs=5 * np.sqrt(20000 * 0.05 * 0.95))
    assert np.std(pt / pt_true) == pytest.approx(float(det.config.tracker.pt_resolution(pt_true, 0.3)), rel=0.03)


def test_invisible_particles_are_removed_and_none_is_identity():
    parts = _particles(12, 30.0, 100)
    for name in ("none", "atlas"):
        assert ak.sum(ak.num(get_detector(name).apply(parts, rng=np.random.default_rng(0)))) == 0
    photons = _particles(22, 30.0, 100)
    same = get_detector("none").apply(photons, rng=np.random.default_rng(0))
    assert ak.to_numpy(ak.flatten(same.e)) == pytest.approx(ak.to_numpy(ak.flatten(photons.e)))


def test_neutral_deposits_in_one_cell_merge_and_conserve_energy():
    # two 20 GeV photons 0.001 apart in one event fall into one ATLAS ECAL cell (0.025 x 0.0245)
    px, py, pz = [20.0, 20.0 * np.cos(0.001)], [0.0, 20.0 * np.sin(0.001)], [0.0, 0.0]
    rec = ak.zip({"px": px, "py": py, "pz": pz, "e": [20.0, 20.0], "pid": [22, 22], "charge": [0.0, 0.0]})
    cfg = DETECTOR_PRESETS["atlas"].with_params(**{"ecal.stochastic": 0.0, "ecal.noise": 0.0, "ecal.constant": 0.0,
                                                     "ecal.cell_eta": 0.025, "ecal.cell_phi": 0.0245})
    out = get_detector(cfg).apply(ak.unflatten(rec, [2]), rng=np.random.default_rng(0))
    assert ak.num(out)[0] == 1
    assert float(out.e[0][0]) == pytest.approx(40.0, rel=1e-9)


def test_with_params_changes_only_the_named_fields():
    base = DETECTOR_PRESETS["cms"]
    new = base.with_params(**{"tracker.b_field": 2.0, "hcal.stochastic": 0.8})
    assert new.tracker.b_field == 2.0 and new.hcal.stochastic == 0.8
    assert new.tracker.radius == base.tracker.radius and new.ecal == base.ecal
    # a weaker field worsens the curvature term as 1/B
    a_new, _ = new.tracker.resolution_terms(0.0)
    a_old, _ = base.tracker.resolution_terms(0.0)
    assert a_new / a_old == pytest.approx(3.8 / 2.0, rel=1e-12)


def test_unknown_detector_lists_presets():
    with pytest.raises(ValueError, match="presets are"):
        get_detector("delphi")
