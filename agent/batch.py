"""Scripted batch mode: many goals, one run each, isolated failures, resumable, a summary at the end.

The batch keeps its state in `<out>/batch-<name>-<hash>.json` (goal id -> run id and status),
written after every goal; running the same file again skips goals that finished and resumes
the ones that were interrupted (their runs continue from their last checkpoint).
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import yaml

from hepilot.errors import HepilotError, ToolInputError

__all__ = ["load_goals", "run_batch", "run_one"]

log = logging.getLogger(__name__)


def load_goals(path: Path) -> list[dict[str, str]]:
    """Goals from YAML: a list of strings or of {id, goal}; ids default to goal-1, goal-2, ..."""
    if not Path(path).is_file():
        raise ToolInputError("GOALS_FILE", f"no file {path}.", "pass a YAML file with a list of goals")
    try:
        data = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as exc:
        raise ToolInputError("GOALS_FILE", f"{path} is not valid YAML ({exc}).", "write a YAML list of goals") from None
    if isinstance(data, dict) and "goals" in data:
        data = data["goals"]
    if not isinstance(data, list) or not data:
        raise ToolInputError("GOALS_FILE", f"{path} must hold a non-empty list of goals.",
                             "write e.g.\n- generate 1000 top jets\n- id: qed\n  goal: rediscover ...")
    goals = []
    for i, item in enumerate(data, 1):
        if isinstance(item, str):
            goals.append({"id": f"goal-{i}", "goal": item})
        elif isinstance(item, dict) and isinstance(item.get("goal"), str):
            goals.append({"id": str(item.get("id", f"goal-{i}")), "goal": item["goal"]})
        else:
            raise ToolInputError(f"goals[{i - 1}]", f"entry {item!r} is neither a string nor {{id, goal}}.",
                                 "give each goal as a string or as {id: ..., goal: ...}")
    ids = [g["id"] for g in goals]
    if len(set(ids)) != len(ids):
        raise ToolInputError("goals", f"duplicate ids {sorted({i for i in ids if ids.count(i) > 1})}.", "make ids unique")
    return goals


def run_one(goal: dict[str, str], out: str | None, run_id: str | None) -> dict[str, Any]:
    """Run (or resume) one goal; never raises: a failure becomes the row's status."""
    from hepilot.agent.session import resume_run, run_goal

    try:
        if run_id:
            run, state = resume_run(run_id, out=out)
        else:
            run, state = run_goal(goal["goal"], out=out)
        return {"id": goal["id"], "goal": goal["goal"], "run_id": run.run_id, "status": state.get("status", "failed"),
                "summary": state.get("answer") or "; ".join((r.get("result") or {}).get("status", "") or r.get("error", "")
                                                            for r in state.get("records", []))}
    except HepilotError as exc:
        return {"id": goal["id"], "goal": goal["goal"], "run_id": run_id, "status": "failed", "summary": str(exc)}


def run_batch(goals: list[dict[str, str]], *, goals_file: Path, out: str | Path | None = None,
              executor=None) -> dict[str, Any]:
    """Run all goals (through `executor.map` when given), skipping those finished in an earlier invocation."""
    from hepilot.agent.runs import runs_root

    root = runs_root(out)
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(Path(goals_file).resolve().as_posix().encode()).hexdigest()[:8]
    state_path = root / f"batch-{Path(goals_file).stem}-{digest}.json"
    state = json.loads(state_path.read_text()) if state_path.is_file() else {"goals": {}}
    todo = [g for g in goals if state["goals"].get(g["id"], {}).get("status") not in ("done", "refused")]
    rows = iter(executor.map(_run_task, [(g, str(out) if out else None, state["goals"].get(g["id"], {}).get("run_id"))
                                         for g in todo])) if executor else (
        run_one(g, str(out) if out else None, state["goals"].get(g["id"], {}).get("run_id")) for g in todo)
    for row in rows:
        state["goals"][row["id"]] = row
        tmp = state_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(state_path)
    return {"state_file": str(state_path), "goals": [state["goals"][g["id"]] for g in goals]}


def _run_task(task: tuple[dict[str, str], str | None, str | None]) -> dict[str, Any]:
    return run_one(*task)
