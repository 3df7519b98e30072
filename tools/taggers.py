"""Tagger tools: train_tagger, compare_taggers (jet or event classifiers side by side), generate_event_objects."""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hepilot.errors import ToolInputError, closest
from hepilot.evals.checks.jets import auc_above_random, no_train_test_overlap
from hepilot.evals.checks.taggers import auc_above_bdt, every_auc_above_random
from hepilot.models import metrics
from hepilot.models.events.event_objects import EventObjectConfig, generate_event_sample
from hepilot.models.events.samples import SampleError
from hepilot.models.taggers.architectures import ARCHITECTURES
from hepilot.models.taggers.experiment import (TaggerData, TaggerRun, load_tagger_data, run_bdt, run_neural,
                                               sample_processes, split_for)
from hepilot.tools import plotting
from hepilot.tools.base import ToolContext, ToolResult, current_context, output_dir, progress, tool, use_context
from hepilot.tools.executor import get_executor

__all__ = ["TrainTaggerInput", "TrainTaggerResult", "train_tagger", "CompareTaggersInput", "CompareTaggersResult",
           "compare_taggers", "GenerateEventObjectsInput", "GenerateEventObjectsResult", "generate_event_objects"]

log = logging.getLogger(__name__)

Architecture = Literal["cnn", "particlenet", "lorentznet", "part", "mpnn", "dnn"]
Preset = Literal["ci", "cpu", "paper"]
_PRESET_HELP = "Model size: cpu (minutes on 2 cores, default), paper (the paper's network, hours), ci (tiny)"


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sample: str = Field(description="jets.root from generate_jets, or events.root from generate_event_objects")
    signal: str | None = Field(None, description="Process treated as signal (label 1); default: the sample's first process")
    background: str | None = Field(None, description="Process treated as background; default: every other process")
    epochs: int = Field(20, ge=1, le=500, description="Maximum passes over the training set (early stopping may end sooner)")
    preset: Preset = Field("cpu", description=_PRESET_HELP)
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed of the train/validation/test split and of training")
    max_jets: int | None = Field(None, ge=20, description="Use at most this many jets/events of the sample (random subset)")
    test_fraction: float = Field(0.2, gt=0.05, lt=0.6, description="Fraction held out for the test; 20% more validate")


class TrainTaggerInput(_Common):
    architecture: Architecture = Field(description="cnn (jet images), particlenet, lorentznet, part (Particle "
                                       "Transformer), mpnn (graph of objects/particles) or dnn (event baseline)")
    n_particles: int | None = Field(None, ge=4, le=200, description="Particles per jet (default: the preset's, 128 for paper)")
    batch_size: int | None = Field(None, ge=2, le=4096, description="Training batch size (default: the paper recipe's)")
    lr: float | None = Field(None, gt=0, le=1, description="Start learning rate (default: the paper recipe's)")
    baseline: bool = Field(True, description="Also train the BDT baseline on the same split (for the AUC check)")


class TrainTaggerResult(ToolResult):
    architecture: str
    auc: float = Field(description="ROC AUC on the held-out test set")
    auc_std: float = Field(description="Bootstrap standard deviation of the AUC")
    accuracy: float = Field(description="Accuracy at score 0.5 on the test set")
    rejection_30: float | None = Field(description="Background rejection 1/eB at 30% signal efficiency (None: no background passed)")
    rejection_30_std: float | None
    rejection_50: float | None = Field(description="Background rejection 1/eB at 50% signal efficiency")
    bdt_auc: float | None = Field(description="AUC of the BDT baseline on the same split (None if not trained)")
    n_params: int
    train_seconds: float
    train_per_s: float = Field(description="Training throughput, jets (events) per second")
    inference_per_s: float = Field(description="Inference throughput, jets (events) per second")
    n_train: int
    n_test_signal: int
    n_test_background: int
    train_test_overlap: int = Field(description="Entries in both training and test sets (must be 0)")
    best_epoch: int
    history: list[dict[str, float]]
    checkpoint: str = Field(description="best.pt with the trained weights and configuration")
    scores_path: str = Field(description="npz with test labels and scores")


def _load(inp: _Common) -> TaggerData:
    try:
        procs = sample_processes(inp.sample)
    except SampleError as exc:
        raise ToolInputError("sample", str(exc), "pass the path returned by generate_jets or generate_event_objects") from None
    signal = inp.signal or (procs[0] if procs else "")
    for field, name in (("signal", signal), ("background", inp.background)):
        if name is not None and name not in procs:
            near = closest(name, procs)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            raise ToolInputError(field, f"process {name!r} is not in this sample.", f"{hint}Processes: {', '.join(procs)}.")
    try:
        return load_tagger_data(inp.sample, signal=signal, background=inp.background, max_entries=inp.max_jets)
    except SampleError as exc:
        raise ToolInputError("sample", str(exc), "generate a sample with a signal and a background process") from None


