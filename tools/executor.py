"""Executors for chunked work: an ordered `map(fn, items)` run locally or on a cluster.

`LocalExecutor` runs in-process (1 worker) or in a pool of spawned processes (spawn, not fork:
the parent may hold torch/OpenMP threads). Results come back in input order, so merged outputs
do not depend on the worker count. `get_executor()` picks the executor from the settings.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["LocalExecutor", "get_executor"]


class LocalExecutor:
    """Ordered map over a local process pool (or in-process for one worker or one item)."""

    name = "local"

    def __init__(self, workers: int = 1):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        items = list(items)
        if self.workers == 1 or len(items) <= 1:
            yield from map(fn, items)
            return
        with cf.ProcessPoolExecutor(max_workers=min(self.workers, len(items)), mp_context=mp.get_context("spawn")) as pool:
            yield from pool.map(fn, items)


def get_executor(workers: int | None = None) -> LocalExecutor:
    """The executor the settings ask for (local pool with `workers` processes by default)."""
    from hepilot.settings import get_settings

    return LocalExecutor(workers or get_settings().workers)
