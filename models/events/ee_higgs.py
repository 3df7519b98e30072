"""Truth-level e+e- -> ZH samples and their backgrounds at 240 GeV: final-state particles stored for detector studies.

The design loops apply many detector configurations to the same generated events, so the events
are stored before any detector response (format "hepilot-truth/1": file `truth.root`, TTree
`events`, one entry per kept event with `label` (index into manifest["processes"]), `chunk`,
`event` and jagged `part_px, part_py, part_pz, part_e` (GeV), `part_pid`, `part_charge`).
Processes (recipes of ../shared/PYTHIA.md, Pythia 8 with ISR):
    zh_gamgam   e+e- -> ZH, H -> gamma gamma (onIfMatch 22 22), Z -> q qbar
    zh_mumu     e+e- -> ZH, Z -> mu+ mu-, H inclusive
    zgam_qq     e+e- -> Z/gamma* + gamma, Z -> q qbar, pTHat > 15 GeV (background of H -> gamma gamma)
    zh_nunu_gg  e+e- -> ZH, Z -> nu nubar, H -> g g, without ISR (the CEPC boson-mass-resolution sample:
                every visible particle is the Higgs's; its definition drops events with ISR photons)
Photon splitting in the parton shower (gamma -> f fbar, ~4% of Higgs photons) is switched off for
the diphoton processes, so a hard photon reaches the detector as a photon.
An optional generator-level preselection keeps events with at least `min_photons` photons of
E > `photon_e_min` GeV and, if `diphoton_window` is set, the two most energetic of them inside that
mass window (the H -> gamma gamma background passes ~1e-3 of a diphoton selection, so storing
every event would waste the cache; keep the window wider than the analysis one, the detector moves
masses by a few GeV). The kept fraction is in the manifest, and the expected event count of a
sample is sigma * efficiency * luminosity.
"""
from __future__ import annotations

import logging
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
from hepilot.models.events.generation import chunk_seed
from hepilot.models.events.samples import SampleError, read_manifest, read_tree, write_tree

__all__ = ["EE_PROCESSES", "EEConfig", "TruthSample", "FORMAT", "CHUNK_EVENTS", "generate_ee_chunk",
           "generate_ee_sample", "read_truth_sample"]

log = logging.getLogger(__name__)

FORMAT = "hepilot-truth/1"
TREE = "events"
CHUNK_EVENTS = 2000
_FIELDS = ("px", "py", "pz", "e", "pid", "charge")
_QQ = ("23:onMode = off", "23:onIfAny = 1 2 3 4 5")
_NO_GAMMA_SPLIT = ("TimeShower:QEDshowerByGamma = off",)  # keep hard photons photons (no gamma -> f fbar branchings)
EE_PROCESSES: dict[str, tuple[str, ...]] = {
    "zh_gamgam": ("HiggsSM:ffbar2HZ = on", "25:onMode = off", "25:onIfMatch = 22 22", *_QQ, *_NO_GAMMA_SPLIT),
    "zh_mumu": ("HiggsSM:ffbar2HZ = on", "23:onMode = off", "23:onIfAny = 13"),
    "zgam_qq": ("WeakBosonAndParton:ffbar2gmZgm = on", *_QQ, "PhaseSpace:pTHatMin = 15.", *_NO_GAMMA_SPLIT),
    "zh_nunu_gg": ("HiggsSM:ffbar2HZ = on", "25:onMode = off", "25:onIfMatch = 21 21", "23:onMode = off",
                   "23:onIfAny = 12 14 16", "PDF:lepton = off"),
}


@dataclass(frozen=True)
class EEConfig:
    """Settings of a truth sample; every field enters the manifest and the cache key."""

    processes: tuple[str, ...] = ("zh_gamgam",)
    n_events: int = 2000  # kept events per process
    sqrt_s: float = 240.0  # GeV
    seed: int = 1
    min_photons: int = 0  # generator-level preselection: photons with E > photon_e_min
    photon_e_min: float = 15.0  # GeV
    diphoton_window: tuple[float, float] | None = None  # GeV, on the two most energetic photons

    def pythia_lines(self, process: str, seed: int) -> list[str]:
        return ["Beams:idA = 11", "Beams:idB = -11", f"Beams:eCM = {self.sqrt_s:g}", *EE_PROCESSES[process],
                "Print:quiet = on", "Next:numberCount = 0", "Random:setSeed = on", f"Random:seed = {seed}"]


@dataclass
class TruthSample:
    """Kept events in memory: labels, jagged final-state particles and the manifest."""

    labels: np.ndarray
    particles: ak.Array  # (events, var) records px, py, pz, e, pid, charge
    manifest: dict[str, Any]
    path: Path | None = None

    @property
    def processes(self) -> list[str]:
        return list(self.manifest.get("processes", []))

    def __len__(self) -> int:
        return len(self.labels)

    def of(self, process: str) -> ak.Array:
        """The particles of the events of one process."""
        if process not in self.processes:
            raise SampleError(f"process {process!r} is not in this sample; it has {self.processes}")
        return self.particles[self.labels == self.processes.index(process)]

    def expected_events(self, process: str, luminosity_fb: float) -> float:
        """sigma x preselection efficiency x luminosity (events) of one process; luminosity in fb^-1."""
        pp = self.manifest["per_process"][process]
        return pp["sigma_pb"] * 1e3 * luminosity_fb * pp["selection_efficiency"]