def _split(inp: _Common, data: TaggerData):
    f = inp.test_fraction
    return split_for(data, seed=inp.seed, fractions=(1.0 - 2 * f, f, f))


def _checkpoint_dir(inp: _Common, name: str) -> Path:
    p = Path(inp.sample)
    stat = p.stat() if p.is_file() else None
    blob = json.dumps({"args": inp.model_dump(mode="json"), "name": name,
                       "file": [stat.st_size, stat.st_mtime_ns] if stat else None}, sort_keys=True)
    return Path(current_context().cache_dir) / "tagger_checkpoints" / hashlib.sha256(blob.encode()).hexdigest()[:20]


def _train(name: str, inp: _Common, data: TaggerData, split, **kw: Any) -> TaggerRun:
    if data.kind == "events" and "event" not in ARCHITECTURES[name].levels:
        raise ToolInputError("architecture", f"{name} runs on jet samples, but {inp.sample} is an event sample.",
                             "use mpnn or dnn (or bdt in compare_taggers) on events.root")
    if data.kind == "jets" and "jet" not in ARCHITECTURES[name].levels:
        raise ToolInputError("architecture", f"{name} runs on event-object samples, not on jets.",
                             "use cnn, particlenet, lorentznet, part or mpnn on jets.root")
    ckpt = _checkpoint_dir(inp, name)
    ckpt.mkdir(parents=True, exist_ok=True)
    with progress(f"training {name}", total=inp.epochs) as advance:
        run = run_neural(name, data, split, preset=inp.preset, epochs=inp.epochs, seed=inp.seed, checkpoint_dir=ckpt,
                         callback=lambda ev: advance(1) if ev["kind"] == "epoch" else None, **kw)
    return run


def _rej_text(run: TaggerRun) -> str:
    return run.metrics.rejection[0.3].rejection_text(run.metrics.n_background)


@tool(checks=[auc_above_random, no_train_test_overlap, auc_above_bdt], category="taggers")
def train_tagger(inp: TrainTaggerInput) -> TrainTaggerResult:
    """Train one neural tagger (CNN, ParticleNet, LorentzNet, ParT, MPNN or DNN) and evaluate it on held-out data.

    Call after generate_jets (jet taggers) or generate_event_objects (mpnn/dnn on events). The
    sample is split by seed into train/validation/test; training uses the paper's optimiser with
    early stopping; reports AUC, accuracy and background rejection at 30% signal efficiency with
    bootstrap uncertainties, throughput, and the BDT baseline on the same split. Interrupted
    trainings resume from their checkpoint when called again with the same arguments.
    """
    data = _load(inp)
    split = _split(inp, data)
    model_kw = {"n_particles": inp.n_particles} if inp.n_particles else {}
    train_kw = {k: v for k, v in (("batch_size", inp.batch_size), ("lr", inp.lr)) if v is not None}
    run = _train(inp.architecture, inp, data, split, model_overrides=model_kw, train_overrides=train_kw)
    bdt = run_bdt(data, split, seed=inp.seed) if inp.baseline else None
    out = output_dir()
    np.savez(out / "scores.npz", y=run.y_test, score=run.scores)
    ckpt = _checkpoint_dir(inp, inp.architecture) / "best.pt"
    curves = {f"{inp.architecture} (AUC {run.metrics.auc.value:.3f})": metrics.roc_curve(run.y_test, run.scores)[:2]}
    if bdt is not None:
        curves[f"BDT (AUC {bdt.metrics.auc.value:.3f})"] = metrics.roc_curve(bdt.y_test, bdt.scores)[:2]
    roc = plotting.roc_plot(curves, out / "roc.png", title=f"{data.signal} vs {', '.join(data.background)}")
    d = run.metrics.as_dict()
    bdt_text = f"; BDT {bdt.metrics.auc.value:.4f}" if bdt else ""
    return TrainTaggerResult(
        status=f"{inp.architecture} ({inp.preset}): AUC {run.metrics.auc.value:.4f} +- {run.metrics.auc.std:.4f}, "
               f"rejection at 30% eff {_rej_text(run)}{bdt_text}, {len(split[2])} test {data.kind}",
        architecture=inp.architecture, auc=run.metrics.auc.value, auc_std=run.metrics.auc.std,
        accuracy=run.metrics.accuracy.value, rejection_30=d["rejection_30"], rejection_30_std=d["rejection_30_std"],
        rejection_50=d["rejection_50"], bdt_auc=bdt.metrics.auc.value if bdt else None, n_params=run.n_params,
        train_seconds=run.train_seconds, train_per_s=run.train_per_s, inference_per_s=run.inference_per_s,
        n_train=len(split[0]), n_test_signal=run.metrics.n_signal, n_test_background=run.metrics.n_background,
        train_test_overlap=split[3], best_epoch=int(run.config["best_epoch"]), history=run.history,
        checkpoint=str(ckpt), scores_path=str(out / "scores.npz"), artifacts={"roc": roc},
    )


