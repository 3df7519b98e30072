"""The physics check of the issue: ATLAS, CMS and CEPC presets reproduce their cards' published resolutions.

Everything is measured by simulation (particle guns and Pythia jets through Detector.apply), never
read back from the configured formula. With 20000 particles a core width has a statistical error
of ~0.5%, far inside the 10% tolerance.
"""
import awkward as ak
import numpy as np
import pytest

from hepilot.models.design.observables import ee_jets
from hepilot.models.design.resolution import jet_response
from hepilot.models.design.validation import agrees, card_references, measure
from hepilot.models.events.detector import DETECTOR_PRESETS, get_detector
from hepilot.models.events.ee_higgs import read_truth_sample

# the reference points: photon energy, muon pT near 50 and at 500 GeV
_POINTS = {"atlas": {("photon_energy", 50.0), ("photon_energy", 100.0), ("muon_pt", 45), ("muon_pt", 500.0)},
           "cms": {("photon_energy", 50.0), ("photon_energy", 100.0), ("muon_pt", 50), ("muon_pt", 500)},
           "cepc": {("photon_energy", 50.0), ("photon_energy", 100.0), ("muon_pt", 50.0), ("muon_pt", 500.0)}}


@pytest.mark.parametrize("name", ["atlas", "cms", "cepc"])
def test_photon_and_muon_resolutions_within_10_percent_of_the_card(name):
    det = get_detector(name)
    refs = [r for r in card_references(name) if (r.quantity, r.energy) in _POINTS[name]]
    assert len(refs) == 4
    for ref in refs:
        value = measure(det, ref, rng=np.random.default_rng(7), n=20000)
        ok, dev = agrees(value, ref)
        assert ok, f"{name} {ref.quantity} at {ref.energy} GeV: simulated {value:.4f}, card {ref}, deviation {dev:+.1%}"


def test_cepc_jet_energy_resolution_near_the_particle_flow_goal(ee_paths):
    # The CDR's particle-flow goal is 3-4% for jets. The parametric particle flow (shower merging with the
    # 1-sigma excess rule) gives ~4.2-4.7% on Z -> q qbar jets of ZH events: above the goal by up to ~20%,
    # which this test bounds (documented as short of the 10% target in docs/design.md).
    cons = ee_jets(read_truth_sample(ee_paths["zh_gamgam"]).particles)
    truth = ak.to_numpy(ak.sum(cons.e, axis=1))
    ref = [r for r in card_references("cepc") if r.quantity == "jet_pt"][0]
    mean, jer = jet_response(get_detector("cepc"), cons, truth, rng=np.random.default_rng(0), use_energy=True)
    assert ref.low * 0.8 < jer < ref.high * 1.2
    assert mean == pytest.approx(1.0, abs=0.05)  # the response is calibrated to within a few percent


def test_shower_merging_degrades_jets(ee_paths):
    cons = ee_jets(read_truth_sample(ee_paths["zh_gamgam"]).particles)
    truth = ak.to_numpy(ak.sum(cons.e, axis=1))
    base = DETECTOR_PRESETS["cepc"]

    def jer(**changes):
        return jet_response(get_detector(base.with_params(**changes)), cons, truth, rng=np.random.default_rng(0),
                            use_energy=True)[1]

    ideal, nominal = jer(shower_merging=False), jer()
    # merging charged and neutral showers (particle-flow confusion) costs resolution: > 20%, several times
    # the ~4% statistical error of a width from ~800 jets
    assert nominal > 1.2 * ideal


@pytest.fixture(scope="module")
def nunu_gg(tmp_path_factory):
    """600 e+e- -> ZH, Z -> nu nubar, H -> g g events at 240 GeV without ISR (~5 s)."""
    from hepilot.models.design.data import prepare_data

    path = prepare_data(["zh_nunu_gg"], n_events=600, n_jets=0, seed=3,
                        cache_dir=tmp_path_factory.mktemp("bmr"))["zh_nunu_gg"]
    return read_truth_sample(path).particles


