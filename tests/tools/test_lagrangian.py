"""lagrangian_from_fields end to end: exact generator path, model fallback path, intents and bad input."""
from __future__ import annotations

import pytest

from hepilot.errors import ToolInputError
from hepilot.models.theory.lagrangian.model import LagrangianBartConfig, LagrangianTransformer, build_model
from hepilot.models.theory.lagrangian.tokenizer import build_tokenizer
from hepilot.models.theory.lagrangian.tokens import decode_fields
from hepilot.models.theory.lagrangian.validator import validate
from hepilot.tools import lagrangian as tool_module
from hepilot.tools.base import execute

SM_TEXT = "Q(3,2,1/6) u(3,1,2/3) R d(3,1,-1/3) R L(1,2,-1/2) e(1,1,-1) R H(1,2,1/2) scalar"


def test_exact_generator_path_returns_the_sm_with_passing_checks():
    res = execute("lagrangian_from_fields", {"text": SM_TEXT, "method": "generator"}).result
    assert res.source == "generator" and not res.fallback
    assert res.n_terms == 14 and res.terms_by_class["yukawa"] == 3
    assert res.checks_passed and {c.name for c in res.checks} == {
        "lagrangian_gauge_invariance", "lagrangian_lorentz_invariance", "lagrangian_hermiticity",
        "lagrangian_dimension"}
    assert res.verdict["valid"] and res.verdict["complete"] and res.verdict["exact"]
    assert "\\mathcal{L}" in res.latex and "\\mathrm{h.c.}" in res.latex
    # the tokens are self-contained: decoding the field tokens and validating reproduces the verdict
    assert validate(decode_fields(res.field_tokens), res.tokens).exact


def test_structured_fields_and_paper_style_tokens():
    args = {"fields": [{"name": "H", "su2": 2, "hypercharge": "1/2", "spin": "scalar"},
                       {"name": "S", "hypercharge": "0", "spin": "scalar", "real": True}],
            "method": "generator", "style": "paper"}
    res = execute("lagrangian_from_fields", args).result
    assert res.terms_by_class == {"scalar_kinetic": 2, "gauge_kinetic": 2, "tadpole": 1, "scalar_mass": 2,
                                  "cubic": 2, "quartic": 3}
    assert "FIELD" in res.tokens and "F0" not in res.tokens
    assert res.checks_passed


def test_failing_model_beams_fall_back_to_the_generator(monkeypatch):
    """An untrained transformer writes no valid Lagrangian: the tool must say so and stay valid."""
    untrained = LagrangianTransformer(config=LagrangianBartConfig.small(), num_beams=2)
    untrained.model_ = build_model(untrained.config, seed=3).eval()
    untrained.tokenizer_ = build_tokenizer()
    monkeypatch.setattr(tool_module, "_model", lambda: untrained)
    res = execute("lagrangian_from_fields", {"text": "H(1,2,1/2) scalar", "method": "model", "num_beams": 2}).result
    assert res.fallback and res.source == "generator"
    assert "beams passed the validator" in res.fallback_reason
    assert res.model_verdict is not None
    assert res.verdict["valid"] and res.verdict["complete"] and res.checks_passed
    assert "fallback" in res.status


@pytest.mark.parametrize("args,field,words", [
    ({"text": "H(1,2,1/2) real"}, "text", "pseudo-real"),
    ({"text": "X(5,1,0) scalar"}, "text", "1, 3, 3bar"),
    ({"text": "H(1,2,1/2) sclar"}, "text", "did you mean scalar"),
    ({"text": "tell me a joke"}, "text", "no field content"),
    ({"fields": [{"name": "H", "su2": 2, "hypercharge": "1/x", "spin": "scalar"}]}, "fields.0.hypercharge",
     "fraction"),
    ({"fields": [{"name": "H", "su2": 2, "hypercharge": "1/2", "spin": "scalar", "helicity": "L"}]},
     "fields.0.helicity", "no helicity"),
    ({"fields": [{"name": "T", "su2": 3, "hypercharge": "1", "spin": "scalar", "real": True}]}, "fields.0",
     "real representation"),
    ({"fields": [{"name": "A", "spin": "scalar"}, {"name": "A", "spin": "fermion"}]}, "fields", "used twice"),
    ({"fields": [{"name": "H", "su2": 4, "spin": "scalar"}]}, "fields.0.su2", ""),
    ({}, "<arguments>", "exactly one"),
])
def test_bad_field_specs_name_the_field_and_the_fix(args, field, words):
    with pytest.raises(ToolInputError) as err:
        execute("lagrangian_from_fields", args)
    assert err.value.field == field
    assert words in str(err.value)


