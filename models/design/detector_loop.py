"""The detector design loop: Optuna multi-objective search over detector parameters, cost versus physics.

Objectives are the detector cost (MCHF, always first, minimised) and the spec's physics objectives
(hepilot.models.design.objectives). A trial sets the spec's parameters on the base preset,
re-applies the detector to the cached generator-level events and measures the objectives; the
cost budget is an Optuna trial constraint (cost - budget <= 0, `Trial.set_constraint`). Trials run
in rounds of `population`: the round's trials are asked from the sampler, evaluated through
`map_fn` (an executor's ordered map, e.g. LocalExecutor(2).map or a Dask client's), and told back. Between rounds an optional
`proposer` (the LLM, see proposals.py) suggests designs that are enqueued for the next round.

The study lives in Optuna RDB storage (SQLite by default), named by the spec's content hash:
rerunning the same spec continues it, and trials left RUNNING by a killed run are marked failed
and re-queued with the same parameters, so a kill loses at most one round of work. The first
round is seeded with the baseline detectors (detector-card values, clipped into the ranges); the
unclipped baselines are evaluated once and kept in the study's user attributes for the report.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna

from hepilot.models.design.cards import card_parameters, preset_value
from hepilot.models.design.cost import detector_cost
from hepilot.models.design.objectives import OBJECTIVES, evaluate_objectives
from hepilot.models.design.pareto import dominates, pareto_mask, to_minimisation
from hepilot.models.design.spec import DetectorDesignSpec, apply_params
from hepilot.models.events.detector import DETECTOR_PRESETS, DetectorConfig, get_detector

__all__ = ["TrialRecord", "DesignStudyResult", "optimise_detector", "evaluate_design", "open_study", "pareto_front",
           "record_dominates"]

log = logging.getLogger(__name__)
Proposer = Callable[[DetectorDesignSpec, list["TrialRecord"], int], list[dict[str, float]]]


@dataclass
class TrialRecord:
    """One evaluated design: parameters, cost, objective values and where the design came from."""

    number: int
    params: dict[str, float]
    cost: float
    objectives: dict[str, float]
    source: str = "optimiser"
    feasible: bool = True

    def vector(self, names: list[str]) -> list[float]:
        return [self.cost] + [self.objectives[n] for n in names]


@dataclass
class DesignStudyResult:
    spec: DetectorDesignSpec
    study_name: str
    storage: str
    trials: list[TrialRecord]
    front: list[TrialRecord]
    baselines: dict[str, TrialRecord]
    n_failed: int
    eval_seconds: float
    n_evaluated: int  # trials evaluated by this call (a resumed study may have more)
    proposals: dict[str, int] = field(default_factory=dict)

    @property
    def directions(self) -> list[str]:
        return ["minimize"] + [OBJECTIVES[n].direction for n in self.spec.objectives]

    @property
    def trials_per_minute(self) -> float:
        return 60.0 * self.n_evaluated / self.eval_seconds if self.eval_seconds > 0 else float("nan")


def evaluate_design(task: dict[str, Any]) -> dict[str, Any]:
    """Worker function (picklable): objective values of one design, or the error that stopped it."""
    t0 = time.perf_counter()
    try:
        cfg = apply_params(task["base"], task["params"])
        values = evaluate_objectives(get_detector(cfg), task["objectives"], task["paths"], seed=task["seed"])
        bad = [k for k, v in values.items() if not np.isfinite(v)]
        if bad:
            return {"error": f"non-finite objectives {bad}", "seconds": time.perf_counter() - t0}
        return {"values": values, "seconds": time.perf_counter() - t0}
    except (ValueError, RuntimeError, ZeroDivisionError) as exc:  # a design that reconstructs nothing fails only itself
        return {"error": f"{type(exc).__name__}: {exc}", "seconds": time.perf_counter() - t0}


def _distribution(rng) -> optuna.distributions.BaseDistribution:
    if rng.integer:
        return optuna.distributions.IntDistribution(int(np.ceil(rng.low)), int(np.floor(rng.high)), log=rng.log)
    return optuna.distributions.FloatDistribution(rng.low, rng.high, log=rng.log)


def open_study(spec: DetectorDesignSpec, storage: str) -> optuna.Study:
    """Create or load the spec's study (sampler seeded by the spec; the cost budget is a trial constraint)."""
    if spec.sampler == "nsga2":
        sampler = optuna.samplers.NSGAIISampler(population_size=spec.population, seed=spec.seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=spec.seed, multivariate=True, n_startup_trials=spec.population)
    directions = ["minimize"] + [OBJECTIVES[n].direction for n in spec.objectives]
    study = optuna.create_study(study_name=spec.study_name, storage=storage, directions=directions, sampler=sampler,
                                load_if_exists=True)
    study.set_user_attr("spec", spec.model_dump(mode="json"))
    return study


