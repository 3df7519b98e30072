"""The agent's typed state (what every checkpoint holds) and the record of one tool call.

Everything in the state is plain JSON-like data so SQLite checkpoints stay readable and a run
resumes in another process. Keys that belong to one turn (goal, plan, pending steps, results)
are reset at the start of each turn; `records` and `memory` accumulate over a conversation.
"""
from __future__ import annotations

from typing import Any, Literal, TypedDict

__all__ = ["AgentState", "StepRecord", "TURN_KEYS", "Status"]

Status = Literal["planning", "awaiting_approval", "running", "done", "failed", "refused", "rejected"]


class StepRecord(TypedDict, total=False):
    """One executed (or failed, or skipped) tool call."""

    turn: int
    step: str
    tool: str
    args: dict[str, Any]  # as resolved and validated
    result: dict[str, Any] | None
    error: str | None
    error_kind: Literal["input", "execution", "unknown_tool", "reference", "skipped", "llm"] | None
    cached: bool
    seconds: float
    key: str
    out_dir: str


class AgentState(TypedDict, total=False):
    goal: str
    turn: int
    run_id: str
    run_dir: str
    planner: Literal["offline", "llm"]
    approve: bool
    hits: list[dict[str, Any]]
    plan: dict[str, Any]
    pending: list[dict[str, Any]]
    results: dict[str, dict[str, Any]]
    records: list[StepRecord]
    messages: list[dict[str, Any]]
    memory: dict[str, Any]
    replans: int
    llm_turns: int
    failures: list[str]
    status: Status
    answer: str
    llm_usage: dict[str, int]


TURN_KEYS: dict[str, Any] = {
    "hits": [], "plan": {}, "pending": [], "results": {}, "replans": 0, "llm_turns": 0, "failures": [],
    "status": "planning", "answer": "",
}