def test_intents_plan_the_tool():
    from hepilot.agent.intents import load_intents

    intents = {i.name: i for i in load_intents() if i.area == "lagrangian"}
    assert set(intents) == {"lagrangian_from_fields", "lagrangian_exact_generator"}
    assert all(s.tool == "lagrangian_from_fields" for i in intents.values() for s in i.steps)
    res = execute("lagrangian_from_fields", {"text": intents["lagrangian_from_fields"].examples[1],
                                             "method": "generator"}).result
    assert [f.split(": ")[1].split("(")[0] for f in res.fields] == ["H", "L", "Q"]


def test_cli_call_prints_the_lagrangian_and_rejects_bad_fields():
    import json

    from typer.testing import CliRunner

    from hepilot.agent.cli import _mount_optional, app

    _mount_optional()
    runner = CliRunner()
    ok = runner.invoke(app, ["tools", "call", "lagrangian_from_fields", "--json",
                             json.dumps({"text": "L(1,2,-1/2) H(1,2,1/2) scalar N(1,1,0) R", "method": "generator"})])
    assert ok.exit_code == 0, ok.output
    out = json.loads(ok.stdout)
    # type-I seesaw content: Majorana mass N N and the neutrino Yukawa L N^dag H (+ h.c.)
    assert out["terms_by_class"]["fermion_mass"] == 1 and out["terms_by_class"]["yukawa"] == 1
    assert out["verdict"]["exact"] and all(c["passed"] for c in out["checks"])
    bad = runner.invoke(app, ["tools", "call", "lagrangian_from_fields", "--json",
                              json.dumps({"text": "H(1,2,1/2) scalar X(4,1,0) scalar"})])
    assert bad.exit_code == 2
    assert "'text'" in bad.output and "field 'X'" in bad.output and "Fix:" in bad.output


def test_offline_planner_routes_a_singlet_extension_goal_to_the_tool():
    """The planned call writes the complex-singlet-extended Higgs sector (cxSM), not the whole SM."""
    from hepilot.agent.planner_offline import OfflinePlanner

    goal = "Write the Lagrangian for a complex scalar singlet added to the SM Higgs doublet"
    plan = OfflinePlanner().plan(goal)
    assert not plan.refused and [s.tool for s in plan.steps] == ["lagrangian_from_fields"]
    res = execute("lagrangian_from_fields", {**plan.steps[0].args, "method": "generator"}).result
    assert res.fields == ["F0: S(1,1,0) scalar", "F1: H(1,2,1/2) scalar"]
    # S, S^2, S^3, S^2 S*, S H^dag H, S^4, S^3 S*, S^2 H^dag H (+ h.c.); |S|^2, H^dag H, |S|^4, |S|^2 H^dag H,
    # (H^dag H)^2
    assert res.terms_by_class == {"scalar_kinetic": 2, "gauge_kinetic": 2, "tadpole": 1, "scalar_mass": 3,
                                  "cubic": 3, "quartic": 6}
    assert res.checks_passed


@pytest.mark.skipif(not (tool_module.WEIGHTS_DIR / "model.safetensors").is_file(), reason="no shipped weights")
def test_shipped_model_answers_the_higgs_doublet_without_fallback():
    """The Higgs doublet alone (kinetic, SU(2) and U(1) field strengths, mu^2 and lambda) is written by the model."""
    res = execute("lagrangian_from_fields", {"text": "H(1,2,1/2) scalar", "method": "model"}).result
    assert res.source == "model" and not res.fallback, res.fallback_reason
    assert res.verdict["exact"] and res.checks_passed
    assert res.terms_by_class == {"scalar_kinetic": 1, "gauge_kinetic": 2, "scalar_mass": 1, "quartic": 1}
