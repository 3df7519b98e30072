"""Design specifications (YAML): the parameters and ranges, objectives, cost budget and trial budget of a study.

A detector spec (kind: detector) names parameters of the parametric detector as dotted paths of
DetectorConfig ("tracker.b_field", "ecal.stochastic", "hcal.depth", "muon.sagitta_resolution"),
plus the aliases "ecal.cell_size" / "hcal.cell_size" (eta and phi cell together, rad) and
"ecal.cell_size_m" / "hcal.cell_size_m" (metres at the calorimeter's inner radius):

    kind: detector
    name: cepc-tracker-ecal
    base: cepc                           # preset the unlisted parameters come from
    parameters:
      tracker.b_field: {low: 2.0, high: 4.0}
      ecal.stochastic: {low: 0.03, high: 0.2, log: true}
      tracker.n_layers: {low: 100, high: 250, integer: true}
    objectives: [hgg_mass_resolution, zmumu_mass_resolution]
    cost_budget: 400                     # MCHF; designs above it are infeasible
    trials: 40
    sampler: nsga2                       # or tpe
    baselines: [cepc, atlas, cms]        # detector cards that seed the search
    events: {n_events: 2000, n_jets: 1000, seed: 1}
    storage: null                        # Optuna RDB URL; null = SQLite in the hepilot cache
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hepilot.errors import closest
from hepilot.models.events.detector import DETECTOR_PRESETS, CalorimeterConfig, DetectorConfig, MuonSystemConfig, \
    TrackerConfig

__all__ = ["ParameterRange", "EventsSpec", "DetectorDesignSpec", "load_spec", "apply_params", "parameter_names",
           "check_parameter_names", "ALIASES"]

_SECTIONS = {"tracker": TrackerConfig, "ecal": CalorimeterConfig, "hcal": CalorimeterConfig, "muon": MuonSystemConfig}
ALIASES = ("ecal.cell_size", "hcal.cell_size", "ecal.cell_size_m", "hcal.cell_size_m")


def parameter_names() -> list[str]:
    """Every numeric detector parameter a spec may vary, plus the aliases."""
    names = []
    for head, cls in _SECTIONS.items():
        for f in dataclasses.fields(cls):
            if f.type in ("float", "int", int, float):
                names.append(f"{head}.{f.name}")
    return names + list(ALIASES)


def check_parameter_names(names) -> None:
    """ValueError naming the first unknown detector parameter, the nearest valid names and all of them."""
    valid = parameter_names()
    for name in names:
        if name not in valid:
            near = closest(name, valid)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            raise ValueError(f"{name!r} is not a detector parameter; {hint}valid: {', '.join(valid)}")


def apply_params(base: DetectorConfig, params: dict[str, float]) -> DetectorConfig:
    """The base config with `params` set (aliases expanded after the other changes; integer fields rounded).

    The calorimeters keep their distance to the tracker: changing tracker.radius moves both
    calorimeters by the same amount, and a thicker ECAL moves the HCAL out (unless the spec sets
    their inner radii itself), so a larger tracker also costs larger calorimeters and coil.
    """
    changes: dict[str, Any] = {}
    for key, value in params.items():
        head, _, name = key.partition(".")
        if name not in ("cell_size", "cell_size_m"):
            kind = {f.name: f.type for f in dataclasses.fields(_SECTIONS[head])}[name]
            changes[key] = int(round(value)) if kind in ("int", int) else float(value)
    cfg = _nest(base, base.with_params(**changes), params)
    cells: dict[str, float] = {}
    for key, value in params.items():
        head, _, name = key.partition(".")
        if name in ("cell_size", "cell_size_m"):
            size = float(value) / (getattr(cfg, head).inner_radius if name == "cell_size_m" else 1.0)
            cells[f"{head}.cell_eta"] = cells[f"{head}.cell_phi"] = size
    return cfg.with_params(**cells) if cells else cfg


def _nest(base: DetectorConfig, cfg: DetectorConfig, params: dict[str, float]) -> DetectorConfig:
    """Keep the calorimeters outside the tracker: a larger tracker (or thicker ECAL) moves what is outside it."""
    d_tracker = cfg.tracker.radius - base.tracker.radius
    d_ecal = cfg.ecal.depth * cfg.ecal.unit_length - base.ecal.depth * base.ecal.unit_length
    moves = {}
    if "ecal.inner_radius" not in params and d_tracker:
        moves["ecal.inner_radius"] = cfg.ecal.inner_radius + d_tracker
    if "hcal.inner_radius" not in params and (d_tracker or d_ecal):
        moves["hcal.inner_radius"] = cfg.hcal.inner_radius + d_tracker + d_ecal
    return cfg.with_params(**moves) if moves else cfg


class ParameterRange(BaseModel):
    """The search range of one parameter."""

    model_config = ConfigDict(extra="forbid")
    low: float = Field(description="Lower edge of the range")
    high: float = Field(description="Upper edge of the range")
    log: bool = Field(False, description="Sample uniformly in log (both edges must be > 0)")
    integer: bool = Field(False, description="Integer parameter (e.g. tracker.n_layers)")

    @model_validator(mode="after")
    def _ordered(self):
        if self.high <= self.low:
            raise ValueError(f"the range is empty or inverted: low = {self.low} >= high = {self.high}; give low < high")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0, got low = {self.low}")
        return self


class EventsSpec(BaseModel):
    """How many generated events the objectives use (generated once, cached, reused by every trial)."""

    model_config = ConfigDict(extra="forbid")
    n_events: int = Field(2000, ge=50, le=1_000_000, description="e+e- events per process (ZH samples)")
    n_jets: int = Field(1000, ge=50, le=200_000, description="Jets per process (top and QCD) for jet objectives")
    seed: int = Field(1, ge=0, le=2**31 - 1, description="Seed of event generation")


class DetectorDesignSpec(BaseModel):
    """A detector design study; see the module docstring for an example."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["detector"] = "detector"
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$",
                      description="Study name (letters, digits, - _ .); the Optuna study is name + spec hash")
    base: str = Field("cepc", description="Detector preset the unlisted parameters come from")
    parameters: dict[str, ParameterRange] = Field(min_length=1, description="Parameter path -> range")
    objectives: list[str] = Field(min_length=1, max_length=4, description="Physics objectives (cost is always added)")
    cost_budget: float | None = Field(None, gt=0, description="Maximum cost in MCHF; costlier designs are infeasible")
    trials: int = Field(40, ge=1, le=10_000, description="Completed trials to reach (a resumed study continues)")
    sampler: Literal["nsga2", "tpe"] = Field("nsga2", description="Optuna sampler")
    population: int = Field(8, ge=2, le=500, description="Trials per round (NSGA-II population)")
    seed: int = Field(1, ge=0, le=2**31 - 1, description="Seed of the sampler and of the detector smearing")
    baselines: list[str] = Field(["cepc", "atlas", "cms"], max_length=3,
                                 description="Detector cards seeding the search and shown against the front ([] = none)")
    llm_proposals: int = Field(2, ge=0, le=50, description="Designs the LLM proposes per round (when configured)")
    events: EventsSpec = Field(default_factory=EventsSpec)
    storage: str | None = Field(None, description="Optuna RDB URL (sqlite:///..., postgresql://...); None = cache")

    @field_validator("base")
    @classmethod
    def _base(cls, v: str) -> str:
        if v not in DETECTOR_PRESETS or v == "none":
            raise ValueError(f"unknown base detector {v!r}; use one of {sorted(set(DETECTOR_PRESETS) - {'none'})}")
        return v

    @field_validator("parameters")
    @classmethod
    def _names(cls, params: dict[str, ParameterRange]) -> dict[str, ParameterRange]:
        check_parameter_names(params)
        for head in ("ecal", "hcal"):
            if sum(k.startswith(f"{head}.cell_") for k in params) > 1 and any(
                    k in params for k in (f"{head}.cell_size", f"{head}.cell_size_m")):
                raise ValueError(f"give either {head}.cell_size, {head}.cell_size_m or {head}.cell_eta/cell_phi")
        return params

    @field_validator("objectives")
    @classmethod
    def _objectives(cls, names: list[str]) -> list[str]:
        from hepilot.models.design.objectives import OBJECTIVES

        for name in names:
            if name not in OBJECTIVES:
                near = closest(name, OBJECTIVES)
                hint = f"did you mean {', '.join(near)}? " if near else ""
                raise ValueError(f"unknown objective {name!r}; {hint}known: {', '.join(OBJECTIVES)}")
        if len(set(names)) != len(names):
            raise ValueError(f"objectives has duplicates: {names}")
        return names

    @field_validator("baselines")
    @classmethod
    def _baselines(cls, names: list[str]) -> list[str]:
        usable = sorted(set(DETECTOR_PRESETS) - {"none", "generic"})
        for name in names:
            if name.lower() not in usable:
                raise ValueError(f"baseline {name!r} has no parametric preset; use some of {usable}")
        return [n.lower() for n in names]

    def content_hash(self) -> str:
        """Hash of what defines the study's trials (not the trial budget, LLM settings or storage)."""
        data = self.model_dump(mode="json", exclude={"trials", "llm_proposals", "storage", "population"})
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:10]

    @property
    def study_name(self) -> str:
        return f"{self.name}-{self.content_hash()}"


def load_spec(path: str | Path) -> DetectorDesignSpec | dict[str, Any]:
    """Read a YAML spec: a DetectorDesignSpec for kind 'detector', the plain mapping for kind 'analysis'.

    Raises ValueError (unreadable file, not a mapping, unknown kind) or pydantic's ValidationError.
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"no spec file at {p}")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"{p} is not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{p} must hold a mapping (kind, name, parameters, ...), got {type(data).__name__}")
    kind = data.get("kind", "detector")
    if kind == "analysis":
        return data
    if kind != "detector":
        raise ValueError(f"{p}: kind must be 'detector' or 'analysis', got {kind!r}")
    return DetectorDesignSpec.model_validate(data)
