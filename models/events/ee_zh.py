"""e+e- -> ZH (H -> gamma gamma, Z -> q qbar) and its Z/gamma* + photon background at 240 GeV: generation, selection, features.

The event sample of the CEPC quantum-ML study (Fadol et al., arXiv:2209.12788): Pythia 8 events
(shared/PYTHIA.md recipes), the parametric detector response (hepilot.models.events.detector,
CEPC preset by default), a diphoton selection and per-event features for classifiers.

Processes (the Pythia settings of hepilot.models.events.ee_higgs, so both samples agree)
    zh       = ee_higgs "zh_gamgam": HiggsSM:ffbar2HZ, H -> gamma gamma only (25:onIfMatch = 22 22;
             onIfAny would open H -> Z gamma), Z -> d u s c b
    zgamma   = ee_higgs "zgam_qq": WeakBosonAndParton:ffbar2gmZgm (Z/gamma* + photon, Z -> d u s c
             b, pTHat > 15 GeV); the second photon comes from ISR/FSR. Pythia has no e+e- -> q q
             gamma gamma matrix element; the inclusive ffbar2gmZ would double count and is not mixed in.
    Both switch off photon splitting in the shower (gamma -> f fbar), as a detector reconstructs a
    converted photon as a photon.
Generator-level preselection (speed only, far outside the resolution): >= 2 final-state photons
with E > 10 GeV and |cos theta| < 0.95; everything else runs on reconstructed particles.
Selection (on reconstructed particles, PYTHIA.md): the two most energetic isolated photons with
E > 20 GeV and |cos theta| < 0.9, isolation = no charged particle with pT > 1 GeV within
dR < 0.3, and 110 < m_gg < 140 GeV.
Features (GeV, cosines of polar angles):
    e_g1, e_g2, cos_g1, cos_g2        leading / subleading photon
    m_gg, e_gg, pt_gg, cos_gg         diphoton system
    cos_open_gg                       cosine of the opening angle between the photons
    m_recoil                          mass recoiling against the diphoton, sqrt((sqrt_s - E_gg)^2 - |p_gg|^2)
    m_had, e_had, n_charged           all other reconstructed particles
    m_jj, e_j1, e_j2                  the rest clustered into exactly two Durham (ee_kt) jets
    cos_gj_max                        largest cosine between a photon and a jet (photon-jet proximity)
File format "hepilot-eezh/1": `events.root`, TTree `events`, one entry per selected event with
`label` (index into manifest["processes"]), `event`, `chunk` and the features; `manifest.json`
holds settings, seeds, cross sections (pb) and selection efficiencies.
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
from hepilot.models.events.ee_higgs import EE_PROCESSES
from hepilot.models.events.generation import chunk_seed
from hepilot.models.events.samples import write_tree

__all__ = ["EE_ZH_PROCESSES", "FEATURES", "FORMAT", "EEZHConfig", "generate_ee_zh_chunk", "generate_ee_zh_sample",
           "select_and_features", "CHUNK_EVENTS"]

FORMAT = "hepilot-eezh/1"
TREE = "events"
CHUNK_EVENTS = 500
EE_ZH_PROCESSES: dict[str, tuple[str, ...]] = {"zh": EE_PROCESSES["zh_gamgam"], "zgamma": EE_PROCESSES["zgam_qq"]}
FEATURES = ("e_g1", "e_g2", "cos_g1", "cos_g2", "m_gg", "e_gg", "pt_gg", "cos_gg", "cos_open_gg", "m_recoil",
            "m_had", "e_had", "n_charged", "m_jj", "e_j1", "e_j2", "cos_gj_max")


@dataclass(frozen=True)
class EEZHConfig:
    """Settings of an e+e- -> ZH(gamma gamma) sample; every field enters the manifest."""

    processes: tuple[str, ...] = ("zh", "zgamma")
    n_events: int = 1000  # selected events per process
    sqrt_s: float = 240.0
    detector: str = "cepc"
    seed: int = 1
    photon_e_min: float = 20.0
    photon_cos_max: float = 0.9
    iso_dr: float = 0.3
    iso_track_pt: float = 1.0
    m_gg_min: float = 110.0
    m_gg_max: float = 140.0
    max_generated_per_selected: int = 5000

    def pythia_lines(self, process: str, seed: int) -> list[str]:
        return ["Beams:idA = 11", "Beams:idB = -11", f"Beams:eCM = {self.sqrt_s:g}", *EE_ZH_PROCESSES[process],
                "Print:quiet = on", "Next:numberCount = 0", "Random:setSeed = on", f"Random:seed = {seed}"]


def _preselect(gen: ak.Array) -> np.ndarray:
    """>= 2 generator photons with E > 10 GeV, |cos theta| < 0.95 (a speed cut far below the selection)."""
    cos = gen.pz / np.maximum(np.sqrt(gen.px**2 + gen.py**2 + gen.pz**2), 1e-12)
    good = (gen.pid == 22) & (gen.e > 10.0) & (abs(cos) < 0.95)
    return ak.to_numpy(ak.sum(good, axis=1) >= 2)


def _durham_two_jets(rest: list[np.ndarray]) -> np.ndarray:
    """(n_events, 2, 4) exclusive two-jet Durham (ee_kt) clustering, (E, px, py, pz) by decreasing E.

    rest: per event an (n_i, 4) array of (E, px, py, pz); events with < 2 particles get zero jets.
    """
    import warnings

    import fastjet

    out = np.zeros((len(rest), 2, 4))
    ok = [i for i, r in enumerate(rest) if len(r) >= 2]
    if not ok:
        return out
    arr = ak.Array([{"px": rest[i][:, 1], "py": rest[i][:, 2], "pz": rest[i][:, 3], "E": rest[i][:, 0]} for i in ok])
    vecs = ak.zip({k: arr[k] for k in ("px", "py", "pz", "E")}, with_name="Momentum4D")
    with warnings.catch_warnings():  # the wrapper warns for every algorithm but kt/CA/genkt, Durham included
        warnings.simplefilter("ignore", UserWarning)
        jets = fastjet.ClusterSequence(vecs, fastjet.JetDefinition0Param(fastjet.ee_kt_algorithm)).exclusive_jets(n_jets=2)
    four = np.stack([ak.to_numpy(jets[k]) for k in ("E", "px", "py", "pz")], axis=-1)  # (n_ok, 2, 4)
    order = np.argsort(-four[:, :, 0], axis=1)
    out[ok] = np.take_along_axis(four, order[:, :, None], axis=1)
    return out


def select_and_features(reco: ak.Array, cfg: EEZHConfig) -> tuple[list[int], dict[str, list[float]]]:
    """Apply the diphoton selection to reconstructed events; return kept indices and their features."""
    kept, photons, rests, charged = [], [], [], []
    for i in range(len(reco)):
        ev = reco[i]
        px, py, pz, e = (ak.to_numpy(ev[f]).astype(np.float64) for f in ("px", "py", "pz", "e"))
        pid, charge = ak.to_numpy(ev.pid).astype(np.int64), ak.to_numpy(ev.charge).astype(np.float64)
        pt, eta, phi = physics.pt(px, py), physics.eta(px, py, pz), physics.phi(px, py)
        cos = physics.cos_theta(px, py, pz)
        tracks = (charge != 0) & (pt > cfg.iso_track_pt)
        cand = np.flatnonzero((pid == 22) & (e > cfg.photon_e_min) & (np.abs(cos) < cfg.photon_cos_max))
        iso = [k for k in cand if not np.any(physics.delta_r(eta[tracks], phi[tracks], eta[k], phi[k]) < cfg.iso_dr)]
        if len(iso) < 2:
            continue
        g = sorted(iso, key=lambda k: -e[k])[:2]
        four = np.stack([e, px, py, pz], axis=1)  # (n, 4)
        if not cfg.m_gg_min < float(physics.mass(*four[g].sum(0))) < cfg.m_gg_max:
            continue
        rest = np.ones(len(e), dtype=bool)
        rest[g] = False
        kept.append(i)
        photons.append(four[g])
        rests.append(four[rest])
        charged.append(float((charge[rest] != 0).sum()))
    jets = _durham_two_jets(rests)
    feats: dict[str, list[float]] = {f: [] for f in FEATURES}
    for k in range(len(kept)):
        g1, g2 = photons[k]
        gg, had, jj = g1 + g2, rests[k].sum(0), jets[k]
        p_gg = float(np.linalg.norm(gg[1:]))
        units = [v[1:] / max(np.linalg.norm(v[1:]), 1e-12) for v in (g1, g2)]
        jet_dirs = [j[1:] / np.linalg.norm(j[1:]) for j in jj if np.linalg.norm(j[1:]) > 0]
        row = {
            "e_g1": g1[0], "e_g2": g2[0], "cos_g1": units[0][2], "cos_g2": units[1][2],
            "m_gg": physics.mass(*gg), "e_gg": gg[0], "pt_gg": math.hypot(gg[1], gg[2]),
            "cos_gg": gg[3] / max(p_gg, 1e-12), "cos_open_gg": float(np.dot(units[0], units[1])),
            "m_recoil": math.sqrt(max((cfg.sqrt_s - gg[0]) ** 2 - p_gg**2, 0.0)),
            "m_had": physics.mass(*had), "e_had": had[0], "n_charged": charged[k],
            "m_jj": physics.mass(*jj.sum(0)), "e_j1": jj[0, 0], "e_j2": jj[1, 0],
            "cos_gj_max": max((float(np.dot(u, d)) for u in units for d in jet_dirs), default=-1.0),
        }
        for name, v in row.items():
            feats[name].append(float(v))
    return kept, feats


def generate_ee_zh_chunk(cfg: EEZHConfig, process: str, chunk: int, n_events: int) -> dict[str, Any]:
    """`n_events` selected events of one process for chunk `chunk` (deterministic in its seed)."""
    seed = chunk_seed(cfg.seed, process, chunk)
    pythia = new_pythia(cfg.pythia_lines(process, seed))
    detector = get_detector(cfg.detector)
    rng = np.random.default_rng(seed)
    cache: dict[int, float] = {}
    feats: dict[str, list[float]] = {f: [] for f in FEATURES}
    events: list[int] = []
    n_generated, t0 = 0, time.perf_counter()
    batch = 200 if process == "zh" else 2000
    while len(events) < n_events:
        if n_generated > cfg.max_generated_per_selected * max(n_events, 1):
            raise RuntimeError(f"{process}: only {len(events)} of {n_generated} generated events pass the selection")
        gen = final_state(pythia.nextBatch(batch).prt, pythia, cache)
        pre = np.flatnonzero(_preselect(gen))
        if len(pre):
            kept, f = select_and_features(detector.apply(gen[pre], rng=rng), cfg)
        else:
            kept, f = [], {}
        take = min(len(kept), n_events - len(events))
        for k in FEATURES:
            feats[k] += f.get(k, [])[:take]
        events += [n_generated + int(pre[j]) for j in kept[:take]]
        # count generated events only up to the last one taken, so the selection efficiency is unbiased
        n_generated += int(pre[kept[take - 1]]) + 1 if 0 < take < len(kept) else len(gen)
    info = pythia.infoPython()
    return {"process": process, "chunk": chunk, "seed": seed, "features": feats, "events": events,
            "n_generated": n_generated, "sigma_pb": info.sigmaGen() * 1e9, "seconds": time.perf_counter() - t0}


def _run(task: tuple[EEZHConfig, str, int, int]) -> dict[str, Any]:
    return generate_ee_zh_chunk(*task)


def generate_ee_zh_sample(cfg: EEZHConfig, out_path: Path, *,
                          map_fn: Callable[[Callable, Iterable], Iterable] | None = None,
                          on_chunk: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Generate all chunks (through `map_fn`, e.g. an executor's ordered map), write `events.root`; return the manifest."""
    unknown = [p for p in cfg.processes if p not in EE_ZH_PROCESSES]
    if unknown:
        raise ValueError(f"unknown processes {unknown}; known: {sorted(EE_ZH_PROCESSES)}")
    tasks = chunk_tasks(cfg, cfg.processes, cfg.n_events, CHUNK_EVENTS)
    t0 = time.perf_counter()
    cols: dict[str, list] = {"label": [], "event": [], "chunk": [], **{f: [] for f in FEATURES}}
    tally = ProcessTally(cfg.processes)
    for res in (map_fn or map)(_run, tasks):
        n = len(res["events"])
        cols["label"].append(np.full(n, cfg.processes.index(res["process"]), dtype=np.int32))
        cols["event"].append(np.asarray(res["events"], dtype=np.int64))
        cols["chunk"].append(np.full(n, res["chunk"], dtype=np.int32))
        for f in FEATURES:
            cols[f].append(np.asarray(res["features"][f], dtype=np.float64))
        tally.add(res, n)
        if on_chunk:
            on_chunk(n)
    per_proc = tally.finish()
    for pp in per_proc.values():
        pp["sigma_selected_pb"] = pp["sigma_pb"] * pp["selection_efficiency"]
    manifest = {"format": FORMAT, "processes": list(cfg.processes), "config": asdict(cfg), "features": list(FEATURES),
                "pythia_settings": {p: cfg.pythia_lines(p, 0)[:-1] for p in cfg.processes},
                "chunk_seeds": {f"{t[1]}:{t[2]}": chunk_seed(cfg.seed, t[1], t[2]) for t in tasks},
                "per_process": per_proc, "wall_seconds": time.perf_counter() - t0}
    write_tree(Path(out_path), TREE, {k: np.concatenate(v) for k, v in cols.items()}, manifest)
    return manifest


