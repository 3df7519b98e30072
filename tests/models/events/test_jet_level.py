"""Jet-level layer: e.m.-scale hadron response (Groom), jet energy scale, pile-up noise in the jet area."""
from dataclasses import replace

import awkward as ak
import numpy as np
import pytest

from hepilot.models import physics
from hepilot.models.design.resolution import core_width, jet_response
from hepilot.models.events.detector import DETECTOR_PRESETS, LAMBDA_PER_X0, get_detector
from hepilot.models.events.jet_level import JetLevelConfig, calibrate


def _events(*particles_per_event):
    """One event per list of (pid, E, eta, phi, charge); massless particles."""
    rows = [p for event in particles_per_event for p in event]
    pid, e, eta, phi, q = (np.array(col, dtype=float) for col in zip(*rows))
    ee, px, py, pz = physics.p4_from_pt_eta_phi_m(e / np.cosh(eta), eta, phi, 0.0)
    rec = ak.zip({"px": px, "py": py, "pz": pz, "e": ee, "pid": pid.astype(int), "charge": q})
    return ak.unflatten(rec, [len(ev) for ev in particles_per_event])


def test_groom_response_of_a_non_compensating_calorimeter():
    cfg = JetLevelConfig(e_over_h_ecal=1.5, e_over_h_hcal=1.5)
    f_em = 1 - 100.0 ** (0.83 - 1)  # Groom: 0.543 at 100 GeV
    assert cfg.pion_response(np.array([100.0]), 1.0)[0] == pytest.approx(f_em + (1 - f_em) / 1.5, rel=1e-12)
    assert cfg.pion_response(np.array([0.5]), 1.0)[0] == pytest.approx(1 / 1.5)  # below E0: no e.m. fraction
    r = cfg.pion_response(np.geomspace(1, 1000, 20), 1.0)
    assert np.all(np.diff(r) > 0) and r[-1] < 1  # rises with energy towards, never reaching, the e.m. scale
    assert np.all(JetLevelConfig().pion_response(np.array([5.0, 50.0]), 1.0) == 1.0)  # compensated / calibrated


def test_em_scale_of_single_hadrons_in_the_atlas_preset():
    # 100 GeV K_L at eta = 0.3 (no track): the mean HCAL cluster energy at the e.m. scale is r(100 GeV) E;
    # 5000 showers with sigma(E)/E = 5.8% give a mean to 0.08%, so rel=0.5% is > 5 sigma; photons stay at 1
    det = get_detector("atlas")
    n = 5000
    ev = _events(*[[(130, 100.0, 0.3, phi, 0.0), (22, 50.0, -0.5, phi, 0.0)] for phi in np.linspace(-3, 3, n)])
    reco = det.apply(ev, rng=np.random.default_rng(3), em_scale=True)
    hadron = ak.to_numpy(ak.sum(reco.e[reco.pid == 130], axis=1))
    photon = ak.to_numpy(ak.sum(reco.e[reco.pid == 22], axis=1))
    level = det.config.jet_level
    expected = level.pion_response(np.array([100.0]), det.config.ecal.depth * LAMBDA_PER_X0)[0]
    assert 0.8 < expected < 0.9
    assert hadron.mean() / 100.0 == pytest.approx(expected, rel=0.005)
    assert photon.mean() / 50.0 == pytest.approx(1.0, rel=0.002)
    plain = det.apply(ev, rng=np.random.default_rng(3))  # default: calibrated per particle, as before
    assert ak.to_numpy(ak.sum(plain.e[plain.pid == 130], axis=1)).mean() / 100.0 == pytest.approx(1.0, rel=0.005)


def test_em_scale_is_ignored_without_a_non_compensating_jet_level():
    ev = _events(*[[(130, 30.0, 0.2, phi, 0.0), (211, 20.0, 0.25, phi, 1.0)] for phi in np.linspace(-3, 3, 200)])
    for name in ("generic", "cms"):
        det = get_detector(name)
        a = det.apply(ev, rng=np.random.default_rng(1))
        b = det.apply(ev, rng=np.random.default_rng(1), em_scale=True)
        assert ak.to_numpy(ak.flatten(a.e)) == pytest.approx(ak.to_numpy(ak.flatten(b.e)), rel=1e-12)
    assert DETECTOR_PRESETS["generic"].jet_level is None and DETECTOR_PRESETS["cepc"].jet_level is None


