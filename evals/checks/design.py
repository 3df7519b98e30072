"""Physics checks on the design loops (optimise_detector, detector_resolution, optimise_analysis).

    pareto_front_consistent  no design on the reported Pareto front is dominated by another front design
                             (cost and every objective, each in its direction)
    front_within_budget      every front design costs at most the cost budget
    resolutions_match_cards  every modelled card reference point is reproduced by the simulation within
                             10% (value), or inside the range widened by 10%, or below 1.1 x an upper bound
    significance_consistent  each rung's Z equals the Asimov formula recomputed from its s and b
                             (relative 1e-6), s never exceeds the expected signal total, Z >= 0
"""
from __future__ import annotations

import math

from hepilot.evals.checks.base import CheckResult, check

__all__ = ["pareto_front_consistent", "front_within_budget", "resolutions_match_cards", "significance_consistent"]


def _vector(rec: dict, objectives: list[str], directions: list[str]) -> list[float]:
    vals = [rec["cost"]] + [rec["objectives"][o] for o in objectives]
    return [v if d == "minimize" else -v for v, d in zip(vals, directions)]


@check("pareto_front_consistent")
def pareto_front_consistent(inp, result) -> CheckResult:
    vecs = [_vector(r, result.objectives, result.directions) for r in result.front]
    bad = [(result.front[i]["trial"], result.front[j]["trial"]) for i, a in enumerate(vecs) for j, b in enumerate(vecs)
           if i != j and all(x <= y for x, y in zip(b, a)) and any(x < y for x, y in zip(b, a))]
    ok = not bad and (bool(result.front) or result.n_trials == 0 or result.cost_budget is not None)
    return CheckResult(name="pareto_front_consistent", passed=ok, measured=len(result.front),
                       expected="no front design dominated by another",
                       message=f"{len(result.front)} front designs, none dominated" if ok else
                       f"dominated front designs (trial, by): {bad[:5]}" if bad else "empty front without a budget")


@check("front_within_budget")
def front_within_budget(inp, result) -> CheckResult:
    if result.cost_budget is None:
        return CheckResult(name="front_within_budget", passed=True, message="no cost budget set")
    over = [r["trial"] for r in result.front if r["cost"] > result.cost_budget]
    worst = max((r["cost"] for r in result.front), default=0.0)
    return CheckResult(name="front_within_budget", passed=not over, measured=round(worst, 2),
                       expected=result.cost_budget,
                       message=f"front costs up to {worst:.1f} MCHF, budget {result.cost_budget:g}" if not over
                       else f"front designs {over[:5]} exceed the budget of {result.cost_budget:g} MCHF")


@check("resolutions_match_cards")
def resolutions_match_cards(inp, result) -> list[CheckResult]:
    points = [c for c in result.comparison if c["modelled"] and c["configured_as_card"]]
    if not points:
        return []
    from hepilot.models.design.validation import selection_text

    failed = [c for c in points if not c["agrees"]]

    def where(c) -> str:  # e+e- jets and the boson mass have no energy point; some e+e- jets a selection
        if c["energy"] is not None:
            return f"{c['quantity']} at {c['energy']:g} GeV"
        return " ".join(filter(None, [c["quantity"], selection_text(c)]))

    desc = "; ".join(f"{where(c)}: {c['simulated']:.4f} vs "
                     f"{c['value'] if c['value'] is not None else [c['low'], c['high']]}" for c in failed[:4])
    return [CheckResult(name="resolutions_match_cards", passed=not failed,
                        measured={where(c): round(c["simulated"], 5) for c in points},
                        expected="published card values", tolerance=0.10,
                        message=f"{len(points) - len(failed)}/{len(points)} card points within 10%"
                                + (f"; off: {desc}" if failed else ""))]


@check("significance_consistent")
def significance_consistent(inp, result) -> CheckResult:
    from hepilot.models.design.analysis import asimov_significance

    problems = []
    rel = getattr(inp, "background_systematic", 0.0)
    total_signal = result.totals.get("signal", result.totals.get("zh_gamgam", math.inf))
    for r in result.rungs:
        if r["z"] < 0 or r["s"] > total_signal * (1 + 1e-6) + 1e-9:
            problems.append(f"{r['method']}: Z {r['z']:.3g}, s {r['s']:.3g} > total {total_signal:.3g}")
        elif r["b"] > 0:
            expect = asimov_significance(r["s"], r["b"], sigma_b=rel * r["b"])
            if not math.isclose(expect, r["z"], rel_tol=1e-6, abs_tol=1e-9):
                problems.append(f"{r['method']}: Z {r['z']:.6g} != Asimov {expect:.6g}")
    return CheckResult(name="significance_consistent", passed=not problems,
                       measured={r["method"]: round(r["z"], 4) for r in result.rungs},
                       expected="Z = Asimov(s, b), 0 <= s <= total signal",
                       message="; ".join(problems) or "every rung's Z agrees with the Asimov formula")
