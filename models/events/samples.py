"""Jet samples on disk: a ROOT file (uproot) plus a JSON manifest, and the reader every model uses.

Format "hepilot-jets/1" — file `jets.root`, TTree `jets`, one entry per jet, constituents pT-ordered:

    label            int32    index into manifest["processes"] (e.g. 0 = top, 1 = qcd)
    jet_pt, jet_eta, jet_phi, jet_mass, jet_e      float32   (GeV; anti-kT jet after detector response)
    truth_matched    bool     top: the top and its three decay quarks within dR < R of the jet axis;
                              W/H: the boson and its two daughters; qcd: always True
    event            int64    event number within its generation chunk
    chunk            int32    generation chunk (seed = manifest["chunk_seeds"][chunk])
    n_part           int32    number of stored constituents (<= max_constituents)
    part_px, part_py, part_pz, part_e   float32, jagged (GeV)
    part_pid         int32, jagged     PDG id as reconstructed (photons, charged/neutral hadrons, leptons)
    part_charge      float32, jagged   electric charge in units of e

`manifest.json` beside it holds the settings, the seeds, per-process cross sections (pb) and the
counts; its `hash` is the settings hash that names the cache folder.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

__all__ = ["FORMAT", "JetSample", "write_jet_sample", "read_jet_sample", "SampleError", "split_indices", "write_tree",
           "read_tree", "read_manifest"]

FORMAT = "hepilot-jets/1"
TREE = "jets"
JET_BRANCHES = ("label", "jet_pt", "jet_eta", "jet_phi", "jet_mass", "jet_e", "truth_matched", "event", "chunk")
PART_FIELDS = ("px", "py", "pz", "e", "pid", "charge")


class SampleError(ValueError):
    """A sample file is missing, corrupt or not in the hepilot jet format; the message says which."""


@dataclass
class JetSample:
    """A jet sample in memory: jet-level arrays, jagged constituents and the manifest."""

    jets: ak.Array  # records with the jet branches above (no constituents)
    particles: ak.Array  # (n_jets, var) records px, py, pz, e, pid, charge
    manifest: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def processes(self) -> list[str]:
        return list(self.manifest.get("processes", []))

    @property
    def labels(self) -> np.ndarray:
        return ak.to_numpy(self.jets.label).astype(np.int64)

    def __len__(self) -> int:
        return len(self.jets)

    def select(self, mask: np.ndarray) -> JetSample:
        """A new sample with the jets where `mask` is True."""
        return JetSample(self.jets[mask], self.particles[mask], self.manifest, self.path)

    def binary_labels(self, signal: str) -> np.ndarray:
        """1 for jets of process `signal`, 0 otherwise."""
        if signal not in self.processes:
            raise SampleError(f"process {signal!r} is not in this sample; it has {self.processes}")
        return (self.labels == self.processes.index(signal)).astype(np.int64)


def split_indices(labels: np.ndarray, *, fractions: tuple[float, ...] = (0.6, 0.2, 0.2), seed: int = 0
                  ) -> tuple[np.ndarray, ...]:
    """Disjoint, stratified index sets (e.g. train/validation/test) drawn with `seed`.

    Every class is shuffled with the seed and cut in the given fractions, so each part keeps the
    class proportions, the parts never overlap, and the same seed always gives the same split.
    """
    if not np.isclose(sum(fractions), 1.0) or min(fractions) < 0:
        raise ValueError(f"split fractions must be >= 0 and sum to 1, got {fractions}")
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        cuts = np.round(np.cumsum(fractions)[:-1] * len(idx)).astype(int)
        for i, chunk in enumerate(np.split(idx, cuts)):
            parts[i].append(chunk)
    return tuple(np.sort(np.concatenate(p)) for p in parts)


def write_jet_sample(path: Path, jets: dict[str, np.ndarray], particles: ak.Array, manifest: dict[str, Any]) -> Path:
    """Write `jets.root` + `manifest.json` into the folder of `path` (path = the .root file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    missing = [b for b in JET_BRANCHES if b not in jets]
    if missing:
        raise SampleError(f"cannot write a jet sample without branches {missing}")
    data: dict[str, Any] = {}
    for name in JET_BRANCHES:
        arr = np.asarray(jets[name])
        if name in ("label", "chunk"):
            arr = arr.astype(np.int32)
        elif name == "event":
            arr = arr.astype(np.int64)
        elif name == "truth_matched":
            arr = arr.astype(np.bool_)
        else:
            arr = arr.astype(np.float32)
        data[name] = arr
    data["part"] = ak.zip(
        {
            "px": ak.values_astype(particles.px, np.float32),
            "py": ak.values_astype(particles.py, np.float32),
            "pz": ak.values_astype(particles.pz, np.float32),
            "e": ak.values_astype(particles.e, np.float32),
            "pid": ak.values_astype(particles.pid, np.int32),
            "charge": ak.values_astype(particles.charge, np.float32),
        }
    )
    write_tree(path, TREE, data, {"format": FORMAT, **manifest})
    return path


def read_jet_sample(path: str | Path, *, max_jets: int | None = None) -> JetSample:
    """Read a sample written by `write_jet_sample` (or `generate_jets`); SampleError if it is not one."""
    arrays, path = read_tree(path, filename="jets.root", tree=TREE, fmt=FORMAT, what="sample file",
                             branches=list(JET_BRANCHES) + [f"part_{p}" for p in PART_FIELDS], max_entries=max_jets)
    manifest = read_manifest(path)
    jets = arrays[list(JET_BRANCHES)]
    particles = ak.zip({p: arrays[f"part_{p}"] for p in PART_FIELDS})
    return JetSample(jets, particles, manifest, path)


def write_tree(path: Path, tree: str, data: dict[str, Any], manifest: dict[str, Any]) -> None:
    """Write one TTree (flat columns, and records of jagged fields as branches `<record>_<field>` counted
    by `n_<record>`) through a `.partial` file renamed into place, then `manifest.json` beside it."""
    import uproot

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".root.partial")
    with uproot.recreate(tmp) as f:
        f.mktree(tree, {k: (v.type if isinstance(v, ak.Array) else v.dtype) for k, v in data.items()},
                 counter_name=lambda c: f"n_{c}", field_name=lambda outer, inner: f"{outer}_{inner}")
        if len(data["label"]):
            f[tree].extend(data)
    tmp.replace(path)
    (path.parent / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str))


