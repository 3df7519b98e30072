"""The catalogue of Pythia 8 jet processes `generate_jets` knows, with their settings and truth.

Each process gives the Pythia settings, the resonance whose decay products define a matched jet,
and the pTHat window generated for a requested jet-pT window. The windows follow the tested
recipes in shared/PYTHIA.md: for a 550-650 GeV window, pTHatMin = 450 (top) and 400 (QCD) keep
events whose jets migrate into the window (a higher pTHatMin is faster but loses ~13% of top /
~20% of QCD window jets); QCD gets pTHatMax ~ 1.1 pt_max so the steep spectrum is sampled where
it matters.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ProcessSpec", "PROCESSES", "pythia_settings"]


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    description: str
    settings: tuple[str, ...]
    resonance: int | None  # PDG id whose hadronic decay defines a truth-matched jet (None = no matching)
    n_quarks: int  # quarks from the resonance decay chain that must lie in the jet (top: b + 2 from W)
    pthat_min_frac: float  # pTHatMin = frac * pt_min
    pthat_max_frac: float | None  # pTHatMax = frac * pt_max (None = open)
    synonyms: tuple[str, ...] = ()
    lepton_collider: bool = False


_HADRONIC_W = ("24:onMode = off", "24:onIfAny = 1 2 3 4 5")
_HADRONIC_Z = ("23:onMode = off", "23:onIfAny = 1 2 3 4 5")

PROCESSES: dict[str, ProcessSpec] = {
    "top": ProcessSpec(
        "top", "hadronic ttbar (t -> W b, W -> q q'), boosted top jets",
        ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on", *_HADRONIC_W),
        resonance=6, n_quarks=3, pthat_min_frac=450 / 550, pthat_max_frac=None,
        synonyms=("ttbar", "t tbar", "tt", "top quark", "tops", "top jets", "top-quark"),
    ),
    "qcd": ProcessSpec(
        "qcd", "QCD dijets (light quarks and gluons)", ("HardQCD:all = on",),
        resonance=None, n_quarks=0, pthat_min_frac=400 / 550, pthat_max_frac=1.1,
        synonyms=("dijet", "dijets", "light jets", "multijet", "background jets", "gluon", "quark/gluon", "qcd jets"),
    ),
    "w": ProcessSpec(
        "w", "W + jet with W -> q q', boosted W jets",
        ("WeakBosonAndParton:qqbar2Wg = on", "WeakBosonAndParton:qg2Wq = on", *_HADRONIC_W),
        resonance=24, n_quarks=2, pthat_min_frac=450 / 550, pthat_max_frac=None,
        synonyms=("w boson", "w jets", "boosted w", "w+jet", "w bosons"),
    ),
    "z": ProcessSpec(
        "z", "Z + jet with Z -> q qbar, boosted Z jets",
        ("WeakBosonAndParton:qqbar2gmZg = on", "WeakBosonAndParton:qg2gmZq = on", "WeakZ0:gmZmode = 2", *_HADRONIC_Z),
        resonance=23, n_quarks=2, pthat_min_frac=450 / 550, pthat_max_frac=None,
        synonyms=("z boson", "z jets", "boosted z", "z+jet"),
    ),
    "higgs_bb": ProcessSpec(
        "higgs_bb", "H + jet with H -> b bbar, boosted Higgs jets",
        ("HiggsSM:gg2Hg(l:t) = on", "HiggsSM:qg2Hq(l:t) = on", "HiggsSM:qqbar2Hg(l:t) = on",
         "25:onMode = off", "25:onIfAny = 5"),
        resonance=25, n_quarks=2, pthat_min_frac=450 / 550, pthat_max_frac=None,
        synonyms=("higgs", "h->bb", "h to bb", "higgs to bb", "hbb", "boosted higgs", "h bb"),
    ),
}


def pythia_settings(process: str, *, sqrt_s: float, pt_min: float, pt_max: float, seed: int,
                    extra: tuple[str, ...] | list[str] = ()) -> list[str]:
    """All readString lines for one generation chunk (beams, process, pTHat window, seed, extras)."""
    spec = PROCESSES[process]
    lines = [f"Beams:eCM = {sqrt_s:g}", *spec.settings,
             f"PhaseSpace:pTHatMin = {spec.pthat_min_frac * pt_min:.6g}"]
    if spec.pthat_max_frac is not None:
        lines.append(f"PhaseSpace:pTHatMax = {spec.pthat_max_frac * pt_max:.6g}")
    lines += ["Print:quiet = on", "Next:numberCount = 0", "Random:setSeed = on", f"Random:seed = {seed}"]
    return lines + list(extra)
