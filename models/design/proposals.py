"""The LLM in the design loop: candidate designs between optimiser rounds, and a reading of the trade-offs.

The LLM enters as an injected callable `complete(prompt, *, system, temperature, max_tokens) -> str`
(hepilot.tools.base.current_context().llm); nothing here imports a client. Proposals are parsed
from the first JSON array in the answer; a design is kept only if it names every spec parameter
with a number inside its range and differs from the designs already tried, so a confused answer
costs nothing but the request. Offline (no LLM) the optimiser runs alone and the trade-off text is
written from the numbers by `summarise_tradeoffs`.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from hepilot.models.design.detector_loop import pareto_front, record_dominates
from hepilot.models.design.objectives import OBJECTIVES
from hepilot.models.design.spec import DetectorDesignSpec

__all__ = ["PROPOSAL_SYSTEM", "proposal_prompt", "parse_proposals", "llm_proposer", "summarise_tradeoffs",
           "explain_tradeoffs"]

log = logging.getLogger(__name__)

PROPOSAL_SYSTEM = ("You are an experienced collider-detector physicist helping an optimiser design a detector. "
                   "You know how magnetic field, lever arm, hit resolution, material, calorimeter stochastic and "
                   "constant terms, cell size and depth drive resolutions and cost. Answer with JSON only.")


def _table(spec: DetectorDesignSpec, records: list, limit: int = 12) -> str:
    names = list(spec.parameters)
    head = ["#", "cost MCHF"] + list(spec.objectives) + names
    rows = [" | ".join(head)]
    for r in sorted(records, key=lambda r: r.cost)[:limit]:
        cells = [str(r.number), f"{r.cost:.1f}"] + [f"{r.objectives[o]:.4g}" for o in spec.objectives]
        rows.append(" | ".join(cells + [f"{r.params.get(p, float('nan')):.4g}" for p in names]))
    return "\n".join(rows)


def proposal_prompt(spec: DetectorDesignSpec, front: list, tried: int, n: int) -> str:
    """The request for `n` new designs, given the current Pareto front."""
    ranges = "\n".join(f"- {k}: {v.low:g} .. {v.high:g}{' (integer)' if v.integer else ''}"
                       for k, v in spec.parameters.items())
    goals = "\n".join(f"- {o}: {OBJECTIVES[o].direction} ({OBJECTIVES[o].description})" for o in spec.objectives)
    budget = f"{spec.cost_budget:g} MCHF" if spec.cost_budget is not None else "none"
    return (f"Detector design study '{spec.name}' (base detector: {spec.base}). Objectives, besides minimising the "
            f"cost (budget {budget}):\n{goals}\n\nParameters and allowed ranges:\n{ranges}\n\n"
            f"{tried} designs were evaluated; the current Pareto front (cheapest first):\n{_table(spec, front)}\n\n"
            f"Propose {n} new designs likely to extend or improve this front (e.g. cheaper with the same "
            f"physics, or better physics within the budget). Reply with a JSON array of {n} objects, each mapping "
            f"every parameter name above to a number inside its range, and nothing else.")


def parse_proposals(text: str, spec: DetectorDesignSpec, *, tried: list[dict[str, float]] = ()
                    ) -> tuple[list[dict[str, float]], list[str]]:
    """(valid designs, problems) from an LLM answer."""
    match = re.search(r"\[.*\]", text, re.S)
    if not match:
        return [], ["no JSON array in the answer"]
    try:
        items = json.loads(match.group(0))
    except json.JSONDecodeError as exc:
        return [], [f"invalid JSON ({exc.msg})"]
    good: list[dict[str, float]] = []
    problems: list[str] = []
    seen = [tuple(np.round([d[k] for k in spec.parameters], 9)) for d in tried if all(k in d for k in spec.parameters)]
    for i, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            problems.append(f"design {i} is not an object")
            continue
        design: dict[str, float] = {}
        for name, rng in spec.parameters.items():
            value = item.get(name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.append(f"design {i}: {name} missing or not a number")
                break
            if not rng.low <= value <= rng.high:
                problems.append(f"design {i}: {name} = {value} outside {rng.low:g}..{rng.high:g}")
                break
            design[name] = int(round(value)) if rng.integer else float(value)
        else:
            key = tuple(np.round([design[k] for k in spec.parameters], 9))
            if key in seen:
                problems.append(f"design {i} was already tried")
                continue
            seen.append(key)
            good.append(design)
    return good, problems


def llm_proposer(complete: Callable[..., str]) -> Callable[[DetectorDesignSpec, list, int], list[dict[str, float]]]:
    """A proposer for optimise_detector backed by an LLM `complete` callable."""

    def propose(spec: DetectorDesignSpec, records: list, n: int) -> list[dict[str, float]]:
        front = pareto_front(records, spec) or records
        text = complete(proposal_prompt(spec, front, len(records), n), system=PROPOSAL_SYSTEM, temperature=0.7,
                        max_tokens=1500)
        good, problems = parse_proposals(text, spec, tried=[r.params for r in records])
        if problems:
            log.info("LLM proposals: %d kept, problems: %s", len(good), "; ".join(problems[:5]))
        return good[:n]

    return propose


def summarise_tradeoffs(result: Any, importances: dict[str, dict[str, float]]) -> str:
    """A factual paragraph on the front, written from the numbers (the offline explanation)."""
    spec = result.spec
    front = result.front
    if not front:
        return "No feasible design was found within the budget; widen the ranges or raise the budget."
    lines = [f"{len(front)} of {len(result.trials)} designs are Pareto-optimal (cost vs "
             f"{', '.join(spec.objectives)}); they cost {front[0].cost:.0f} to {front[-1].cost:.0f} MCHF."]
    for name in spec.objectives:
        sign = -1 if OBJECTIVES[name].direction == "maximize" else 1
        best = min(front, key=lambda r: sign * r.objectives[name])
        cheap = front[0]
        unit = OBJECTIVES[name].unit
        lines.append(f"{name}: from {cheap.objectives[name]:.4g} {unit} at the cheapest front design to "
                     f"{best.objectives[name]:.4g} {unit} at {best.cost:.0f} MCHF.".replace("  ", " "))
        imp = importances.get(name) or {}
        if imp:
            top = sorted(imp.items(), key=lambda kv: -kv[1])[:2]
            lines.append(f"  it depends mostly on {' and '.join(f'{k} ({v:.0%})' for k, v in top)} (fANOVA).")
    for bname, b in result.baselines.items():
        doms = [r.number for r in front if record_dominates(r, b, spec)]
        verdict = f"dominated by front designs {doms[:5]}" if doms else "not dominated by any front design"
        lines.append(f"Baseline {bname} (cost {b.cost:.0f} MCHF) is {verdict}.")
    return "\n".join(lines)


def explain_tradeoffs(result: Any, importances: dict[str, dict[str, float]],
                      complete: Callable[..., str] | None = None) -> str:
    """The trade-off paragraph: the LLM's reading of the numbers when available, else the factual summary."""
    facts = summarise_tradeoffs(result, importances)
    if complete is None:
        return facts
    prompt = (f"Here are the results of a detector design study:\n{facts}\n\nPareto front:\n"
              f"{_table(result.spec, result.front)}\n\nExplain in 4-6 sentences the physics trade-offs these numbers "
              "show (which parameters buy which resolution, and at what cost). Use only these numbers.")
    text = complete(prompt, system=PROPOSAL_SYSTEM.replace(" Answer with JSON only.", ""), temperature=0.3,
                    max_tokens=600).strip()
    return f"{facts}\n\n{text}" if text else facts