def read_tree(path: str | Path, *, filename: str, tree: str, fmt: str, what: str, branches: list[str],
              max_entries: int | None = None) -> tuple[ak.Array, Path]:
    """(the branches as arrays, the file's path) of a sample file or its folder; SampleError naming what is
    wrong (no file, no tree, missing branches, unreadable) otherwise."""
    import uproot

    path = Path(path)
    if path.is_dir():
        path = path / filename
    if not path.is_file():
        raise SampleError(f"no {what} at {path}")
    try:
        with uproot.open(path) as f:
            if tree not in f:
                keys = ", ".join(k.split(";")[0] for k in f.keys()) or "none"
                raise SampleError(f"{path} has no TTree {tree!r} (available keys: {keys}); not a {fmt} sample")
            lacking = sorted(set(branches) - set(f[tree].keys()))
            if lacking:
                raise SampleError(f"{path}: TTree {tree!r} lacks branches {lacking}; not a {fmt} sample")
            return f[tree].arrays(branches, entry_stop=max_entries), path
    except SampleError:
        raise
    except Exception as exc:  # uproot raises many types on damaged files
        raise SampleError(f"{path} is not a readable ROOT file ({type(exc).__name__}: {exc})") from None


def read_manifest(path: Path, *, required: bool = False) -> dict[str, Any]:
    """The `manifest.json` beside a sample file ({} when absent and not required)."""
    manifest_path = Path(path).parent / "manifest.json"
    if not manifest_path.is_file():
        if required:
            raise SampleError(f"{path} has no manifest.json beside it")
        return {}
    try:
        return json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise SampleError(f"{manifest_path} is not valid JSON ({exc})") from None
