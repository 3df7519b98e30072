"""The agent graph offline: wiring snapshot, an end-to-end run, approval, reports, bad goals."""
import json
from pathlib import Path

import pytest

from hepilot.agent.graph import build_graph
from hepilot.agent.nodes import Runtime
from hepilot.agent.runs import new_run
from hepilot.agent.session import Session, run_goal
from hepilot.tools.base import ToolContext

SNAPSHOT = Path(__file__).with_name("graph.mmd")  # review changes to the wiring here


def test_graph_wiring_snapshot(tmp_path):
    rt = Runtime(run=new_run("x", out=tmp_path), tool_context=ToolContext(cache_dir=tmp_path))
    assert build_graph(rt).get_graph().draw_mermaid() == SNAPSHOT.read_text()


def test_offline_run_end_to_end(tiny_jets, tiny_goal, tmp_path):
    run, state = run_goal(tiny_goal, out=tmp_path)
    assert state["status"] == "done", state.get("failures")
    assert [r["tool"] for r in state["records"]] == ["generate_jets", "jet_features", "train_bdt"]
    assert state["records"][0]["cached"]  # the session's tiny sample, not regenerated
    report = (run.path / "report.md").read_text()
    for text in ("## Plan", "train_bdt", "auc_above_random", "## Reproducibility", "seed", "plots/bdt-roc.png"):
        assert text in report
    assert (run.path / "plots" / "bdt-roc.png").is_file()
    results = json.loads((run.path / "results.json").read_text())
    assert results["records"][2]["result"]["auc"] > 0.6
    events = [json.loads(line)["event"] for line in (run.path / "trace.jsonl").read_text().splitlines()]
    assert events.count("tool") == 3 and "plan" in events


def test_approval_accept_edit_reject(tiny_jets, tiny_goal, tmp_path):
    run, state = run_goal(tiny_goal, out=tmp_path, approve=True)
    session = Session(run, approve=True)
    pending = session.pending_interrupt()
    assert [s["tool"] for s in pending["pending"]] == ["generate_jets", "jet_features", "train_bdt"]
    assert state.get("records", []) == []  # nothing ran before approval
    state = session.resume({"action": "edit", "args": {"bdt": {"n_estimators": 40}}})
    assert state["status"] == "done"
    assert state["records"][2]["args"]["n_estimators"] == 40
    run2, _ = run_goal(tiny_goal, out=tmp_path, approve=True)
    state2 = Session(run2, approve=True).resume({"action": "reject"})
    assert state2["status"] == "rejected" and not state2.get("records")


@pytest.mark.parametrize("goal, status, text", [
    ("", "refused", "the goal is empty"),
    ("??? !!! 123", "refused", "has no words"),
    ("book me a flight to Geneva", "refused", "cannot plan this"),
    ("Generate 120 top and 120 QCD jets between 650 and 550 GeV and train a BDT", "refused", "self-contradictory"),
])
def test_bad_goals_are_reported_not_crashed(goal, status, text, tmp_path):
    run, state = run_goal(goal, out=tmp_path)
    assert state["status"] == status
    shown = state.get("answer", "") + " ".join(r.get("error") or "" for r in state.get("records", []))
    assert text in shown
    assert (run.path / "report.md").is_file()


def test_chat_follow_up_reuses_the_sample(tiny_jets, tmp_path):
    run = new_run("chat", out=tmp_path)
    session = Session(run)
    first = session.ask("generate 120 top and 120 QCD jets with seed 11")
    second = session.ask("now train a BDT tagger on them")
    gen1 = first["records"][0]
    gen2 = [r for r in second["records"] if r["turn"] == 1 and r["tool"] == "generate_jets"][0]
    assert gen2["args"] == gen1["args"] and gen2["cached"]
    assert second["status"] == "done"


def test_unwritable_out_is_an_input_error(tmp_path):
    from hepilot.errors import ToolInputError

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # (root ignores permission bits, so block with a file instead)
    with pytest.raises(ToolInputError, match="cannot create a run directory") as e:
        run_goal("generate jets", out=blocker / "runs")
    assert e.value.field == "--out"
    assert blocker.read_text() == "not a folder"
