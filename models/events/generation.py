"""Jet samples from Pythia 8 + FastJet with a parametric detector response, generated in seeded chunks.

One sample holds several processes (e.g. top and QCD) generated with the same settings, so every
model trains and tests on the same jets. Work is split into chunks of `CHUNK_JETS` jets per
process; chunk k of process p uses Pythia seed `chunk_seed(seed, p, k)`, so the merged sample is
identical whether the chunks ran in one process, a local pool or on a Dask cluster.

Per event: final-state particles -> detector response -> anti-kT(R) -> jets with
pt_min < pT < pt_max and |eta| < eta_max; for resonance processes a jet is kept only if the
resonance and all its decay quarks (top: b and the two W daughters) lie within dR < R of the
jet axis (the top-tagging reference recipe). Constituents are stored pT-ordered, at most
`max_constituents` per jet.
"""
from __future__ import annotations

import logging
import math
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from hepilot.models import physics
from hepilot.models.events._fastjet import jet_definition
from hepilot.models.events._pythia import final_state, new_pythia
from hepilot.models.events.detector import get_detector
from hepilot.models.events.processes import PROCESSES, pythia_settings
from hepilot.models.events.samples import write_jet_sample

__all__ = ["JetGenConfig", "CHUNK_JETS", "chunk_seed", "generate_chunk", "generate_jet_sample", "chunk_tasks",
           "chunk_key"]

log = logging.getLogger(__name__)

CHUNK_JETS = 1000  # jets per chunk and process; fixed so results do not depend on the worker count
_BATCH_EVENTS = 100
_MAX_EVENTS_PER_JET = 2000  # give up when a chunk needs more events than this per requested jet


@dataclass(frozen=True)
class JetGenConfig:
    """Settings of a jet sample; every field enters the cache key and the manifest."""

    processes: tuple[str, ...] = ("top", "qcd")
    n_jets: int = 1000  # per process
    sqrt_s: float = 14000.0  # GeV
    pt_min: float = 550.0  # GeV
    pt_max: float = 650.0  # GeV
    eta_max: float = 2.0
    jet_r: float = 0.8
    max_constituents: int = 200
    truth_match: bool = True
    detector: str = "atlas"
    seed: int = 1
    extra_settings: tuple[str, ...] = field(default_factory=tuple)


def chunk_seed(seed: int, process: str, chunk: int) -> int:
    """Pythia seed of one chunk, in Pythia's allowed range 1..900000000."""
    ss = np.random.SeedSequence([seed, zlib.crc32(process.encode()), chunk])
    return int(ss.generate_state(1)[0] % 900_000_000) + 1


def chunk_tasks(config: JetGenConfig) -> list[tuple[JetGenConfig, str, int, int]]:
    """The (config, process, chunk index, jets) tasks of a sample, in merge order."""
    tasks = []
    for proc in config.processes:
        n_chunks = max(1, math.ceil(config.n_jets / CHUNK_JETS))
        for k in range(n_chunks):
            tasks.append((config, proc, k, min(CHUNK_JETS, config.n_jets - k * CHUNK_JETS)))
    return tasks


