"""The typed plan both planners produce, and resolution of `$step.field` references between steps.

A plan is an ordered list of tool calls. An argument may be a reference to the result of an
earlier step of the same run, written "$step_id.field" (e.g. "$gen.path"), or to the latest
result of a tool anywhere in the conversation, "$last:tool_name.field" (chat follow-ups).
References are resolved just before the step runs, from the finished results in the state.
"""
from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PlanStep", "Plan", "resolve_refs", "references", "field_at", "UnresolvedReference"]

_REF = re.compile(r"^\$(?:(last):)?([A-Za-z_][\w-]*)\.([\w.]+)$")


class PlanStep(BaseModel):
    """One tool call of a plan."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(description="Step id, unique within the run (referenced as $id.field)")
    tool: str = Field(description="Registered tool name")
    args: dict[str, Any] = Field(default_factory=dict, description="Arguments; may contain $step.field references")
    why: str = Field("", description="Why this step is in the plan (shown in reports)")


class Plan(BaseModel):
    """A typed plan: what the planner will do and why; the same type for the LLM and offline planners."""

    model_config = ConfigDict(extra="forbid")
    steps: list[PlanStep] = Field(default_factory=list)
    planner: Literal["offline", "llm", "user"] = "offline"
    intents: list[str] = Field(default_factory=list, description="Offline planner: matched intents")
    confidence: float = Field(1.0, description="Offline planner: goal/intent similarity of the weakest intent")
    rationale: str = ""
    answer: str = Field("", description="A direct answer when no tool is needed or planning is refused")
    refused: bool = Field(False, description="True when the goal cannot or must not be planned")
    slots: dict[str, Any] = Field(default_factory=dict, description="Offline planner: slot values used")


class UnresolvedReference(ValueError):
    """A $step.field reference points to a step or field that has no result."""


def references(value: Any) -> list[str]:
    """The step ids (or 'last:tool') a value refers to."""
    out: list[str] = []
    if isinstance(value, str):
        m = _REF.match(value)
        if m:
            out.append(f"last:{m.group(2)}" if m.group(1) else m.group(2))
    elif isinstance(value, dict):
        for v in value.values():
            out.extend(references(v))
    elif isinstance(value, list):
        for v in value:
            out.extend(references(v))
    return out


def field_at(result: dict[str, Any], dotted: str, ref: str = "") -> Any:
    """The value at a dotted path ("rejection.0", "auc") in a result; UnresolvedReference names the
    missing part and the fields that are there."""
    ref = ref or dotted
    cur: Any = result
    for part in dotted.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            keys = ", ".join(cur) if isinstance(cur, dict) else type(cur).__name__
            raise UnresolvedReference(f"{ref}: no field {part!r} (available: {keys})")
    return cur


def resolve_refs(value: Any, results: dict[str, dict[str, Any]], history: list[dict[str, Any]] | None = None) -> Any:
    """Replace references with values: `results` maps step id -> result dict; `history` is the
    list of earlier tool records ({tool, result}) of the conversation, oldest first."""
    if isinstance(value, str):
        m = _REF.match(value)
        if not m:
            return value
        last, name, dotted = m.groups()
        if last:
            for rec in reversed(history or []):
                if rec.get("tool") == name and rec.get("result") is not None:
                    return field_at(rec["result"], dotted, value)
            raise UnresolvedReference(f"{value}: no earlier result of tool {name!r} in this conversation")
        if name not in results:
            raise UnresolvedReference(f"{value}: step {name!r} has no result (steps done: {', '.join(results) or 'none'})")
        return field_at(results[name], dotted, value)
    if isinstance(value, dict):
        return {k: resolve_refs(v, results, history) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v, results, history) for v in value]
    return value
