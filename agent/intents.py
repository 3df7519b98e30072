"""The offline planner's intent catalogue: what hepilot can do, as example phrasings -> tool chains.

Each capability area ships `tools/intents/<area>.yaml`, a list of intents:

    - name: qed_rediscovery                    # unique across all files
      description: Rediscover dsigma/dcos(theta) of e+e- -> mu+mu- from generated events.
      examples:                                # 5-10 varied phrasings (matched with MiniLM)
        - rediscover the angular distribution of e+e- to mu+mu-
        - find the formula for the muon angular distribution in electron positron collisions
      keywords: [angular distribution, mu+mu-]  # optional: phrases that raise the score
      slots:                                   # values read from the goal text, with defaults
        n_events: {kind: count, default: 100000, min: 1000, max: 10000000}
        sqrt_s:   {kind: energy, default: 10.0}
      steps:                                   # the tool chain, arguments may use slots and refs
        - id: gen
          tool: generate_dimuon
          args: {n_events: "{n_events}", sqrt_s: "{sqrt_s}"}
        - id: fit
          tool: symbolic_regression
          args: {data: "$gen.histogram_path", target: dsigma_dcos}

Slot kinds (see agent/slots.py for the extraction rules):
    count         integers with multipliers: "5000", "5k", "50 000", "two thousand", "1e5"
    energy        a value with unit, returned in GeV: "14 TeV" -> 14000.0, "240 GeV" -> 240.0
    energy_range  "between 550 and 650 GeV", "550-650 GeV", "pT > 500 GeV" -> [lo, hi] in GeV
    int, float    a number near `pattern` (a regex with one group), e.g. "(\\d+)\\s*bins"
    process       a process name from `options` (synonyms allowed: {options: {top: [ttbar, "t tbar"]}})
    processes     several of those, in the order they appear in the goal
    particle      a particle name or PDG id, resolved with the `particle` package -> PDG id
    choice        one of `options` (dict of value -> synonyms); the first one mentioned wins
    choices       every one of `options` mentioned, in order (e.g. tagger architectures)
    path          a file path mentioned in the goal (existing or to be written)
    flag          True when any of `options` (list of phrases) appears, else the default
    text          the goal text itself (for tools that take a free-text question)

Argument templates: a string "{slot}" is replaced by the slot's typed value ("{slot.0}" takes an
element of a list, "{slot/2}" divides an integer, rounding up); "$step.field" is a
reference to a field of an earlier step's result, resolved when the plan runs; anything else is
a literal. Conditional steps: `when: slot_name` keeps a step only if that slot is truthy.
"""
from __future__ import annotations

import functools
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = ["SlotSpec", "StepTemplate", "Intent", "load_intents", "SLOT_KINDS"]

SLOT_KINDS = ("count", "energy", "energy_range", "int", "float", "process", "processes", "particle", "choice",
              "choices", "path", "flag", "text")


class SlotSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["count", "energy", "energy_range", "int", "float", "process", "processes", "particle", "choice",
                  "choices", "path", "flag", "text"]
    default: Any = None
    required: bool = Field(False, description="Plan only when the goal states this slot")
    min: float | None = None
    max: float | None = None
    pattern: str | None = Field(None, description="Regex with one group, searched in the goal (int/float/path)")
    options: dict[str, list[str]] | list[str] | None = None
    min_items: int | None = Field(None, description="processes/choices: complete a shorter list from `fill`")
    fill: list[str] = Field(default_factory=list, description="Values appended (if absent) up to min_items, "
                                                               "e.g. [qcd] as the background of a tagger")
    description: str = ""


class StepTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    when: str | None = None


class Intent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str
    examples: list[str] = Field(min_length=3)
    keywords: list[str] = Field(default_factory=list)
    slots: dict[str, SlotSpec] = Field(default_factory=dict)
    steps: list[StepTemplate] = Field(min_length=1)
    area: str = ""

    @field_validator("steps")
    @classmethod
    def _unique_ids(cls, steps: list[StepTemplate]) -> list[StepTemplate]:
        ids = [s.id for s in steps]
        if len(ids) != len(set(ids)):
            raise ValueError(f"step ids must be unique, got {ids}")
        return steps


@functools.cache
def load_intents() -> tuple[Intent, ...]:
    """All intents from tools/intents/*.yaml, validated; names must be unique."""
    folder = resources.files("hepilot.tools") / "intents"
    out: list[Intent] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        items = yaml.safe_load(entry.read_text()) or []
        for item in items:
            item.setdefault("area", entry.name.removesuffix(".yaml"))
            try:
                out.append(Intent.model_validate(item))
            except ValidationError as exc:
                raise ValueError(f"tools/intents/{entry.name}, intent {item.get('name')!r}: {exc}") from None
    names = [i.name for i in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"duplicate intent names: {sorted(dup)}")
    return tuple(out)
