"""Gaussian-core widths and the card comparison rule."""
import numpy as np
import pytest

from hepilot.models.design.resolution import core_width
from hepilot.models.design.validation import Reference, _from_entry, agrees, card_references


def test_core_width_recovers_a_gaussian_and_ignores_tails():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 0.5, 100_000)
    mean, sigma = core_width(x)
    # standard error of a width from n = 1e5 (core ~95%) is ~0.5 / sqrt(2 * 95000) = 0.0012: 5 sigma = 0.006
    assert sigma == pytest.approx(0.5, abs=0.006) and mean == pytest.approx(3.0, abs=0.01)
    tails = np.r_[x, rng.uniform(-50, 50, 5000)]  # 5% flat outliers barely move the core
    assert core_width(tails)[1] == pytest.approx(0.5, rel=0.03)
    with pytest.raises(ValueError, match="at least 10"):
        core_width([1.0, 2.0])


def test_agreement_rule():
    assert agrees(1.05, Reference("x", "muon_pt", 50, value=1.0))[0]
    assert not agrees(1.15, Reference("x", "muon_pt", 50, value=1.0))[0]
    assert agrees(0.0105, Reference("x", "muon_pt", 50, low=0.01, high=0.06))[1] == 0.0
    assert not agrees(0.0085, Reference("x", "muon_pt", 50, low=0.01, high=0.06))[0]
    assert agrees(0.005, Reference("x", "muon_pt", 10, value=0.01, upper_bound=True))[0]


def test_card_references_read_the_cards():
    refs = {(r.quantity, r.energy): r for r in card_references("cms")}
    assert refs[("muon_pt", 500)].value == 0.08
    assert refs[("photon_energy", 50.0)].value == pytest.approx(np.sqrt(0.028**2 / 50 + (0.12 / 50) ** 2 + 0.003**2))
    atlas = [r for r in card_references("atlas") if r.quantity == "muon_pt" and r.energy == 500.0]
    assert atlas and atlas[0].derived  # not on the card: derived from the spectrometer design goal
    # low-pT jets are pile-up dominated: compared only for a preset that simulates pile-up (ATLAS, CMS do)
    jets = {r.energy: r.modelled for r in card_references("atlas") if r.quantity == "jet_pt"}
    assert jets == {20: True, 300: True}
    assert not _from_entry("x", "jet_pt", {"pt_GeV": 20, "value": 0.24}, {}, False, pileup=False).modelled
