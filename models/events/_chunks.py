"""Chunk bookkeeping shared by the event-sample generators (e+e- Higgs, e+e- ZH, event objects).

A sample of `n_events` selected events per process is split into chunks of at most `size` events;
each chunk reports how many events it generated to select its share, its cross-section estimate
and its time. `ProcessTally` adds the chunks up per process: the cross section is the
generated-events-weighted mean of the chunk estimates and the selection efficiency is selected /
generated.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["chunk_tasks", "ProcessTally"]


def chunk_tasks(cfg: Any, processes: tuple[str, ...], n_events: int, size: int) -> list[tuple[Any, str, int, int]]:
    """The (config, process, chunk index, events) tasks of a sample, in merge order."""
    return [(cfg, p, k, min(size, n_events - k * size))
            for p in processes for k in range(max(1, math.ceil(n_events / size)))]


class ProcessTally:
    """Per-process sums of selected and generated events, cross-section estimates and seconds."""

    def __init__(self, processes: tuple[str, ...]):
        self._per = {p: {"n_events": 0, "n_generated": 0, "sigma_pb": [], "seconds": 0.0} for p in processes}

    def add(self, chunk: dict[str, Any], n_selected: int) -> None:
        """Count one finished chunk (a dict with process, n_generated, sigma_pb and seconds)."""
        pp = self._per[chunk["process"]]
        pp["n_events"] += n_selected
        pp["n_generated"] += chunk["n_generated"]
        pp["sigma_pb"].append((chunk["sigma_pb"], chunk["n_generated"]))
        pp["seconds"] += chunk["seconds"]

    def finish(self) -> dict[str, dict[str, Any]]:
        """The manifest's per_process block: n_events, n_generated, sigma_pb, seconds, selection_efficiency."""
        out = {}
        for p, pp in self._per.items():
            sig, w = np.array(pp["sigma_pb"], dtype=float).reshape(-1, 2).T
            out[p] = {"n_events": pp["n_events"], "n_generated": pp["n_generated"],
                      # each chunk's estimate weighted by the events it generated
                      "sigma_pb": float(np.average(sig, weights=w)) if w.sum() > 0 else float("nan"),
                      "seconds": pp["seconds"],
                      "selection_efficiency": pp["n_events"] / max(pp["n_generated"], 1)}
        return out
