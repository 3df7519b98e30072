"""One tagger experiment end to end: load a sample, split it by seed, train, evaluate on held-out data.

Every classifier of a comparison sees the same stratified train/validation/test split
(`split_indices` with the same seed), so their numbers are directly comparable; the BDT
baseline trains on train+validation (it has no early stopping). Samples are either jet samples
("hepilot-jets/1", all taggers) or event-object samples ("hepilot-events/1", mpnn and dnn).
An entry is identified by (process label, chunk, event[, jet pT]); `overlap` counts identities
present in both train and test, which must be 0.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from hepilot.models import metrics
from hepilot.models.events.event_objects import FORMAT as EVENT_FORMAT
from hepilot.models.events.event_objects import EventSample, object_arrays, read_event_sample
from hepilot.models.events.samples import JetSample, SampleError, read_jet_sample, split_indices
from hepilot.models.taggers.architectures import ARCHITECTURES, jet_inputs
from hepilot.models.taggers.train import count_parameters, predict, set_threads, train_model

__all__ = ["TaggerData", "TaggerRun", "load_tagger_data", "run_neural", "run_bdt", "split_for", "sample_kind",
           "sample_processes"]

log = logging.getLogger(__name__)


def sample_kind(path: str | Path) -> str:
    """'jets' or 'events' from the sample's manifest (or file name); SampleError if neither."""
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    manifest = folder / "manifest.json"
    if manifest.is_file():
        try:
            fmt = json.loads(manifest.read_text()).get("format", "")
        except json.JSONDecodeError as exc:
            raise SampleError(f"{manifest} is not valid JSON ({exc})") from None
        if fmt == EVENT_FORMAT:
            return "events"
        if fmt.startswith("hepilot-jets"):
            return "jets"
    if (folder / "events.root").is_file() or p.name == "events.root":
        return "events"
    if (folder / "jets.root").is_file() or p.name == "jets.root":
        return "jets"
    raise SampleError(f"{path} is neither a jet sample (jets.root) nor an event sample (events.root)")


def sample_processes(path: str | Path) -> list[str]:
    """Process names of a jet or event sample, from its manifest; SampleError if it is not a sample."""
    kind = sample_kind(path)
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    if not (folder / ("jets.root" if kind == "jets" else "events.root")).is_file() and not p.is_file():
        raise SampleError(f"no sample file at {path}")
    manifest = folder / "manifest.json"
    procs = json.loads(manifest.read_text()).get("processes", []) if manifest.is_file() else []
    if not procs:
        raise SampleError(f"{path} has no manifest.json listing its processes")
    return list(procs)


@dataclass
class TaggerData:
    """A loaded sample restricted to signal + background, with binary labels and entry identities."""

    kind: str  # "jets" or "events"
    sample: JetSample | EventSample
    y: np.ndarray  # 1 = signal
    keys: list[tuple]  # identity of every entry
    signal: str
    background: list[str]

    def __len__(self) -> int:
        return len(self.y)


def load_tagger_data(path: str | Path, *, signal: str, background: str | None = None,
                     max_entries: int | None = None) -> TaggerData:
    """Read the sample at `path`, keep `signal` and `background` (default: all other processes)."""
    kind = sample_kind(path)
    sample = read_jet_sample(path) if kind == "jets" else read_event_sample(path)
    procs = sample.processes
    for name in [signal] + ([background] if background else []):
        if name not in procs:
            raise SampleError(f"process {name!r} is not in this sample; it has {procs}")
    labels = sample.labels
    sig = procs.index(signal)
    keep = labels == sig
    keep |= (labels == procs.index(background)) if background else (labels != sig)
    idx = np.flatnonzero(keep)
    if max_entries is not None and len(idx) > max_entries:
        idx = np.sort(np.random.default_rng(0).choice(idx, max_entries, replace=False))
    if kind == "jets":
        sample = sample.select(np.isin(np.arange(len(labels)), idx))
        j = sample.jets
        keys = list(zip(ak.to_numpy(j.label), ak.to_numpy(j.chunk), ak.to_numpy(j.event), ak.to_numpy(j.jet_pt)))
    else:
        sample = sample.select(idx)
        keys = list(zip(sample.labels, sample.chunk, sample.event))
    y = (sample.labels == sig).astype(np.int64)
    if y.min() == y.max():
        raise SampleError(f"the sample has no {'background' if y.min() == 1 else 'signal'} entries")
    return TaggerData(kind, sample, y, keys, signal, [background] if background else [p for p in procs if p != signal])


def split_for(data: TaggerData, *, seed: int, fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)):
    """(train, val, test) index arrays and the number of identities shared by train and test."""
    train, val, test = split_indices(data.y, fractions=fractions, seed=seed)
    overlap = len({data.keys[i] for i in np.r_[train, val]} & {data.keys[i] for i in test})
    return train, val, test, overlap