class CompareTaggersInput(_Common):
    architectures: list[Literal["bdt", "cnn", "particlenet", "lorentznet", "part", "mpnn", "dnn"]] = Field(
        ["bdt", "particlenet", "part"], min_length=1, max_length=7,
        description="Classifiers to compare on the same split: bdt (substructure / object-list BDT), cnn, "
                    "particlenet, lorentznet, part, mpnn, dnn")
    n_boot: int = Field(200, ge=20, le=2000, description="Bootstrap resamplings for the uncertainties")

    @field_validator("architectures")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"architectures has duplicates: {v}")
        return v


class CompareTaggersResult(ToolResult):
    table: list[dict[str, Any]] = Field(description="One row per classifier: auc, auc_std, accuracy, rejection_30(_std), "
                                        "rejection_50, n_params, train_seconds, train_per_s, inference_per_s")
    table_markdown: str = Field(description="The table as markdown")
    best: str = Field(description="Classifier with the highest test AUC")
    bdt_auc: float | None = Field(description="AUC of the BDT baseline on the same split")
    n_train: int
    n_test_signal: int
    n_test_background: int
    train_test_overlap: int = Field(description="Entries in both training and test sets (must be 0)")


def _markdown(runs: list[TaggerRun], n_bkg: int) -> str:
    lines = ["| classifier | AUC | accuracy | 1/eB at eS=0.3 [68% CI] | 1/eB at eS=0.5 [68% CI] | parameters | train s "
             "| train /s | infer /s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        m = r.metrics
        rej = {e: i.rejection_text(n_bkg) for e, i in m.rejection.items()}
        lines.append(f"| {r.name} | {m.auc.value:.4f} +- {m.auc.std:.4f} | {m.accuracy.value:.4f} | {rej[0.3]} | "
                     f"{rej[0.5]} | {r.n_params:,} | {r.train_seconds:.0f} | {r.train_per_s:.0f} | {r.inference_per_s:.0f} |")
    return "\n".join(lines)


def _run_classifier(name: str, inp: CompareTaggersInput, data: TaggerData, split) -> TaggerRun:
    if name == "bdt":
        return run_bdt(data, split, seed=inp.seed, n_boot=inp.n_boot)
    return _train(name, inp, data, split, n_boot=inp.n_boot)


def _compare_task(task: tuple[str, dict[str, Any], str]) -> TaggerRun:
    """One classifier of compare_taggers in another process: it reloads the sample and the same split."""
    name, args, cache_dir = task
    inp = CompareTaggersInput.model_validate(args)
    with use_context(ToolContext(cache_dir=Path(cache_dir))):
        data = _load(inp)
        return _run_classifier(name, inp, data, _split(inp, data))


@tool(checks=[every_auc_above_random, no_train_test_overlap, auc_above_bdt], category="taggers")
def compare_taggers(inp: CompareTaggersInput) -> CompareTaggersResult:
    """Train several taggers on the same split of one sample and tabulate them side by side with ROC curves.

    Call after generate_jets (e.g. "compare ParticleNet and ParT for top tagging") or
    generate_event_objects (mpnn vs dnn vs bdt on ttH vs ttbar). Table: AUC, accuracy, background
    rejection at 30% and 50% signal efficiency with bootstrap uncertainties, parameter count,
    training time and throughput, inference throughput; one ROC canvas with every classifier.
    """
    data = _load(inp)
    split = _split(inp, data)
    ctx = current_context()
    if ctx.executor is not None and len(inp.architectures) > 1:
        # one training per task on the configured executor (a local pool or a Dask cluster)
        tasks = [(name, inp.model_dump(mode="json"), str(ctx.cache_dir)) for name in inp.architectures]
        runs = list(ctx.executor.map(_compare_task, tasks))
    else:
        runs = [_run_classifier(name, inp, data, split) for name in inp.architectures]
    bdt = next((r for r in runs if r.name == "bdt"), None)
    out = output_dir()
    np.savez(out / "scores.npz", y=runs[0].y_test, **{r.name: r.scores for r in runs})
    roc = plotting.roc_plot({f"{r.name} (AUC {r.metrics.auc.value:.3f})": metrics.roc_curve(r.y_test, r.scores)[:2]
                             for r in runs}, out / "roc.png", title=f"{data.signal} vs {', '.join(data.background)}")
    table_md = _markdown(runs, runs[0].metrics.n_background)
    (out / "table.md").write_text(table_md + "\n")
    best = max(runs, key=lambda r: r.metrics.auc.value)
    summary = ", ".join(f"{r.name} {r.metrics.auc.value:.4f}" for r in runs)
    return CompareTaggersResult(
        status=f"AUC on {len(split[2])} test {data.kind}: {summary}; best {best.name}",
        table=[r.row() for r in runs], table_markdown=table_md, best=best.name,
        bdt_auc=bdt.metrics.auc.value if bdt else None, n_train=len(split[0]), n_test_signal=runs[0].metrics.n_signal,
        n_test_background=runs[0].metrics.n_background, train_test_overlap=split[3],
        artifacts={"roc": roc, "table": str(out / "table.md"), "scores": str(out / "scores.npz")},
    )


class GenerateEventObjectsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    processes: list[Literal["tth_bb", "ttbar"]] = Field(["tth_bb", "ttbar"], min_length=1, max_length=2,
                                                        description="tth_bb (ttH, H -> bb) and/or ttbar, both semileptonic")
    n_events: int = Field(2000, ge=10, le=1_000_000, description="Selected events per process (1 lepton, >= 4 jets)")
    sqrt_s: float = Field(13000.0, ge=1000.0, le=100_000.0, description="pp collision energy in GeV")
    mpi: bool = Field(False, description="Multiparton interactions (off = ~5x faster; state it when reporting)")
    detector: Literal["none", "generic", "atlas", "cms"] = Field("atlas", description="Detector response preset")
    btag_eff: float = Field(0.70, gt=0, lt=1, description="b-tagging efficiency for jets with a B hadron")
    seed: int = Field(1, ge=0, le=2**31 - 1, description="Random seed; chunk seeds derive from it")


class GenerateEventObjectsResult(ToolResult):
    path: str = Field(description="events.root (hepilot-events/1) with the reconstructed objects per event")
    n_events: dict[str, int]
    sigma_pb: dict[str, float] = Field(description="Generated cross section per process (pb, including forced decays)")
    selection_efficiency: dict[str, float] = Field(description="Fraction of generated events passing the selection")
    mean_btags: dict[str, float] = Field(description="Mean number of b-tagged jets per selected event")
    efficiencies: dict[str, float]


@tool(category="taggers")
def generate_event_objects(inp: GenerateEventObjectsInput) -> GenerateEventObjectsResult:
    """Generate ttH(H->bb) and ttbar semileptonic events (Pythia 8, 13 TeV) and reconstruct objects.

    Objects: isolated leptons with charge, photons, anti-kT 0.4 jets b-tagged from truth B hadrons
    (70% efficiency, 12% c / 0.3% light mistag), missing ET; selection: one lepton, >= 4 jets.
    Call before train_tagger / compare_taggers with mpnn, dnn or bdt (event classification).
    """
    cfg = EventObjectConfig(processes=tuple(inp.processes), n_events=inp.n_events, sqrt_s=inp.sqrt_s, mpi=inp.mpi,
                            detector=inp.detector, btag_eff=inp.btag_eff, seed=inp.seed)
    executor = current_context().executor or get_executor()
    path = output_dir() / "events.root"
    with progress("generating events", total=inp.n_events * len(inp.processes)) as advance:
        manifest = generate_event_sample(cfg, path, map_fn=executor.map, on_chunk=advance)
    from hepilot.models.events.event_objects import OBJECT_TYPES, read_event_sample

    sample = read_event_sample(path)
    import awkward as ak

    nb = ak.to_numpy(ak.sum(sample.objects["type"] == OBJECT_TYPES.index("bjet"), axis=1))
    per = manifest["per_process"]
    btags = {p: float(nb[sample.labels == i].mean()) for i, p in enumerate(inp.processes)}
    eff = {p: per[p]["selection_efficiency"] for p in inp.processes}
    counts = ", ".join(f"{per[p]['n_events']} {p}" for p in inp.processes)
    tags = ", ".join(f"{p} {b:.2f}" for p, b in btags.items())
    return GenerateEventObjectsResult(
        status=f"{counts} events at {inp.sqrt_s / 1000:g} TeV (MPI {'on' if inp.mpi else 'off'}); mean b-tags {tags}",
        path=str(path), n_events={p: per[p]["n_events"] for p in inp.processes},
        sigma_pb={p: per[p]["sigma_pb"] for p in inp.processes}, selection_efficiency=eff, mean_btags=btags,
        efficiencies=eff,
    )

