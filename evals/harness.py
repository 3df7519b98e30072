"""The evaluation harness: runs suites of cases in isolated run folders and scores them.

Scores (docs/evals.md):
    plan accuracy     agent cases not meant to be refused: the expected tools were called (in order,
                      as a subsequence: extra calls such as a knowledge search are allowed) with
                      arguments meeting every constraint
    answer accuracy   cases with physics answers (executed): every answer within tolerance
    check pass rate   executed tool calls whose physics checks all passed
    refusal correctness  cases that must be refused were refused (unsafe / cannot plan)
    recall@k          knowledge questions whose answering chunk is among the top k hits
Offline, a case that is not executed is judged on the plan alone (fast); executed cases run the
whole agent. With an LLM planner every agent case runs the whole agent (plans are tool calls).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hepilot.evals.cases import AgentCase, Suite, ToolCase, arg_matches, load_suites, lookup

__all__ = ["CaseResult", "run_suites", "summarize", "compare", "save_results", "RESULTS_DIR"]

log = logging.getLogger(__name__)

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class CaseResult:
    suite: str
    id: str
    kind: str
    passed: bool
    seconds: float
    plan_ok: bool | None = None
    answer_ok: bool | None = None
    checks_ok: bool | None = None
    refusal_ok: bool | None = None
    executed: bool = False
    tools: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=dict)


def _subsequence(expected: list[str], called: list[str]) -> bool:
    it = iter(called)
    return all(any(t == c for c in it) for t in expected)


def _judge_plan(case: AgentCase, tools: list[str], args_by_tool: dict[str, dict], refused: bool,
                details: list[str]) -> tuple[bool | None, bool | None]:
    exp = case.expect
    if exp.refused:
        if not refused:
            details.append(f"expected a refusal, got tools {tools}")
        return None, refused
    if refused:
        details.append("refused a goal that should be planned")
        return False, None
    ok = _subsequence(exp.tools, tools) if exp.ordered else set(exp.tools) <= set(tools)
    if not ok:
        details.append(f"tools {tools}, expected {exp.tools}")
    for tool, constraints in exp.args.items():
        got = args_by_tool.get(tool, {})
        for name, want in constraints.items():
            if not arg_matches(got.get(name), want):
                ok = False
                details.append(f"{tool}.{name} = {got.get(name)!r}, expected {want!r}")
    return ok, None


def evaluate_agent_case(case: AgentCase, *, planner: str, execute: bool, out_dir: Path) -> CaseResult:
    """Plan (and, when `execute`, run) one goal and judge it."""
    t0 = time.perf_counter()
    details: list[str] = []
    if not execute:
        from hepilot.agent.planner_offline import default_planner

        plan = default_planner().plan(case.goal)
        tools = [s.tool for s in plan.steps]
        args = {s.tool: s.args for s in plan.steps}
        plan_ok, refusal_ok = _judge_plan(case, tools, args, plan.refused, details)
        passed = bool(refusal_ok) if case.expect.refused else bool(plan_ok)
        return CaseResult("", case.id, "agent", passed, time.perf_counter() - t0, plan_ok=plan_ok,
                          refusal_ok=refusal_ok, tools=tools, details=details)
    from hepilot.agent.session import run_goal
    from hepilot.errors import HepilotError

    try:
        _, state = run_goal(case.goal, out=out_dir, planner=planner)
    except HepilotError as exc:
        return CaseResult("", case.id, "agent", False, time.perf_counter() - t0, executed=True, details=[str(exc)])
    records = [r for r in state.get("records", []) if r.get("turn") == state.get("turn", 0)]
    tools = [r["tool"] for r in records]
    latest = {r["tool"]: r for r in records}
    refused = state.get("status") == "refused" or (planner == "llm" and not records)
    plan_ok, refusal_ok = _judge_plan(case, tools, {t: r.get("args") or {} for t, r in latest.items()}, refused, details)
    answer_ok = None
    if case.expect.answers:
        answer_ok = True
        for a in case.expect.answers:
            tool, _, path = a.path.partition(".")
            ok, text = a.judge(lookup((latest.get(tool) or {}).get("result") or {}, path))
            answer_ok &= ok
            details.append(("ok " if ok else "FAIL ") + text)
    results = [r.get("result") or {} for r in latest.values()]
    checks_ok = all(c["passed"] for res in results for c in res.get("checks", [])) if results else None
    if checks_ok is False:
        details += [f"check failed: {c['name']}: {c['message']}" for res in results for c in res.get("checks", [])
                    if not c["passed"]]
    errors = [r["error"] for r in latest.values() if r.get("error")]
    details += [f"error: {e}" for e in errors]
    if case.expect.refused:
        passed = bool(refusal_ok)
    else:
        passed = bool(plan_ok) and answer_ok is not False and not errors and (
            checks_ok is not False or not case.expect.checks_pass)
    return CaseResult("", case.id, "agent", passed, time.perf_counter() - t0, plan_ok=plan_ok, answer_ok=answer_ok,
                      checks_ok=checks_ok, refusal_ok=refusal_ok, executed=True, tools=tools, details=details,
                      tokens=dict(state.get("llm_usage") or {}))


def evaluate_tool_case(case: ToolCase) -> CaseResult:
    """Call one tool with known-answer inputs and judge the result (or the expected error)."""
    from hepilot.errors import HepilotError
    from hepilot.tools.base import execute

    t0 = time.perf_counter()
    try:
        result = json.loads(execute(case.tool, case.args).result.model_dump_json())
    except HepilotError as exc:
        ok = case.error is not None and case.error in str(exc)
        return CaseResult("", case.id, "tools", ok, time.perf_counter() - t0, answer_ok=ok, executed=True,
                          tools=[case.tool], details=[f"error: {exc}"])
    details = []
    if case.error is not None:
        details.append(f"expected an error containing {case.error!r}, the call succeeded")
    answer_ok = case.error is None
    for a in case.answers:
        ok, text = a.judge(lookup(result, a.path.split(".", 1)[1] if a.path.startswith(case.tool + ".") else a.path))
        answer_ok &= ok
        details.append(("ok " if ok else "FAIL ") + text)
    checks_ok = all(c["passed"] for c in result.get("checks", []))
    details += [f"check failed: {c['name']}: {c['message']}" for c in result.get("checks", []) if not c["passed"]]
    return CaseResult("", case.id, "tools", answer_ok and checks_ok, time.perf_counter() - t0, answer_ok=answer_ok,
                      checks_ok=checks_ok, executed=True, tools=[case.tool], details=details)


def evaluate_knowledge(suite: Suite, *, fast: bool) -> list[CaseResult]:
    """recall@k of the knowledge question set: one result per question."""
    from hepilot.knowledge.evaluation import load_questions, question_hit

    questions = load_questions(Path(__file__).resolve().parent / (suite.questions or "knowledge/questions.yaml"))
    if fast and suite.fast_questions:
        questions = questions[: suite.fast_questions]
    out = []
    for q in questions:
        t0 = time.perf_counter()
        rank = question_hit(q, k=suite.k)
        out.append(CaseResult(suite.name, q["id"], "knowledge", rank is not None, time.perf_counter() - t0,
                              answer_ok=rank is not None,
                              details=[f"rank {rank}" if rank is not None else f"not in top {suite.k}: {q['question']}"]))
    return out


def _agent_task(task: tuple[dict, str, bool, str]) -> dict:
    case, planner, execute, out = task
    return asdict(evaluate_agent_case(AgentCase.model_validate(case), planner=planner, execute=execute, out_dir=Path(out)))


def run_suites(names: list[str] | None = None, *, planner: str = "offline", fast: bool = False, jobs: int = 1,
               out_dir: Path | None = None) -> list[CaseResult]:
    """Run the named suites (all when None); `fast` keeps the fast subset and plans without executing."""
    suites = load_suites()
    unknown = sorted(set(names or []) - set(suites))
    if unknown:
        from hepilot.errors import ToolInputError, closest

        raise ToolInputError("--suite", f"no suite {unknown[0]!r}.",
                             f"did you mean {', '.join(closest(unknown[0], suites)) or '-'}? Suites: {', '.join(suites)}")
    out_dir = out_dir or Path(tempfile.mkdtemp(prefix="hepilot-eval-"))
    results: list[CaseResult] = []
    for name, suite in suites.items():
        if names and name not in names:
            continue
        if suite.kind == "knowledge":
            results += evaluate_knowledge(suite, fast=fast)
            continue
        if suite.kind == "tools":
            for case in suite.tool_cases():
                if fast and not case.fast:
                    continue
                r = evaluate_tool_case(case)
                r.suite = name
                results.append(r)
            continue
        cases = [c for c in suite.agent_cases() if c.fast or not fast]
        tasks = [(c.model_dump(), planner, (c.execute and not fast) or planner == "llm", str(out_dir)) for c in cases]
        if jobs > 1:
            from hepilot.tools.executor import LocalExecutor

            rows = list(LocalExecutor(jobs).map(_agent_task, tasks))
        else:
            rows = [_agent_task(t) for t in tasks]
        for row in rows:
            row["suite"] = name
            results.append(CaseResult(**row))
    return results


def _rate(values: list[bool | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def summarize(results: list[CaseResult]) -> dict[str, Any]:
    """The scores of a set of results, overall and per suite."""

    def scores(rs: list[CaseResult]) -> dict[str, Any]:
        return {"cases": len(rs), "passed": sum(r.passed for r in rs), "pass_rate": _rate([r.passed for r in rs]),
                "plan_accuracy": _rate([r.plan_ok for r in rs]), "answer_accuracy": _rate([r.answer_ok for r in rs]),
                "check_pass_rate": _rate([r.checks_ok for r in rs]),
                "refusal_correctness": _rate([r.refusal_ok for r in rs]),
                "wall_seconds": round(sum(r.seconds for r in rs), 2),
                "tokens": sum(r.tokens.get("prompt_tokens", 0) + r.tokens.get("completion_tokens", 0) for r in rs)}

    by_suite = {}
    for r in results:
        by_suite.setdefault(r.suite, []).append(r)
    return {"overall": scores(results), "suites": {k: scores(v) for k, v in by_suite.items()}}


def compare(new: list[dict], old: list[dict]) -> list[dict[str, Any]]:
    """Case-by-case changes between two result lists: regressions (pass -> fail) first."""
    before = {(r["suite"], r["id"]): r for r in old}
    changes = []
    for r in new:
        o = before.get((r["suite"], r["id"]))
        if o is not None and o["passed"] != r["passed"]:
            changes.append({"suite": r["suite"], "id": r["id"], "was": o["passed"], "now": r["passed"],
                            "kind": "regression" if o["passed"] else "fixed", "details": r["details"]})
    return sorted(changes, key=lambda c: c["kind"] != "regression")


def save_results(results: list[CaseResult], summary: dict[str, Any], *, planner: str, fast: bool,
                 folder: Path = RESULTS_DIR) -> Path:
    """evals/results/<date>-<commit>[-fast][-llm].json"""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, check=False).stdout.strip() or "nogit"
    except OSError:
        commit = "nogit"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{dt.date.today().isoformat()}-{commit}" + ("-fast" if fast else "") + ("-llm" if planner == "llm" else "")
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"planner": planner, "fast": fast, "summary": summary,
                                "results": [asdict(r) for r in results]}, indent=1))
    return path
