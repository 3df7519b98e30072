"""Fast-simulation tool: fastsim_gan trains a conditional GAN on a slow simulation and samples from it."""
from __future__ import annotations

import logging
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hepilot.errors import ToolInputError
from hepilot.evals.checks.fastsim import (fastsim_classifier_auc, fastsim_finite, fastsim_physical_ranges,
                                          fastsim_speedup, fastsim_w1_vs_truth)
from hepilot.models.events.ccqe import CCQEConfig, CCQEGenerator, threshold_energy
from hepilot.models.events.samples import SampleError, read_jet_sample, write_jet_sample
from hepilot.models.fastsim.ccqe_gan import CCQEGAN, CCQEGANConfig
from hepilot.models.fastsim.epic_gan import EPiCConfig
from hepilot.models.fastsim.evaluation import ccqe_ranges, evaluate_ccqe, evaluate_jets, jet_ranges
from hepilot.models.fastsim.jet_clouds import JetClouds, clouds_from_sample, clouds_to_particles, save_clouds
from hepilot.models.fastsim.jet_gan import JetGAN
from hepilot.models.fastsim.metrics import efps_d4, jet_mass_rel
from hepilot.tools import plotting
from hepilot.tools.base import ToolResult, output_dir, progress, tool

__all__ = ["FastsimGanInput", "FastsimGanResult", "fastsim_gan", "read_ccqe_events", "write_ccqe_events"]

log = logging.getLogger(__name__)

_JET_ONLY = ("processes", "detector")
_CCQE_ONLY = ("e_nu_min", "e_nu_max", "axial_mass")
_CCQE_TREE = "events"
_DEFAULT_TRAIN = {"jets": 3000, "ccqe": 50_000}


class FastsimGanInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    application: Literal["jets", "ccqe"] = Field(
        description="jets: EPiC-GAN for 30-constituent jets given jet type and pT, replacing Pythia+FastJet+detector; "
                    "ccqe: conditional GAN for the muon (E_mu, cos theta) of nu_mu CCQE on carbon given E_nu")
    sample: str | None = Field(None, description="Training sample: jets.root from generate_jets (jets) or an "
                                                 "events.root written by this tool (ccqe); omit to simulate one")
    n_train: int | None = Field(None, ge=50, le=5_000_000,
                                description="Events to simulate for training when no sample is given (jets: per "
                                            f"process); default {_DEFAULT_TRAIN['jets']} jets or "
                                            f"{_DEFAULT_TRAIN['ccqe']} CCQE events")
    processes: list[Literal["top", "qcd", "w", "z", "higgs_bb"]] = Field(
        ["top", "qcd"], min_length=1, max_length=5, description="jets only: jet types to simulate when no sample is given")
    detector: Literal["none", "generic", "atlas", "cms", "cepc"] = Field(
        "atlas", description="jets only: detector response of a simulated training sample")
    e_nu_min: float = Field(0.3, gt=0, description="ccqe only: lowest neutrino energy in GeV (log-uniform spectrum)")
    e_nu_max: float = Field(10.0, gt=0, le=100.0, description="ccqe only: highest neutrino energy in GeV")
    axial_mass: float = Field(1.026, ge=0.5, le=2.0, description="ccqe only: axial mass M_A of the reference MC in GeV")
    preset: Literal["tiny", "small", "paper"] = Field(
        "small", description="Network/training size: tiny (seconds, smoke test), small (CPU minutes), paper (hours)")
    epochs: int | None = Field(None, ge=1, le=5000, description="Passes over the training set (overrides the preset)")
    n_generate: int = Field(10_000, ge=100, le=10_000_000, description="Events (jets) to generate and evaluate")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Random seed of simulation, training and sampling")

    @model_validator(mode="after")
    def _consistent(self):
        wrong = _CCQE_ONLY if self.application == "jets" else _JET_ONLY
        given = sorted(set(wrong) & self.model_fields_set)
        if given:
            raise ValueError(f"{', '.join(given)} only apply to application "
                             f"{'ccqe' if self.application == 'jets' else 'jets'}; drop them")
        simulation = ("n_train", *_JET_ONLY) if self.application == "jets" else ("n_train",)
        settings = sorted(set(simulation) & self.model_fields_set)
        if self.sample is not None and settings:
            raise ValueError(f"{', '.join(settings)} set how a training sample is simulated, but sample is given; "
                             "drop them or drop sample")
        if self.n_train is None and self.sample is None:
            self.n_train = _DEFAULT_TRAIN[self.application]
        if self.application == "ccqe":
            if self.n_train is not None and self.n_train < 1000:
                raise ValueError(f"n_train = {self.n_train} is too few CCQE events to train on; use >= 1000")
            if self.e_nu_max <= self.e_nu_min:
                raise ValueError(f"e_nu_min = {self.e_nu_min} GeV must be below e_nu_max = {self.e_nu_max} GeV")
            if self.e_nu_min <= threshold_energy():
                raise ValueError(f"e_nu_min = {self.e_nu_min} GeV is below the CCQE threshold "
                                 f"{threshold_energy():.3f} GeV; use e.g. 0.3 GeV")
        return self


