"""Evaluation cases: what a goal (or a tool call) must produce, loaded from evals/tasks/*.yaml.

Agent cases (suite files with `kind: agent`):

    - id: bdt-main
      goal: Generate 5000 top and 5000 QCD jets ... and train a BDT tagger ...
      paraphrase_of: bdt-main          # paraphrases of one goal count as separate cases
      expect:
        tools: [generate_jets, jet_features, train_bdt]   # must be called, in this order
        args: {generate_jets: {n_jets: 5000, pt_min: 550.0, processes: [top, qcd]}}
        answers: [{path: train_bdt.auc, min: 0.8}]       # physics answers, checked when executed
        refused: false                                    # true: must be refused / "cannot plan"
      execute: false    # plan only (fast); true: run the tools and check the answers too
      fast: true        # part of the fast subset run by `make test`

Argument constraints: a literal must be equal (floats to 1e-6 relative), {min, max} bounds a
number, {contains: x} a list or string. Answer paths are `tool.field[.sub...]` (the latest call
of that tool) with equals / min / max / approx + rel|abs.

Tool cases (`kind: tools`): {id, tool, args, answers: [...], error: "text the error must contain"}.
"""
from __future__ import annotations

import math
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hepilot.agent.plan import UnresolvedReference, field_at

__all__ = ["AnswerCheck", "Expect", "AgentCase", "ToolCase", "Suite", "load_suites", "arg_matches", "lookup"]


class AnswerCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(description="tool.field[.sub] of the latest call of that tool")
    equals: Any = None
    min: float | None = None
    max: float | None = None
    approx: float | None = None
    rel: float | None = None
    abs: float | None = None
    contains: str | None = None

    def judge(self, value: Any) -> tuple[bool, str]:
        """(passed, what was compared) for one measured value."""
        if value is None:
            return False, f"{self.path}: no value"
        if self.equals is not None and value != self.equals:
            return False, f"{self.path} = {value!r}, expected {self.equals!r}"
        if self.contains is not None and self.contains not in str(value):
            return False, f"{self.path} = {str(value)[:80]!r} lacks {self.contains!r}"
        if self.min is not None and not (isinstance(value, (int, float)) and value >= self.min):
            return False, f"{self.path} = {value} < {self.min}"
        if self.max is not None and not (isinstance(value, (int, float)) and value <= self.max):
            return False, f"{self.path} = {value} > {self.max}"
        if self.approx is not None:
            tol = max(self.abs or 0.0, (self.rel or 0.0) * abs(self.approx)) or 1e-9 * abs(self.approx)
            if not (isinstance(value, (int, float)) and abs(value - self.approx) <= tol):
                return False, f"{self.path} = {value}, expected {self.approx} +- {tol:.3g}"
        return True, f"{self.path} = {value if not isinstance(value, float) else round(value, 6)}"


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tools: list[str] = Field(default_factory=list)
    ordered: bool = True
    args: dict[str, dict[str, Any]] = Field(default_factory=dict)
    answers: list[AnswerCheck] = Field(default_factory=list)
    refused: bool = False
    checks_pass: bool = True


class AgentCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    goal: str
    paraphrase_of: str | None = None
    expect: Expect
    execute: bool = False
    fast: bool = True
    tags: list[str] = Field(default_factory=list)


class ToolCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    answers: list[AnswerCheck] = Field(default_factory=list)
    error: str | None = Field(None, description="The call must fail with an error containing this text")
    fast: bool = True
    tags: list[str] = Field(default_factory=list)


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    kind: Literal["agent", "tools", "knowledge"]
    description: str = ""
    cases: list[dict[str, Any]] = Field(default_factory=list)
    questions: str | None = Field(None, description="knowledge suites: question file under evals/")
    k: int = Field(5, ge=1, description="knowledge suites: recall@k")
    fast_questions: int = Field(0, ge=0, description="knowledge suites: questions in the fast subset (0 = all)")

    def agent_cases(self) -> list[AgentCase]:
        return [AgentCase.model_validate(c) for c in self.cases]

    def tool_cases(self) -> list[ToolCase]:
        return [ToolCase.model_validate(c) for c in self.cases]


def load_suites() -> dict[str, Suite]:
    """All suites in evals/tasks/*.yaml, validated (a bad case names its file and id)."""
    folder = resources.files("hepilot.evals") / "tasks"
    suites: dict[str, Suite] = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text())
        try:
            suite = Suite.model_validate(data)
            model = {"agent": AgentCase, "tools": ToolCase}.get(suite.kind)
            for case in suite.cases if model else ():
                model.model_validate(case)
        except ValidationError as exc:
            raise ValueError(f"evals/tasks/{entry.name}: {exc}") from None
        suites[suite.name] = suite
    return suites


def lookup(result: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted path in a result, None when it is not there."""
    try:
        return field_at(result, dotted)
    except UnresolvedReference:
        return None


def arg_matches(value: Any, want: Any) -> bool:
    """Does an argument value satisfy a constraint (literal, {min, max} or {contains})?"""
    if isinstance(want, dict) and set(want) <= {"min", "max", "contains"}:
        if "contains" in want:
            return want["contains"] in (value or [])
        if not isinstance(value, (int, float)):
            return False
        return want.get("min", -math.inf) <= value <= want.get("max", math.inf)
    if isinstance(want, float) and isinstance(value, (int, float)):
        return math.isclose(value, want, rel_tol=1e-6, abs_tol=1e-9)
    return value == want
