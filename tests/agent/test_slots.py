"""Slot filling from plain-language goals."""
import pytest

from hepilot.agent.intents import SlotSpec
from hepilot.agent.slots import extract_slot, parse_count, parse_energy

MAIN = ("Generate 5000 top and 5000 QCD jets with pT between 550 and 650 GeV and train a BDT tagger on jet "
        "substructure; report AUC and background rejection at 30% signal efficiency")


@pytest.mark.parametrize("text, value", [("5000", 5000), ("5k", 5000), ("50,000", 50000), ("50 000", 50000),
                                         ("1e5", 100000), ("two thousand", 2000), ("a million", 1000000),
                                         ("2.5k", 2500), ("five hundred thousand", 500000)])
def test_counts(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize("text, gev", [("14 TeV", 14000.0), ("240 GeV", 240.0), ("500 MeV", 0.5), ("13.6 TeV", 13600.0)])
def test_energies(text, gev):
    assert parse_energy(text) == pytest.approx(gev)


def test_main_goal_slots():
    assert extract_slot(MAIN, SlotSpec(kind="count")) == 5000  # not 550, 650 or 30
    assert extract_slot(MAIN, SlotSpec(kind="energy_range")) == [550.0, 650.0]
    assert extract_slot(MAIN, SlotSpec(kind="processes")) == ["top", "qcd"]


@pytest.mark.parametrize("goal, rng", [("jets with 550-650 GeV", [550.0, 650.0]),
                                       ("from 0.5 to 1 TeV", [500.0, 1000.0]),
                                       ("pT > 300 GeV", [300.0, None]),
                                       ("between 650 and 550 GeV", [650.0, 550.0])])
def test_ranges_keep_what_was_written(goal, rng):
    # an inverted range is kept as written: validation reports it, the planner never swaps it silently
    assert extract_slot(goal, SlotSpec(kind="energy_range")) == rng


def test_processes_synonyms_in_order_and_particles():
    assert extract_slot("make dijets and ttbar and boosted W", SlotSpec(kind="processes")) == ["qcd", "top", "w"]
    assert extract_slot("what is the mass of the muon", SlotSpec(kind="particle")) == 13
    assert extract_slot("properties of the Higgs boson", SlotSpec(kind="particle")) == 25
    assert extract_slot("fit /data/run2/dimuon.root now", SlotSpec(kind="path")) == "/data/run2/dimuon.root"
    assert extract_slot("no path here", SlotSpec(kind="path")) is None