class FastsimGanResult(ToolResult):
    application: str = Field(description="jets or ccqe")
    checkpoint: str = Field(description="Generator checkpoint (torch state dict + preprocessing)")
    generated: str = Field(description="Generated sample: jets.root (hepilot-jets/1) for jets, events.root for ccqe")
    training_sample: str = Field(description="The simulated training sample used")
    n_train: int = Field(description="Training events (jets)")
    n_generated: int = Field(description="Generated events (jets)")
    metrics: dict[str, float] = Field(description="Fidelity: W1 metrics (truth_* = simulation vs simulation) and AUCs")
    classifier_auc: float = Field(description="Held-out AUC separating generated from simulated (0.5 = identical)")
    classifier_auc_err: float = Field(description="Standard error of the AUC")
    ranges: dict[str, list[float]] = Field(description="[min, max] of the generated variables")
    n_nonfinite: int = Field(description="NaN/inf values in the generated sample")
    train_seconds: float = Field(description="Training wall time")
    gen_seconds: float = Field(description="Wall time to generate n_generated events with the GAN")
    sim_seconds: float | None = Field(description="Wall time of the simulation for the same number of events")
    speedup: float | None = Field(description="sim_seconds / gen_seconds")
    best_epoch: float = Field(description="Epoch of the generator kept (best validation score)")


def write_ccqe_events(path: Path, events: dict[str, np.ndarray]) -> Path:
    """A ROOT file with TTree 'events' (e_nu, e_mu, cos_theta in GeV)."""
    import uproot

    with uproot.recreate(path) as f:
        f[_CCQE_TREE] = {k: np.asarray(events[k], np.float64) for k in ("e_nu", "e_mu", "cos_theta")}
    return path


def read_ccqe_events(path: str) -> dict[str, np.ndarray]:
    """Events written by `write_ccqe_events`; a bad file becomes a ToolInputError on `sample`."""
    import uproot

    fix = "pass an events.root written by fastsim_gan (application ccqe), or omit sample to simulate one"
    if not Path(path).is_file():
        raise ToolInputError("sample", f"no file at {path}.", fix, tool="fastsim_gan")
    try:
        with uproot.open(path) as f:
            if _CCQE_TREE not in f:
                keys = ", ".join(k.split(";")[0] for k in f.keys()) or "none"
                raise ToolInputError("sample", f"{path} has no TTree 'events' (available keys: {keys}).", fix,
                                     tool="fastsim_gan")
            return {k: v for k, v in f[_CCQE_TREE].arrays(["e_nu", "e_mu", "cos_theta"], library="np").items()}
    except ToolInputError:
        raise
    except Exception as exc:  # uproot raises many types on damaged files
        raise ToolInputError("sample", f"{path} is not a readable CCQE events file ({type(exc).__name__}: {exc}).",
                             fix, tool="fastsim_gan") from None


