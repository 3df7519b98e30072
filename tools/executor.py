"""Executors for chunked work: an ordered `map(fn, items)` run locally or on a Dask cluster.

One interface for batch goals, generation chunks, tagger trainings and design trials:

    executor.map(fn, items) -> iterator of results in input order

`LocalExecutor` runs in-process (1 worker) or in a pool of spawned processes (spawn, not fork:
the parent may hold torch/OpenMP threads). `DaskExecutor` submits to a Dask distributed
scheduler (`--dask tcp://HOST:8786` or HEPILOT_DASK): a task whose worker dies is rescheduled
on another worker by the scheduler, exceptions are retried `retries` times, and a scheduler
that goes away becomes an `ExecutorUnavailable` error naming the address. Results come back
in input order, so merged outputs never depend on where or in which order tasks ran.
`map_persistent` additionally stores each finished result on disk by key, so a re-run after a
failure computes only what is missing.
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing as mp
import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from hepilot.errors import ToolExecutionError

__all__ = ["LocalExecutor", "DaskExecutor", "ExecutorUnavailable", "get_executor", "map_persistent"]

log = logging.getLogger(__name__)


class ExecutorUnavailable(ToolExecutionError):
    """The cluster cannot be reached (scheduler down or address wrong); finished work is kept."""


class LocalExecutor:
    """Ordered map over a local process pool (or in-process for one worker or one item).

    The pool starts on first use and is kept for later maps (design loops call map once per
    round; spawning fresh interpreters each time would cost seconds); `close()` ends it.
    """

    name = "local"

    def __init__(self, workers: int = 1):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self._pool: cf.ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        items = list(items)
        # a daemonic process (e.g. a Dask worker running a batch goal) may not start children: run in-process
        if self.workers == 1 or len(items) <= 1 or mp.current_process().daemon:
            yield from map(fn, items)
            return
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("spawn"))
        try:
            yield from self._pool.map(fn, items)
        except cf.process.BrokenProcessPool:
            self.close()  # a crashed worker breaks the pool: start a fresh one next time
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class DaskExecutor:
    """Ordered map on a Dask distributed cluster (connects lazily, one client per executor)."""

    name = "dask"

    def __init__(self, address: str, *, retries: int = 2, resources: dict[str, float] | None = None,
                 timeout: float = 10.0):
        self.address = address
        self.retries = retries
        self.resources = resources
        self.timeout = timeout
        self._client = None

    @property
    def client(self):
        if self._client is None:
            from distributed import Client

            try:
                self._client = Client(self.address, timeout=self.timeout, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise ExecutorUnavailable(f"cannot reach the Dask scheduler at {self.address} ({exc}). Start it "
                                          "(dask scheduler / dask-jobqueue) or drop --dask to run locally") from None
        return self._client

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        from distributed.comm.core import CommClosedError

        items = list(items)
        if not items:
            return
        futures = self.client.map(fn, items, retries=self.retries, resources=self.resources, pure=False)
        try:
            for fut in futures:
                yield fut.result()
        except (CommClosedError, OSError, TimeoutError) as exc:
            raise ExecutorUnavailable(f"lost the Dask scheduler at {self.address} ({type(exc).__name__}: {exc}); "
                                      "finished results are kept, run again to resume") from None
        finally:
            for fut in futures:
                fut.release()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def get_executor(workers: int | None = None, *, dask: str | None = None):
    """The executor the settings (or explicit arguments) ask for: Dask when an address is set, else local."""
    from hepilot.settings import get_settings

    s = get_settings()
    address = dask or s.dask
    if address:
        return DaskExecutor(address)
    return LocalExecutor(workers or s.workers)


class _Persisted:
    """Wraps a task function: returns (key, result); the driver writes results to disk."""

    def __init__(self, fn: Callable[[Any], Any]):
        self.fn = fn

    def __call__(self, keyed: tuple[str, Any]) -> tuple[str, Any]:
        key, item = keyed
        return key, self.fn(item)


def map_persistent(executor, fn: Callable[[Any], Any], items: list[Any], keys: list[str], folder: Path
                   ) -> Iterator[Any]:
    """Ordered map that stores each result as `folder/<key>.pkl` as soon as it arrives and skips
    items whose result is already stored: nothing finished is lost when a run fails midway."""
    folder.mkdir(parents=True, exist_ok=True)
    done: dict[str, Any] = {}
    for key in keys:
        path = folder / f"{key}.pkl"
        if path.is_file():
            try:
                done[key] = pickle.loads(path.read_bytes())
            except (pickle.UnpicklingError, EOFError, ValueError):
                path.unlink()
    todo = [(k, it) for k, it in zip(keys, items) if k not in done]
    if done:
        log.info("reusing %d of %d finished tasks from %s", len(done), len(keys), folder)
    pending = executor.map(_Persisted(fn), todo) if todo else iter(())
    for key in keys:
        while key not in done:
            k, result = next(pending)
            tmp = folder / f".{k}.{os.getpid()}.tmp"
            tmp.write_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
            tmp.replace(folder / f"{k}.pkl")
            done[k] = result
        yield done.pop(key)
