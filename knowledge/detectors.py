"""Machine-readable detector cards: `load_detector_card(name)` -> dict of sourced numbers.

Each card (knowledge/corpus/detectors/<name>.yaml) holds the published geometry and performance
of one detector. Every number is a mapping {value, source, checked, note}: `source` is a key of
the card's `sources` (full reference), `checked` says whether the value was re-read in that
source when the card was written, `value: null` means "not stated in the sources used".
Units are part of the key names (_T, _m, _GeV; fractions are plain numbers, 0.01 = 1%).
The design-loop tools configure the parametric detector from these cards and validate the
simulated resolutions against the `published` reference points.
"""
from __future__ import annotations

import copy
import functools
from importlib import resources
from typing import Any

import yaml

from hepilot.errors import closest

__all__ = ["load_detector_card", "list_detectors", "iter_values", "DetectorCardError"]


class DetectorCardError(ValueError):
    """A detector card is missing, unknown, or breaks the card format."""


def list_detectors() -> list[str]:
    """Names of the shipped detector cards, e.g. ['atlas', 'besiii', 'cepc', 'cms', 'juno', 'lhcb']."""
    folder = resources.files("hepilot.knowledge.corpus") / "detectors"
    return sorted(e.name.removesuffix(".yaml") for e in folder.iterdir() if e.name.endswith(".yaml"))


def iter_values(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every sourced number in a card as (dotted path, {value, source, ...}); list items get [i]."""
    out: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if "value" in node:
            return [(path, node)]
        for key, sub in node.items():
            out.extend(iter_values(sub, f"{path}.{key}" if path else str(key)))
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            out.extend(iter_values(sub, f"{path}[{i}]"))
    return out


def _validate(card: dict[str, Any], name: str) -> None:
    for key in ("name", "full_name", "sources"):
        if key not in card:
            raise DetectorCardError(f"detector card {name!r} lacks '{key}'")
    sources = card["sources"]
    for path, entry in iter_values(card):
        if entry.get("source") not in sources:
            raise DetectorCardError(f"detector card {name!r}: {path} cites source {entry.get('source')!r}, "
                                    f"which is not one of {sorted(sources)}")
        value = entry["value"]
        numbers = value if isinstance(value, list) else [value]
        if not all(v is None or isinstance(v, (int, float)) for v in numbers):
            raise DetectorCardError(f"detector card {name!r}: {path} value must be a number, a list of numbers or "
                                    f"null, got {value!r}")


@functools.cache
def _load(name: str) -> dict[str, Any]:
    text = (resources.files("hepilot.knowledge.corpus") / "detectors" / f"{name}.yaml").read_text()
    card = yaml.safe_load(text)
    _validate(card, name)
    return card


def load_detector_card(name: str) -> dict[str, Any]:
    """The card of detector `name` (case-insensitive: 'ATLAS', 'cms', 'CEPC', ...) as a fresh dict.

    Example: `load_detector_card("cms")["ecal"]["stochastic"]` ->
    {"value": 0.028, "source": "ecaltb2007", "checked": True, "note": ...}; the full reference is
    `card["sources"]["ecaltb2007"]`. Unknown names raise DetectorCardError with the closest ones.
    """
    key = name.strip().lower().replace("-", "").replace(" ", "")
    names = list_detectors()
    if key not in names:
        near = closest(key, names)
        hint = f" Did you mean {', '.join(near)}?" if near else ""
        raise DetectorCardError(f"no detector card named {name!r}; available: {', '.join(names)}.{hint}")

    return copy.deepcopy(_load(key))
