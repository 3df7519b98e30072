"""Throughput of `hepilot batch` and chunked generate_jets, local vs a Dask LocalCluster, and executor overhead.

Side by side in one run, on the same goals / the same seeded sample:
  local-1   in-process (what `hepilot batch` does without --dask)
  local-2   LocalExecutor(2): a pool of 2 spawned processes, kept across maps (warmed once)
  dask-2    dask.distributed LocalCluster, 2 worker processes x 1 thread on 127.0.0.1
Batch goals are cheap agent runs (particle look-ups, a Lagrangian) with the tool cache off, so every
goal does its work; generation is `generate_jets` with the executor in its ToolContext (its chunks
have their own seeds, so every configuration must write the identical sample: checked). The
executor overhead is measured on tasks that sleep `--sleep` seconds (no CPU contention):
overhead = wall / ideal - 1 with ideal = ceil(tasks / workers) * sleep (goal < 5% for >= 10 s tasks).

    python benchmarks/bench_scaling.py [--goals 8] [--processes top qcd] [--n-jets 2000] [--sleep 10] [--tasks 4]

The default generation is 2 processes x 2 chunks of 1000 jets (minutes per configuration); use
e.g. `--processes top qcd w z --n-jets 200` (4 chunks of 200 jets) for a quicker run.
"""
from __future__ import annotations

# Keep module-level imports light: the local pool spawns processes that re-import this module.
import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

GOALS = ["what is the mass of the top quark", "give me the width of the Z boson",
         "what is the lifetime of the B0 meson", "what is the mass of the W boson",
         "write the Lagrangian for a complex scalar singlet", "what is the mass of the Higgs boson",
         "what is the lifetime of the muon", "give me the width of the W boson"]
WARM_GOAL = "what is the mass of the tau lepton"


def _warm_worker(out: str) -> float:
    """Import the agent, tools and planner models in a worker (what every process pays once)."""
    from hepilot.agent.batch import run_one

    t0 = time.perf_counter()
    run_one({"id": "warm", "goal": WARM_GOAL}, out, None)
    return time.perf_counter() - t0


def _warm_generation(_: object = None) -> float:
    t0 = time.perf_counter()
    import hepilot.models.events.generation  # noqa: F401  (Pythia, FastJet, awkward, detector)

    return time.perf_counter() - t0


def bench_batch(executors: dict, goals: list[str], root: Path, dask_client) -> list[dict]:
    from hepilot.agent.batch import run_batch

    rows = []
    for name, ex in executors.items():
        out = root / f"runs-{name}"
        if name == "local-1":
            startup = _warm_worker(str(out))
        elif name == "local-2":  # one slow warm-up task per pool process (the second goes to the idle one)
            startup = max(ex.map(_warm_worker, [str(out)] * 2))
        else:
            startup = max(dask_client.run(_warm_worker, str(out)).values())
        goals_file = root / f"goals-{name}.yaml"
        goals_file.write_text("\n".join(f"- {g}" for g in goals))
        t0 = time.perf_counter()
        summary = run_batch([{"id": f"g{i}", "goal": g} for i, g in enumerate(goals)], goals_file=goals_file,
                            out=out, executor=None if name == "local-1" else ex)
        wall = time.perf_counter() - t0
        done = sum(g["status"] == "done" for g in summary["goals"])
        rows.append({"config": name, "startup": startup, "wall": wall, "done": done, "n": len(goals)})
        print(f"batch {name}: {done}/{len(goals)} done in {wall:.1f} s (start-up {startup})", flush=True)
    return rows


def bench_generation(executors: dict, args: dict, root: Path, dask_client) -> list[dict]:
    import awkward as ak
    import numpy as np

    from hepilot.models.events.samples import read_jet_sample
    from hepilot.tools.base import ToolContext, execute

    _warm_generation()
    list(executors["local-2"].map(_warm_generation, [0, 0]))
    dask_client.run(_warm_generation)
    rows, ref = [], None
    for name, ex in executors.items():
        t0 = time.perf_counter()
        rec = execute("generate_jets", args, ctx=ToolContext(cache_dir=root / f"gen-{name}", use_cache=False,
                                                             executor=ex))
        wall = time.perf_counter() - t0
        sample = read_jet_sample(rec.result.path)
        pt = ak.to_numpy(sample.jets.jet_pt)
        px = ak.to_numpy(ak.flatten(sample.particles.px))
        same = ref is None or (np.array_equal(pt, ref[0]) and np.array_equal(px, ref[1]))
        ref = ref or (pt, px)
        jets = sum(rec.result.n_jets.values())
        rows.append({"config": name, "wall": wall, "jets": jets, "identical": same})
        print(f"generation {name}: {jets} jets in {wall:.1f} s, identical to local-1: {same}", flush=True)
    return rows


def bench_overhead(executors: dict, sleep: float, tasks: int) -> list[dict]:
    rows = []
    for name, ex in executors.items():
        workers = 1 if name == "local-1" else 2
        t0 = time.perf_counter()
        list(ex.map(time.sleep, [sleep] * tasks))
        wall = time.perf_counter() - t0
        ideal = math.ceil(tasks / workers) * sleep
        rows.append({"config": name, "wall": wall, "ideal": ideal, "overhead": wall / ideal - 1})
        print(f"overhead {name}: {wall:.2f} s for ideal {ideal:.0f} s ({100 * (wall / ideal - 1):.2f}%)", flush=True)
    return rows


