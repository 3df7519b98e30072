"""Jet tools: generate_jets (Pythia 8 + FastJet + detector), jet_features (substructure), plot_distributions."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import awkward as ak
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from hepilot.errors import ToolInputError, closest
from hepilot.evals.checks.jets import efficiencies_in_range, qcd_mass_below_top, top_mass_peak
from hepilot.models.events.detector import DETECTOR_PRESETS
from hepilot.models.events.generation import JetGenConfig, chunk_key, chunk_tasks, generate_jet_sample
from hepilot.models.events.processes import PROCESSES
from hepilot.models.events.samples import SampleError, read_jet_sample
from hepilot.models.events.substructure import jet_substructure
from hepilot.tools import plotting
from hepilot.tools.base import ToolResult, current_context, output_dir, progress, tool
from hepilot.tools.executor import get_executor, map_persistent

__all__ = ["GenerateJetsInput", "GenerateJetsResult", "generate_jets", "JetFeaturesInput", "JetFeaturesResult",
           "jet_features", "PlotDistributionsInput", "PlotDistributionsResult", "plot_distributions",
           "load_sample", "read_table"]

log = logging.getLogger(__name__)

Process = Literal["top", "qcd", "w", "z", "higgs_bb"]
Detector = Literal["none", "generic", "atlas", "cms", "cepc"]
_FORBIDDEN_SETTINGS = ("Random:", "Beams:eCM", "Print:", "Next:", "Main:", "Init:")


class GenerateJetsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    processes: list[Process] = Field(["top", "qcd"], min_length=1, max_length=5,
                                     description="Processes to generate: top (hadronic ttbar), qcd (dijets), w, z, higgs_bb")
    n_jets: int = Field(1000, ge=1, le=2_000_000, description="Jets to keep per process")
    sqrt_s: float = Field(14000.0, gt=0, le=100_000, description="Collision energy in GeV (pp)")
    pt_min: float = Field(550.0, ge=20.0, description="Lower edge of the jet pT window in GeV")
    pt_max: float = Field(650.0, gt=20.0, description="Upper edge of the jet pT window in GeV")
    eta_max: float = Field(2.0, gt=0, le=5.0, description="Maximum |eta| of the jet axis")
    jet_r: float = Field(0.8, gt=0.05, le=2.0, description="Anti-kT radius R")
    max_constituents: int = Field(200, ge=1, le=1000, description="Constituents stored per jet (highest pT first)")
    truth_match: bool = Field(True, description="Keep resonance jets only if the resonance and its decay quarks are within R")
    detector: Detector = Field("atlas", description="Detector response: none (truth), generic, atlas, cms or cepc")
    seed: int = Field(1, ge=0, le=2**31 - 1, description="Random seed; chunk seeds derive from it")
    extra_settings: list[str] = Field([], max_length=50,
                                      description="Extra Pythia readString lines, e.g. 'TimeShower:alphaSvalue = 0.13'")

    @field_validator("pt_max")
    @classmethod
    def _window(cls, pt_max: float, info: ValidationInfo) -> float:
        pt_min, sqrt_s = info.data.get("pt_min"), info.data.get("sqrt_s")
        if pt_min is not None and pt_max <= pt_min:
            raise ValueError(f"the pT window is empty or inverted: pt_min = {pt_min} GeV >= pt_max = {pt_max} GeV; "
                             "give pt_min < pt_max")
        if sqrt_s is not None and 2 * pt_max > sqrt_s:
            raise ValueError(f"pt_max = {pt_max} GeV cannot be reached at sqrt_s = {sqrt_s} GeV (needs pt_max < sqrt_s / 2)")
        return pt_max

    @field_validator("processes")
    @classmethod
    def _unique(cls, processes: list[str]) -> list[str]:
        if len(set(processes)) != len(processes):
            raise ValueError(f"processes has duplicates: {processes}")
        return processes

    @field_validator("extra_settings")
    @classmethod
    def _settings(cls, lines: list[str]) -> list[str]:
        for line in lines:
            if "=" not in line:
                raise ValueError(f"Pythia setting {line!r} must look like 'Name:key = value'")
            if line.strip().startswith(_FORBIDDEN_SETTINGS):
                raise ValueError(f"Pythia setting {line!r} is controlled by hepilot (seed, beams, printing); "
                                 "use the seed / sqrt_s arguments instead")
        return lines


class GenerateJetsResult(ToolResult):
    path: str = Field(description="jets.root (hepilot-jets/1 format) with constituents and jet kinematics")
    manifest: str = Field(description="manifest.json with all settings, seeds and cross sections")
    n_jets: dict[str, int] = Field(description="Jets kept per process")
    sigma_pb: dict[str, float] = Field(description="Generated cross section per process (pb)")
    mass_peak: dict[str, float] = Field(description="Most probable jet mass per process (GeV)")
    mass_median: dict[str, float] = Field(description="Median jet mass per process (GeV)")
    efficiencies: dict[str, float] = Field(description="Truth-matched fraction of window jets per resonance process")
    events_per_second: float = Field(description="Generated events per wall-clock second")


def _mass_peak(m: np.ndarray) -> float:
    """Mode of the jet-mass distribution from a 5 GeV histogram smoothed over 3 bins."""
    h, edges = np.histogram(m, bins=np.arange(0.0, max(float(np.max(m)), 10.0) + 5.0, 5.0))
    smooth = np.convolve(h, np.ones(3) / 3.0, mode="same")
    i = int(np.argmax(smooth))
    return float(0.5 * (edges[i] + edges[i + 1]))


@tool(checks=[top_mass_peak, qcd_mass_below_top, efficiencies_in_range], category="jets")
def generate_jets(inp: GenerateJetsInput) -> GenerateJetsResult:
    """Generate jets with Pythia 8 + FastJet (anti-kT) and a parametric detector response.

    Call this first for any jet study (tagging, substructure, fast simulation): it writes one ROOT
    sample holding all requested processes with the same settings, so every model trains and
    tests on the same jets. Default: the top-tagging recipe (14 TeV, R = 0.8, 550 < pT < 650 GeV,
    |eta| < 2, top and its 3 quarks inside the jet). Results are cached by their settings.
    """
    cfg = JetGenConfig(processes=tuple(inp.processes), n_jets=inp.n_jets, sqrt_s=inp.sqrt_s, pt_min=inp.pt_min,
                       pt_max=inp.pt_max, eta_max=inp.eta_max, jet_r=inp.jet_r, max_constituents=inp.max_constituents,
                       truth_match=inp.truth_match, detector=inp.detector, seed=inp.seed,
                       extra_settings=tuple(inp.extra_settings))
    ctx = current_context()
    executor = ctx.executor or get_executor()
    path = output_dir() / "jets.root"
    chunks = Path(ctx.cache_dir) / "chunks" / "jets"  # finished chunks survive a failed or killed run

    def run_chunks(fn, tasks):
        return map_persistent(executor, fn, tasks, [chunk_key(t) for t in tasks], chunks)

    try:
        with progress(f"generating {', '.join(inp.processes)} jets", total=inp.n_jets * len(inp.processes)) as adv:
            manifest = generate_jet_sample(cfg, path, map_fn=run_chunks, on_chunk=adv)
    except ValueError as exc:
        if "Pythia rejected" in str(exc):
            raise ToolInputError("extra_settings", str(exc), "use settings from the Pythia 8 manual, "
                                 "e.g. 'TimeShower:alphaSvalue = 0.13'", tool="generate_jets") from None
        raise
    for task in chunk_tasks(cfg):  # merged into jets.root: the chunk copies are no longer needed
        (chunks / f"{chunk_key(task)}.pkl").unlink(missing_ok=True)
    sample = read_jet_sample(path)
    masses = ak.to_numpy(sample.jets.jet_mass).astype(float)
    per = manifest["per_process"]
    n_jets = {p: per[p]["n_jets"] for p in inp.processes}
    peak = {p: _mass_peak(masses[sample.labels == i]) for i, p in enumerate(inp.processes)}
    median = {p: float(np.median(masses[sample.labels == i])) for i, p in enumerate(inp.processes)}
    effs = {p: per[p]["match_efficiency"] for p in inp.processes if "match_efficiency" in per[p]}
    n_events = sum(per[p]["n_events"] for p in inp.processes)
    rate = n_events / max(manifest["wall_seconds"], 1e-9)
    plot = plotting.hist_by_class({p: masses[sample.labels == i] for i, p in enumerate(inp.processes)},
                                  output_dir() / "jet_mass.png", xlabel="jet mass [GeV]", range_=(0.0, 300.0))
    summary = ", ".join(f"{n_jets[p]} {p} (m peak {peak[p]:.0f} GeV)" for p in inp.processes)
    return GenerateJetsResult(
        status=f"generated {summary} jets at {inp.sqrt_s / 1000:g} TeV, {inp.pt_min:g}-{inp.pt_max:g} GeV, "
               f"detector {inp.detector}",
        path=str(path), manifest=str(path.parent / "manifest.json"), n_jets=n_jets,
        sigma_pb={p: per[p]["sigma_pb"] for p in inp.processes}, mass_peak=peak, mass_median=median,
        efficiencies=effs, events_per_second=rate, artifacts={"jet_mass": plot},
    )


def load_sample(path: str, field: str = "sample"):
    """Read a jet sample for a tool; a bad file becomes a ToolInputError on `field`."""
    try:
        return read_jet_sample(path)
    except SampleError as exc:
        raise ToolInputError(field, str(exc), "pass the `path` returned by generate_jets") from None


class JetFeaturesInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sample: str = Field(description="Path of a jet sample written by generate_jets (jets.root)")


class JetFeaturesResult(ToolResult):
    path: str = Field(description="features.root: TTree 'features' with one branch per observable plus 'label'")
    features: list[str] = Field(description="Observables computed")
    processes: list[str] = Field(description="Process names; label i means processes[i]")
    medians: dict[str, dict[str, float]] = Field(description="Median of each observable per process")


@tool(category="jets")
def jet_features(inp: JetFeaturesInput) -> JetFeaturesResult:
    """Compute jet substructure observables for every jet of a sample.

    Observables: jet mass, N-subjettiness tau1-3 and ratios tau21, tau32, energy-correlation
    ratios C2 and D2, constituent and charged multiplicities, pT_D and girth. Call after
    generate_jets and before train_bdt or plot_distributions of substructure.
    """
    import uproot

    sample = load_sample(inp.sample)
    feats = jet_substructure(sample)
    path = output_dir() / "features.root"
    with uproot.recreate(path) as f:
        f["features"] = {**{k: v.astype(np.float64) for k, v in feats.items()}, "label": sample.labels.astype(np.int32),
                         "chunk": ak.to_numpy(sample.jets.chunk).astype(np.int32),
                         "event": ak.to_numpy(sample.jets.event).astype(np.int64)}
    (path.parent / "processes.txt").write_text("\n".join(sample.processes) + "\n")
    medians = {p: {k: float(np.median(v[sample.labels == i])) for k, v in feats.items()}
               for i, p in enumerate(sample.processes)}
    tau32 = ", ".join(f"{p} {m['tau32']:.2f}" for p, m in medians.items())
    return JetFeaturesResult(status=f"{len(feats)} observables for {len(sample)} jets; median tau32: {tau32}",
                             path=str(path), features=list(feats), processes=sample.processes, medians=medians)


def read_table(path: str, field: str, columns: list[str] | None = None) -> tuple[dict[str, np.ndarray], list[str]]:
    """Columns of a features.root or jets.root file and its process names; bad files/columns -> ToolInputError."""
    import uproot

    p = Path(path)
    if not p.is_file():
        raise ToolInputError(field, f"no file at {path}.", "pass a path returned by jet_features or generate_jets")
    try:
        with uproot.open(p) as f:
            tree_name = "features" if "features" in f else "jets" if "jets" in f else None
            if tree_name is None:
                keys = ", ".join(k.split(";")[0] for k in f.keys()) or "none"
                raise ToolInputError(field, f"{path} has no 'features' or 'jets' TTree (available keys: {keys}).",
                                     "pass a file written by jet_features or generate_jets")
            tree = f[tree_name]
            available = [k for k in tree.keys() if not k.startswith(("part_", "n_part"))]
            wanted = columns or available
            for c in wanted:
                if c not in available:
                    near = closest(c, available)
                    raise ToolInputError("branches" if columns else field, f"no branch {c!r} in {path}.",
                                         f"did you mean {', '.join(near) or '-'}? Available: {', '.join(available)}")
            arrays = tree.arrays(sorted(set(wanted) | {"label"}), library="np")
    except ToolInputError:
        raise
    except Exception as exc:
        raise ToolInputError(field, f"{path} is not a readable ROOT file ({type(exc).__name__}: {exc}).",
                             "regenerate it with generate_jets / jet_features") from None
    names_file = p.parent / "processes.txt"
    if names_file.is_file():
        processes = names_file.read_text().split()
    else:
        import json

        manifest = p.parent / "manifest.json"
        processes = json.loads(manifest.read_text())["processes"] if manifest.is_file() else []
    return arrays, processes


class PlotDistributionsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(description="features.root from jet_features or jets.root from generate_jets")
    branches: list[str] = Field(["jet_mass"], min_length=1, max_length=20, description="Branches to histogram")
    bins: int = Field(40, ge=5, le=500, description="Number of bins")


class PlotDistributionsResult(ToolResult):
    plots: dict[str, str] = Field(description="Branch -> PNG path")


@tool(category="jets")
def plot_distributions(inp: PlotDistributionsInput) -> PlotDistributionsResult:
    """Histogram branches of a jet sample or feature file, one curve per process (signal vs background).

    Use after generate_jets (e.g. jet_mass, jet_pt) or jet_features (tau32, c2, d2, ...).
    """
    arrays, processes = read_table(inp.path, "path", inp.branches)
    labels = arrays["label"]
    names = processes or [str(i) for i in np.unique(labels)]
    plots = {}
    for b in inp.branches:
        unit = " [GeV]" if b in ("jet_mass", "jet_pt", "jet_e") else ""
        plots[b] = plotting.hist_by_class({n: arrays[b][labels == i] for i, n in enumerate(names)},
                                          output_dir() / f"{b}.png", xlabel=b + unit, bins=inp.bins)
    return PlotDistributionsResult(status=f"plotted {', '.join(inp.branches)} for {', '.join(names)}",
                                   plots=plots, artifacts=plots)


assert set(PROCESSES) == set(Process.__args__), "Process literal out of sync with the catalogue"
assert set(DETECTOR_PRESETS) == set(Detector.__args__), "Detector literal out of sync with the presets"