@dataclass
class TaggerRun:
    """The outcome of one classifier on the held-out test set."""

    name: str
    scores: np.ndarray
    y_test: np.ndarray
    metrics: metrics.ClassifierMetrics
    n_params: int
    train_seconds: float
    train_per_s: float
    inference_per_s: float
    history: list[dict[str, float]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        d = self.metrics.as_dict()
        return {"name": self.name, **d, "n_params": self.n_params, "train_seconds": self.train_seconds,
                "train_per_s": self.train_per_s, "inference_per_s": self.inference_per_s,
                "rejection_30_lower_bound": float(self.metrics.n_background)}


def _inputs(architecture: str, data: TaggerData, preset: str, overrides: dict[str, Any]):
    arch = ARCHITECTURES[architecture]
    if data.kind not in (("jets",) if "jet" in arch.levels else ()) + (("events",) if "event" in arch.levels else ()):
        raise ValueError(f"{architecture} does not run on {data.kind} samples (it runs on {', '.join(arch.levels)})")
    if data.kind == "jets":
        cfg = arch.config(preset, **{**arch.jet_overrides, **overrides})
        arrays = jet_inputs(architecture, data.sample, cfg)
    else:
        cfg = arch.config(preset, **overrides)
        arrays = object_arrays(data.sample, max_objects=cfg.n_particles)
    if "node_dim" in cfg.__dataclass_fields__ and "nodes" in arrays:
        from dataclasses import replace

        cfg = replace(cfg, node_dim=arrays["nodes"].shape[1])
    return arch, cfg, arrays


def run_neural(architecture: str, data: TaggerData, split, *, preset: str = "cpu", epochs: int = 20,
               seed: int = 0, train_overrides: dict[str, Any] | None = None, model_overrides: dict[str, Any] | None = None,
               checkpoint_dir: Path | None = None, callback=None, n_boot: int = 200, threads: int | None = None) -> TaggerRun:
    """Train one neural architecture on `split` (train, val, test) and evaluate it on the test part."""
    import torch

    set_threads(threads)
    arch, cfg, arrays = _inputs(architecture, data, preset, model_overrides or {})
    train, val, test = split[:3]
    torch.manual_seed(seed)
    model = arch.model_cls(cfg)
    overrides = {"epochs": epochs, "seed": seed, **(train_overrides or {})}
    if "batch_size" not in overrides and len(train) < 8 * arch.train_recipe.get("batch_size", 128):
        # small samples: keep >= 8 optimiser steps per epoch rather than one or two big batches
        overrides["batch_size"] = max(16, len(train) // 8)
    tcfg = arch.train_config(**overrides)

    def part(idx):
        return {k: v[idx] for k, v in arrays.items()}

    result = train_model(model, part(train), data.y[train], part(val), data.y[val], config=tcfg,
                         checkpoint_dir=checkpoint_dir, callback=callback)
    test_data = part(test)
    scores = predict(model, test_data, batch_size=tcfg.eval_batch_size)
    t0 = time.perf_counter()  # timed on a second, warm pass (the first one pays one-off allocations)
    predict(model, test_data, batch_size=tcfg.eval_batch_size)
    infer = len(test) / max(time.perf_counter() - t0, 1e-9)
    m = metrics.evaluate_classifier(data.y[test], scores, signal_effs=(0.3, 0.5), n_boot=n_boot, seed=seed)
    if checkpoint_dir is not None:
        torch.save({"model": model.state_dict(), "config": cfg, "architecture": architecture},
                   Path(checkpoint_dir) / "best.pt")
    return TaggerRun(architecture, scores, data.y[test], m, count_parameters(model), result.train_seconds,
                     result.train_jets_per_s, infer, result.history,
                     {"model": cfg.__dict__, "train": tcfg.__dict__, "best_epoch": result.best_epoch,
                      "stopped_early": result.stopped_early})


def _bdt_features(data: TaggerData) -> tuple[np.ndarray, list[str]]:
    if data.kind == "jets":
        from hepilot.models.events.substructure import jet_substructure

        feats = jet_substructure(data.sample)
        names = [k for k in ("jet_mass", "tau21", "tau32", "c2", "d2", "n_constituents", "n_charged", "ptd", "girth")
                 if k in feats]
        return np.column_stack([feats[k] for k in names]), names
    arrays = object_arrays(data.sample)
    flat = np.concatenate([arrays["nodes"], arrays["coords"]], axis=1) * arrays["mask"]
    return flat.reshape(len(flat), -1), [f"obj{j}_{i}" for j in range(flat.shape[2]) for i in range(flat.shape[1])]


def run_bdt(data: TaggerData, split, *, seed: int = 0, n_boot: int = 200) -> TaggerRun:
    """The xgboost BDT baseline: substructure observables (jets) or the flattened object list (events)."""
    from hepilot.models.taggers.bdt import BDTTagger

    train, val, test = split[:3]
    t0 = time.perf_counter()
    X, names = _bdt_features(data)
    per_entry = (time.perf_counter() - t0) / len(X)  # feature computation counts in training and inference
    fit_idx = np.r_[train, val]
    t0 = time.perf_counter()
    model = BDTTagger(seed=seed).fit(X[fit_idx], data.y[fit_idx], feature_names=names)
    train_s = time.perf_counter() - t0 + per_entry * len(fit_idx)
    t0 = time.perf_counter()
    scores = model.decision_function(X[test])
    infer = len(test) / max(time.perf_counter() - t0 + per_entry * len(test), 1e-9)
    m = metrics.evaluate_classifier(data.y[test], scores, signal_effs=(0.3, 0.5), n_boot=n_boot, seed=seed)
    n_nodes = int(sum(t.count("\n") for t in model.model_.get_booster().get_dump()))  # tree nodes
    return TaggerRun("bdt", scores, data.y[test], m, n_nodes, train_s, len(fit_idx) / max(train_s, 1e-9), infer,
                     config={"features": names})
