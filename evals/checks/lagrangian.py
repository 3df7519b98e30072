"""Physics checks on Lagrangians returned by tools: gauge and Lorentz invariance, hermiticity, dimension.

Each check re-runs the exact validator (models/theory/lagrangian/validator.py) on the result's tokens and
field tokens, so it judges what the tool returned, independently of how it was produced.
"""
from __future__ import annotations

from typing import Any

from hepilot.evals.checks.base import CheckResult, check

__all__ = ["gauge_invariance", "lorentz_invariance", "hermiticity", "renormalisable", "lagrangian_verdict"]


def lagrangian_verdict(result: Any):
    """The validator's verdict on a result with `tokens` and `field_tokens`."""
    from hepilot.models.theory.lagrangian.tokens import decode_fields
    from hepilot.models.theory.lagrangian.validator import validate

    return validate(decode_fields(result.field_tokens), list(result.tokens))


def _count(verdict, names: tuple[str, ...]) -> tuple[int, list[str]]:
    bad, msgs = 0, []
    for r in verdict.reports:
        errs = [m for n, m in r.errors if n in names or (n == "syntax" and "syntax" in names)]
        if errs:
            bad += 1
            msgs.append(f"term {r.index}: {errs[0]}")
    return bad, msgs


def _result(name: str, verdict, names: tuple[str, ...], what: str) -> CheckResult:
    bad, msgs = _count(verdict, names)
    n = len(verdict.reports)
    return CheckResult(name=name, passed=bad == 0 and n > 0, measured=bad, expected=0, tolerance="exact",
                       message=(f"all {n} terms {what}" if bad == 0 and n > 0 else
                                f"{bad}/{n} terms fail: " + "; ".join(msgs[:3]) if n else "no terms"))


@check("lagrangian_gauge_invariance")
def gauge_invariance(inp: Any, result: Any) -> CheckResult:
    """Every term is SU(3) x SU(2) invariant (numerically, on the generators) and its hypercharges sum to 0."""
    return _result("lagrangian_gauge_invariance", lagrangian_verdict(result), ("syntax", "SU3", "SU2", "U1", "Z2"),
                   "are SU(3) x SU(2) x U(1)_Y invariant")


@check("lagrangian_lorentz_invariance")
def lorentz_invariance(inp: Any, result: Any) -> CheckResult:
    """Every spinor and vector index is contracted exactly once with a partner of the right kind."""
    return _result("lagrangian_lorentz_invariance", lagrangian_verdict(result), ("syntax", "lorentz", "structure"),
                   "are Lorentz scalars")


@check("lagrangian_hermiticity")
def hermiticity(inp: Any, result: Any) -> CheckResult:
    """Every term is hermitian as written or carries + h.c.; no term double counts its conjugate."""
    return _result("lagrangian_hermiticity", lagrangian_verdict(result), ("syntax", "hermiticity", "redundant",
                                                                          "vanishes"), "are hermitian and independent")


@check("lagrangian_dimension")
def renormalisable(inp: Any, result: Any) -> CheckResult:
    """Every operator has mass dimension <= 4."""
    return _result("lagrangian_dimension", lagrangian_verdict(result), ("syntax", "dimension"),
                   "have mass dimension <= 4")
