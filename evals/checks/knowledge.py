"""Checks for the knowledge tools: every passage is citable; particle lifetimes agree with widths."""
from __future__ import annotations

from typing import Any

from hepilot.evals.checks.base import CheckResult, check

__all__ = ["passages_cited", "lifetime_matches_width"]

_HBAR_GEV_S = 6.582119569e-25  # hbar in GeV s


@check("passages_cited")
def passages_cited(inp: Any, result: Any) -> CheckResult:
    """Every returned passage names its source and carries a citation (title + arXiv id, URL or file)."""
    bad = [i for i, p in enumerate(result.passages)
           if not (p.citation.strip() and p.source.strip() and p.title.strip())]
    return CheckResult(name="passages_cited", passed=not bad, measured=len(result.passages) - len(bad),
                       expected=len(result.passages), tolerance=0,
                       message="all passages cited" if not bad else f"passages {bad} lack a source or citation")


@check("lifetime_matches_width")
def lifetime_matches_width(inp: Any, result: Any) -> CheckResult:
    """Gamma * tau = hbar within 1% when both are given (catches unit slips: MeV/GeV, ns/s)."""
    if not result.width_GeV or not result.lifetime_s:
        return CheckResult(name="lifetime_matches_width", passed=True, message="width or lifetime not both known")
    product = result.width_GeV * result.lifetime_s
    ratio = product / _HBAR_GEV_S
    return CheckResult(name="lifetime_matches_width", passed=abs(ratio - 1) < 0.01, measured=product,
                       expected=_HBAR_GEV_S, tolerance="1%",
                       message=f"Gamma * tau = {product:.4e} GeV s, hbar = {_HBAR_GEV_S:.4e} GeV s (ratio {ratio:.4f})")