def _requeue_stale(study: optuna.Study) -> int:
    """Fail trials a killed run left RUNNING and enqueue their parameters again (one writer per study)."""
    stale = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for t in stale:
        study.tell(t.number, state=optuna.trial.TrialState.FAIL)
        study.enqueue_trial(t.params, user_attrs={"source": t.user_attrs.get("source", "optimiser") + " (re-run)"})
    if stale:
        log.warning("re-queued %d trials left running by an interrupted run", len(stale))
    return len(stale)


def _clip(spec: DetectorDesignSpec, values: dict[str, float]) -> dict[str, float]:
    out = {}
    for name, rng in spec.parameters.items():
        v = float(np.clip(values[name], rng.low, rng.high))
        out[name] = int(round(v)) if rng.integer else v
    return out


def _seed_baselines(study: optuna.Study, spec: DetectorDesignSpec, base: DetectorConfig) -> None:
    for name in spec.baselines:
        values, origins = card_parameters(name, list(spec.parameters))
        full = {p: values.get(p, preset_value(base, p)) for p in spec.parameters}
        study.enqueue_trial(_clip(spec, full), user_attrs={"source": f"card:{name}", "origins": origins})


def _baseline_records(study: optuna.Study, spec: DetectorDesignSpec, paths: dict[str, str],
                      map_fn) -> dict[str, TrialRecord]:
    """The unclipped baseline presets, evaluated once per study (kept in its user attributes)."""
    todo = [n for n in spec.baselines if f"baseline:{n}" not in study.user_attrs]
    tasks = [{"base": DETECTOR_PRESETS[n], "params": {}, "objectives": spec.objectives, "paths": paths,
              "seed": spec.seed} for n in todo]
    for name, res in zip(todo, map_fn(evaluate_design, tasks)):
        cfg = DETECTOR_PRESETS[name]
        params = {p: v for p in spec.parameters if (v := preset_value(cfg, p)) is not None}
        study.set_user_attr(f"baseline:{name}", {"params": params, "cost": detector_cost(cfg).total,
                                                 "objectives": res.get("values"), "error": res.get("error")})
    out = {}
    for name in spec.baselines:
        rec = study.user_attrs[f"baseline:{name}"]
        if rec["objectives"] is not None:
            out[name] = TrialRecord(-1, rec["params"], rec["cost"], rec["objectives"], f"preset:{name}",
                                    spec.cost_budget is None or rec["cost"] <= spec.cost_budget)
    return out


def _records(study: optuna.Study, spec: DetectorDesignSpec) -> tuple[list[TrialRecord], int]:
    records, failed = [], 0
    for t in study.get_trials(deepcopy=False):
        if t.state == optuna.trial.TrialState.FAIL:
            failed += 1
        if t.state != optuna.trial.TrialState.COMPLETE:
            continue
        cost = t.values[0]
        records.append(TrialRecord(t.number, dict(t.params), cost, dict(zip(spec.objectives, t.values[1:])),
                                   t.user_attrs.get("source", "optimiser"),
                                   spec.cost_budget is None or cost <= spec.cost_budget))
    return records, failed


