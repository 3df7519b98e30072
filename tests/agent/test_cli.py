"""The CLI contract: tools list/show/call exit codes and JSON, run/batch/runs, bad input."""
import json

import pytest
import yaml
from typer.testing import CliRunner

from hepilot.agent.cli import app, _mount_optional

_mount_optional()
runner = CliRunner()


def test_tools_list_and_show():
    from hepilot.tools.registry import UNAVAILABLE

    res = runner.invoke(app, ["tools", "list", "--json"])
    assert res.exit_code == 0
    names = {t["name"] for t in json.loads(res.stdout)}
    assert {"generate_jets", "jet_features", "train_bdt", "plot_distributions", "compare_taggers", "train_tagger",
            "search_knowledge", "particle_info", "solve_feynman_de", "symbolic_regression", "llm_symbolic_search",
            "qed_angular_distribution", "lagrangian_from_fields", "nplm_test", "two_sample_test", "fastsim_gan",
            "quantum_classifier", "optimise_detector", "optimise_analysis", "detector_resolution"} <= names
    assert UNAVAILABLE == {}  # every area imports in a full install
    res = runner.invoke(app, ["tools", "show", "generate_jets"])
    assert res.exit_code == 0 and "pt_min" in res.stdout


def test_tools_call_success_prints_json(tiny_jets, tiny_jets_args):
    res = runner.invoke(app, ["tools", "call", "generate_jets", "--json", json.dumps(tiny_jets_args)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["path"] == tiny_jets.path


@pytest.mark.parametrize("args, code, text", [
    (["tools", "call", "generate_jets", "--json", '{"pt_min": 700, "pt_max": 600}'], 2, "inverted"),
    (["tools", "call", "generate_jets", "--json", "{bad json"], 2, "not valid JSON"),
    (["tools", "call", "generat_jets", "--json", "{}"], 2, "Did you mean generate_jets"),
    (["tools", "show", "nope"], 2, "is not a valid tool"),
    (["run", "asdf qwer zxcv"], 2, "cannot plan this"),
    (["run", "generate jets", "--planner", "gpt"], 2, "--planner"),
    (["resume", "no-such-run"], 2, "no run"),
])
def test_bad_input_exit_codes(args, code, text):
    res = runner.invoke(app, args)
    assert res.exit_code == code, res.output
    assert text in res.output


def test_batch_isolates_failures_and_resumes(tiny_jets, tiny_goal, tmp_path):
    goals = tmp_path / "goals.yaml"
    goals.write_text(yaml.safe_dump([{"id": "bdt", "goal": tiny_goal}, {"id": "bad", "goal": "asdf qwer"}]))
    res = runner.invoke(app, ["batch", str(goals), "--out", str(tmp_path / "runs"), "--json"])
    rows = {r["id"]: r for r in json.loads(res.stdout)["goals"]}
    assert rows["bdt"]["status"] == "done" and rows["bad"]["status"] == "refused"
    assert res.exit_code == 1
    again = runner.invoke(app, ["batch", str(goals), "--out", str(tmp_path / "runs"), "--json"])
    rows2 = {r["id"]: r for r in json.loads(again.stdout)["goals"]}
    assert rows2["bdt"]["run_id"] == rows["bdt"]["run_id"]  # finished goals are not run again
    listed = runner.invoke(app, ["runs", "list", "--out", str(tmp_path / "runs"), "--json"])
    assert {r["run_id"] for r in json.loads(listed.stdout)} >= {rows["bdt"]["run_id"], rows["bad"]["run_id"]}


def test_batch_file_errors(tmp_path):
    bad = tmp_path / "g.yaml"
    bad.write_text("goal: [unclosed")
    res = runner.invoke(app, ["batch", str(bad)])
    assert res.exit_code == 2 and "not valid YAML" in res.output
    bad.write_text(yaml.safe_dump([{"id": "a"}]))
    res = runner.invoke(app, ["batch", str(bad)])
    assert res.exit_code == 2 and "goals[0]" in res.output
