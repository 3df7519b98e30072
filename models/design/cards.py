"""Design-parameter values of the published detectors: the detector cards of knowledge/, completed by the presets.

A spec parameter takes the card's number when the card holds it (e.g. tracker.b_field from
magnet.solenoid_field_T, ecal.stochastic from ecal.stochastic) and the parametric preset's value
otherwise (effective numbers such as an effective hit resolution are never on a card). Every value
says where it came from, so a seeded trial can be traced to its source.
"""
from __future__ import annotations

from typing import Any

from hepilot.models.events.detector import DETECTOR_PRESETS, DetectorConfig

__all__ = ["CARD_PATHS", "card_parameters", "preset_value"]

# design parameter -> path in the card (knowledge/corpus/detectors/<name>.yaml)
CARD_PATHS: dict[str, tuple[str, ...]] = {
    "tracker.b_field": ("magnet", "solenoid_field_T"),
    "tracker.radius": ("tracker", "outer_radius_m"),
    "tracker.half_length": ("tracker", "half_length_m"),
    "tracker.eta_max": ("tracker", "eta_max"),
    "tracker.n_layers": ("tracker", "n_barrel_layers"),
    "ecal.stochastic": ("ecal", "stochastic"),
    "ecal.noise": ("ecal", "noise_GeV"),
    "ecal.constant": ("ecal", "constant"),
    "ecal.cell_eta": ("ecal", "cell_eta"),
    "ecal.cell_phi": ("ecal", "cell_phi"),
    "ecal.cell_size": ("ecal", "cell_eta"),
    "ecal.cell_size_m": ("ecal", "cell_size_m"),
    "ecal.depth": ("ecal", "depth_X0"),
    "ecal.eta_max": ("ecal", "eta_max"),
    "hcal.stochastic": ("hcal", "stochastic"),
    "hcal.constant": ("hcal", "constant"),
    "hcal.cell_eta": ("hcal", "cell_eta"),
    "hcal.cell_phi": ("hcal", "cell_phi"),
    "hcal.cell_size": ("hcal", "cell_eta"),
    "hcal.cell_size_m": ("hcal", "cell_size_m"),
}


def preset_value(cfg: DetectorConfig, name: str) -> float | None:
    """The value of a design parameter (aliases included) in a config; None when the config lacks it."""
    head, _, field = name.partition(".")
    section = getattr(cfg, head, None)
    if section is None:
        return None
    if field == "cell_size":
        return float(section.cell_eta)
    if field == "cell_size_m":
        return float(section.cell_eta * section.inner_radius)
    return float(getattr(section, field))


def _card_number(card: dict[str, Any], path: tuple[str, ...]) -> tuple[float | None, str]:
    node: Any = card
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None, ""
        node = node[key]
    value = node.get("value") if isinstance(node, dict) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value), str(node.get("source", ""))
    return None, ""


def card_parameters(name: str, parameters: list[str]) -> tuple[dict[str, float], dict[str, str]]:
    """(values, origins) of `parameters` for detector `name`: card numbers first, then the preset's."""
    from hepilot.knowledge.detectors import load_detector_card

    card = load_detector_card(name)
    preset = DETECTOR_PRESETS.get(name.lower())
    values: dict[str, float] = {}
    origins: dict[str, str] = {}
    for param in parameters:
        value, source = _card_number(card, CARD_PATHS[param]) if param in CARD_PATHS else (None, "")
        if value is not None:
            values[param], origins[param] = value, f"card {name}:{'.'.join(CARD_PATHS[param])} ({source})"
            continue
        fallback = preset_value(preset, param) if preset is not None else None
        if fallback is not None:
            values[param], origins[param] = fallback, f"preset {name}"
    return values, origins
