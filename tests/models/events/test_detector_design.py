"""Extensions of the parametric detector for design studies: muon spectrometer, containment, shower merging."""
import awkward as ak
import numpy as np
import pytest

from hepilot.models import physics
from hepilot.models.events._calorimetry import LEAKAGE_WEIGHT, leak_fraction
from hepilot.models.events.detector import DETECTOR_PRESETS, get_detector


def _event(parts):
    cols = {k: [p[k] for p in parts] for k in ("px", "py", "pz", "e", "pid", "charge")}
    return ak.unflatten(ak.zip(cols), [len(parts)])


def _particle(pid, pt, phi, charge, mass=0.0, eta=0.0):
    e, px, py, pz = physics.p4_from_pt_eta_phi_m(pt, eta, phi, mass)
    return {"px": px, "py": py, "pz": pz, "e": e, "pid": pid, "charge": charge}


def test_muon_spectrometer_combination_matches_inverse_variance_weighting():
    cfg = DETECTOR_PRESETS["atlas"]
    n, pt = 20000, 500.0
    rng = np.random.default_rng(4)
    phi = rng.uniform(-np.pi, np.pi, n)
    e, px, py, pz = physics.p4_from_pt_eta_phi_m(np.full(n, pt), np.zeros(n), phi, 0.10566)
    muons = ak.unflatten(ak.zip({"px": px, "py": py, "pz": pz, "e": e, "pid": np.full(n, 13),
                                 "charge": np.full(n, -1.0)}), np.ones(n, dtype=int))
    reco = get_detector(cfg).apply(muons, rng=rng)
    got = np.std(ak.to_numpy(ak.flatten(physics.pt(reco.px, reco.py))) / pt)
    inner, ms = cfg.tracker.pt_resolution(pt, 0.0), cfg.muon.pt_resolution(pt, 0.0)
    expected = 1 / np.sqrt(1 / inner**2 + 1 / ms**2)
    # standard error of a std from ~19000 muons is 0.5%: 3% is > 5 sigma; the spectrometer gains a factor > 3
    assert got == pytest.approx(expected, rel=0.03)
    assert inner / got > 3


def test_standalone_muons_beyond_the_tracker():
    cfg = DETECTOR_PRESETS["atlas"]
    mu = _event([_particle(13, 50.0, 0.3, -1.0, 0.10566, eta=2.6)])  # 2.5 < |eta| < 2.7: spectrometer only
    seen = sum(len(get_detector(cfg).apply(mu, rng=np.random.default_rng(s))[0]) for s in range(200))
    assert 0.97 * 200 - 4 * np.sqrt(200 * 0.03) < seen <= 200  # efficiency 0.97, 4 sigma
    assert len(get_detector("cms").apply(mu, rng=np.random.default_rng(0))[0]) == 0  # CMS: no spectrometer modelled


def test_shallower_ecal_adds_the_leakage_difference():
    base = DETECTOR_PRESETS["cms"].ecal
    thin = DETECTOR_PRESETS["cms"].with_params(**{"ecal.depth": 15.0}).ecal
    e = 100.0
    extra2 = LEAKAGE_WEIGHT**2 * (leak_fraction(e, 15.0, hadronic=False) ** 2 - leak_fraction(e, 25.8, hadronic=False) ** 2)
    assert thin.energy_resolution(e) ** 2 == pytest.approx(base.energy_resolution(e) ** 2 + extra2, rel=1e-12)
    assert thin.energy_resolution(e) > 5 * base.energy_resolution(e)  # 15 X0 leaks ~30% of a 100 GeV shower
    # the mean leak falls with depth and rises with energy (the shower maximum moves as ln E)
    assert leak_fraction(100.0, 20, hadronic=False) > leak_fraction(100.0, 25, hadronic=False)
    assert leak_fraction(500.0, 20, hadronic=False) > leak_fraction(10.0, 20, hadronic=False)


