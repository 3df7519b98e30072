"""Design specs: the shipped examples validate, bad specs name the field and the fix, parameters apply."""
from importlib import resources
from pathlib import Path

import pytest
from pydantic import ValidationError

from hepilot.models.design.spec import DetectorDesignSpec, apply_params, load_spec
from hepilot.models.events.detector import DETECTOR_PRESETS


def _spec(**kw):
    base = {"name": "t", "parameters": {"tracker.b_field": {"low": 2, "high": 4}}, "objectives": ["hgg_mass_resolution"]}
    return DetectorDesignSpec.model_validate({**base, **kw})


def test_shipped_examples_load():
    folder = Path(str(resources.files("hepilot.models.design") / "examples"))
    specs = {p.stem: load_spec(p) for p in folder.glob("*.yaml")}
    assert isinstance(specs["cepc_tracker_ecal"], DetectorDesignSpec)
    assert specs["zh_gamgam_analysis"]["kind"] == "analysis"
    # the study name is the spec name plus a hash that ignores the trial budget (so a bigger budget resumes)
    a = specs["cepc_tracker_ecal"]
    assert a.study_name == a.model_copy(update={"trials": 999}).study_name
    assert a.study_name != a.model_copy(update={"seed": 7}).study_name


@pytest.mark.parametrize("change, text", [
    ({"parameters": {"tracker.bfield": {"low": 2, "high": 4}}}, "did you mean tracker.b_field"),
    ({"parameters": {"tracker.b_field": {"low": 4, "high": 2}}}, "empty or inverted"),
    ({"parameters": {"ecal.stochastic": {"low": 0, "high": 0.2, "log": True}}}, "log range needs low > 0"),
    ({"objectives": ["hgg_resolution"]}, "did you mean hgg_mass_resolution"),
    ({"base": "delphi"}, "unknown base detector"),
    ({"baselines": ["juno"]}, "no parametric preset"),
])
def test_bad_specs_say_what_to_change(change, text):
    with pytest.raises(ValidationError, match=text):
        _spec(**change)


def test_aliases_and_nested_geometry():
    base = DETECTOR_PRESETS["cepc"]
    cfg = apply_params(base, {"ecal.cell_size_m": 0.02, "tracker.radius": base.tracker.radius + 0.3,
                              "tracker.n_layers": 100.4})
    # the calorimeters move out with the tracker; a 2 cm cell is then 0.02 / (R + 0.3) rad
    assert cfg.ecal.inner_radius == pytest.approx(base.ecal.inner_radius + 0.3)
    assert cfg.hcal.inner_radius == pytest.approx(base.hcal.inner_radius + 0.3)
    assert cfg.ecal.cell_eta == cfg.ecal.cell_phi == pytest.approx(0.02 / (base.ecal.inner_radius + 0.3))
    assert cfg.tracker.n_layers == 100 and isinstance(cfg.tracker.n_layers, int)
    deeper = apply_params(base, {"ecal.depth": base.ecal.depth + 5})
    assert deeper.hcal.inner_radius == pytest.approx(base.hcal.inner_radius + 5 * base.ecal.unit_length)


def test_load_spec_errors(tmp_path):
    with pytest.raises(ValueError, match="no spec file"):
        load_spec(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ValueError, match="must hold a mapping"):
        load_spec(bad)
    bad.write_text("kind: reactor\n")
    with pytest.raises(ValueError, match="kind must be"):
        load_spec(bad)