def _preselected(gen: ak.Array, cfg: EEConfig) -> np.ndarray:
    if cfg.min_photons <= 0:
        return np.ones(len(gen), dtype=bool)
    photons = gen[(gen.pid == 22) & (gen.e > cfg.photon_e_min)]
    keep = ak.to_numpy(ak.num(photons)) >= cfg.min_photons
    if cfg.diphoton_window is not None:
        lead = ak.pad_none(photons[ak.argsort(photons.e, axis=1, ascending=False)], 2, clip=True)
        tot = {k: ak.to_numpy(ak.fill_none(lead[k][:, 0] + lead[k][:, 1], 0.0)) for k in ("e", "px", "py", "pz")}
        m = physics.mass(tot["e"], tot["px"], tot["py"], tot["pz"])
        keep &= (m > cfg.diphoton_window[0]) & (m < cfg.diphoton_window[1])
    return keep


def generate_ee_chunk(cfg: EEConfig, process: str, chunk: int, n_events: int) -> dict[str, Any]:
    """`n_events` kept events of one process for chunk `chunk` (deterministic in its seed)."""
    seed = chunk_seed(cfg.seed, process, chunk)
    pythia = new_pythia(cfg.pythia_lines(process, seed))
    cache: dict[int, float] = {}
    parts: list[ak.Array] = []
    events: list[np.ndarray] = []
    n_kept = n_generated = 0
    t0 = time.perf_counter()
    while n_kept < n_events:
        if n_generated > 20_000 * n_events:
            raise RuntimeError(f"{process}: only {n_kept} of {n_generated} events pass the preselection")
        gen = final_state(pythia.nextBatch(200).prt, pythia, cache)
        idx = np.flatnonzero(_preselected(gen, cfg))
        take = min(len(idx), n_events - n_kept)
        parts.append(gen[idx[:take]])
        events.append(n_generated + idx[:take])
        # count generated events only up to the last one kept, so the preselection efficiency is unbiased
        n_generated += int(idx[take - 1]) + 1 if 0 < take < len(idx) else len(gen)
        n_kept += take
    info = pythia.infoPython()
    return {"process": process, "chunk": chunk, "seed": seed, "particles": ak.concatenate(parts),
            "events": np.concatenate(events), "n_generated": n_generated, "sigma_pb": info.sigmaGen() * 1e9,
            "seconds": time.perf_counter() - t0}


def _run(task: tuple[EEConfig, str, int, int]) -> dict[str, Any]:
    return generate_ee_chunk(*task)


def generate_ee_sample(cfg: EEConfig, out_path: Path, *, map_fn: Callable[[Callable, Iterable], Iterable] | None = None,
                       on_chunk: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Generate all chunks (through `map_fn`, an executor's ordered map), write `truth.root`; return the manifest."""
    unknown = [p for p in cfg.processes if p not in EE_PROCESSES]
    if unknown:
        raise ValueError(f"unknown e+e- processes {unknown}; known: {sorted(EE_PROCESSES)}")
    tasks = chunk_tasks(cfg, cfg.processes, cfg.n_events, CHUNK_EVENTS)
    t0 = time.perf_counter()
    labels, chunks, events, parts = [], [], [], []
    tally = ProcessTally(cfg.processes)
    for res in (map_fn or map)(_run, tasks):
        n = len(res["particles"])
        labels.append(np.full(n, cfg.processes.index(res["process"]), dtype=np.int32))
        chunks.append(np.full(n, res["chunk"], dtype=np.int32))
        events.append(res["events"].astype(np.int64))
        parts.append(res["particles"])
        tally.add(res, n)
        if on_chunk:
            on_chunk(n)
    per_proc = tally.finish()
    manifest = {"format": FORMAT, "processes": list(cfg.processes), "config": asdict(cfg),
                "pythia_settings": {p: cfg.pythia_lines(p, 0)[:-1] for p in cfg.processes},
                "chunk_seeds": {f"{t[1]}:{t[2]}": chunk_seed(cfg.seed, t[1], t[2]) for t in tasks},
                "per_process": per_proc, "wall_seconds": time.perf_counter() - t0}
    _write(Path(out_path), np.concatenate(labels), np.concatenate(chunks), np.concatenate(events),
           ak.concatenate(parts), manifest)
    return manifest


def _write(path: Path, labels, chunks, events, particles: ak.Array, manifest: dict) -> None:
    part = ak.zip({f: ak.values_astype(particles[f], np.int32 if f == "pid" else np.float32) for f in _FIELDS})
    data = {"label": labels, "chunk": chunks, "event": events, "part": part}
    write_tree(path, TREE, data, manifest)


def read_truth_sample(path: str | Path) -> TruthSample:
    """Read a sample written by `generate_ee_sample`; SampleError if it is not one."""
    arrays, path = read_tree(path, filename="truth.root", tree=TREE, fmt=FORMAT, what="truth sample",
                             branches=["label"] + [f"part_{k}" for k in _FIELDS])
    manifest = read_manifest(path, required=True)
    particles = ak.zip({k: ak.values_astype(arrays[f"part_{k}"], np.float64 if k != "pid" else np.int64)
                        for k in _FIELDS})
    return TruthSample(ak.to_numpy(arrays["label"]).astype(np.int64), particles, manifest, path)
