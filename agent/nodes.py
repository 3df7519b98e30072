"""The agent's nodes: understand -> retrieve -> plan -> [approve] -> act (one step each) -> check -> report.

Routing lives in each node's return type (`Command[Literal[...]]`); graph.py only wires them.
A node never raises for bad goals or bad tool calls: problems become records, failures and
messages the planner (and the report) can read.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from langgraph.types import Command, interrupt

from hepilot.agent import prompts
from hepilot.agent.plan import Plan, PlanStep, UnresolvedReference, references, resolve_refs
from hepilot.agent.runs import RunDir
from hepilot.agent.state import AgentState, StepRecord
from hepilot.errors import HepilotError, ToolInputError, UnknownToolError
from hepilot.tools.base import ToolContext, execute

__all__ = ["Runtime", "Nodes"]

log = logging.getLogger(__name__)

_MAX_TOOL_MESSAGE = 6000


@dataclass
class Runtime:
    """What the nodes need beyond the state: the run folder, planners, LLM client, tool context."""

    run: RunDir
    tool_context: ToolContext
    llm: Any = None  # LLMClient for the LLM planner (None offline)
    max_replans: int = 2
    max_turns: int = 8
    _offline: Any = field(default=None, repr=False)

    @property
    def offline(self):
        if self._offline is None:
            from hepilot.agent.planner_offline import default_planner

            self._offline = default_planner()
        return self._offline


def _result_dict(result) -> dict[str, Any]:
    return json.loads(result.model_dump_json())


class Nodes:
    """Node functions bound to one Runtime."""

    def __init__(self, rt: Runtime):
        self.rt = rt

    # -- understand / retrieve -------------------------------------------------------------
    def understand(self, state: AgentState) -> Command[Literal["retrieve", "report"]]:
        goal = " ".join((state.get("goal") or "").split())
        self.rt.run.trace({"event": "node", "node": "understand", "goal": goal, "turn": state.get("turn", 0)})
        if not goal:
            return Command(goto="report", update={"status": "refused", "answer": prompts.EMPTY_GOAL})
        if len(re.findall(r"[A-Za-z]{2,}", goal)) == 0:
            return Command(goto="report", update={"status": "refused",
                                                  "answer": prompts.NONSENSE_GOAL.format(goal=goal)})
        return Command(goto="retrieve", update={"goal": goal})

    def retrieve(self, state: AgentState) -> dict[str, Any]:
        hits: list[dict[str, Any]] = []
        try:
            from hepilot.knowledge import retrieve
        except ImportError:
            retrieve = None
        if retrieve is not None:
            try:
                hits = [h.to_dict() if hasattr(h, "to_dict") else dict(h.__dict__) for h in retrieve(state["goal"], k=5)]
            except Exception as exc:  # retrieval is grounding, not a precondition: a broken index must not stop the run
                log.warning("knowledge retrieval failed: %s", exc)
                self.rt.run.trace({"event": "retrieve_error", "error": str(exc)})
        self.rt.run.trace({"event": "node", "node": "retrieve", "hits": [h.get("citation", "") for h in hits]})
        return {"hits": hits}

    # -- plan -----------------------------------------------------------------------------
    def plan(self, state: AgentState) -> Command[Literal["approve", "act", "report"]]:
        if state.get("planner") == "llm":
            return self._plan_llm(state)
        plan = self.rt.offline.plan(state["goal"], memory=state.get("memory") or {})
        self.rt.run.trace({"event": "plan", "planner": "offline", "plan": plan.model_dump()})
        if plan.refused:
            return Command(goto="report", update={"plan": plan.model_dump(), "status": "refused", "answer": plan.answer})
        memory = dict(state.get("memory") or {})
        memory.update({k.split(".", 1)[1]: v for k, v in plan.slots.items()})
        update = {"plan": plan.model_dump(), "pending": [s.model_dump() for s in plan.steps], "memory": memory,
                  "status": "running"}
        return Command(goto="approve" if state.get("approve") else "act", update=update)

    def _plan_llm(self, state: AgentState) -> Command[Literal["approve", "act", "report"]]:
        from hepilot.agent.llm import LLMError
        from hepilot.tools.registry import openai_tools

        messages = list(state.get("messages") or [])
        if not messages or state.get("llm_turns", 0) == 0:
            docs = ""
            if state.get("hits"):
                from hepilot.knowledge import Hit, format_hits_for_prompt

                fields = Hit.__dataclass_fields__
                docs = format_hits_for_prompt([Hit(**{k: v for k, v in h.items() if k in fields}) for h in state["hits"]])
            if not messages:
                messages.append({"role": "system", "content": prompts.SYSTEM})
            messages.append({"role": "user", "content": prompts.USER_GOAL.format(goal=state["goal"], documents=docs)})
        if state.get("failures") and messages[-1].get("role") == "tool":
            messages.append({"role": "user", "content": prompts.REPLAN.format(failures="\n".join(state["failures"]))})
        try:
            turn = self.rt.llm.chat(messages, tools=openai_tools())
        except LLMError as exc:
            self.rt.run.trace({"event": "llm_error", "error": str(exc)})
            return Command(goto="report", update={"status": "failed", "answer": str(exc), "messages": messages})
        usage = dict(self.rt.llm.usage)
        assistant: dict[str, Any] = {"role": "assistant", "content": turn.content or None}
        if turn.tool_calls:
            assistant["tool_calls"] = [{"id": c.id, "type": "function",
                                        "function": {"name": c.name, "arguments": c.arguments}} for c in turn.tool_calls]
        messages.append(assistant)
        n_turns = state.get("llm_turns", 0) + 1
        if not turn.tool_calls:
            plan = dict(state.get("plan") or {})
            plan.update({"planner": "llm", "answer": turn.content})
            return Command(goto="report", update={"messages": messages, "answer": turn.content, "llm_turns": n_turns,
                                                  "llm_usage": usage, "plan": plan, "failures": []})
        steps = []
        for c in turn.tool_calls:
            try:
                args, problem = c.parsed(), ""
            except ValueError as exc:
                args, problem = {}, f"the arguments are not valid JSON ({exc}); send a JSON object"
            steps.append({**PlanStep(id=c.id, tool=c.name, args=args, why="LLM tool call").model_dump(),
                          "args_error": problem})
        plan = Plan(steps=[PlanStep(**{k: v for k, v in s.items() if k != "args_error"}) for s in steps],
                    planner="llm", rationale=turn.content or "")
        old = (state.get("plan") or {}).get("steps", [])
        plan_dump = plan.model_dump()
        plan_dump["steps"] = old + plan_dump["steps"]
        self.rt.run.trace({"event": "plan", "planner": "llm", "steps": [s["tool"] for s in steps], "turn": n_turns})
        return Command(goto="approve" if state.get("approve") else "act",
                       update={"messages": messages, "pending": steps, "llm_turns": n_turns, "llm_usage": usage,
                               "plan": plan_dump, "status": "running", "failures": []})

    # -- approve --------------------------------------------------------------------------
    def approve(self, state: AgentState) -> Command[Literal["act", "report"]]:
        """Pause before acting: the user accepts, edits arguments ({step: {arg: value}}) or rejects."""
        decision = interrupt({"goal": state["goal"], "pending": state["pending"]})
        action = (decision or {}).get("action", "accept") if isinstance(decision, dict) else str(decision)
        self.rt.run.trace({"event": "approval", "decision": decision})
        if action == "reject":
            return Command(goto="report", update={"status": "rejected", "answer": "the plan was rejected by the user",
                                                  "pending": []})
        pending = [dict(s) for s in state["pending"]]
        if action == "edit":
            edits = decision.get("args") or {}
            unknown = set(edits) - {s["id"] for s in pending}
            if unknown:
                return Command(goto="report", update={"status": "rejected", "pending": [],
                                                      "answer": f"edit names unknown steps {sorted(unknown)}; "
                                                                f"steps are {[s['id'] for s in pending]}"})
            for s in pending:
                s["args"] = {**s["args"], **edits.get(s["id"], {})}
        return Command(goto="act", update={"pending": pending})

    # -- act ------------------------------------------------------------------------------
    def act(self, state: AgentState) -> Command[Literal["act", "check"]]:
        pending = [dict(s) for s in state.get("pending") or []]
        if not pending:
            return Command(goto="check")
        step = pending.pop(0)
        turn = state.get("turn", 0)
        results = dict(state.get("results") or {})
        records = list(state.get("records") or [])
        rec = self._run_step(step, results, records, turn)
        records.append(rec)
        if rec.get("result") is not None:
            results[step["id"]] = rec["result"]
        update: dict[str, Any] = {"pending": pending, "records": records, "results": results}
        if state.get("planner") == "llm":
            update["messages"] = list(state.get("messages") or []) + [
                {"role": "tool", "tool_call_id": step["id"], "content": self._tool_message(rec)}]
        return Command(goto="act" if pending else "check", update=update)

    def _run_step(self, step: dict[str, Any], results: dict, records: list, turn: int) -> StepRecord:
        rec: StepRecord = {"turn": turn, "step": step["id"], "tool": step["tool"], "args": step.get("args", {}),
                           "result": None, "error": None, "error_kind": None, "cached": False, "seconds": 0.0}
        failed_steps = {r["step"] for r in records if r.get("turn") == turn and r.get("error")}
        deps = [d for d in references(step.get("args", {})) if d in failed_steps]
        if step.get("args_error"):
            rec.update(error=f"{step['tool']}: {step['args_error']}", error_kind="input")
        elif deps:
            rec.update(error=f"skipped: depends on failed step(s) {', '.join(deps)}", error_kind="skipped")
        else:
            try:
                args = resolve_refs(step.get("args", {}), results, records)
                rec["args"] = args
                call = execute(step["tool"], args, ctx=self.rt.tool_context)
                rec.update(result=_result_dict(call.result), cached=call.cached, seconds=round(call.seconds, 3),
                           key=call.key, out_dir=call.out_dir, args=call.args)
            except UnresolvedReference as exc:
                rec.update(error=str(exc), error_kind="reference")
            except UnknownToolError as exc:
                rec.update(error=str(exc), error_kind="unknown_tool")
            except ToolInputError as exc:
                rec.update(error=str(exc), error_kind="input")
            except HepilotError as exc:
                rec.update(error=str(exc), error_kind="execution")
        checks = (rec.get("result") or {}).get("checks", [])
        self.rt.run.trace({"event": "tool", "step": rec["step"], "tool": rec["tool"], "args": rec["args"],
                           "cached": rec["cached"], "seconds": rec["seconds"], "error": rec["error"],
                           "status": (rec.get("result") or {}).get("status"),
                           "checks": {c["name"]: c["passed"] for c in checks}})
        return rec

    @staticmethod
    def _tool_message(rec: StepRecord) -> str:
        if rec.get("error"):
            return f"ERROR: {rec['error']}"
        text = json.dumps(rec["result"], default=str)
        return text if len(text) <= _MAX_TOOL_MESSAGE else text[:_MAX_TOOL_MESSAGE] + " ...(truncated)"

    # -- check ----------------------------------------------------------------------------
    def check(self, state: AgentState) -> Command[Literal["plan", "act", "report"]]:
        turn = state.get("turn", 0)
        mine = [r for r in state.get("records") or [] if r.get("turn") == turn]
        failures = []
        for r in mine:
            if r.get("error"):
                failures.append(prompts.TOOL_ERROR.format(tool=f"{r['step']} ({r['tool']})", error=r["error"]))
            bad = [c for c in (r.get("result") or {}).get("checks", []) if not c["passed"]]
            if bad:
                failures.append(prompts.CHECKS_FAILED.format(tool=f"{r['step']} ({r['tool']})",
                                                             checks="; ".join(f"{c['name']}: {c['message']}" for c in bad)))
        self.rt.run.trace({"event": "node", "node": "check", "failures": failures})
        replans = state.get("replans", 0)
        if state.get("planner") == "llm":
            if state.get("llm_turns", 0) >= self.rt.max_turns:
                return Command(goto="report", update={"failures": failures, "answer":
                                                      f"stopped after {self.rt.max_turns} tool-calling rounds"})
            if failures and replans >= self.rt.max_replans:
                return Command(goto="report", update={"failures": failures})
            return Command(goto="plan", update={"failures": failures, "replans": replans + bool(failures)})
        retry = self._offline_retry(state, mine)
        if retry and replans < self.rt.max_replans:
            self.rt.run.trace({"event": "replan", "retry": [s["id"] for s in retry]})
            records = [r for r in state["records"] if not (r.get("turn") == turn and r["step"] in {s["id"] for s in retry})]
            return Command(goto="act", update={"pending": retry, "records": records, "replans": replans + 1,
                                               "failures": failures})
        return Command(goto="report", update={"failures": failures})

    @staticmethod
    def _offline_retry(state: AgentState, mine: list[StepRecord]) -> list[dict[str, Any]]:
        """Steps to run again: those that failed in execution (possibly transient) and what depended on them."""
        failed = {r["step"] for r in mine if r.get("error_kind") in ("execution", "skipped")}
        if not any(r.get("error_kind") == "execution" for r in mine):
            return []
        steps = (state.get("plan") or {}).get("steps", [])
        return [dict(s) for s in steps if s["id"] in failed]

    # -- report ---------------------------------------------------------------------------
    def report(self, state: AgentState) -> dict[str, Any]:
        from hepilot.agent.report import final_status, write_report

        status = final_status(state)
        state = {**state, "status": status}
        write_report(state, self.rt.run)
        self.rt.run.trace({"event": "node", "node": "report", "status": status})
        return {"status": status}
