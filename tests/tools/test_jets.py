"""generate_jets / jet_features / train_bdt / plot_distributions through the tool interface."""
from pathlib import Path

import pytest

from hepilot.errors import ToolInputError
from hepilot.tools.base import call_tool, execute


@pytest.mark.parametrize("args, field, text", [
    ({"pt_min": 650, "pt_max": 550}, "pt_max", "inverted"),
    ({"processes": ["stop"]}, "processes.0", "top"),
    ({"n_jets": -5}, "n_jets", ">= 1"),
    ({"processes": ["top"], "pt_max": 8000}, "pt_max", "cannot be reached"),
    ({"extra_settings": ["Random:seed = 3"]}, "extra_settings", "controlled by hepilot"),
    ({"n_jet": 10}, "n_jet", "did you mean n_jets"),
])
def test_generate_jets_rejects_bad_input_before_running(args, field, text):
    with pytest.raises(ToolInputError) as e:
        execute("generate_jets", args)
    assert e.value.field == field
    assert text in str(e.value)


def test_unknown_pythia_setting_is_an_input_error():
    with pytest.raises(ToolInputError, match="Pythia rejected the setting") as e:
        execute("generate_jets", {"processes": ["qcd"], "n_jets": 1, "extra_settings": ["TimeShower:notAKnob = 3"]})
    assert e.value.field == "extra_settings"


def test_generate_jets_checks_pass(tiny_jets):
    assert {c.name for c in tiny_jets.checks} >= {"top_mass_peak", "qcd_mass_below_top", "efficiencies_in_range"}
    assert tiny_jets.checks_passed
    assert 150 <= tiny_jets.mass_peak["top"] <= 200
    assert Path(tiny_jets.artifacts["jet_mass"]).is_file()


def test_features_bdt_and_plots_on_the_tiny_sample(tiny_jets):
    feats = call_tool("jet_features", sample=tiny_jets.path)
    # three-prong top jets have smaller tau32 than QCD jets
    assert feats.medians["top"]["tau32"] < feats.medians["qcd"]["tau32"]
    bdt = call_tool("train_bdt", features=feats.path, n_estimators=50)
    assert bdt.checks_passed, [c.message for c in bdt.checks]
    assert bdt.train_test_overlap == 0 and bdt.n_test_signal + bdt.n_test_background == 72
    plots = call_tool("plot_distributions", path=feats.path, branches=["tau32", "jet_mass"])
    assert all(Path(p).is_file() for p in plots.plots.values())


def test_bad_files_and_names_give_field_errors(tiny_jets, tmp_path):
    junk = tmp_path / "junk.root"
    junk.write_bytes(b"\x00garbage" * 50)
    with pytest.raises(ToolInputError, match="not a readable ROOT file") as e:
        execute("jet_features", {"sample": str(junk)})
    assert e.value.field == "sample"
    feats = call_tool("jet_features", sample=tiny_jets.path)
    with pytest.raises(ToolInputError, match="did you mean tau32") as e:
        execute("plot_distributions", {"path": feats.path, "branches": ["tau_32"]})
    assert e.value.field == "branches"
    with pytest.raises(ToolInputError, match="choose one of") as e:
        execute("train_bdt", {"features": feats.path, "signal": "w"})
    assert e.value.field == "signal"