def test_boson_mass_sample_is_the_higgs_alone(nunu_gg):
    # no ISR, the Z invisible: the visible particles carry the Higgs's mass unless a heavy-flavour decay's
    # neutrino took some; H -> g g gives b/c hadrons rarely (g -> b bbar, c cbar), so most events are exact
    from hepilot.models.design.observables import visible_mass

    m = visible_mass(nunu_gg)["m_vis"]
    assert np.all(m < 125.0 + 0.5)  # Pythia's m_H = 125 GeV, Breit-Wigner width 4 MeV (tails to ~0.1 GeV)
    assert np.mean(np.abs(m - 125.0) < 0.2) > 0.7  # measured 0.87 within 0.05 GeV (600 events)
    assert np.mean(m < 124.0) > 0.02  # and the neutrino tail the BMR selection removes exists


def test_cepc_boson_mass_resolution_and_its_response_to_the_hcal(nunu_gg):
    """The CEPC BMR definition (ISR-free nu nu H, H -> gg, central jets, no neutrinos from the Higgs) through
    the CEPC preset. Without shower merging every particle is calibrated on its own: the mass peak sits at
    125 GeV within 2% (measured -0.7%: acceptance and thresholds). Merging with the one-sided excess rule
    (a charged cluster fluctuating up by > 1 sigma leaves a fake neutral; a merged neutral below it is lost)
    moves the peak up (measured +5%) and widens it. The resolution is in the range particle flow reaches at
    125 GeV (2-6%) and worse with a twice worse HCAL stochastic term (neutral hadrons are measured by it):
    > 10% worse, several times the ~4% error of a width of ~400 events."""
    from hepilot.models.design.resolution import boson_mass_resolution

    base = DETECTOR_PRESETS["cepc"]

    def bmr(**changes):
        return boson_mass_resolution(get_detector(base.with_params(**changes)), nunu_gg, rng=np.random.default_rng(0))

    (mean, nominal, n), (mean_alone, alone, _) = bmr(), bmr(shower_merging=False)
    assert n > 300
    assert mean_alone == pytest.approx(125.0, rel=0.02)
    assert mean > mean_alone * 1.02 and nominal > alone
    assert 0.02 < nominal < 0.06
    assert bmr(**{"hcal.stochastic": 2 * base.hcal.stochastic})[1] > 1.1 * nominal
    ref = [r for r in card_references("cepc") if r.quantity == "boson_mass"]
    assert len(ref) == 1 and ref[0].value == 0.038


def test_cepc_barrel_jet_reference_measures_only_its_jets(ee_paths):
    """The full-simulation point (arXiv:2104.05029: 3.5% for barrel jets above 60 GeV) selects truth jets with
    E > 60 GeV and |cos theta| < 0.6 (|cos theta| = |tanh eta|); the measurement equals the JER of exactly those."""
    from hepilot.models import physics

    ref = [r for r in card_references("cepc") if r.quantity == "jet_pt" and r.e_min is not None]
    assert len(ref) == 1 and (ref[0].e_min, ref[0].cos_theta_max, ref[0].value) == (60, 0.6, 0.035)
    cons = ee_jets(read_truth_sample(ee_paths["zh_gamgam"]).particles)
    tot = {k: ak.to_numpy(ak.sum(cons[k], axis=1)) for k in ("e", "px", "py", "pz")}
    keep = (tot["e"] > 60) & (np.abs(np.tanh(physics.eta(tot["px"], tot["py"], tot["pz"]))) < 0.6)
    assert 50 < keep.sum() < 0.5 * len(keep)  # Z -> q qbar jets of ZH: ~17% of them
    det = get_detector("cepc")
    got = measure(det, ref[0], rng=np.random.default_rng(3), jets=lambda r: (cons, tot["e"], True))
    want = jet_response(det, cons[keep], tot["e"][keep], rng=np.random.default_rng(3), use_energy=True)[1]
    assert got == pytest.approx(want, rel=1e-12)
