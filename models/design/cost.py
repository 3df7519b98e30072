"""A detector cost model in MCHF: magnet from stored energy, tracker from area, calorimeters from volume and channels.

Geometry derived from a DetectorConfig (barrel cylinders plus two endcap discs, lengths in m):
    tracker   n layers at radii spaced evenly from 0.05 m to R, length 2 Z; the innermost
              `silicon_layers` are silicon, the rest gaseous (TPC rows, straws)
    ECAL      inner radius R_E, thickness t_E = depth [X0] x X0 [m]; barrel length 2 Z_tracker
    HCAL      inner radius R_H, thickness t_H = depth [lambda] x lambda [m]
    coil      inside the calorimeters: R_c = R_E - 0.1 m, half-length Z_tracker;
              outside: R_c = R_H + t_H + 0.2 m, half-length Z_tracker + t_E + t_H + 1 m
Costs:
    magnet    C = K (E / MJ)^alpha,  E = B^2 / (2 mu0) pi R_c^2 L_c     (stored-energy scaling)
    tracker   area_silicon x c_Si + area_gaseous x c_gas
    calorim.  volume x c_vol(technology) + channels x c_chan(technology)
              (+ layers x area x c_Si,area for silicon-sampling calorimeters)
    technologies: crystal (homogeneous), sampling (LHC-style towers), silicon (Si-W imaging ECAL),
              imaging (gaseous/scintillator imaging HCAL with integrated ASIC readout)
    channels  = front area / (cell size)^2 x longitudinal layers,  cell size = cell_eta x R
    sampling  a finer stochastic term needs finer sampling: S ~ sqrt(absorber thickness per layer)
              (sampling fluctuations, PDG Review "Calorimetry"), so for sampling, silicon and imaging
              calorimeters the volume and silicon-area costs and the layer count scale as (S_ref / S)^2
              with S_ref the stochastic term the reference cost was quoted for
The constants are order-of-magnitude numbers from public cost scalings and totals (each names its
source and whether it was re-read here: none were, verify before quoting absolute costs). The model
is meant for trade-offs between designs, not for budgets. With the presets it gives (MCHF, 2007-ish):
ATLAS inner detector + solenoid + calorimeters ~ 104, CMS ~ 281, CEPC ~ 283 (no muon systems, yokes,
infrastructure).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from hepilot.models.events.detector import DetectorConfig

__all__ = ["CostConstant", "COST_CONSTANTS", "CostBreakdown", "detector_cost", "stored_energy_mj", "TECHNOLOGIES"]

TECHNOLOGIES = ("crystal", "sampling", "silicon", "imaging")

MU0 = 4e-7 * math.pi  # T m / A


@dataclass(frozen=True)
class CostConstant:
    value: float
    unit: str
    source: str
    checked: bool = False  # re-read in the source when written here


COST_CONSTANTS: dict[str, CostConstant] = {
    "magnet_k": CostConstant(0.523, "MCHF at 1 MJ", "M.A. Green and S.J. St. Lorant, 'Estimating the cost of "
                             "superconducting magnets and the refrigerators needed to keep them cold', Adv. Cryog. "
                             "Eng. 39 (1994) 271: solenoid cost 0.523 M$ (E/MJ)^0.662 (1992 $, taken as MCHF)"),
    "magnet_alpha": CostConstant(0.662, "", "same fit (Green and St. Lorant 1994); updated fits in Green and Strauss, "
                                 "IEEE Trans. Appl. Supercond. 18 (2008) 248 have similar exponents"),
    "silicon_per_m2": CostConstant(0.5, "MCHF/m^2", "CMS strip tracker: ~200 m^2 of silicon for ~100 MCHF "
                                   "(CMS Tracker TDR CERN/LHCC 98-6 and addendum CERN/LHCC 2000-016), modules and "
                                   "readout included"),
    "gaseous_per_m2": CostConstant(0.004, "MCHF/m^2 per layer", "assumed: a gaseous measurement layer (TPC pad row, "
                                   "straw layer) at ~1% of the silicon cost per m^2; order of magnitude only"),
    "crystal_per_m3": CostConstant(1.8, "MCHF/m^3", "PbWO4 crystals ~1.8 CHF/cm^3 (CMS ECAL TDR CERN/LHCC 97-33)"),
    "sampling_per_m3": CostConstant(0.15, "MCHF/m^3", "absorber (Pb, steel, brass) plus active layers of sampling "
                                    "calorimeters: CMS HCAL ~200 m^3 for ~30 MCHF (CMS HCAL TDR CERN/LHCC 97-31)"),
    "silicon_cal_per_m2": CostConstant(0.025, "MCHF/m^2 per layer", "silicon pad sensors ~2.5 CHF/cm^2 (ILD "
                                       "Detailed Baseline Design, arXiv:1306.6329, SiW ECAL costing)"),
    "sampling_ref_ecal": CostConstant(0.10, "sqrt(GeV)", "stochastic term of the reference sampling ECAL (ATLAS "
                                      "LAr, 10%/sqrt(E), JINST 3 (2008) S08003) the per-volume cost refers to"),
    "sampling_ref_hcal": CostConstant(0.58, "sqrt(GeV)", "stochastic term of the reference sampling HCAL (ATLAS "
                                      "LAr + Tile pions, 58%/sqrt(E) + 2.5%, hep-ex/0004009: the atlas preset)"),
    "silicon_ref": CostConstant(0.16, "sqrt(GeV)", "Si-W ECAL with 30 layers, 16%/sqrt(E) (CEPC CDR arXiv:1811.10545)"),
    "imaging_ref": CostConstant(0.60, "sqrt(GeV)", "SDHCAL with 40 layers, 60%/sqrt(E) (CEPC CDR)"),
    "crystal_channel": CostConstant(4e-4, "MCHF/channel", "CMS ECAL: ~76k crystals with APD/VPT and readout ~30 MCHF"),
    "sampling_channel": CostConstant(1e-4, "MCHF/channel", "ATLAS LAr and Tile readout: ~100 CHF per channel "
                                     "(ATLAS LAr TDR CERN/LHCC 96-41)"),
    "silicon_channel": CostConstant(2e-6, "MCHF/channel", "integrated ASIC readout of imaging calorimeters, a few CHF "
                                    "per channel (CALICE/ILD DBD arXiv:1306.6329)"),
    "imaging_channel": CostConstant(2e-6, "MCHF/channel", "same ASIC readout for gaseous/scintillator imaging HCALs "
                                    "(SDHCAL/AHCAL, ILD DBD arXiv:1306.6329)"),
}


@dataclass
class CostBreakdown:
    """Cost per sub-system (MCHF) and the geometry behind it."""

    magnet: float
    tracker: float
    ecal: float
    hcal: float
    stored_energy_mj: float
    channels: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.magnet + self.tracker + self.ecal + self.hcal

    def as_dict(self) -> dict[str, float]:
        return {"total": self.total, "magnet": self.magnet, "tracker": self.tracker, "ecal": self.ecal,
                "hcal": self.hcal, "stored_energy_mj": self.stored_energy_mj,
                **{f"channels_{k}": v for k, v in self.channels.items()}}


def _c(name: str) -> float:
    return COST_CONSTANTS[name].value


def _coil(cfg: DetectorConfig) -> tuple[float, float]:
    """(radius, length) of the solenoid in m."""
    t_e = cfg.ecal.depth * cfg.ecal.unit_length
    t_h = cfg.hcal.depth * cfg.hcal.unit_length
    if cfg.magnet_outside_calorimeters:
        return cfg.hcal.inner_radius + t_h + 0.2, 2 * (cfg.tracker.half_length + t_e + t_h + 1.0)
    return max(cfg.ecal.inner_radius - 0.1, cfg.tracker.radius + 0.05), 2 * cfg.tracker.half_length


def stored_energy_mj(cfg: DetectorConfig) -> float:
    """Magnetic energy B^2 / (2 mu0) x pi R^2 L of the solenoid, in MJ."""
    radius, length = _coil(cfg)
    return cfg.tracker.b_field**2 / (2 * MU0) * math.pi * radius**2 * length / 1e6


def _tracker_cost(cfg: DetectorConfig) -> float:
    t = cfg.tracker
    radii = [0.05 + (t.radius - 0.05) * i / max(t.n_layers - 1, 1) for i in range(t.n_layers)]
    n_si = t.n_layers if t.silicon_layers is None else min(t.silicon_layers, t.n_layers)
    area = [2 * math.pi * r * 2 * t.half_length for r in radii]
    return sum(area[:n_si]) * _c("silicon_per_m2") + sum(area[n_si:]) * _c("gaseous_per_m2")


def _calorimeter_cost(cal, half_length: float) -> tuple[float, float]:
    """(cost in MCHF, channels) of one calorimeter: barrel of length 2 x half_length plus two endcaps."""
    thickness = cal.depth * cal.unit_length
    r = cal.inner_radius
    front = 2 * math.pi * r * 2 * half_length + 2 * math.pi * r**2
    volume = 2 * math.pi * r * thickness * 2 * half_length + 2 * math.pi * r**2 * thickness
    cell = max(cal.cell_eta * r, 1e-4) * max(cal.cell_phi * r, 1e-4)
    tech = cal.technology
    if tech not in TECHNOLOGIES:
        raise ValueError(f"calorimeter technology must be one of {', '.join(TECHNOLOGIES)}, got {tech!r}")
    scale = 1.0
    if tech != "crystal":
        ref = {"silicon": "silicon_ref", "imaging": "imaging_ref"}.get(
            tech, "sampling_ref_hcal" if cal.shower == "hadronic" else "sampling_ref_ecal")
        scale = (_c(ref) / max(cal.stochastic, 1e-3)) ** 2
    layers = cal.layers * (scale if tech in ("silicon", "imaging") else 1.0)
    channels = front / cell * layers
    cost = volume * _c("crystal_per_m3" if tech == "crystal" else "sampling_per_m3") * scale
    if tech == "silicon":
        cost += layers * front * _c("silicon_cal_per_m2")
    return cost + channels * _c(f"{tech}_channel"), channels


def detector_cost(cfg: DetectorConfig) -> CostBreakdown:
    """The cost (MCHF) of a detector configuration, per sub-system."""
    energy = stored_energy_mj(cfg)
    magnet = _c("magnet_k") * energy ** _c("magnet_alpha")
    ecal, ch_e = _calorimeter_cost(cfg.ecal, cfg.tracker.half_length)
    hcal, ch_h = _calorimeter_cost(cfg.hcal, cfg.tracker.half_length + cfg.ecal.depth * cfg.ecal.unit_length)
    return CostBreakdown(magnet, _tracker_cost(cfg), ecal, hcal, energy, {"ecal": ch_e, "hcal": ch_h})
