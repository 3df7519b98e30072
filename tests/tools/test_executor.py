"""Executors: a real Dask LocalCluster on 127.0.0.1 gives the same seeded sample as a local run,
survives a killed worker, isolates batch failures; persistent maps resume after a failure."""
import os
import signal
import time

import awkward as ak
import numpy as np
import pytest

from hepilot.errors import ToolExecutionError
from hepilot.models.events.samples import read_jet_sample
from hepilot.tools.base import ToolContext, execute
from hepilot.tools.executor import DaskExecutor, ExecutorUnavailable, LocalExecutor, map_persistent


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as c:
        yield c


@pytest.mark.slow
def test_dask_generation_equals_local(cluster, tiny_jets, tiny_jets_args, tmp_path):
    ex = DaskExecutor(cluster.scheduler_address)
    try:
        rec = execute("generate_jets", tiny_jets_args, ctx=ToolContext(cache_dir=tmp_path, use_cache=False, executor=ex))
    finally:
        ex.close()
    a, b = read_jet_sample(tiny_jets.path), read_jet_sample(rec.result.path)
    assert np.array_equal(ak.to_numpy(a.jets.jet_pt), ak.to_numpy(b.jets.jet_pt))
    assert ak.all(ak.flatten(a.particles.px) == ak.flatten(b.particles.px))


def test_killed_worker_is_survived(cluster):
    ex = DaskExecutor(cluster.scheduler_address)
    try:
        victim = sorted(ex.client.run(os.getpid).values())[0]
        results = ex.map(time.sleep, [2.0] * 4)  # (tasks must be importable on the workers)
        first = next(results)  # two tasks done, the next two running, one on the victim
        os.kill(victim, signal.SIGKILL)
        got = [first, *results]
    finally:
        ex.close()
    # the victim was killed while running its second task; that task was rerun and all four finished
    assert len(got) == 4
    with pytest.raises(ProcessLookupError):
        os.kill(victim, 0)


def test_unreachable_scheduler_is_a_clear_error():
    ex = DaskExecutor("tcp://127.0.0.1:1", timeout=1.0)
    with pytest.raises(ExecutorUnavailable, match="cannot reach the Dask scheduler at tcp://127.0.0.1:1"):
        list(ex.map(abs, [1, 2]))


def test_batch_on_dask_isolates_failures(cluster, tiny_jets, tiny_goal, tmp_path):
    from hepilot.agent.batch import run_batch

    goals_file = tmp_path / "g.yaml"
    goals_file.write_text("[]")
    ex = DaskExecutor(cluster.scheduler_address)
    try:
        summary = run_batch([{"id": "ok", "goal": tiny_goal}, {"id": "bad", "goal": "asdf qwer zxcv"}],
                            goals_file=goals_file, out=tmp_path / "runs", executor=ex)
    finally:
        ex.close()
    status = {g["id"]: g["status"] for g in summary["goals"]}
    assert status == {"ok": "done", "bad": "refused"}


class _Flaky:
    """Fails on the item `fail_on` the first time it is asked for it."""

    def __init__(self, fail_on, calls):
        self.fail_on, self.calls = fail_on, calls

    def __call__(self, x):
        self.calls.append(x)
        if x == self.fail_on and self.calls.count(x) == 1:
            raise RuntimeError("worker lost")
        return x * 10


def test_map_persistent_keeps_finished_results(tmp_path):
    calls = []
    fn = _Flaky(3, calls)
    items = [1, 2, 3, 4]
    keys = [f"k{i}" for i in items]
    with pytest.raises(RuntimeError):
        list(map_persistent(LocalExecutor(1), fn, items, keys, tmp_path))
    assert sorted(p.stem for p in tmp_path.glob("*.pkl")) == ["k1", "k2"]
    assert list(map_persistent(LocalExecutor(1), fn, items, keys, tmp_path)) == [10, 20, 30, 40]
    assert calls == [1, 2, 3, 3, 4]  # 1 and 2 were not recomputed