def report(batch: list[dict], gen: list[dict], over: list[dict], a, load: tuple[float, float]) -> str:
    lines = ["## Scale-out: local vs Dask LocalCluster (bench_scaling.py)", "",
             "Configurations: local-1 = in-process (`hepilot batch` without --dask); local-2 = LocalExecutor(2), "
             "a pool of 2 spawned processes kept across maps; dask-2 = dask.distributed LocalCluster with 2 worker "
             "processes x 1 thread on 127.0.0.1. Every process is warmed once (imports, planner models) before the "
             "timed part, as a long-lived pool or cluster would be; that one-off start-up is reported separately.",
             ""]
    if batch:
        base = batch[0]["wall"]
        lines += [f"### `hepilot batch`: {batch[0]['n']} cheap goals (particle look-ups, a Lagrangian), tool cache off",
                  "", "| configuration | goals done | one-off start-up per process (s) | batch wall (s) | goals/s "
                  "| throughput vs local-1 |", "|---|---|---|---|---|---|"]
        for r in batch:
            lines.append(f"| {r['config']} | {r['done']}/{r['n']} | {r['startup']:.1f} | {r['wall']:.1f} "
                         f"| {r['n'] / r['wall']:.2f} | {base / r['wall']:.2f} |")
        lines.append("")
    if gen:
        base = gen[0]["wall"]
        n_chunks = sum(math.ceil(a.n_jets / 1000) for _ in a.processes)
        lines += [f"### Chunked generate_jets: {', '.join(a.processes)}, {a.n_jets} jets each ({n_chunks} chunks), "
                  "ATLAS-like detector, 14 TeV, 550-650 GeV", "",
                  "| configuration | jets | wall (s) | jets/s | speed-up vs local-1 | sample identical to local-1 |",
                  "|---|---|---|---|---|---|"]
        for r in gen:
            lines.append(f"| {r['config']} | {r['jets']} | {r['wall']:.1f} | {r['jets'] / r['wall']:.1f} "
                         f"| {base / r['wall']:.2f} | {'yes' if r['identical'] else 'NO'} |")
        lines.append("")
    if over:
        lines += [f"### Executor overhead: {a.tasks} tasks of {a.sleep:g} s (sleep, so no CPU contention)", "",
                  "| configuration | ideal (s) | wall (s) | overhead | per task (s) |", "|---|---|---|---|---|"]
        for r in over:
            lines.append(f"| {r['config']} | {r['ideal']:.0f} | {r['wall']:.2f} | {100 * r['overhead']:.2f}% "
                         f"| {(r['wall'] - r['ideal']) / a.tasks:.3f} |")
        worst = max(r["overhead"] for r in over)
        goal = ("meets" if worst < 0.05 else "misses") if a.sleep >= 10 else "tasks shorter than the 10 s of"
        lines += ["", f"Largest overhead {100 * worst:.2f}% with {a.sleep:g} s tasks — {goal} the < 5% goal "
                      "(for tasks of >= 10 s)."]
    cores = os.cpu_count() or 1
    busy = max(load) > 0.5 * cores
    lines += ["", f"Load average {load[0]:.1f} at start and {load[1]:.1f} at the end on {cores} cores"
                  + (": the machine was shared with other jobs, so CPU-bound rows are noisy upper bounds. " if busy
                     else ". ")
                  + f"No configuration can gain more than the {cores} cores allow; re-run on a real cluster for "
                    "scaling numbers."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--goals", type=int, default=8, help="batch goals (cycled from a fixed list); 0 skips the batch")
    ap.add_argument("--processes", nargs="+", default=["top", "qcd"], help="generate_jets processes")
    ap.add_argument("--n-jets", type=int, default=2000, help="jets per process (chunks of 1000); 0 skips generation")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sleep", type=float, default=10.0, help="seconds per overhead task; 0 skips the overhead part")
    ap.add_argument("--tasks", type=int, default=4, help="overhead tasks")
    ap.add_argument("--no-write", action="store_true", help="print the section instead of updating docs/benchmarks.md")
    a = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="hepilot-bench-scaling-"))
    # Before any worker starts: every process (pool or Dask) reads these, and the cache is off so
    # that each configuration does the same work.
    os.environ.update(HEPILOT_CACHE_DIR=str(root / "cache"), HEPILOT_RUNS_DIR=str(root / "runs"),
                      HEPILOT_KB=str(root / "kb"), HEPILOT_USE_CACHE="0", HEPILOT_WORKERS="1")
    for var in ("HEPILOT_DASK", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        os.environ.pop(var, None)
    from distributed import LocalCluster

    from hepilot.settings import get_settings
    from hepilot.tools.executor import DaskExecutor, LocalExecutor

    get_settings.cache_clear()
    load0 = os.getloadavg()[0]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        dask_ex = DaskExecutor(cluster.scheduler_address)
        executors = {"local-1": LocalExecutor(1), "local-2": LocalExecutor(2), "dask-2": dask_ex}
        try:
            goals = [GOALS[i % len(GOALS)] for i in range(a.goals)]
            batch = bench_batch(executors, goals, root, dask_ex.client) if goals else []
            gen_args = {"processes": a.processes, "n_jets": a.n_jets, "seed": a.seed}
            gen = bench_generation(executors, gen_args, root, dask_ex.client) if a.n_jets else []
            over = bench_overhead(executors, a.sleep, a.tasks) if a.sleep > 0 else []
        finally:
            executors["local-2"].close()
            dask_ex.close()
    md = report(batch, gen, over, a, (load0, os.getloadavg()[0]))
    if a.no_write:
        print(md)
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _report import write_section

        print(f"updated {write_section('scaling', md)}")


if __name__ == "__main__":
    main()