def test_shower_merging_recovers_a_neutral_only_when_it_stands_out():
    # a 20 GeV charged pion and a 10 GeV K0L 0.05 rad apart, perfect calorimeter and tracker
    perfect = {"hcal.stochastic": 0.0, "hcal.noise": 0.0, "hcal.constant": 0.0, "tracker.hit_resolution": 1e-12,
               "tracker.material_x0": 1e-9, "tracker.efficiency": 1.0}
    event = _event([_particle(211, 20.0, 0.0, 1.0, 0.1396), _particle(130, 10.0, 0.05, 0.0, 0.4976)])
    for cell, merged in ((0.1, True), (0.01, False)):
        cfg = DETECTOR_PRESETS["atlas"].with_params(**perfect, **{"hcal.cell_eta": cell, "hcal.cell_phi": cell,
                                                                  "hcal.shower_width": 0.001})
        reco = get_detector(cfg).apply(event, rng=np.random.default_rng(0))[0]
        neutral = reco[reco.pid == 130]
        assert len(neutral) == 1  # the neutral energy is found either way (the excess is 10 GeV > 0 sigma)
        # merged: the neutral sits at the energy-weighted centroid of pion + K0L; separate: at the K0L itself
        phi = float(physics.phi(neutral.px, neutral.py)[0])
        assert (abs(phi - 0.05) > 0.01) == merged
    smeared = DETECTOR_PRESETS["atlas"]  # with the real HCAL (50%/sqrt(E)), a 0.5 GeV neutral under a 20 GeV
    small = _event([_particle(211, 20.0, 0.0, 1.0, 0.1396), _particle(130, 0.8, 0.01, 0.0, 0.4976)])  # pion is lost
    lost = sum(int(np.sum(get_detector(smeared).apply(small, rng=np.random.default_rng(s))[0].pid == 130) == 0)
               for s in range(100))
    assert lost > 60  # the excess must exceed sigma(20 GeV) = 2.4 GeV: a 0.8 GeV neutral usually vanishes


def test_photon_inside_a_hadron_ecal_cluster_joins_the_hadronic_cluster():
    # a 20 GeV pi+ and a 10 GeV photon 0.005 apart (inside one CMS crystal-sized ECAL cluster), and 0.2 apart
    perfect = {"hcal.stochastic": 0.0, "hcal.noise": 0.0, "hcal.constant": 0.0, "tracker.efficiency": 1.0,
               "tracker.hit_resolution": 1e-12, "tracker.material_x0": 1e-9}
    for dphi, confused in ((0.005, True), (0.2, False)):
        event = _event([_particle(211, 20.0, 0.0, 1.0, 0.1396), _particle(22, 10.0, dphi, 0.0)])
        for flag in (True, False):
            cfg = DETECTOR_PRESETS["cms"].with_params(**perfect, photon_confusion=flag)
            reco = get_detector(cfg).apply(event, rng=np.random.default_rng(0))[0]
            photons, neutral = reco[reco.pid == 22], reco[reco.pid == 130]
            # confused: the photon is no ECAL cluster any more; its energy is the calorimeter excess over the track
            assert (len(photons) == 0) == (flag and confused)
            assert (len(neutral) == 1) == (flag and confused)
            if flag and confused:
                # perfect HCAL: the excess is the photon energy (up to the cell-size smearing of the direction)
                assert float(neutral.e[0]) == pytest.approx(10.0, rel=2e-3)
    assert not DETECTOR_PRESETS["cepc"].photon_confusion  # imaging calorimetry separates the two


def test_tracks_above_track_pt_max_are_measured_by_the_calorimeter():
    # ATLAS particle flow uses tracks below 40 GeV only: a 100 GeV pion gets the Tile resolution
    n = 4000
    rng = np.random.default_rng(5)
    phi = rng.uniform(-np.pi, np.pi, n)
    for pt, expected in ((30.0, "tracker"), (100.0, "hcal")):
        e, px, py, pz = physics.p4_from_pt_eta_phi_m(np.full(n, pt), np.zeros(n), phi, 0.1396)
        pions = ak.unflatten(ak.zip({"px": px, "py": py, "pz": pz, "e": e, "pid": np.full(n, 211),
                                     "charge": np.full(n, 1.0)}), np.ones(n, dtype=int))
        reco = get_detector("atlas").apply(pions, rng=rng)
        got = ak.to_numpy(ak.sum(reco.e, axis=1)) / e
        cfg = DETECTOR_PRESETS["atlas"]
        ref = cfg.tracker.pt_resolution(pt, 0.0) if expected == "tracker" else cfg.hcal.energy_resolution(pt)
        # std of ~3800 values has a 1.2% standard error (tracker: efficiency 0.95 loses a few to the HCAL,
        # so the core is taken inside 3 reference sigmas); 8% is > 6 sigma
        core = got[np.abs(got - 1) < 3 * ref]
        assert np.std(core) == pytest.approx(ref, rel=0.08)
