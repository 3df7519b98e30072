"""The check result type and the registry of named physics checks that tools attach.

A check is a function `(inp, result) -> CheckResult | list[CheckResult]` registered with
`@check("name")`. It reads numbers from a tool's input and result and states pass/fail with the
measured value and the tolerance, so evals and reports can show *why*.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CheckResult", "Check", "check", "CHECKS", "run_checks"]


class CheckResult(BaseModel):
    """Outcome of one physics check."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="Name of the check, e.g. 'auc_above_random'")
    passed: bool
    measured: Any = Field(None, description="The value the check measured")
    expected: Any = Field(None, description="The reference value or allowed range")
    tolerance: Any = Field(None, description="The tolerance or confidence used")
    message: str = Field("", description="One line a physicist can read")


Check = Callable[[Any, Any], "CheckResult | list[CheckResult]"]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    """Register a named check; the function keeps working as a plain callable."""

    def wrap(fn: Check) -> Check:
        if name in CHECKS and CHECKS[name] is not fn:
            raise ValueError(f"check {name!r} registered twice")
        CHECKS[name] = fn
        fn.check_name = name  # type: ignore[attr-defined]
        return fn

    return wrap


def run_checks(checks: list[Check], inp: Any, result: Any) -> list[CheckResult]:
    """Run checks in order; a check that raises becomes a failed CheckResult, never a crash."""
    out: list[CheckResult] = []
    for fn in checks:
        name = getattr(fn, "check_name", fn.__name__)
        try:
            got = fn(inp, result)
        except Exception as exc:  # a broken check must be visible, not fatal
            got = CheckResult(name=name, passed=False, message=f"check raised {type(exc).__name__}: {exc}")
        out.extend(got if isinstance(got, list) else [got])
    return out
