"""report.md and results.json of a run: goal, plan, numbers, plots, checks, citations, versions, seeds, timings."""
from __future__ import annotations

import json
import platform
import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from hepilot.agent.runs import RunDir
from hepilot.agent.state import AgentState

__all__ = ["final_status", "write_report", "exit_code", "PACKAGES"]

PACKAGES = ("hepilot", "torch", "pythia8mc", "fastjet", "xgboost-cpu", "numpy", "awkward", "uproot", "langgraph",
            "openai", "chromadb", "sentence-transformers", "pyoperon", "qiskit", "transformers", "optuna")


def _latest_per_tool(state: AgentState) -> list[dict]:
    """This turn's records, keeping only the latest call of each tool: a call the planner corrected
    (after a validation message) or retried is superseded; the report still lists every call."""
    turn = state.get("turn", 0)
    latest: dict[str, dict] = {}
    for r in state.get("records") or []:
        if r.get("turn") == turn:
            latest[r["tool"]] = r
    return list(latest.values())


def final_status(state: AgentState) -> str:
    """done (all steps ran and passed their checks), failed, refused or rejected."""
    if state.get("status") in ("refused", "rejected"):
        return state["status"]
    mine = _latest_per_tool(state)
    if state.get("status") == "failed":
        return "failed"
    if any(r.get("error") for r in mine):
        return "failed"
    if any(not c["passed"] for r in mine for c in (r.get("result") or {}).get("checks", [])):
        return "failed"
    return "done"


def exit_code(state: dict[str, Any]) -> int:
    """CLI exit code: 0 done, 2 invalid input (refused, cannot plan, rejected argument), 1 other failures."""
    status = state.get("status")
    if status == "done":
        return 0
    if status in ("refused", "rejected"):
        return 2
    kinds = {r.get("error_kind") for r in _latest_per_tool(state) if r.get("error")}
    if kinds and kinds <= {"input", "unknown_tool", "skipped", "reference"}:
        return 2
    return 1


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def _scalars(result: dict[str, Any]) -> list[tuple[str, str]]:
    """Flat (name, value) rows of a result's numbers for the report table."""
    rows = []
    for k, v in result.items():
        if k in ("status", "artifacts", "checks"):
            continue
        if isinstance(v, float):
            rows.append((k, f"{v:.6g}"))
        elif isinstance(v, (int, bool)) or (isinstance(v, str) and len(v) < 120):
            rows.append((k, str(v)))
        elif isinstance(v, dict) and v and all(isinstance(x, (int, float, str, bool)) for x in v.values()) and len(v) <= 12:
            rows.append((k, ", ".join(f"{a}: {b:.4g}" if isinstance(b, float) else f"{a}: {b}" for a, b in v.items())))
    return rows


def _seeds(args: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in args.items() if "seed" in k}


def _copy_plots(result: dict[str, Any], run: RunDir, step: str) -> list[tuple[str, str]]:
    out = []
    for name, path in (result.get("artifacts") or {}).items():
        p = Path(path)
        if p.suffix.lower() == ".png" and p.is_file():
            dest = run.plots / f"{step}-{name}.png"
            shutil.copyfile(p, dest)
            out.append((name, f"plots/{dest.name}"))
    return out


def write_report(state: AgentState, run: RunDir) -> Path:
    """Write report.md and results.json for all turns of the run."""
    from hepilot.settings import get_settings, settings_hash

    records = state.get("records") or []
    lines = [f"# hepilot report — {run.run_id}", ""]
    lines += [f"**Goal:** {state.get('goal', '')}", "", f"**Status:** {state.get('status')}", ""]
    if state.get("answer"):
        lines += ["**Answer:**", "", *[f"> {ln}" for ln in str(state["answer"]).splitlines()], ""]
    plan = state.get("plan") or {}
    lines += ["## Plan", ""]
    lines.append(f"Planner: {plan.get('planner', state.get('planner', 'offline'))}"
                 + (f"; intents: {', '.join(plan['intents'])} (confidence {plan.get('confidence', 0):.2f})"
                    if plan.get("intents") else ""))
    lines.append("")
    if plan.get("steps"):
        lines += ["| step | tool | arguments |", "|---|---|---|"]
        for s in plan["steps"]:
            lines.append(f"| {s['id']} | `{s['tool']}` | `{json.dumps(s.get('args', {}), default=str)[:300]}` |")
        lines.append("")
    lines += ["## Results", ""]
    all_checks: list[tuple[str, dict]] = []
    for r in records:
        res = r.get("result") or {}
        title = f"### {r['step']}: `{r['tool']}`" + (f" (turn {r['turn']})" if r.get("turn") else "")
        lines += [title, ""]
        if r.get("error"):
            lines += [f"**Error ({r.get('error_kind')}):** {r['error']}", ""]
            continue
        cached = " (cached result, not recomputed)" if r.get("cached") else ""
        lines += [f"{res.get('status', '')}", "", f"_{r.get('seconds', 0):.1f} s{cached}_", ""]
        rows = _scalars(res)
        if rows:
            lines += ["| quantity | value |", "|---|---|", *[f"| {k} | {v} |" for k, v in rows], ""]
        for name, rel in _copy_plots(res, run, r["step"]):
            lines += [f"![{name}]({rel})", ""]
        all_checks += [(r["step"], c) for c in res.get("checks", [])]
    lines += ["## Physics checks", ""]
    if all_checks:
        lines += ["| step | check | passed | measured | expected | note |", "|---|---|---|---|---|---|"]
        for step, c in all_checks:
            lines.append(f"| {step} | {c['name']} | {'yes' if c['passed'] else '**NO**'} | {c.get('measured')} | "
                         f"{c.get('expected')} | {c.get('message', '')} |")
    else:
        lines.append("No checks ran.")
    lines.append("")
    if state.get("failures"):
        lines += ["## Failures", "", *[f"- {f}" for f in state["failures"]], ""]
    hits = state.get("hits") or []
    lines += ["## Sources", ""]
    lines += [f"- {h.get('citation') or h.get('title') or h.get('source')}" for h in hits] or ["No documents retrieved."]
    lines.append("")
    versions = _versions()
    seeds = {r["step"]: _seeds(r.get("args") or {}) for r in records if _seeds(r.get("args") or {})}
    usage = state.get("llm_usage") or {}
    lines += ["## Reproducibility", "",
              f"- versions: {', '.join(f'{k} {v}' for k, v in versions.items())}",
              f"- settings hash: {settings_hash()} (preset {get_settings().preset})",
              f"- seeds: {json.dumps(seeds) if seeds else 'none'}",
              f"- wall time of tool calls: {sum(r.get('seconds', 0) for r in records):.1f} s",
              f"- cache keys: {', '.join(r['key'] for r in records if r.get('key')) or 'none'}"]
    if usage:
        lines.append(f"- LLM: {usage.get('requests', 0)} requests, {usage.get('prompt_tokens', 0)} prompt + "
                     f"{usage.get('completion_tokens', 0)} completion tokens")
    lines += ["- files: `results.json` (every call with arguments and results), `trace.jsonl` (event log)", ""]
    run.write_json("results.json", {"run_id": run.run_id, "goal": state.get("goal"), "status": state.get("status"),
                                    "answer": state.get("answer"), "plan": plan, "records": records,
                                    "failures": state.get("failures", []), "hits": hits, "versions": versions,
                                    "settings_hash": settings_hash(), "llm_usage": usage})
    return run.write_text("report.md", "\n".join(lines))
