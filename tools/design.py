"""Design-loop tools: optimise_detector (Optuna over a parametric detector), optimise_analysis, detector_resolution."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hepilot.errors import ToolInputError, closest
from hepilot.evals.checks.design import front_within_budget, pareto_front_consistent, resolutions_match_cards, \
    significance_consistent
from hepilot.models.design.spec import DetectorDesignSpec, apply_params, check_parameter_names, load_spec
from hepilot.models.events.detector import DETECTOR_PRESETS, get_detector
from hepilot.tools.base import ToolResult, current_context, output_dir, progress, tool, validation_to_input_error
from hepilot.tools.executor import get_executor

__all__ = ["OptimiseDetectorInput", "OptimiseDetectorResult", "optimise_detector", "DetectorResolutionInput",
           "DetectorResolutionResult", "detector_resolution", "OptimiseAnalysisInput", "OptimiseAnalysisResult",
           "optimise_analysis"]

log = logging.getLogger(__name__)
Preset = Literal["generic", "atlas", "cms", "cepc"]


def _examples() -> dict[str, Path]:
    """Shipped example specs by name (models/design/examples/*.yaml)."""
    from importlib import resources

    folder = Path(str(resources.files("hepilot.models.design") / "examples"))
    return {p.stem: p for p in folder.glob("*.yaml")}


def _complete():
    llm = current_context().llm
    return None if llm is None else getattr(llm, "complete", llm)


class OptimiseDetectorInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    spec: str = Field(description="Path of a detector design spec (YAML, kind: detector; see docs/design.md) or the "
                      "name of a shipped example: cepc_tracker_ecal, lhc_jets")
    trials: int | None = Field(None, ge=1, le=10_000, description="Override the spec's trial budget")
    storage: str | None = Field(None, description="Override the Optuna RDB URL (sqlite:///..., postgresql://...)")
    sampler: Literal["nsga2", "tpe"] | None = Field(None, description="Override the spec's sampler")

    @field_validator("spec")
    @classmethod
    def _spec_path(cls, v: str) -> str:
        p = Path(v).expanduser()
        if not p.is_file():
            shipped = _examples()
            if v not in shipped:
                raise ValueError(f"no spec file at {v}; pass the path of a YAML spec or one of the examples "
                                 f"{', '.join(sorted(shipped))}")
            p = shipped[v]
        return str(p.resolve())  # absolute, so the spec's content enters the cache key


class OptimiseDetectorResult(ToolResult):
    study_name: str = Field(description="Optuna study name (spec name + content hash); rerun to resume")
    storage: str = Field(description="Optuna storage URL holding the trials")
    n_trials: int = Field(description="Completed trials in the study")
    n_failed: int
    trials_per_minute: float = Field(description="Evaluated trials per wall-clock minute in this call")
    objectives: list[str] = Field(description="Physics objectives (cost in MCHF is always the first objective)")
    directions: list[str]
    cost_budget: float | None
    front: list[dict[str, Any]] = Field(description="Pareto-optimal designs: trial, source, cost, objectives, params")
    baselines: dict[str, dict[str, Any]] = Field(description="Preset detectors: cost, objectives, dominated_by")
    importances: dict[str, dict[str, float]] = Field(description="fANOVA importance of each parameter per target")
    tradeoffs: str = Field(description="The trade-offs found, in words")
    proposals: dict[str, int] = Field(description="LLM designs asked for and accepted")
    report: str = Field(description="report.md with tables and plots")


@tool(checks=[pareto_front_consistent, front_within_budget], category="design", cacheable=True)
def optimise_detector(inp: OptimiseDetectorInput) -> OptimiseDetectorResult:
    """Optimise a parametric detector with Optuna: cost versus physics objectives, the Pareto front as a report.

    Call with a YAML spec (parameters and ranges, objectives such as hgg_mass_resolution,
    zmumu_mass_resolution, top_tagging_auc, a cost budget and a trial budget). Events are generated
    once and cached; each trial re-applies the detector. The search is seeded with ATLAS/CMS/CEPC
    from the detector cards; with an LLM configured it also proposes designs between rounds. The
    study is stored (SQLite by default) and resumes where a killed run stopped.
    """
    from hepilot.models.design.study import run_detector_study

    try:
        spec = load_spec(inp.spec)
    except ValidationError as exc:
        err = validation_to_input_error(exc, DetectorDesignSpec, tool="optimise_detector")
        raise ToolInputError(f"spec.{err.field}", err.problem, err.fix, tool="optimise_detector") from None
    except ValueError as exc:
        raise ToolInputError("spec", str(exc), "pass a YAML spec with kind: detector", tool="optimise_detector") from None
    if not isinstance(spec, DetectorDesignSpec):
        raise ToolInputError("spec", "is an analysis spec (kind: analysis).", "call optimise_analysis with it",
                             tool="optimise_detector")
    spec = spec.model_copy(update={k: v for k, v in (("trials", inp.trials), ("storage", inp.storage),
                                                     ("sampler", inp.sampler)) if v is not None})
    executor = current_context().executor or get_executor()
    with progress(f"design study {spec.name}", total=spec.trials) as advance:
        done = {"n": 0}

        def on_round(n_complete: int, _total: int) -> None:
            advance(n_complete - done["n"])
            done["n"] = n_complete

        summary = run_detector_study(spec, cache_dir=Path(current_context().cache_dir), out_dir=output_dir(),
                                     map_fn=executor.map, complete=_complete(), on_round=on_round)
    front = summary["front"]
    directions = _directions(spec)
    best = "; ".join(f"best {o} {(min if d == 'minimize' else max)(r['objectives'][o] for r in front):.4g}"
                     for o, d in zip(spec.objectives, directions[1:])) if front else "no feasible design"
    cost_span = f"{front[0]['cost']:.0f}-{front[-1]['cost']:.0f} MCHF" if front else "-"
    return OptimiseDetectorResult(
        status=f"design study {summary['study_name']}: {summary['n_trials']} trials, {len(front)} on the Pareto "
               f"front ({cost_span}); {best}; {summary['trials_per_minute']:.1f} trials/min",
        study_name=summary["study_name"], storage=summary["storage"], n_trials=summary["n_trials"],
        n_failed=summary["n_failed"], trials_per_minute=summary["trials_per_minute"], objectives=spec.objectives,
        directions=directions, cost_budget=spec.cost_budget, front=front,
        baselines=summary["baselines"], importances=summary["importances"], tradeoffs=summary["tradeoffs"],
        proposals=summary["proposals"], report=summary["report"], artifacts={**summary["plots"],
                                                                            "report": summary["report"]})


def _directions(spec: DetectorDesignSpec) -> list[str]:
    from hepilot.models.design.objectives import OBJECTIVES

    return ["minimize"] + [OBJECTIVES[o].direction for o in spec.objectives]


class DetectorResolutionInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    detector: Preset = Field("cepc", description="Detector preset to start from")
    changes: dict[str, float] = Field({}, description="Parameter changes, e.g. {'tracker.b_field': 3.5, "
                                      "'ecal.cell_size_m': 0.01}")
    photon_energies: list[float] = Field([50.0, 100.0], max_length=20, description="Photon energies in GeV")
    muon_pts: list[float] = Field([50.0, 500.0], max_length=20, description="Muon transverse momenta in GeV")
    jets: bool = Field(False, description="Also measure jet energy resolution at the card's jet points "
                       "(generates Pythia jets once, minutes)")
    compare_cards: bool = Field(True, description="Compare with the published resolutions of the detector card "
                                "(only meaningful without changes)")
    n_particles: int = Field(20000, ge=500, le=1_000_000, description="Particles per energy point")
    n_jets: int = Field(600, ge=100, le=50_000, description="Jets per pp jet point (e+e- jets: twice, from "
                        "max(n_jets, 500) ZH events)")
    seed: int = Field(0, ge=0, description="Seed of the particle guns and the smearing")

    @field_validator("changes")
    @classmethod
    def _changes(cls, v: dict[str, float]) -> dict[str, float]:
        check_parameter_names(v)
        return v

    @model_validator(mode="after")
    def _energies(self):
        if any(e <= 0.2 for e in self.photon_energies + self.muon_pts):
            raise ValueError("energies and momenta must be above 0.2 GeV")
        return self


class DetectorResolutionResult(ToolResult):
    detector: str
    photon_energy: dict[str, float] = Field(description="E (GeV) -> simulated sigma(E)/E of photons (|eta| < 0.8)")
    muon_pt: dict[str, float] = Field(description="pT (GeV) -> simulated sigma(pT)/pT of muons (|eta| < 1)")
    comparison: list[dict[str, Any]] = Field(description="Card reference points: published vs simulated, agreement")
    cost: dict[str, float] = Field(description="Cost model breakdown (MCHF) of the configuration")


@tool(checks=[resolutions_match_cards], category="design")
def detector_resolution(inp: DetectorResolutionInput) -> DetectorResolutionResult:
    """Measure a configured detector's resolutions by simulation: photon energy, muon pT, optionally jet energy.

    Particles are generated at the given energies and pushed through the parametric detector (a
    preset, optionally with parameter changes). With compare_cards, the published resolutions of
    the detector card (ATLAS, CMS, CEPC) are simulated too and compared within 10%.
    """
    from hepilot.models.design.cost import detector_cost
    from hepilot.models.design.resolution import muon_pt_resolution, photon_energy_resolution
    from hepilot.models.design.validation import agrees, card_references, measure

    cfg = apply_params(DETECTOR_PRESETS[inp.detector], inp.changes)
    det = get_detector(cfg)
    rng = np.random.default_rng(inp.seed)
    photons = {f"{e:g}": photon_energy_resolution(det, e, n=inp.n_particles, rng=rng) for e in inp.photon_energies}
    muons = {f"{p:g}": muon_pt_resolution(det, p, n=inp.n_particles, rng=rng) for p in inp.muon_pts}
    comparison = []
    if inp.compare_cards and inp.detector != "generic":
        jets = _jet_provider(inp) if inp.jets else None
        for ref in card_references(inp.detector):
            if ref.quantity == "jet_pt" and not ref.modelled:
                continue  # low-pT jets of a preset without pile-up: not simulated, not worth generating jets for
            value = measure(det, ref, rng=rng, n=inp.n_particles, jets=jets)
            if value is None:
                continue
            ok, dev = agrees(value, ref)
            comparison.append({**ref.as_dict(), "simulated": value, "deviation": dev, "agrees": ok,
                               "configured_as_card": not inp.changes})
    n_ok = sum(c["agrees"] for c in comparison if c["modelled"])
    n_mod = sum(c["modelled"] for c in comparison)
    text = ", ".join(f"gamma {k} GeV {v:.2%}" for k, v in photons.items()) + "; " + \
        ", ".join(f"mu {k} GeV {v:.2%}" for k, v in muons.items())
    return DetectorResolutionResult(
        status=f"{inp.detector}{' (changed)' if inp.changes else ''}: {text}"
               + (f"; {n_ok}/{n_mod} card points within 10%" if comparison else ""),
        detector=inp.detector, photon_energy=photons, muon_pt=muons, comparison=comparison,
        cost=detector_cost(cfg).as_dict())


def _jet_provider(inp: DetectorResolutionInput):
    import awkward as ak

    from hepilot.models.design.data import prepare_data, prepare_pp_jets
    from hepilot.models.design.observables import ee_jets
    from hepilot.models.events.ee_higgs import read_truth_sample
    from hepilot.models.events.samples import read_jet_sample

    cache = Path(current_context().cache_dir)
    executor = current_context().executor or get_executor()

    def jets(ref):
        if ref.energy is None:  # e+e- at 240 GeV: nu nubar H, H -> g g (the whole event is the Higgs's) for the
            # boson mass; the Z -> q qbar jets of ZH, H -> gamma gamma events for jets
            kind = "zh_nunu_gg" if ref.quantity == "boson_mass" else "zh_gamgam"
            particles = read_truth_sample(prepare_data([kind], n_events=max(inp.n_jets, 500), n_jets=0,
                                                       seed=inp.seed + 1, cache_dir=cache,
                                                       map_fn=executor.map)[kind]).particles
            if ref.quantity == "boson_mass":
                return particles, None, None
            cons = ee_jets(particles)
            return cons, ak.to_numpy(ak.sum(cons.e, axis=1)), True
        sample = read_jet_sample(prepare_pp_jets(ref.energy, n_jets=inp.n_jets, seed=inp.seed + 1, cache_dir=cache,
                                                 map_fn=executor.map))
        return sample.particles, ak.to_numpy(sample.jets.jet_pt), False

    return jets


class OptimiseAnalysisInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    example: Literal["zh_gamgam"] | None = Field(None, description="Worked example: e+e- -> ZH (H -> gamma gamma) vs "
                                                 "Z/gamma* + gamma at 240 GeV, generated here")
    signal: str | None = Field(None, description="Signal events table (.root, .csv, .parquet), one row per event")
    background: str | None = Field(None, description="Background events table, same columns")
    signal_events: float | None = Field(None, gt=0, description="Expected signal events (when the table has no "
                                        "'weight' column)")
    background_events: float | None = Field(None, gt=0, description="Expected background events (no 'weight' column)")
    variables: list[str] | None = Field(None, description="Columns to select on / train with (default: all numeric)")
    methods: list[Literal["cuts", "bdt", "tagger"]] = Field(["cuts", "bdt"], min_length=1,
                                                             description="Rungs of the ladder to run")
    background_systematic: float = Field(0.0, ge=0, le=1, description="Relative background uncertainty (Asimov)")
    n_trials: int = Field(200, ge=10, le=5000, description="Optuna trials for the cut flow")
    detector: Preset = Field("cepc", description="Detector preset of the worked example")
    luminosity_fb: float = Field(5600.0, gt=0, description="Integrated luminosity of the worked example (fb^-1)")
    n_events: int = Field(3000, ge=200, le=500_000, description="Generated events per process for the example")
    tagger_epochs: int = Field(10, ge=1, le=200, description="Epochs of the neural rung")
    min_background_mc: int = Field(10, ge=0, description="Background MC events a selection must keep while optimising")
    seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _inputs(self):
        if self.example is None and (self.signal is None or self.background is None):
            raise ValueError("give example: zh_gamgam, or both signal and background tables")
        if self.example is not None and (self.signal or self.background):
            raise ValueError("give either the example or signal/background tables, not both")
        return self


class OptimiseAnalysisResult(ToolResult):
    rungs: list[dict[str, Any]] = Field(description="Per method: Z on the test part, s, b, selection")
    best_method: str
    best_z: float
    variables: list[str]
    totals: dict[str, float] = Field(description="Expected events per sample before selection")


@tool(checks=[significance_consistent], category="design")
def optimise_analysis(inp: OptimiseAnalysisInput) -> OptimiseAnalysisResult:
    """Optimise a selection for discovery significance Z: cut flow (Optuna), BDT and tagger working points.

    Z = sqrt(2((s+b)ln(1+s/b)-s)), or the Asimov formula with a relative background systematic.
    Give signal and background tables (a 'weight' column or expected totals), or example=zh_gamgam
    for e+e- -> ZH (H -> gamma gamma) at 240 GeV. Every method is scored on the same held-out events.
    """
    from hepilot.models.design.analysis import run_ladder
    from hepilot.tools import plotting

    data, totals, objects = _analysis_data(inp)
    notes = []
    tagger = None
    if "tagger" in inp.methods:
        if objects is None:
            notes.append("tagger rung skipped: it needs event object lists (example mode)")
        else:
            from hepilot.models.design.study import neural_scores

            tagger = neural_scores(objects, data.y, epochs=inp.tagger_epochs, seed=inp.seed)
    with progress("analysis ladder", total=None):
        rungs, _ = run_ladder(data, methods=tuple(inp.methods), n_trials=inp.n_trials, seed=inp.seed,
                              rel_syst=inp.background_systematic, min_background_mc=inp.min_background_mc,
                              tagger_scores=tagger)
    best = max(rungs, key=lambda r: r.z)
    fig, ax = plotting.figure()
    ax.bar([r.method for r in rungs], [r.z for r in rungs], color="tab:blue")
    ax.set_ylabel("expected significance Z (test events)")
    plot = plotting.save(fig, output_dir() / "ladder.png")
    text = ", ".join(f"{r.method} Z = {r.z:.2f} (s {r.s:.0f}, b {r.b:.0f})" for r in rungs)
    return OptimiseAnalysisResult(status=f"analysis ladder: {text}; best {best.method}" +
                                  (f" [{'; '.join(notes)}]" if notes else ""),
                                  rungs=[r.as_dict() for r in rungs], best_method=best.method, best_z=best.z,
                                  variables=data.names, totals=totals, artifacts={"ladder": plot})


def _analysis_data(inp: OptimiseAnalysisInput):
    """(AnalysisData, expected totals, event objects or None) of the example or of the two tables."""
    from hepilot.models.design.analysis import AnalysisData
    from hepilot.models.design.tables import WEIGHT, read_table

    if inp.example == "zh_gamgam":
        from hepilot.models.design.data import prepare_zh_analysis
        from hepilot.models.design.zh_example import event_objects, zh_gamgam_table
        from hepilot.models.events.ee_higgs import read_truth_sample

        executor = current_context().executor or get_executor()
        sig, bkg = prepare_zh_analysis(n_signal=inp.n_events, n_background=inp.n_events, seed=inp.seed + 1,
                                       cache_dir=Path(current_context().cache_dir), map_fn=executor.map)
        table = zh_gamgam_table(read_truth_sample(sig), read_truth_sample(bkg), detector=inp.detector,
                                luminosity_fb=inp.luminosity_fb, seed=inp.seed)
        data = _select(table.data, inp.variables)
        return data, table.totals, event_objects(table.reco) if "tagger" in inp.methods else None
    tables = {}
    for field, total_field in (("signal", "signal_events"), ("background", "background_events")):
        try:
            cols = read_table(getattr(inp, field))
        except ValueError as exc:
            raise ToolInputError(field, str(exc), "pass a .root, .csv or .parquet table with one row per event",
                                 tool="optimise_analysis") from None
        total = getattr(inp, total_field)
        n = len(next(iter(cols.values())))
        if WEIGHT not in cols and total is None:
            raise ToolInputError(total_field, "is required: the table has no 'weight' column.",
                                 f"give the expected number of {field} events", tool="optimise_analysis")
        weight = cols.pop(WEIGHT) if WEIGHT in cols else np.full(n, total / max(n, 1))
        tables[field] = (cols, weight)
    common = [c for c in tables["signal"][0] if c in tables["background"][0]]
    names = inp.variables or common
    for name in names:
        if name not in common:
            raise ToolInputError("variables", f"column {name!r} is not in both tables.",
                                 f"did you mean {', '.join(closest(name, common)) or '-'}? Columns: {', '.join(common)}",
                                 tool="optimise_analysis")
    X = np.vstack([np.column_stack([tables[f][0][n] for n in names]) for f in ("signal", "background")])
    y = np.r_[np.ones(len(tables["signal"][1])), np.zeros(len(tables["background"][1]))]
    w = np.r_[tables["signal"][1], tables["background"][1]]
    try:
        data = AnalysisData(np.nan_to_num(X), y, w, list(names))
    except ValueError as exc:
        raise ToolInputError("signal", str(exc), "check the tables' weights and rows", tool="optimise_analysis") from None
    return data, {"signal": float(tables["signal"][1].sum()), "background": float(tables["background"][1].sum())}, None


def _select(data, variables: list[str] | None):
    from hepilot.models.design.analysis import AnalysisData

    if not variables:
        return data
    for name in variables:
        if name not in data.names:
            raise ToolInputError("variables", f"{name!r} is not an observable of the example.",
                                 f"choose from {', '.join(data.names)}", tool="optimise_analysis")
    idx = [data.names.index(v) for v in variables]
    return AnalysisData(data.X[:, idx], data.y, data.w, list(variables))
