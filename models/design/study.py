"""End-to-end design runs: a detector study (data, optimiser, report) and the ladder on an analysis table.

`run_detector_study` prepares the cached events of the spec's objectives, runs (or resumes) the
Optuna study, computes fANOVA importances and writes the report (plots + report.md) into
`out_dir`. `neural_scores` wraps an event-level tagger of hepilot.models.taggers (MPNN on the
event's leading objects) as the third rung of the analysis ladder.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from hepilot.models.design.data import prepare_data
from hepilot.models.design.detector_loop import open_study, optimise_detector, record_dominates
from hepilot.models.design.objectives import OBJECTIVES
from hepilot.models.design.proposals import explain_tradeoffs, llm_proposer
from hepilot.models.design.report import importance_plot, markdown_report, parameter_importances, pareto_plots
from hepilot.models.design.spec import DetectorDesignSpec

__all__ = ["default_storage", "run_detector_study", "neural_scores"]

log = logging.getLogger(__name__)


def default_storage(cache_dir: Path) -> str:
    """SQLite file in the hepilot cache holding every design study."""
    path = Path(cache_dir) / "design" / "studies.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _record(r) -> dict[str, Any]:
    return {"trial": r.number, "source": r.source, "cost": r.cost, "objectives": r.objectives, "params": r.params}


def run_detector_study(spec: DetectorDesignSpec, *, cache_dir: Path, out_dir: Path,
                       map_fn: Callable[[Callable, Iterable], Iterable] = map, complete: Callable[..., str] | None = None,
                       on_chunk: Callable[[int], None] | None = None,
                       on_round: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run the study of `spec` to its trial budget and write its report; returns a JSON-ready summary."""
    kinds = {OBJECTIVES[o].data for o in spec.objectives}
    paths = prepare_data(kinds, n_events=spec.events.n_events, n_jets=spec.events.n_jets, seed=spec.events.seed,
                         cache_dir=cache_dir, map_fn=map_fn, on_chunk=on_chunk)
    storage = spec.storage or default_storage(cache_dir)
    proposer = llm_proposer(complete) if complete is not None else None
    result = optimise_detector(spec, paths=paths, storage=storage, map_fn=map_fn, proposer=proposer, on_round=on_round)
    importances = parameter_importances(open_study(spec, storage), spec.objectives, seed=spec.seed)
    tradeoffs = explain_tradeoffs(result, importances, complete)
    plots = pareto_plots(result, out_dir)
    imp_plot = importance_plot(importances, out_dir)
    if imp_plot:
        plots["importances"] = imp_plot
    report = out_dir / "report.md"
    report.write_text(markdown_report(result, importances, tradeoffs, plots))
    baselines = {name: {**_record(b), "dominated_by": [r.number for r in result.front
                                                        if record_dominates(r, b, spec)]}
                 for name, b in result.baselines.items()}
    return {"study_name": result.study_name, "storage": storage, "n_trials": len(result.trials),
            "n_failed": result.n_failed, "n_evaluated": result.n_evaluated,
            "trials_per_minute": result.trials_per_minute, "front": [_record(r) for r in result.front],
            "baselines": baselines, "importances": importances, "tradeoffs": tradeoffs, "report": str(report),
            "plots": plots, "proposals": result.proposals, "data": paths}


def neural_scores(objects: ak.Array, y: np.ndarray, *, architecture: str = "mpnn", preset: str = "ci",
                  epochs: int = 10, seed: int = 0) -> Callable[[np.ndarray, np.ndarray, np.ndarray],
                                                               tuple[np.ndarray, np.ndarray]]:
    """A `tagger_scores` callable for run_ladder: trains `architecture` on the event objects."""
    from hepilot.models.events.event_objects import EventSample
    from hepilot.models.taggers.experiment import TaggerData, run_neural

    y = np.asarray(y, dtype=np.int64)
    n = len(y)
    sample = EventSample(y, objects, {"processes": ["background", "signal"]}, None, np.zeros(n, dtype=np.int64),
                         np.arange(n))
    data = TaggerData("events", sample, y, [(int(v), 0, i) for i, v in enumerate(y)], "signal", ["background"])

    def scores(train: np.ndarray, val: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        run = run_neural(architecture, data, (train, val, np.r_[val, test]), preset=preset, epochs=epochs, seed=seed,
                         n_boot=20)
        return run.scores[: len(val)], run.scores[len(val):]

    return scores