def _run_jets(inp: FastsimGanInput, out: Path) -> FastsimGanResult:
    from hepilot.models.events.generation import JetGenConfig, generate_jet_sample

    if inp.sample is None:
        path = out / "train" / "jets.root"
        cfg = JetGenConfig(processes=tuple(inp.processes), n_jets=inp.n_train, detector=inp.detector, seed=inp.seed + 1)
        with progress("simulating training jets", total=inp.n_train * len(inp.processes)) as adv:
            generate_jet_sample(cfg, path, on_chunk=adv)
    else:
        path = Path(inp.sample)
    try:
        sample = read_jet_sample(path)
    except SampleError as exc:
        raise ToolInputError("sample", str(exc), "pass the `path` returned by generate_jets", tool="fastsim_gan") from None
    per = sample.manifest.get("per_process", {})
    sim_rate = (sum(p.get("seconds", 0.0) for p in per.values()) / max(len(sample), 1)) if per else None
    clouds = clouds_from_sample(sample)
    if len(clouds) < 100:
        raise ToolInputError("sample", f"{len(clouds)} jets are too few to train a GAN.",
                             "use a sample with at least 100 jets (generate_jets n_jets >= 50 per process)",
                             tool="fastsim_gan")
    train, test = clouds.split(0.3, seed=inp.seed)  # JetNet's 70/30 split
    preset = {"tiny": EPiCConfig.tiny, "small": EPiCConfig.small, "paper": EPiCConfig}[inp.preset]()
    config = replace(preset, epochs=inp.epochs or preset.epochs)
    model = JetGAN(config=config, seed=inp.seed)
    t0 = time.perf_counter()
    with progress("training EPiC-GAN", total=config.epochs) as adv:
        model.fit(train, progress=adv)
    train_seconds = time.perf_counter() - t0
    pick = np.random.default_rng(inp.seed).choice(len(test), inp.n_generate, replace=inp.n_generate > len(test))
    cond = test.select(pick)
    t0 = time.perf_counter()
    gen = model.sample_like(cond, seed=inp.seed + 7)
    gen_seconds = time.perf_counter() - t0
    metrics = evaluate_jets(test, gen.select(np.arange(min(len(gen), len(test)))), seed=inp.seed)
    ckpt = model.save(out / "generator.pt")
    save_clouds(out / "generated.npz", gen)
    jets, particles = clouds_to_particles(gen)
    gen_path = write_jet_sample(out / "generated" / "jets.root", jets, particles,
                                {"processes": gen.processes, "generator": "fastsim_gan EPiC-GAN",
                                 "checkpoint": str(ckpt), "seed": inp.seed})
    artifacts = _jet_plots(test, gen, out)
    sim_seconds = sim_rate * inp.n_generate if sim_rate else None
    return _result(inp, metrics, ckpt, gen_path, path, len(train), len(gen), jet_ranges(gen),
                   int((~np.isfinite(gen.points)).sum()), train_seconds, gen_seconds, sim_seconds,
                   model.best_epoch_, artifacts)


def _jet_plots(real: JetClouds, gen: JetClouds, out: Path) -> dict[str, str]:
    pairs = {"mass_rel": (jet_mass_rel(real.points, real.mask), jet_mass_rel(gen.points, gen.mask), "jet m / pT"),
             "pt_rel": (real.points[real.mask][:, 2], gen.points[gen.mask][:, 2], "constituent pT_rel"),
             "eta_rel": (real.points[real.mask][:, 0], gen.points[gen.mask][:, 0], "constituent eta_rel"),
             "phi_rel": (real.points[real.mask][:, 1], gen.points[gen.mask][:, 1], "constituent phi_rel"),
             "efp_cycle4": (efps_d4(real.points, real.mask)[:, 0], efps_d4(gen.points, gen.mask)[:, 0], "EFP (4-cycle)")}
    return {name: plotting.hist_by_class({"simulation": a, "EPiC-GAN": b}, out / f"{name}.png", xlabel=label)
            for name, (a, b, label) in pairs.items()}


def _run_ccqe(inp: FastsimGanInput, out: Path) -> FastsimGanResult:
    rng = np.random.default_rng(inp.seed)
    mc_config = CCQEConfig(axial_mass=inp.axial_mass)

    def spectrum(n: int) -> np.ndarray:
        return np.exp(rng.uniform(np.log(inp.e_nu_min), np.log(inp.e_nu_max), n))

    if inp.sample is None:
        train = CCQEGenerator(config=mc_config, seed=inp.seed + 1).generate(spectrum(inp.n_train))
        train_path = write_ccqe_events(out / "train_events.root", train)
    else:
        train, train_path = read_ccqe_events(inp.sample), Path(inp.sample)
        if len(train["e_nu"]) < 100:
            raise ToolInputError("sample", f"{len(train['e_nu'])} events are too few to train a GAN.",
                                 "use at least 100 events", tool="fastsim_gan")
    preset = {"tiny": CCQEGANConfig.tiny, "small": CCQEGANConfig.small, "paper": CCQEGANConfig}[inp.preset]()
    n_train = len(train["e_nu"])
    steps = preset.steps if inp.epochs is None else inp.epochs * max(math.ceil(n_train / preset.batch_size), 1)
    config = replace(preset, steps=steps, eval_every=min(preset.eval_every, steps))
    model = CCQEGAN(config=config, seed=inp.seed)
    t0 = time.perf_counter()
    try:
        with progress("training CCQE GAN", total=steps) as adv:
            model.fit(train["e_nu"], train["e_mu"], train["cos_theta"], progress=adv)
    except ValueError as exc:
        raise ToolInputError("sample", str(exc), "pass CCQE events with m_mu < E_mu < E_nu", tool="fastsim_gan") from None
    train_seconds = time.perf_counter() - t0
    e_test = spectrum(inp.n_generate)
    simulator = CCQEGenerator(config=mc_config, seed=inp.seed + 2)
    simulator.build_weight_table(inp.e_nu_min, inp.e_nu_max)  # set-up, like training, is not timed
    t0 = time.perf_counter()
    sim = simulator.generate(e_test)
    sim_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    gen = model.sample(e_test, seed=inp.seed + 3)
    gen_seconds = time.perf_counter() - t0
    reference = CCQEGenerator(config=mc_config, seed=inp.seed + 4).generate(e_test)  # independent, same energies
    metrics = evaluate_ccqe(sim, gen, reference=reference, seed=inp.seed)
    ckpt = model.save(out / "generator.pt")
    gen_path = write_ccqe_events(out / "generated_events.root", gen)
    write_ccqe_events(out / "simulated_events.root", sim)
    artifacts = _ccqe_plots(sim, gen, out)
    nonfinite = int(sum((~np.isfinite(v)).sum() for v in gen.values()))
    return _result(inp, metrics, ckpt, gen_path, train_path, n_train, len(e_test), ccqe_ranges(gen), nonfinite,
                   train_seconds, gen_seconds, sim_seconds, model.best_step_ / max(math.ceil(n_train / config.batch_size), 1),
                   artifacts)


