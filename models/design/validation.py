"""Published resolutions of ATLAS, CMS and the CEPC baseline from the detector cards, and the comparison rule.

Reference points (knowledge/corpus/detectors/<name>.yaml, `hepilot.knowledge.detectors`):
    photon_energy  sigma(E)/E from the card's ECAL terms S, N, C at E = 50 and 100 GeV
    muon_pt        the card's `muon.published` points (pT, value or [low, high] range or upper bound);
                   for CEPC the card's tracker formula sigma(1/pT) = a (+) b / (p sin^1.5 theta) at
                   theta = 90 deg: sigma(pT)/pT = a pT (+) b
    jet_pt         the card's `jets.published` points (pT given: pp anti-kT jets; none given: e+e- jets,
                   restricted to truth E > E_min_GeV and |cos theta| < cos_theta_max when the point gives them)
    boson_mass     the card's boson mass resolution (CEPC BMR): nu nubar H, H -> g g at 240 GeV
                   (`resolution.boson_mass_resolution`)
Points the simulation cannot reproduce by construction are kept but marked `modelled = False`
(pile-up dominated low-pT jets for a preset without a pile-up `jet_level`, "large rapidity" muons of a
central-only check, muons above 500 GeV for a preset without a muon spectrometer: CMS is tracker-only
here) so a report shows them instead of hiding them. The ATLAS card has no muon number at 500 GeV (value null); a
`derived` reference is added from the muon-spectrometer design goal (4% at 100 GeV, 10% at 1 TeV,
arXiv:1109.6933) combined with the card's inner-detector formula.
Agreement: |simulated - published| <= 10% of published for a value; inside [0.9 low, 1.1 high]
for a range; below 1.1 x bound for an upper bound.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from collections.abc import Callable

import awkward as ak
import numpy as np

from hepilot.models import physics
from hepilot.models.design.resolution import (
    boson_mass_resolution,
    jet_response,
    muon_pt_resolution,
    photon_energy_resolution,
)
from hepilot.models.events.detector import Detector

__all__ = ["Reference", "card_references", "agrees", "measure", "selection_text", "TOLERANCE"]

TOLERANCE = 0.10


@dataclass(frozen=True)
class Reference:
    detector: str
    quantity: str  # "photon_energy", "muon_pt", "jet_pt", "boson_mass"
    energy: float | None  # GeV (E for photons, pT for muons and pp jets); None: e+e- jets of the card
    value: float | None = None
    low: float | None = None
    high: float | None = None
    upper_bound: bool = False
    source: str = ""
    note: str = ""
    modelled: bool = True
    derived: bool = False
    e_min: float | None = None  # e+e- jets: truth jet energy above this (GeV) ...
    cos_theta_max: float | None = None  # ... and |cos theta| below this, when the reference selects jets

    def as_dict(self) -> dict:
        return asdict(self)


def agrees(measured: float, ref: Reference, *, tolerance: float = TOLERANCE) -> tuple[bool, float]:
    """(agreement, relative deviation from the published value or the nearest range edge)."""
    if ref.upper_bound:
        return measured <= ref.value * (1 + tolerance), max(measured / ref.value - 1, 0.0)
    if ref.value is not None:
        dev = measured / ref.value - 1
        return abs(dev) <= tolerance, dev
    lo, hi = ref.low, ref.high
    if measured < lo:
        dev = measured / lo - 1
    elif measured > hi:
        dev = measured / hi - 1
    else:
        dev = 0.0
    return abs(dev) <= tolerance, dev


def selection_text(point: dict) -> str:
    """The jet selection of a reference point (a `Reference.as_dict()` or a comparison row), '' if none;
    no '|' (it goes into markdown tables)."""
    cuts = [f"E > {point['e_min']:g} GeV" if point.get("e_min") is not None else "",
            f"abs(cos theta) < {point['cos_theta_max']:g}" if point.get("cos_theta_max") is not None else ""]
    return ", ".join(filter(None, cuts))


def _num(node) -> float | None:
    v = node.get("value") if isinstance(node, dict) else None
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _from_entry(name: str, quantity: str, entry: dict, sources: dict, muon_system: bool,
                pileup: bool = False) -> Reference | None:
    value = entry.get("value")
    energy = entry.get("pt_GeV")
    text = entry.get("quantity", "")
    src = sources.get(entry.get("source", ""), entry.get("source", ""))
    modelled = "large rapidity" not in text
    if quantity == "jet_pt" and energy is not None and energy < 50 and not pileup:
        modelled = False  # pile-up dominates low-pT jets and this preset simulates none
    if quantity == "muon_pt" and energy is not None and energy > 500 and not muon_system:
        modelled = False  # the spectrometer dominates there and the preset has none
    selection = {"e_min": entry.get("E_min_GeV"), "cos_theta_max": entry.get("cos_theta_max")}
    if isinstance(value, list) and len(value) == 2:
        return Reference(name, quantity, energy, low=float(value[0]), high=float(value[1]), source=src, note=text,
                         modelled=modelled, **selection)
    if isinstance(value, (int, float)):
        return Reference(name, quantity, energy, value=float(value), upper_bound=entry.get("bound") == "upper",
                         source=src, note=text, modelled=modelled, **selection)
    return None


def card_references(name: str) -> list[Reference]:
    """The reference resolutions of detector `name` ('atlas', 'cms' or 'cepc') from its card."""
    from hepilot.knowledge.detectors import load_detector_card
    from hepilot.models.events.detector import DETECTOR_PRESETS

    card = load_detector_card(name)
    preset = DETECTOR_PRESETS.get(name.lower())
    muon_system = preset is not None and preset.muon is not None
    pileup = preset is not None and preset.jet_level is not None and preset.jet_level.pileup_mu > 0
    sources = card["sources"]
    refs: list[Reference] = []
    ecal = card.get("ecal", {})
    s, n, c = _num(ecal.get("stochastic")), _num(ecal.get("noise_GeV")) or 0.0, _num(ecal.get("constant"))
    if s is not None and c is not None:
        src = sources.get(ecal["stochastic"]["source"], "")
        for e in (50.0, 100.0):
            refs.append(Reference(name, "photon_energy", e, value=float(np.sqrt(s**2 / e + (n / e) ** 2 + c**2)),
                                  source=src, note=f"card ECAL terms S={s}, N={n} GeV, C={c}"))
    for entry in card.get("muon", {}).get("published", []):
        ref = _from_entry(name, "muon_pt", entry, sources, muon_system)
        if ref is not None:
            refs.append(ref)
    tracker = card.get("tracker", {}).get("pt_resolution", {})
    if name.lower() == "cepc":
        a, b = _num(tracker.get("a_per_GeV")), _num(tracker.get("b"))
        src = sources.get(tracker.get("a_per_GeV", {}).get("source", ""), "")
        for pt in (50.0, 500.0):
            refs.append(Reference(name, "muon_pt", pt, value=float(np.hypot(a * pt, b)), source=src,
                                  note="card tracker formula at theta = 90 deg"))
    if name.lower() == "atlas":
        a, b = _num(tracker.get("a_per_GeV")), _num(tracker.get("b"))
        a_ms = np.sqrt((0.10**2 - 0.04**2) / (1000.0**2 - 100.0**2))
        b_ms = np.sqrt(0.04**2 - (a_ms * 100.0) ** 2)
        ms = np.hypot(a_ms * 500.0, b_ms)
        inner = np.hypot(a * 500.0, b)
        refs.append(Reference(name, "muon_pt", 500.0, value=float(1 / np.sqrt(1 / ms**2 + 1 / inner**2)),
                              source="arXiv:1109.6933 (spectrometer design goal) + card inner-detector formula",
                              note="not on the card (value null): derived", derived=True))
    for entry in card.get("jets", {}).get("published", []):
        quantity = "boson_mass" if "boson mass" in entry.get("quantity", "") else "jet_pt"
        ref = _from_entry(name, quantity, entry, sources, muon_system, pileup)
        if ref is not None:
            refs.append(ref)
    return refs


def measure(detector: Detector, ref: Reference, *, rng: np.random.Generator, n: int = 20000,
            jets: Callable[[Reference], tuple[ak.Array, np.ndarray, bool]] | None = None) -> float | None:
    """The simulated counterpart of a reference point (None for jets when no `jets` provider is given).

    Photons and muons are central (|eta| < 0.8 and < 1.0: the cards quote barrel numbers); `jets(ref)`
    returns (constituents, truth pT or E, use_energy) of generator-level jets for the point, and for a
    boson mass point (events, None, None): generator-level nu nubar H, H -> g g events.
    """
    if ref.quantity == "photon_energy":
        return photon_energy_resolution(detector, ref.energy, n=n, eta_max=0.8, rng=rng)
    if ref.quantity == "muon_pt":
        return muon_pt_resolution(detector, ref.energy, n=n, eta_max=1.0, rng=rng)
    if jets is None:
        return None
    constituents, truth, use_energy = jets(ref)
    if ref.quantity == "boson_mass":
        return boson_mass_resolution(detector, constituents, rng=rng)[1]
    if ref.e_min is not None or ref.cos_theta_max is not None:  # the reference's jets only (truth E, direction)
        tot = {k: ak.to_numpy(ak.sum(constituents[k], axis=1)) for k in ("e", "px", "py", "pz")}
        keep = ((tot["e"] > (ref.e_min or 0.0))
                & (np.abs(physics.cos_theta(tot["px"], tot["py"], tot["pz"])) < (ref.cos_theta_max or 1.0)))
        constituents, truth = constituents[keep], np.asarray(truth)[keep]
    return jet_response(detector, constituents, truth, rng=rng, use_energy=use_energy)[1]
