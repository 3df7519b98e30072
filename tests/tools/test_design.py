"""optimise_detector, detector_resolution and optimise_analysis through the tool interface (LLM scripted)."""
import json
from pathlib import Path

import numpy as np
import pytest

from hepilot.errors import ToolInputError
from hepilot.tools.base import ToolContext, call_tool, execute
from hepilot.tools.executor import LocalExecutor

_SPEC = """
kind: detector
name: tool-test
base: cepc
parameters:
  tracker.b_field: {low: 1.5, high: 4.0}
  ecal.stochastic: {low: 0.03, high: 0.3, log: true}
objectives: [hgg_mass_resolution, zmumu_mass_resolution]
cost_budget: 400
trials: 6
population: 3
baselines: [cepc]
llm_proposals: 1
events: {n_events: 300}
"""


def test_optimise_detector_with_llm_proposals(tmp_path, openai_server):
    from hepilot.agent.llm import LLMClient

    spec = tmp_path / "spec.yaml"
    spec.write_text(_SPEC)
    server = openai_server([json.dumps([{"tracker.b_field": 3.4, "ecal.stochastic": 0.06}]),
                            "A stronger field buys the dimuon resolution; the ECAL term sets m_gg."])
    ctx = ToolContext(cache_dir=tmp_path / "cache", llm=LLMClient(base_url=server.base_url, api_key="k", model="m"),
                      executor=LocalExecutor(1))
    rec = execute("optimise_detector", {"spec": str(spec)}, ctx=ctx)
    res = rec.result
    assert res.checks_passed, res.checks
    assert res.n_trials == 6 and res.proposals == {"asked": 1, "accepted": 1}
    assert "stronger field" in res.tradeoffs
    assert "Pareto front" in server.requests[0]["messages"][-1]["content"]  # the LLM saw the front
    assert Path(res.report).is_file() and Path(res.artifacts["pareto_hgg_mass_resolution"]).is_file()
    assert res.storage.startswith("sqlite:///") and Path(res.storage.removeprefix("sqlite:///")).is_file()
    assert set(res.baselines["cepc"]) >= {"cost", "objectives", "dominated_by"}


@pytest.mark.parametrize("text, field, message", [
    ("kind: detector\nname: x\nparameters: {tracker.bfield: {low: 1, high: 2}}\nobjectives: [hgg_mass_resolution]\n",
     "spec.parameters", "did you mean tracker.b_field"),
    ("kind: detector\nname: x\nparameters: {tracker.b_field: {low: 1, high: 2}}\nobjectives: [top_auc]\n",
     "spec.objectives", "top_tagging_auc"),
    ("kind: analysis\nexample: zh_gamgam\n", "spec", "optimise_analysis"),
])
def test_bad_specs_are_input_errors(tmp_path, text, field, message):
    spec = tmp_path / "bad.yaml"
    spec.write_text(text)
    with pytest.raises(ToolInputError, match=message) as e:
        execute("optimise_detector", {"spec": str(spec)})
    assert e.value.field == field
    with pytest.raises(ToolInputError, match="cepc_tracker_ecal"):
        execute("optimise_detector", {"spec": "no_such_spec"})


def test_detector_resolution_reproduces_the_cms_card():
    res = call_tool("detector_resolution", detector="cms", n_particles=10000)
    assert res.checks_passed, res.checks
    by_point = {(c["quantity"], c["energy"]): c for c in res.comparison}
    assert by_point[("muon_pt", 500)]["agrees"] and by_point[("photon_energy", 50.0)]["agrees"]
    assert not by_point[("muon_pt", 1000)]["modelled"]  # needs the CMS muon system, which is not modelled
    # a weaker field worsens the 500 GeV muon resolution as 1/B (curvature-dominated there)
    weak = call_tool("detector_resolution", detector="cms", changes={"tracker.b_field": 1.9}, muon_pts=[500.0],
                     compare_cards=False, n_particles=10000)
    assert weak.muon_pt["500"] / res.muon_pt["500"] == pytest.approx(2.0, rel=0.08)
    with pytest.raises(ToolInputError, match="did you mean"):
        execute("detector_resolution", {"changes": {"ecal.stochastc": 0.1}})


