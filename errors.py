"""Typed errors raised by tools; the agent turns them into messages for the planner and the user.

The message texts are part of the interface (an LLM planner learns from them): keep them
constant and tested. Every error names what was wrong and what to do instead.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "HepilotError",
    "ToolInputError",
    "UnknownToolError",
    "ToolExecutionError",
    "PhysicsCheckFailed",
    "closest",
]


def closest(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The valid names closest to a wrong one (difflib), best first."""
    choices = list(choices)
    hits = difflib.get_close_matches(name, choices, n=n, cutoff=0.5)
    if not hits:
        low = {c.lower(): c for c in choices}
        hits = [low[h] for h in difflib.get_close_matches(name.lower(), list(low), n=n, cutoff=0.4)]
    return hits


class HepilotError(Exception):
    """Base class of hepilot's own errors; `exit_code` is what the CLI returns."""

    exit_code = 1


class ToolInputError(HepilotError, ValueError):
    """An argument (or input file) is invalid; nothing was run. Exit code 2.

    `field` is the argument's name (dotted for nested fields), `fix` says what to change.
    """

    exit_code = 2

    def __init__(self, field: str, problem: str, fix: str = "", *, tool: str | None = None):
        self.field = field
        self.problem = problem
        self.fix = fix
        self.tool = tool
        where = f"{tool}: " if tool else ""
        text = f"{where}invalid argument '{field}': {problem}"
        if fix:
            text += f" Fix: {fix}"
        super().__init__(text)


class UnknownToolError(HepilotError, KeyError):
    """A tool name that is not in the registry. Exit code 2."""

    exit_code = 2

    def __init__(self, name: str, available: Iterable[str]):
        self.name = name
        self.available = sorted(available)
        near = closest(name, self.available)
        hint = f" Did you mean {', '.join(near)}?" if near else ""
        self.message = f"{name} is not a valid tool, try one of [{', '.join(self.available)}].{hint}"
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class ToolExecutionError(HepilotError, RuntimeError):
    """The tool ran but could not finish (generator failure, training diverged, ...). Exit code 1."""


class PhysicsCheckFailed(HepilotError):
    """A result failed one of its physics checks. Exit code 1; the result is still reported."""

    def __init__(self, tool: str, failed: list):
        self.tool = tool
        self.failed = failed
        names = ", ".join(f"{c.name} ({c.message})" for c in failed)
        super().__init__(f"{tool}: physics check failed: {names}")