def test_photon_hadron_split_becomes_resolution_after_the_jet_energy_scale():
    # toy 200 GeV jets at eta = 0: a photon carrying a fraction f ~ N(0.4, 0.05) and a K_L carrying the rest,
    # 0.5 apart, in a perfect calorimeter: at the e.m. scale R = f + (1 - f) r((1 - f) E) jet by jet; a
    # jet energy scale cannot follow f, so the JER is the spread of R (same core estimator, 3000 jets; jet
    # energies, which the cells' angular smearing leaves alone)
    base = DETECTOR_PRESETS["atlas"].with_params(**{
        "ecal.stochastic": 0.0, "ecal.noise": 0.0, "ecal.constant": 0.0, "hcal.stochastic": 0.0,
        "hcal.noise": 0.0, "hcal.constant": 0.0, "jet_level.pileup_mu": 0.0})
    rng = np.random.default_rng(5)
    f = rng.normal(0.4, 0.05, 3000)
    jets = _events(*[[(22, 200 * x, 0.0, 0.0, 0.0), (130, 200 * (1 - x), 0.0, 0.5, 0.0)] for x in f])
    truth = np.full(len(f), 200.0)
    mean, jer = jet_response(get_detector(base), jets, truth, rng=np.random.default_rng(0), use_energy=True)
    r = base.jet_level.pion_response(200 * (1 - f), base.ecal.depth * LAMBDA_PER_X0)
    resp = f + (1 - f) * r
    m, s = core_width(resp)
    assert jer == pytest.approx(s / m, rel=0.02)
    assert mean == pytest.approx(1.0, abs=0.002)  # restored by the jet energy scale
    assert jet_response(get_detector(replace(base, jet_level=None)), jets, truth, rng=np.random.default_rng(0),
                        use_energy=True)[1] < 0.1 * jer  # per-particle calibration: no such spread


def test_jet_energy_scale_restores_the_mean_over_a_wide_pt_range():
    # uncalibrated response 0.75 + 0.03 ln pT with a 10% spread, 30 GeV - 1 TeV: after the numerical inversion
    # the mean response in each of five log-pT bins is 1 within 1% (~6000 jets a bin: error of a mean 0.13%)
    rng = np.random.default_rng(2)
    truth = np.exp(rng.uniform(np.log(30), np.log(1000), 30000))
    em = truth * (0.75 + 0.03 * np.log(truth)) * (1 + 0.1 * rng.standard_normal(len(truth)))
    cal = calibrate(em, truth)
    edges = np.geomspace(30, 1000, 6)
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (truth >= lo) & (truth < hi)
        assert np.mean(cal[sel] / truth[sel]) == pytest.approx(1.0, abs=0.01)


def test_pileup_noise_adds_in_quadrature_as_sqrt_mu():
    # sigma_PU = sigma_1 sqrt(mu pi R^2): 200000 jets with a 5% response spread at 50 GeV; the added variance
    # must match for mu = 10 and 40 (a 2% tolerance on sigma is > 5 standard errors of 0.16%)
    rng = np.random.default_rng(4)
    truth = np.full(200000, 50.0)
    em = truth * (1 + 0.05 * rng.standard_normal(len(truth)))
    for mu in (10.0, 40.0):
        level = JetLevelConfig(pileup_mu=mu, pileup_noise=0.9, jet_radius=0.4)
        assert level.pileup_sigma() == pytest.approx(0.9 * np.sqrt(mu * np.pi * 0.16), rel=1e-12)
        got = level.in_situ(em, truth, rng=rng)
        added = np.sqrt(np.var(got - truth) - np.var(em - truth))
        assert added == pytest.approx(level.pileup_sigma(), rel=0.02)
        assert np.mean(got / truth) == pytest.approx(1.0, abs=0.002)  # zero-mean residual after offset subtraction
    four = JetLevelConfig(pileup_mu=40.0, pileup_noise=0.9).pileup_sigma()
    assert four == pytest.approx(2 * JetLevelConfig(pileup_mu=10.0, pileup_noise=0.9).pileup_sigma(), rel=1e-12)


@pytest.mark.parametrize("changes, message", [
    ({"e_over_h_hcal": 1.36}, "set both e_over_h_ecal and e_over_h_hcal"),
    ({"e_over_h_ecal": 5.0, "e_over_h_hcal": 1.36}, "jet_level.e_over_h_ecal = 5.0 is outside 0.5-3"),
    ({"pileup_mu": -1.0}, "pileup_mu and pileup_noise must be >= 0"),
    ({"pileup_mu": 30.0}, "pileup_mu > 0 needs pileup_noise"),
    ({"jet_radius": 0.0}, "jet_level.jet_radius must be in"),
    ({"em_fraction_m": 1.2}, "em_fraction_m inside"),
])
def test_bad_jet_level_values_name_the_field_and_the_fix(changes, message):
    with pytest.raises(ValueError, match=message):
        JetLevelConfig(**changes)
    dotted = {f"jet_level.{k}": v for k, v in changes.items()}
    with pytest.raises(ValueError, match=message):
        DETECTOR_PRESETS["generic"].with_params(**dotted)
