"""Detector cards: every number sourced, published values right, parametrisations reproduce them."""
from __future__ import annotations

import math

import pytest

from hepilot.knowledge.detectors import DetectorCardError, iter_values, list_detectors, load_detector_card


def test_all_cards_load_and_every_number_names_its_source():
    assert list_detectors() == ["atlas", "besiii", "cepc", "cms", "juno", "lhcb"]
    for name in list_detectors():
        card = load_detector_card(name)
        values = iter_values(card)
        assert len(values) >= 10, name
        for path, entry in values:
            assert entry["source"] in card["sources"], (name, path)
            assert isinstance(entry.get("checked"), bool), (name, path)
        assert (card["card"].startswith("detectors/") and card["card"].endswith(".md"))


def test_unknown_detector_suggests_close_names():
    with pytest.raises(DetectorCardError, match="no detector card named 'ATLSA'.*Did you mean atlas"):
        load_detector_card("ATLSA")
    assert load_detector_card("BES-III")["name"] == "besiii"


def test_published_values():
    atlas, cms = load_detector_card("atlas"), load_detector_card("cms")
    assert atlas["magnet"]["solenoid_field_T"]["value"] == 2.0 and cms["magnet"]["solenoid_field_T"]["value"] == 3.8
    assert (cms["ecal"]["stochastic"]["value"], cms["ecal"]["constant"]["value"]) == (0.028, 0.003)
    assert (atlas["ecal"]["stochastic"]["value"], atlas["ecal"]["constant"]["value"]) == (0.10, 0.007)
    assert load_detector_card("besiii")["tracker"]["p_resolution_1GeV"]["value"] == 0.005
    assert load_detector_card("juno")["magnet"]["field_T"]["value"] == 0.0
    assert load_detector_card("cepc")["magnet"]["solenoid_field_T"]["value"] == 3.0
    # 360 crystals around phi in the CMS barrel; 22 mm faces at r ~ 1.29 m subtend about that angle
    assert cms["ecal"]["cell_phi"]["value"] == pytest.approx(2 * math.pi / 360, rel=0.01)
    assert cms["ecal"]["cell_phi"]["value"] == pytest.approx(0.022 / 1.29, rel=0.03)
    # the ATLAS phi cell is 2 pi / 256
    assert atlas["ecal"]["cell_phi"]["value"] == pytest.approx(2 * math.pi / 256, rel=0.01)


def _sigma_pt(res: dict, pt: float) -> float:
    return math.hypot(res["a_per_GeV"]["value"] * pt, res["b"]["value"])


def test_tracker_parametrisations_reproduce_the_published_muon_points():
    atlas, cms = load_detector_card("atlas"), load_detector_card("cms")
    z_point = next(p for p in atlas["muon"]["published"] if p["pt_GeV"] == 45)
    # design goal 0.05% pT (+) 1% gives 2.46% at 45 GeV vs 2.3% measured: within 10%
    assert _sigma_pt(atlas["tracker"]["pt_resolution"], 45) == pytest.approx(z_point["value"], rel=0.10)
    # Up to 500 GeV the tracker dominates the CMS muon measurement; the 1 TeV point includes the
    # muon system, which the tracker-only parametrisation does not model.
    points = [p for p in cms["muon"]["published"] + cms["tracker"]["published"] if p["pt_GeV"] <= 500]
    assert len(points) == 4
    for point in points:
        pred = _sigma_pt(cms["tracker"]["pt_resolution"], point["pt_GeV"])
        value = point["value"]
        if isinstance(value, list):
            assert value[0] * 0.99 <= pred <= value[1], point
        elif point.get("bound") == "upper":
            assert pred <= value, point
        else:
            assert pred == pytest.approx(value, rel=0.10), point


def test_jet_resolution_points_are_ordered():
    for name in ("atlas", "cms"):
        points = sorted(load_detector_card(name)["jets"]["published"], key=lambda p: p["pt_GeV"])
        values = [max(p["value"]) if isinstance(p["value"], list) else p["value"] for p in points]
        assert values == sorted(values, reverse=True), name  # resolution improves with pT