def chunk_key(task: tuple[JetGenConfig, str, int, int]) -> str:
    """Content address of one chunk: every setting except the total count, plus process, index and size."""
    import hashlib
    import json

    config, process, chunk, n = task
    settings = {k: v for k, v in asdict(config).items() if k != "n_jets"}
    blob = json.dumps({"settings": settings, "process": process, "chunk": chunk, "n": n}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _follow_copies(i: int, ids: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> int:
    """Index of the last copy of particle i (Pythia copies a particle when recoil changes it)."""
    while d1[i] > 0 and (d2[i] == d1[i] or d2[i] == 0) and ids[d1[i]] == ids[i]:
        i = int(d1[i])
    return i


def _decay_quarks(i: int, ids: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> list[int]:
    """Quarks (|id| <= 5) from the decay chain of particle i, through intermediate W bosons."""
    i = _follow_copies(i, ids, d1, d2)
    lo, hi = int(d1[i]), int(max(d2[i], d1[i]))
    out: list[int] = []
    if lo <= 0:
        return out
    for j in range(lo, hi + 1):
        a = abs(int(ids[j]))
        if 1 <= a <= 5:
            out.append(j)
        elif a == 24:
            out.extend(_decay_quarks(j, ids, d1, d2))
    return out


def _truth_objects(prt: ak.Array, resonance: int, events: np.ndarray) -> dict[int, list]:
    """For the given events: [(eta, phi of the resonance, [(eta, phi) of its decay quarks]), ...]."""
    ids_all = ak.to_numpy(ak.flatten(prt.id))
    st_all = ak.to_numpy(ak.flatten(prt.status))
    d1_all = ak.to_numpy(ak.flatten(prt.daughter1))
    d2_all = ak.to_numpy(ak.flatten(prt.daughter2))
    p = prt.p
    px_all, py_all, pz_all = (ak.to_numpy(ak.flatten(p[c])) for c in ("px", "py", "pz"))
    eta_all = physics.eta(px_all, py_all, pz_all)
    phi_all = physics.phi(px_all, py_all)
    offsets = np.concatenate([[0], np.cumsum(ak.to_numpy(ak.num(prt.id)))])
    out = {}
    for ev in events:
        a, b = offsets[ev], offsets[ev + 1]
        ids, st, d1, d2 = ids_all[a:b], st_all[a:b], d1_all[a:b], d2_all[a:b]
        objs = []
        for i in np.flatnonzero((np.abs(ids) == resonance) & (np.abs(st) == 22)):
            last = _follow_copies(int(i), ids, d1, d2)
            quarks = _decay_quarks(last, ids, d1, d2)
            objs.append((eta_all[a + last], phi_all[a + last], [(eta_all[a + q], phi_all[a + q]) for q in quarks]))
        out[int(ev)] = objs
    return out


def _select_jets(reco: ak.Array, jetdef, config: JetGenConfig, spec, prt: ak.Array):
    """Cluster one batch; return the window/truth-selected jets (event, then pT order) and their constituents."""
    import fastjet

    vecs = ak.zip({"px": reco.px, "py": reco.py, "pz": reco.pz, "E": reco.e}, with_name="Momentum4D")
    cs = fastjet.ClusterSequence(vecs, jetdef)
    cand = cs.inclusive_jets(min_pt=config.pt_min)
    const_idx = ak.flatten(cs.constituent_index(min_pt=config.pt_min), axis=1)  # (all jets, var)
    jet_ev = np.repeat(np.arange(len(cand)), ak.to_numpy(ak.num(cand)))
    jpx, jpy, jpz, je = (ak.to_numpy(ak.flatten(cand[c])).astype(float) for c in ("px", "py", "pz", "E"))
    jpt, jeta, jphi = physics.pt(jpx, jpy), physics.eta(jpx, jpy, jpz), physics.phi(jpx, jpy)
    keep = (jpt > config.pt_min) & (jpt < config.pt_max) & (np.abs(jeta) < config.eta_max)
    in_window = keep.copy()
    matched = np.ones(len(jpt), dtype=bool)
    if spec.resonance and keep.any():
        truth = _truth_objects(prt, spec.resonance, np.unique(jet_ev[keep]))
        for j in np.flatnonzero(keep):
            matched[j] = any(
                physics.delta_r(jeta[j], jphi[j], r_eta, r_phi) < config.jet_r
                and len(qs) == spec.n_quarks
                and all(physics.delta_r(jeta[j], jphi[j], qe, qp) < config.jet_r for qe, qp in qs)
                for r_eta, r_phi, qs in truth[jet_ev[j]]
            )
        if config.truth_match:
            keep &= matched
    idx = np.flatnonzero(keep)
    idx = idx[np.lexsort((-jpt[idx], jet_ev[idx]))]
    reco_offsets = np.concatenate([[0], np.cumsum(ak.to_numpy(ak.num(reco.px)))])
    flat_reco = ak.flatten(reco)
    local = const_idx[idx]
    global_idx = local + reco_offsets[jet_ev[idx]]
    cons = ak.unflatten(flat_reco[ak.to_numpy(ak.flatten(global_idx))], ak.to_numpy(ak.num(global_idx)))
    order = ak.argsort(physics.pt(cons.px, cons.py), axis=1, ascending=False)
    cons = cons[order][:, : config.max_constituents]
    block = {
        "jet_pt": jpt[idx], "jet_eta": jeta[idx], "jet_phi": jphi[idx],
        "jet_mass": physics.mass(je[idx], jpx[idx], jpy[idx], jpz[idx]), "jet_e": je[idx],
        "truth_matched": matched[idx], "event": jet_ev[idx],
    }
    counts = {"window": int(in_window.sum()), "matched": int((in_window & matched).sum())}
    return block, cons, counts


def generate_chunk(config: JetGenConfig, process: str, chunk: int, n_jets: int) -> dict[str, Any]:
    """Generate `n_jets` passing jets of one process for chunk `chunk` (deterministic in its seed)."""
    spec = PROCESSES[process]
    seed = chunk_seed(config.seed, process, chunk)
    pythia = new_pythia(pythia_settings(process, sqrt_s=config.sqrt_s, pt_min=config.pt_min, pt_max=config.pt_max,
                                         seed=seed, extra=config.extra_settings))
    detector = get_detector(config.detector)
    rng = np.random.default_rng(seed)
    jetdef = jet_definition("antikt", config.jet_r)
    charge_cache: dict[int, float] = {}
    blocks: list[dict[str, np.ndarray]] = []
    parts: list[ak.Array] = []
    n_events = n_found = n_window = n_matched = 0
    t0 = time.perf_counter()
    while n_found < n_jets:
        if n_events > _MAX_EVENTS_PER_JET * n_jets:
            raise RuntimeError(f"{process}: only {n_found} jets in {n_events} events; is the pT window reachable "
                               f"at sqrt_s = {config.sqrt_s} GeV?")
        batch = pythia.nextBatch(_BATCH_EVENTS)
        prt = batch.prt
        reco = detector.apply(final_state(prt, pythia, charge_cache), rng=rng)
        block, cons, counts = _select_jets(reco, jetdef, config, spec, prt)
        n_window += counts["window"]
        n_matched += counts["matched"]
        take = min(len(block["jet_pt"]), n_jets - n_found)
        block = {k: v[:take] for k, v in block.items()}
        block["event"] = block["event"] + n_events
        blocks.append(block)
        parts.append(cons[:take])
        n_found += take
        n_events += len(batch)
    jets = {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}
    info = pythia.infoPython()
    return {
        "process": process,
        "chunk": chunk,
        "seed": seed,
        "jets": jets,
        "particles": ak.concatenate(parts),
        "n_events": n_events,
        "n_window": n_window,
        "n_matched": n_matched,
        "sigma_pb": info.sigmaGen() * 1e9,
        "sigma_err_pb": info.sigmaErr() * 1e9,
        "seconds": time.perf_counter() - t0,
    }


def _run_chunk(task: tuple[JetGenConfig, str, int, int]) -> dict[str, Any]:
    return generate_chunk(*task)


def generate_jet_sample(config: JetGenConfig, out_path: Path, *,
                        map_fn: Callable[[Callable, list], Iterable] | None = None,
                        on_chunk: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Generate all chunks through `map_fn(fn, tasks)` (an ordered map: a pool, a cluster, or the
    builtin map), merge them in task order, write the sample; return the manifest."""
    for proc in config.processes:
        if proc not in PROCESSES:
            raise ValueError(f"unknown process {proc!r}; known: {sorted(PROCESSES)}")
    tasks = chunk_tasks(config)
    t0 = time.perf_counter()
    results = []
    for res in (map_fn or map)(_run_chunk, tasks):
        results.append(res)
        if on_chunk:
            on_chunk(len(res["jets"]["jet_pt"]))
    jets: dict[str, list[np.ndarray]] = {}
    particles = []
    per_proc: dict[str, dict[str, Any]] = {p: {"n_jets": 0, "n_events": 0, "n_window": 0, "n_matched": 0,
                                               "sigma_pb": [], "seconds": 0.0} for p in config.processes}
    for res in results:
        n = len(res["jets"]["jet_pt"])
        for k, v in res["jets"].items():
            jets.setdefault(k, []).append(v)
        jets.setdefault("label", []).append(np.full(n, config.processes.index(res["process"]), dtype=np.int32))
        jets.setdefault("chunk", []).append(np.full(n, res["chunk"], dtype=np.int32))
        particles.append(res["particles"])
        pp = per_proc[res["process"]]
        pp["n_jets"] += n
        pp["n_events"] += res["n_events"]
        pp["n_window"] += res["n_window"]
        pp["n_matched"] += res["n_matched"]
        pp["sigma_pb"].append((res["sigma_pb"], res["n_events"]))
        pp["seconds"] += res["seconds"]
    merged = {k: np.concatenate(v) for k, v in jets.items()}
    all_particles = ak.concatenate(particles) if particles else ak.Array([])
    for proc, pp in per_proc.items():
        if PROCESSES[proc].resonance is not None:
            pp["match_efficiency"] = pp["n_matched"] / max(pp["n_window"], 1)
        sig, n_ev = np.array(pp.pop("sigma_pb")).T
        pp["sigma_pb"] = float(np.average(sig, weights=n_ev))  # each chunk's estimate weighted by its events
        pp["jets_per_event"] = pp["n_jets"] / max(pp["n_events"], 1)
    manifest = {
        "processes": list(config.processes),
        "config": asdict(config),
        "pythia_settings": {p: pythia_settings(p, sqrt_s=config.sqrt_s, pt_min=config.pt_min, pt_max=config.pt_max,
                                               seed=0, extra=config.extra_settings)[:-1] for p in config.processes},
        "chunk_seeds": {f"{t[1]}:{t[2]}": chunk_seed(config.seed, t[1], t[2]) for t in tasks},
        "per_process": per_proc,
        "n_jets_total": int(len(merged["jet_pt"])),
        "wall_seconds": time.perf_counter() - t0,
        "versions": _versions(),
    }
    write_jet_sample(out_path, merged, all_particles, manifest)
    return manifest


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {}
    for pkg in ("pythia8mc", "fastjet", "awkward", "uproot"):
        try:
            out[pkg] = version(pkg)
        except Exception:  # a missing distribution only drops a line from the manifest
            out[pkg] = "unknown"
    return out