def _tables(tmp_path, with_weight=True):
    rng = np.random.default_rng(0)
    sig = {"m": rng.normal(125, 2, 1500), "e": rng.normal(60, 5, 1500)}
    bkg = {"m": rng.uniform(100, 150, 6000), "e": rng.normal(50, 10, 6000)}
    paths = []
    for name, cols, total in (("sig", sig, 500.0), ("bkg", bkg, 50000.0)):
        n = len(cols["m"])
        header = "m,e" + (",weight" if with_weight else "")
        rows = np.column_stack([cols["m"], cols["e"]] + ([np.full(n, total / n)] if with_weight else []))
        path = tmp_path / f"{name}.csv"
        np.savetxt(path, rows, delimiter=",", header=header, comments="")
        paths.append(str(path))
    return paths


def test_optimise_analysis_on_tables(tmp_path):
    sig, bkg = _tables(tmp_path)
    res = call_tool("optimise_analysis", signal=sig, background=bkg, n_trials=40, background_systematic=0.01)
    assert res.checks_passed, res.checks
    z = {r["method"]: r["z"] for r in res.rungs}
    # the mass window alone gives Z = 5.4 without systematic (tests/models/design/test_analysis.py), the energy
    # adds separation and the 1% systematic (sigma_b ~ 60 vs sqrt(b) ~ 75 events) takes some away
    assert 3.0 < z["cuts"] < 12.0 and z["bdt"] > 0.8 * z["cuts"]
    assert res.totals == pytest.approx({"signal": 500.0, "background": 50000.0})
    unweighted = _tables(tmp_path / "u", with_weight=False) if (tmp_path / "u").mkdir() is None else None
    with pytest.raises(ToolInputError, match="expected number") as e:
        execute("optimise_analysis", {"signal": unweighted[0], "background": unweighted[1]})
    assert e.value.field == "signal_events"
    with pytest.raises(ToolInputError, match="did you mean m") as e:
        execute("optimise_analysis", {"signal": sig, "background": bkg, "variables": ["mm"]})
    with pytest.raises(ToolInputError, match="either the example"):
        execute("optimise_analysis", {"example": "zh_gamgam", "signal": sig, "background": bkg})


@pytest.mark.slow
def test_zh_gamgam_worked_example():
    res = call_tool("optimise_analysis", example="zh_gamgam", n_events=600, n_trials=60, methods=["cuts", "bdt"])
    assert res.checks_passed, res.checks
    assert res.totals["zh_gamgam"] == pytest.approx(0.201 * 2.27e-3 * 0.70 * 5.6e6, rel=0.15)  # sigma x BRs x L
    assert all(r["z"] > 0.5 for r in res.rungs)
    cuts = next(r for r in res.rungs if r["method"] == "cuts")["selection"]
    # the optimised m_gg window contains the Higgs mass
    assert cuts["m_gg"][0] < 125.0 < cuts["m_gg"][1]


@pytest.fixture(scope="module")
def planner():
    from hepilot.agent.planner_offline import OfflinePlanner

    return OfflinePlanner()


@pytest.mark.parametrize("goal, tool, args", [
    ("which calorimeter granularity maximises H->gamma gamma mass resolution for this cost?", "optimise_detector",
     {"spec": "cepc_tracker_ecal"}),
    ("find the detector with the best top tagging AUC for its cost", "optimise_detector", {"spec": "lhc_jets"}),
    ("what is the muon momentum resolution of ATLAS at 500 GeV", "detector_resolution", {"detector": "atlas"}),
    ("compare cuts, a BDT and a neural tagger for ZH to gamma gamma at CEPC", "optimise_analysis",
     {"example": "zh_gamgam", "methods": ["cuts", "bdt", "tagger"]}),
])
def test_offline_planner_maps_design_goals(planner, goal, tool, args):
    plan = planner.plan(goal)
    assert not plan.refused and [s.tool for s in plan.steps] == [tool]
    assert args.items() <= plan.steps[0].args.items()


def test_design_cli_reports_bad_specs(tmp_path):
    from typer.testing import CliRunner

    from hepilot.agent.cli import _mount_optional, app

    _mount_optional()
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: detector\nname: x\nparameters: {tracker.b_field: {low: 3, high: 2}}\n"
                   "objectives: [hgg_mass_resolution]\n")
    out = CliRunner().invoke(app, ["design", str(bad)])
    assert out.exit_code == 2 and "spec.parameters" in out.output and "inverted" in out.output
    assert CliRunner().invoke(app, ["design", str(tmp_path / "missing.yaml")]).exit_code == 2