def _ccqe_plots(sim: dict[str, np.ndarray], gen: dict[str, np.ndarray], out: Path) -> dict[str, str]:
    arts = {}
    edges = np.quantile(sim["e_nu"], [0, 1 / 3, 2 / 3, 1])
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        s = (sim["e_nu"] >= lo) & (sim["e_nu"] <= hi)
        g = (gen["e_nu"] >= lo) & (gen["e_nu"] <= hi)
        tag = f"{lo:.2g}-{hi:.2g} GeV"
        arts[f"e_mu_ratio_{i}"] = plotting.hist_by_class(
            {"reference MC": sim["e_mu"][s] / sim["e_nu"][s], "GAN": gen["e_mu"][g] / gen["e_nu"][g]},
            out / f"e_mu_ratio_{i}.png", xlabel=f"E_mu / E_nu (E_nu {tag})", range_=(0.0, 1.0))
        arts[f"cos_theta_{i}"] = plotting.hist_by_class(
            {"reference MC": sim["cos_theta"][s], "GAN": gen["cos_theta"][g]}, out / f"cos_theta_{i}.png",
            xlabel=f"cos theta_mu (E_nu {tag})", range_=(-1.0, 1.0), bins=80)
    return arts


def _result(inp, metrics, ckpt, gen_path, train_path, n_train, n_gen, ranges, nonfinite, train_seconds, gen_seconds,
            sim_seconds, best_epoch, artifacts) -> FastsimGanResult:
    speedup = sim_seconds / max(gen_seconds, 1e-9) if sim_seconds else None
    speed = f"{speedup:.0f}x faster than the simulation" if speedup else "simulation speed unknown"
    status = (f"{inp.application} GAN: {n_gen} events generated in {gen_seconds:.2f} s ({speed}), classifier AUC "
              f"{metrics['classifier_auc']:.3f} +- {metrics['classifier_auc_err']:.3f} vs simulation, "
              f"trained {train_seconds:.0f} s on {n_train}")
    return FastsimGanResult(
        status=status, application=inp.application, checkpoint=str(ckpt), generated=str(gen_path),
        training_sample=str(train_path), n_train=n_train, n_generated=n_gen, metrics=metrics,
        classifier_auc=metrics["classifier_auc"], classifier_auc_err=metrics["classifier_auc_err"], ranges=ranges,
        n_nonfinite=nonfinite, train_seconds=train_seconds, gen_seconds=gen_seconds, sim_seconds=sim_seconds,
        speedup=speedup, best_epoch=float(best_epoch), artifacts=artifacts)


@tool(checks=[fastsim_finite, fastsim_physical_ranges, fastsim_w1_vs_truth, fastsim_classifier_auc, fastsim_speedup],
      category="fastsim")
def fastsim_gan(inp: FastsimGanInput) -> FastsimGanResult:
    """Train a conditional GAN fast simulation on a slow simulation, sample from it and compare side by side.

    jets: an EPiC-GAN (arXiv:2301.08128) learns the 30 leading constituents (eta_rel, phi_rel, pT_rel)
    of jets given jet type and pT from a generate_jets sample (Pythia 8 + FastJet + detector; run
    generate_jets first or let this tool simulate n_train jets per process). ccqe: a conditional GAN
    (arXiv:2502.20244) learns the muon (E_mu, cos theta) of nu_mu CCQE on carbon given E_nu from a
    Llewellyn Smith + relativistic Fermi gas Monte Carlo. Reports JetNet W1 metrics (W1M, W1P,
    W1EFP) or W1 of E_mu / cos theta against the simulation-vs-simulation floor, the classifier
    two-sample AUC (goal <= 0.55), and the speed-up over the simulation (goal >= 25x); writes the
    generator checkpoint, the generated sample and comparison plots.
    """
    out = output_dir()
    return _run_jets(inp, out) if inp.application == "jets" else _run_ccqe(inp, out)