def record_dominates(a: TrialRecord, b: TrialRecord, spec: DetectorDesignSpec) -> bool:
    """True when design a is at least as good as b in cost and every objective, and better in one."""
    directions = ["minimize"] + [OBJECTIVES[n].direction for n in spec.objectives]
    va, vb = to_minimisation(np.array([a.vector(spec.objectives), b.vector(spec.objectives)]), directions)
    return dominates(va, vb)


def pareto_front(records: list[TrialRecord], spec: DetectorDesignSpec) -> list[TrialRecord]:
    feasible = [r for r in records if r.feasible]
    if not feasible:
        return []
    directions = ["minimize"] + [OBJECTIVES[n].direction for n in spec.objectives]
    mask = pareto_mask(to_minimisation(np.array([r.vector(spec.objectives) for r in feasible]), directions))
    return sorted((r for r, m in zip(feasible, mask) if m), key=lambda r: r.cost)


def _run_round(study: optuna.Study, spec: DetectorDesignSpec, base: DetectorConfig, paths: dict[str, str],
               map_fn, n: int) -> int:
    dists = {name: _distribution(rng) for name, rng in spec.parameters.items()}
    trials = [study.ask(dists) for _ in range(n)]
    tasks = []
    for trial in trials:
        cfg = apply_params(base, trial.params)
        cost = detector_cost(cfg)
        trial.set_user_attr("cost_breakdown", cost.as_dict())
        if spec.cost_budget is not None:
            trial.set_constraint("cost_budget", cost.total - spec.cost_budget)
        tasks.append({"base": base, "params": trial.params, "objectives": spec.objectives, "paths": paths,
                      "seed": spec.seed, "cost": cost.total})
    done = 0
    for trial, task, res in zip(trials, tasks, map_fn(evaluate_design, tasks)):
        trial.set_user_attr("seconds", res["seconds"])
        if "error" in res:
            log.warning("trial %d failed: %s", trial.number, res["error"])
            trial.set_user_attr("error", res["error"])
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        study.tell(trial, [task["cost"]] + [res["values"][k] for k in spec.objectives])
        done += 1
    return done


def optimise_detector(spec: DetectorDesignSpec, *, paths: dict[str, str], storage: str,
                      map_fn: Callable[[Callable, Iterable], Iterable] = map, proposer: Proposer | None = None,
                      on_round: Callable[[int, int], None] | None = None) -> DesignStudyResult:
    """Run (or continue) the spec's study until it has `spec.trials` completed trials; return the outcome."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    base = DETECTOR_PRESETS[spec.base]
    study = open_study(spec, storage)
    _requeue_stale(study)
    if not study.trials:
        _seed_baselines(study, spec, base)
    baselines = _baseline_records(study, spec, paths, map_fn)
    proposals = {"asked": 0, "accepted": 0}
    evaluated, eval_seconds = 0, 0.0
    while True:
        records, failed = _records(study, spec)
        remaining = spec.trials - len(records)
        if remaining <= 0:
            break
        if failed > 3 * spec.trials:
            raise RuntimeError(f"{failed} trials failed (last: "
                               f"{study.trials[-1].user_attrs.get('error', '?')}); check the parameter ranges")
        t0 = time.perf_counter()
        evaluated += _run_round(study, spec, base, paths, map_fn, min(spec.population, remaining))
        eval_seconds += time.perf_counter() - t0
        records = _records(study, spec)[0]
        if on_round:
            on_round(len(records), spec.trials)
        if proposer is not None and spec.llm_proposals > 0 and len(records) < spec.trials:
            proposals["asked"] += spec.llm_proposals
            for params in proposer(spec, records, spec.llm_proposals):
                study.enqueue_trial(params, user_attrs={"source": "llm"})
                proposals["accepted"] += 1
    records, failed = _records(study, spec)
    return DesignStudyResult(spec, spec.study_name, storage, records, pareto_front(records, spec), baselines, failed,
                             eval_seconds, evaluated, proposals)
