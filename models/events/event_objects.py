"""Event-level reconstructed objects (leptons, photons, b/light jets, MET) for event classification, and their files.

The task of the MPNN paper's kind (arXiv:1807.09088) that Pythia generates out of the box:
ttH (H -> b bbar) against ttbar, both semileptonic, pp at 13 TeV (shared/PYTHIA.md recipe; the
W+ decays to e/mu + nu and the W- to quarks, so the lepton is always positive). Multiparton
interactions are off by default (`mpi=False`, ~5x faster); say so when reporting.

Per event: final-state particles -> detector response (`hepilot.models.events.detector`) ->
    leptons   e/mu with pT > 25 GeV, |eta| < 2.5, isolated: sum pT of other particles within
              dR < 0.3 below 0.15 pT; charge kept
    photons   same cuts and isolation
    jets      anti-kT R = 0.4 on all other particles, pT > 25 GeV, |eta| < 2.5
    b-tag     truth flavour from hadrons: a B hadron (pT > 5 GeV) within dR < 0.4 -> b, else a
              charm hadron -> c, else light; tagged with probability 0.70 / 0.12 / 0.003 (about
              the ATLAS MV2c10 70% working point, arXiv:1907.05120)
    MET       minus the vector pT sum of all reconstructed particles
Selection: exactly one isolated lepton and at least four jets.

Format "hepilot-events/1": file `events.root`, TTree `events`, one entry per selected event:
label (index into manifest["processes"]), event, chunk, and jagged `obj_type` (OBJECT_TYPES
index), `obj_pt`, `obj_eta`, `obj_phi`, `obj_e`, `obj_mass` (GeV), `obj_charge`; objects are
ordered MET, leptons, photons, jets by decreasing pT. `manifest.json` holds settings, seeds,
cross sections and selection efficiencies.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from hepilot.models import physics
from hepilot.models.events._chunks import ProcessTally, chunk_tasks
from hepilot.models.events._pythia import final_state, new_pythia
from hepilot.models.events.detector import get_detector
from hepilot.models.events.generation import chunk_seed
from hepilot.models.events.samples import SampleError, read_manifest, read_tree, write_tree

__all__ = ["EVENT_PROCESSES", "OBJECT_TYPES", "EventObjectConfig", "EventSample", "FORMAT", "generate_event_sample",
           "read_event_sample", "object_arrays", "CHUNK_EVENTS", "generate_event_chunk"]

FORMAT = "hepilot-events/1"
TREE = "events"
CHUNK_EVENTS = 1000
OBJECT_TYPES = ("photon", "electron", "muon", "bjet", "jet", "met")
_OBJ_FIELDS = ("type", "pt", "eta", "phi", "e", "mass", "charge")
_SEMILEP = ("24:onMode = off", "24:onPosIfAny = 11 13", "24:onNegIfAny = 1 2 3 4 5")
EVENT_PROCESSES: dict[str, tuple[str, ...]] = {
    "tth_bb": ("HiggsSM:gg2Httbar = on", "HiggsSM:qqbar2Httbar = on", "25:onMode = off", "25:onIfAny = 5", *_SEMILEP),
    "ttbar": ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on", *_SEMILEP),
}


@dataclass(frozen=True)
class EventObjectConfig:
    """Settings of an event-object sample; every field enters the manifest (and the tool's cache key)."""

    processes: tuple[str, ...] = ("tth_bb", "ttbar")
    n_events: int = 2000  # selected events per process
    sqrt_s: float = 13000.0
    mpi: bool = False
    detector: str = "atlas"
    seed: int = 1
    jet_r: float = 0.4
    jet_pt_min: float = 25.0
    lepton_pt_min: float = 25.0
    photon_pt_min: float = 25.0
    eta_max: float = 2.5
    iso_dr: float = 0.3
    iso_max: float = 0.15
    btag_eff: float = 0.70
    ctag_mistag: float = 0.12
    light_mistag: float = 0.003
    min_jets: int = 4

    def pythia_lines(self, process: str, seed: int) -> list[str]:
        return [f"Beams:eCM = {self.sqrt_s:g}", *EVENT_PROCESSES[process], f"PartonLevel:MPI = {'on' if self.mpi else 'off'}",
                "Print:quiet = on", "Next:numberCount = 0", "Random:setSeed = on", f"Random:seed = {seed}"]


@dataclass
class EventSample:
    """Selected events in memory: labels and jagged object records (fields as in the file)."""

    labels: np.ndarray
    objects: ak.Array  # (events, var) records type, pt, eta, phi, e, mass, charge
    manifest: dict[str, Any]
    path: Path | None = None
    chunk: np.ndarray | None = None  # generation chunk of every event
    event: np.ndarray | None = None  # event number within its chunk

    def select(self, idx: np.ndarray) -> EventSample:
        """A new sample with the events at `idx` (indices or a boolean mask)."""
        chunk = None if self.chunk is None else self.chunk[idx]
        event = None if self.event is None else self.event[idx]
        return EventSample(self.labels[idx], self.objects[idx], self.manifest, self.path, chunk, event)

    @property
    def processes(self) -> list[str]:
        return list(self.manifest.get("processes", []))

    def __len__(self) -> int:
        return len(self.labels)

    def binary_labels(self, signal: str) -> np.ndarray:
        if signal not in self.processes:
            raise SampleError(f"process {signal!r} is not in this sample; it has {self.processes}")
        return (self.labels == self.processes.index(signal)).astype(np.int64)


def _hadron_flavour(pid: np.ndarray) -> np.ndarray:
    """5 for B hadrons, 4 for charm hadrons, 0 otherwise (from the PDG id's quark digits)."""
    a = np.abs(pid)
    meson, baryon = (a // 100) % 10, (a // 1000) % 10
    out = np.zeros(a.shape, dtype=np.int64)
    out[(meson == 4) | (baryon == 4)] = 4
    out[(meson == 5) | (baryon == 5)] = 5
    return out


def _isolated(i: int, eta: np.ndarray, phi: np.ndarray, pt: np.ndarray, cfg: EventObjectConfig) -> bool:
    near = physics.delta_r(eta, phi, eta[i], phi[i]) < cfg.iso_dr
    return (pt[near].sum() - pt[i]) < cfg.iso_max * pt[i]


def _leptons_photons(pt, eta, phi, apid, cfg: EventObjectConfig) -> tuple[list[int], list[int]]:
    """Indices of isolated leptons and photons passing the cuts, within one event's particles."""
    lep, pho = [], []
    for i in np.flatnonzero(np.isin(apid, (11, 13, 22)) & (np.abs(eta) < cfg.eta_max)):
        cut = cfg.photon_pt_min if apid[i] == 22 else cfg.lepton_pt_min
        if pt[i] > cut and _isolated(i, eta, phi, pt, cfg):
            (pho if apid[i] == 22 else lep).append(int(i))
    return lep, pho


def _flat(arr: ak.Array, fields: Iterable[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    counts = ak.to_numpy(ak.num(arr)).astype(np.int64)
    return {f: ak.to_numpy(ak.flatten(arr[f])).astype(np.float64) for f in fields}, np.r_[0, np.cumsum(counts)]


def _reconstruct_batch(prt: ak.Array, reco: ak.Array, cfg: EventObjectConfig, rng: np.random.Generator,
                       jetdef) -> tuple[list[dict[str, np.ndarray]], list[int]]:
    """Objects of the events of one batch that pass the selection, and their indices in the batch."""
    import fastjet

    r, r_off = _flat(reco, ("px", "py", "pz", "e", "pid", "charge"))
    pt, eta, phi = physics.pt(r["px"], r["py"]), physics.eta(r["px"], r["py"], r["pz"]), physics.phi(r["px"], r["py"])
    apid = np.abs(r["pid"]).astype(np.int64)
    n_ev = len(r_off) - 1
    used = np.zeros(pt.size, dtype=bool)
    picked = []
    for ev in range(n_ev):
        a, b = r_off[ev], r_off[ev + 1]
        lep, pho = _leptons_photons(pt[a:b], eta[a:b], phi[a:b], apid[a:b], cfg)
        used[[a + i for i in lep + pho]] = True
        picked.append(([a + i for i in lep], [a + i for i in pho]))
    counts = np.diff(r_off)
    rest = ak.unflatten(ak.Array({k: r[k][~used] for k in ("px", "py", "pz", "e")}),
                        np.bincount(np.repeat(np.arange(n_ev), counts)[~used], minlength=n_ev))
    vecs = ak.zip({"px": rest.px, "py": rest.py, "pz": rest.pz, "E": rest.e}, with_name="Momentum4D")
    jets = fastjet.ClusterSequence(vecs, jetdef).inclusive_jets(min_pt=cfg.jet_pt_min)
    j, j_off = _flat(jets, ("px", "py", "pz", "E"))
    h_all = prt[(prt.p.px ** 2 + prt.p.py ** 2 > 25.0)]
    h_flav = _hadron_flavour(ak.to_numpy(ak.flatten(h_all.id)))
    h, h_off = _flat(h_all.p, ("px", "py", "pz"))
    h_eta, h_phi = physics.eta(h["px"], h["py"], h["pz"]), physics.phi(h["px"], h["py"])
    tag_prob = {5: cfg.btag_eff, 4: cfg.ctag_mistag, 0: cfg.light_mistag}
    out, kept = [], []
    for ev in range(n_ev):
        lep, pho = picked[ev]
        a, b = j_off[ev], j_off[ev + 1]
        jpt = physics.pt(j["px"][a:b], j["py"][a:b])
        jeta = physics.eta(j["px"][a:b], j["py"][a:b], j["pz"][a:b])
        jphi = physics.phi(j["px"][a:b], j["py"][a:b])
        je = j["E"][a:b]
        jm = physics.mass(je, j["px"][a:b], j["py"][a:b], j["pz"][a:b])
        good = np.flatnonzero((jpt > cfg.jet_pt_min) & (np.abs(jeta) < cfg.eta_max))
        if len(lep) != 1 or len(good) < cfg.min_jets:
            continue
        ha, hb = h_off[ev], h_off[ev + 1]
        types = []
        for k in good:
            near = physics.delta_r(h_eta[ha:hb], h_phi[ha:hb], jeta[k], jphi[k]) < cfg.jet_r
            flav = int(h_flav[ha:hb][near].max()) if near.any() else 0
            types.append(OBJECT_TYPES.index("bjet" if rng.random() < tag_prob[flav] else "jet"))
        a, b = r_off[ev], r_off[ev + 1]
        mex, mey = -r["px"][a:b].sum(), -r["py"][a:b].sum()
        met = math.hypot(mex, mey)
        lp = sorted(lep + pho, key=lambda i: (apid[i] == 22, -pt[i]))
        obj = {
            "type": np.r_[OBJECT_TYPES.index("met"),
                          [OBJECT_TYPES.index({11: "electron", 13: "muon", 22: "photon"}[apid[i]]) for i in lp],
                          types],
            "pt": np.r_[met, pt[lp], jpt[good]],
            "eta": np.r_[0.0, eta[lp], jeta[good]],
            "phi": np.r_[math.atan2(mey, mex), phi[lp], jphi[good]],
            "e": np.r_[met, r["e"][lp], je[good]],
            "mass": np.r_[0.0, np.zeros(len(lp)), jm[good]],
            "charge": np.r_[0.0, r["charge"][lp], np.zeros(len(good))],
        }
        out.append(obj)
        kept.append(ev)
    return out, kept


def generate_event_chunk(cfg: EventObjectConfig, process: str, chunk: int, n_events: int) -> dict[str, Any]:
    """`n_events` selected events of one process for chunk `chunk` (deterministic in its seed)."""
    import fastjet

    seed = chunk_seed(cfg.seed, process, chunk)
    pythia = new_pythia(cfg.pythia_lines(process, seed))
    detector = get_detector(cfg.detector)
    rng = np.random.default_rng(seed)
    jetdef = fastjet.JetDefinition(fastjet.antikt_algorithm, cfg.jet_r)
    cache: dict[int, float] = {}
    objects: list[dict[str, np.ndarray]] = []
    events: list[int] = []
    n_generated, t0 = 0, time.perf_counter()
    while len(objects) < n_events:
        if n_generated > 200 * n_events:
            raise RuntimeError(f"{process}: only {len(objects)} of {n_generated} events pass the selection")
        prt = pythia.nextBatch(100).prt
        gen = final_state(prt, pythia, cache)
        objs, kept = _reconstruct_batch(prt, detector.apply(gen, rng=rng), cfg, rng, jetdef)
        take = min(len(objs), n_events - len(objects))
        objects += objs[:take]
        events += [n_generated + k for k in kept[:take]]
        # count generated events only up to the last one taken, so the selection efficiency is unbiased
        n_generated += kept[take - 1] + 1 if 0 < take < len(objs) else len(prt)
    info = pythia.infoPython()
    return {"process": process, "chunk": chunk, "seed": seed, "objects": objects, "events": events,
            "n_generated": n_generated, "sigma_pb": info.sigmaGen() * 1e9, "seconds": time.perf_counter() - t0}


def _run(task: tuple[EventObjectConfig, str, int, int]) -> dict[str, Any]:
    return generate_event_chunk(*task)


def generate_event_sample(cfg: EventObjectConfig, out_path: Path, *,
                          map_fn: Callable[[Callable, Iterable], Iterable] | None = None,
                          on_chunk: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Generate all chunks (through `map_fn`, e.g. a pool's ordered map), write `events.root`; return the manifest."""
    unknown = [p for p in cfg.processes if p not in EVENT_PROCESSES]
    if unknown:
        raise ValueError(f"unknown processes {unknown}; known: {sorted(EVENT_PROCESSES)}")
    tasks = chunk_tasks(cfg, cfg.processes, cfg.n_events, CHUNK_EVENTS)
    t0 = time.perf_counter()
    cols: dict[str, list] = {"label": [], "event": [], "chunk": []}
    objects: list[dict[str, np.ndarray]] = []
    tally = ProcessTally(cfg.processes)
    for res in (map_fn or map)(_run, tasks):
        n = len(res["objects"])
        cols["label"].append(np.full(n, cfg.processes.index(res["process"])))
        cols["event"].append(np.asarray(res["events"], dtype=np.int64))
        cols["chunk"].append(np.full(n, res["chunk"]))
        objects += res["objects"]
        tally.add(res, n)
        if on_chunk:
            on_chunk(n)
    per_proc = tally.finish()
    manifest = {"format": FORMAT, "processes": list(cfg.processes), "config": asdict(cfg),
                "pythia_settings": {p: cfg.pythia_lines(p, 0)[:-1] for p in cfg.processes},
                "chunk_seeds": {f"{t[1]}:{t[2]}": chunk_seed(cfg.seed, t[1], t[2]) for t in tasks},
                "per_process": per_proc, "object_types": list(OBJECT_TYPES), "wall_seconds": time.perf_counter() - t0}
    _write(Path(out_path), {k: np.concatenate(v) for k, v in cols.items()}, objects, manifest)
    return manifest


def _write(path: Path, cols: dict[str, np.ndarray], objects: list[dict[str, np.ndarray]], manifest: dict) -> None:
    counts = np.array([len(o["pt"]) for o in objects], dtype=np.int64)
    obj = ak.zip({f: ak.unflatten(np.concatenate([o[f] for o in objects]).astype(np.int32 if f == "type" else np.float32),
                                  counts) for f in _OBJ_FIELDS})
    data = {"label": cols["label"].astype(np.int32), "event": cols["event"], "chunk": cols["chunk"].astype(np.int32),
            "obj": obj}
    write_tree(path, TREE, data, manifest)


def read_event_sample(path: str | Path) -> EventSample:
    """Read a sample written by `generate_event_sample`; SampleError if it is not one."""
    arrays, path = read_tree(path, filename="events.root", tree=TREE, fmt=FORMAT, what="event sample",
                             branches=["label", "chunk", "event"] + [f"obj_{k}" for k in _OBJ_FIELDS])
    manifest = read_manifest(path)
    objects = ak.zip({k: arrays[f"obj_{k}"] for k in _OBJ_FIELDS})
    return EventSample(ak.to_numpy(arrays["label"]).astype(np.int64), objects, manifest, path,
                       ak.to_numpy(arrays["chunk"]).astype(np.int64), ak.to_numpy(arrays["event"]).astype(np.int64))


def object_arrays(sample: EventSample, *, max_objects: int = 16) -> dict[str, np.ndarray]:
    """Graph inputs: nodes (N, 10, P) = one-hot(type), charge, ln(1 + pT, E, m / GeV); coords (N, 2, P); mask."""
    counts = ak.to_numpy(ak.num(sample.objects.pt)).astype(np.int64)
    p = max_objects
    take = np.minimum(counts, p)
    offsets = np.r_[0, np.cumsum(counts)[:-1]]
    slot = np.arange(p)
    valid = slot[None, :] < take[:, None]
    idx = np.where(valid, offsets[:, None] + slot[None, :], 0)

    def padded(field: str) -> np.ndarray:
        flat = ak.to_numpy(ak.flatten(sample.objects[field])).astype(np.float64)
        return np.where(valid, flat[idx] if flat.size else 0.0, 0.0)

    types = padded("type").astype(np.int64)
    onehot = np.eye(len(OBJECT_TYPES))[types] * valid[..., None]  # (N, P, 6)
    kin = np.stack([np.log1p(np.maximum(padded(k), 0.0)) for k in ("pt", "e", "mass")], axis=-1) * valid[..., None]
    nodes = np.concatenate([onehot, padded("charge")[..., None], kin], axis=-1)
    return {"nodes": nodes.transpose(0, 2, 1).astype(np.float32),
            "coords": np.stack([padded("eta"), padded("phi")], axis=1).astype(np.float32),
            "mask": valid[:, None, :].astype(np.float32)}
