"""Parametric detector response: tracker, electromagnetic and hadronic calorimeters, per particle.

Geant4 cannot run here, so the response is parametrised (as Delphes does) from detector geometry
and published performance. All energies/momenta in GeV, lengths in metres, B in tesla.

Tracker (charged particles inside |eta| < eta_max with pT > pt_min, efficiency `efficiency`):
    sigma(pT)/pT = a(eta) pT  (+)  b(eta)                       (+) = sum in quadrature
    a = sigma_x / (0.3 B L^2) sqrt(720 / (N + 4))              Gluckstern, N equally spaced layers
    b = 0.0136 / (0.3 B L) sqrt(x/X0 / sin theta) (1 + 0.038 ln(x/X0 / sin theta))   multiple scattering
    L(eta) = min(R, Z / |sinh eta|)                             transverse lever arm (barrel/endcap)
Calorimeters (ECAL: photons, electrons; HCAL: neutral hadrons; charged hadrons outside the tracker):
    sigma(E)/E = S / sqrt(E)  (+)  N / E  (+)  C
Granularity: neutral deposits falling into the same (eta, phi) cell are merged (energy sum,
energy-weighted centroid), and the cell size sets the angular resolution (cell / sqrt(12)).
Electrons combine the track and the ECAL measurement with inverse-variance weights. Neutrinos
and other invisible particles are removed.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import awkward as ak
import numpy as np

from hepilot.models import physics

__all__ = [
    "TrackerConfig",
    "CalorimeterConfig",
    "DetectorConfig",
    "Detector",
    "DETECTOR_PRESETS",
    "get_detector",
    "INVISIBLE_PIDS",
]

INVISIBLE_PIDS = (12, 14, 16, 1000022, 1000012, 1000014, 1000016, 1000039)
_ECAL_PIDS = (11, 22)
_MUON = 13


@dataclass(frozen=True)
class TrackerConfig:
    """A solenoid tracker; the defaults are a generic LHC-like silicon tracker."""

    b_field: float = 2.0  # T
    radius: float = 1.0  # m, outer radius of the last measurement (transverse lever arm in the barrel)
    half_length: float = 2.7  # m, |z| of the last endcap measurement
    n_layers: int = 12
    hit_resolution: float = 20e-6  # m, single-hit sigma in the bending plane
    material_x0: float = 0.3  # radiation lengths traversed at eta = 0
    eta_max: float = 2.5
    efficiency: float = 0.95
    pt_min: float = 0.5  # GeV, tracks below curl up

    def resolution_terms(self, eta: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """(a, b) in sigma(pT)/pT = a pT (+) b at pseudorapidity eta."""
        eta = np.abs(np.asarray(eta, dtype=float))
        lever = np.minimum(self.radius, self.half_length / np.maximum(np.sinh(eta), 1e-9))
        a = self.hit_resolution / (0.3 * self.b_field * lever**2) * np.sqrt(720.0 / (self.n_layers + 4))
        x = self.material_x0 * np.cosh(eta)  # path length through a barrel of thickness x0: x0 / sin(theta)
        b = 0.0136 / (0.3 * self.b_field * lever) * np.sqrt(x) * (1 + 0.038 * np.log(np.maximum(x, 1e-6)))
        return a, b

    def pt_resolution(self, pt: np.ndarray | float, eta: np.ndarray | float = 0.0) -> np.ndarray:
        """Relative resolution sigma(pT)/pT."""
        a, b = self.resolution_terms(eta)
        return np.hypot(a * np.asarray(pt, dtype=float), b)


@dataclass(frozen=True)
class CalorimeterConfig:
    """A sampling or homogeneous calorimeter: sigma(E)/E = S/sqrt(E) (+) N/E (+) C."""

    stochastic: float  # S, in sqrt(GeV)
    noise: float  # N, in GeV
    constant: float  # C
    cell_eta: float  # cell size in eta
    cell_phi: float  # cell size in phi (rad)
    eta_max: float = 3.0
    threshold: float = 0.2  # GeV, deposits below are not read out
    depth: float = 25.0  # radiation (ECAL) or interaction (HCAL) lengths, for cost/containment

    def energy_resolution(self, e: np.ndarray | float) -> np.ndarray:
        """Relative resolution sigma(E)/E."""
        e = np.maximum(np.asarray(e, dtype=float), 1e-6)
        return np.sqrt((self.stochastic / np.sqrt(e)) ** 2 + (self.noise / e) ** 2 + self.constant**2)

    def angular_resolution(self) -> tuple[float, float]:
        """(sigma_eta, sigma_phi) of a single-cell position: cell / sqrt(12)."""
        return self.cell_eta / np.sqrt(12.0), self.cell_phi / np.sqrt(12.0)


@dataclass(frozen=True)
class DetectorConfig:
    """A full parametric detector; `source` says where the numbers come from."""

    name: str
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    ecal: CalorimeterConfig = field(default_factory=lambda: CalorimeterConfig(0.10, 0.25, 0.007, 0.025, 0.025))
    hcal: CalorimeterConfig = field(default_factory=lambda: CalorimeterConfig(0.50, 1.0, 0.03, 0.1, 0.1, 4.9, 0.5, 10))
    smear: bool = True
    source: str = ""

    def with_params(self, **changes) -> DetectorConfig:
        """A copy with dotted changes, e.g. with_params(**{"tracker.b_field": 3.0, "ecal.cell_eta": 0.01})."""
        parts: dict[str, dict] = {}
        top: dict = {}
        for key, value in changes.items():
            head, _, rest = key.partition(".")
            if rest:
                parts.setdefault(head, {})[rest] = value
            else:
                top[key] = value
        new = replace(self, **top) if top else self
        for head, sub in parts.items():
            new = replace(new, **{head: replace(getattr(new, head), **sub)})
        return new

    def to_dict(self) -> dict:
        return asdict(self)


# Published performance these presets reproduce (see knowledge/corpus/detectors for the cards):
# ATLAS: ID 2 T, sigma(pT)/pT = 0.05% pT (+) 1%; LAr ECAL 10%/sqrt(E) (+) 0.7%, cells 0.025 x 0.0245;
#        Tile HCAL 50%/sqrt(E) (+) 3%, 0.1 x 0.1.  ATLAS Collaboration, JINST 3 (2008) S08003.
# CMS:   3.8 T, sigma(pT)/pT ~ 1.5% at 100 GeV (barrel); PbWO4 ECAL 2.8%/sqrt(E) (+) 12%/E (+) 0.3%,
#        0.0174 x 0.0174; HCAL 100%/sqrt(E) (+) 5%, 0.087 x 0.087.  CMS, JINST 3 (2008) S08004.
# CEPC:  3 T, TPC R = 1.8 m, sigma(1/pT) ~ 2e-5 GeV^-1 (+) 1e-3/(p sin^1.5 theta); Si-W ECAL
#        16%/sqrt(E) (+) 1%, 1 cm cells (~0.0055 rad at 1.8 m); AHCAL 60%/sqrt(E) (+) 1.5%.
#        CEPC CDR, arXiv:1811.10545.
DETECTOR_PRESETS: dict[str, DetectorConfig] = {
    "none": DetectorConfig(name="none", smear=False, source="generator-level particles, no response"),
    "generic": DetectorConfig(name="generic", source="generic LHC-like detector"),
    "atlas": DetectorConfig(
        name="atlas",
        tracker=TrackerConfig(b_field=2.0, radius=1.0, half_length=2.7, n_layers=40, hit_resolution=74e-6,
                              material_x0=0.19, eta_max=2.5, efficiency=0.95, pt_min=0.5),
        ecal=CalorimeterConfig(0.10, 0.17, 0.007, 0.025, 0.0245, 3.2, 0.2, 24),
        hcal=CalorimeterConfig(0.50, 1.0, 0.03, 0.1, 0.1, 4.9, 0.5, 9.7),
        source="ATLAS, JINST 3 (2008) S08003",
    ),
    "cms": DetectorConfig(
        name="cms",
        tracker=TrackerConfig(b_field=3.8, radius=1.1, half_length=2.8, n_layers=13, hit_resolution=18e-6,
                              material_x0=0.4, eta_max=2.5, efficiency=0.95, pt_min=0.5),
        ecal=CalorimeterConfig(0.028, 0.12, 0.003, 0.0174, 0.0174, 3.0, 0.2, 25.8),
        hcal=CalorimeterConfig(1.00, 1.0, 0.05, 0.087, 0.087, 5.0, 0.5, 7.2),
        source="CMS, JINST 3 (2008) S08004",
    ),
    "cepc": DetectorConfig(
        name="cepc",
        tracker=TrackerConfig(b_field=3.0, radius=1.8, half_length=2.35, n_layers=220, hit_resolution=100e-6,
                              material_x0=0.1, eta_max=2.0, efficiency=0.99, pt_min=0.2),
        ecal=CalorimeterConfig(0.16, 0.0, 0.01, 0.0055, 0.0055, 2.5, 0.1, 24),
        hcal=CalorimeterConfig(0.60, 0.0, 0.015, 0.022, 0.022, 2.5, 0.3, 6),
        source="CEPC CDR, arXiv:1811.10545",
    ),
}


def get_detector(name: str | DetectorConfig) -> Detector:
    """A Detector for a preset name ('none', 'generic', 'atlas', 'cms', 'cepc') or a config."""
    if isinstance(name, DetectorConfig):
        return Detector(name)
    if name not in DETECTOR_PRESETS:
        raise ValueError(f"unknown detector {name!r}; presets are {sorted(DETECTOR_PRESETS)}")
    return Detector(DETECTOR_PRESETS[name])


def _merge_cells(ev_idx, eta, phi, e, cell_eta, cell_phi):
    """Sum deposits sharing (event, eta cell, phi cell); energy-weighted centroid position."""
    ieta = np.floor(eta / cell_eta).astype(np.int64)
    n_phi = max(int(round(2 * np.pi / cell_phi)), 1)
    iphi = np.floor((phi + np.pi) / (2 * np.pi) * n_phi).astype(np.int64) % n_phi
    key = np.stack([ev_idx, ieta, iphi], axis=1)
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    inv = inv.ravel()
    e_sum = np.bincount(inv, weights=e, minlength=len(uniq))
    w_eta = np.bincount(inv, weights=e * eta, minlength=len(uniq)) / np.maximum(e_sum, 1e-12)
    # average phi through its cosine/sine to stay correct across the +-pi seam
    c = np.bincount(inv, weights=e * np.cos(phi), minlength=len(uniq))
    s = np.bincount(inv, weights=e * np.sin(phi), minlength=len(uniq))
    return uniq[:, 0], w_eta, np.arctan2(s, c), e_sum


class Detector:
    """Applies a DetectorConfig to generator-level particles (awkward arrays, one list per event)."""

    def __init__(self, config: DetectorConfig):
        self.config = config

    @property
    def name(self) -> str:
        return self.config.name

    def apply(self, particles: ak.Array, *, rng: np.random.Generator) -> ak.Array:
        """Reconstructed particles: records px, py, pz, e, pid, charge per event (same layout as input).

        particles: (events, var) records with px, py, pz, e (GeV), pid, charge.
        """
        counts = ak.to_numpy(ak.num(particles))
        n_events = len(counts)
        flat = {f: ak.to_numpy(ak.flatten(particles[f])).astype(np.float64) for f in ("px", "py", "pz", "e", "charge")}
        pid = ak.to_numpy(ak.flatten(particles.pid)).astype(np.int64)
        ev = np.repeat(np.arange(n_events), counts)
        apid = np.abs(pid)
        visible = ~np.isin(apid, INVISIBLE_PIDS)
        if not self.config.smear:
            return _unflatten(n_events, ev[visible], {k: v[visible] for k, v in flat.items()}, pid[visible])

        cfg = self.config
        pt = physics.pt(flat["px"], flat["py"])
        eta = physics.eta(flat["px"], flat["py"], flat["pz"])
        phi = physics.phi(flat["px"], flat["py"])
        m = physics.mass(flat["e"], flat["px"], flat["py"], flat["pz"])
        charged = (flat["charge"] != 0) & visible
        tracked = charged & (np.abs(eta) < cfg.tracker.eta_max) & (pt > cfg.tracker.pt_min)
        tracked &= rng.random(len(pt)) < cfg.tracker.efficiency
        in_ecal = np.abs(eta) < cfg.ecal.eta_max
        in_hcal = np.abs(eta) < cfg.hcal.eta_max

        out: list[dict[str, np.ndarray]] = []  # blocks of reconstructed objects

        # tracks: pT smeared, direction kept (tracking angles are far better than calorimeter cells)
        sel = tracked & (apid != 11)
        rel = cfg.tracker.pt_resolution(pt[sel], eta[sel])
        new_pt = pt[sel] * np.maximum(1 + rel * rng.standard_normal(sel.sum()), 1e-3)
        out.append(_block(ev[sel], new_pt, eta[sel], phi[sel], m[sel], pid[sel], flat["charge"][sel]))

        # electrons: track and ECAL combined with inverse-variance weights
        sel = tracked & (apid == 11) & in_ecal
        e_el = flat["e"][sel]
        rt = cfg.tracker.pt_resolution(pt[sel], eta[sel])
        rc = cfg.ecal.energy_resolution(e_el)
        rel = 1 / np.sqrt(1 / rt**2 + 1 / rc**2)
        new_pt = pt[sel] * np.maximum(1 + rel * rng.standard_normal(sel.sum()), 1e-3)
        out.append(_block(ev[sel], new_pt, eta[sel], phi[sel], m[sel], pid[sel], flat["charge"][sel]))

        # calorimeter deposits: untracked visible particles except muons (minimum ionising)
        calo = visible & ~tracked & (apid != _MUON)
        to_ecal = calo & np.isin(apid, _ECAL_PIDS) & in_ecal
        to_hcal = calo & ~np.isin(apid, _ECAL_PIDS) & in_hcal
        for sel, cal, label in ((to_ecal, cfg.ecal, 22), (to_hcal, cfg.hcal, 130)):
            if not sel.any():
                continue
            cev, ceta, cphi, ce = _merge_cells(ev[sel], eta[sel], phi[sel], flat["e"][sel], cal.cell_eta, cal.cell_phi)
            ce = ce * (1 + cal.energy_resolution(ce) * rng.standard_normal(len(ce)))
            seta, sphi = cal.angular_resolution()
            ceta = ceta + seta * rng.standard_normal(len(ce))
            cphi = physics.delta_phi(cphi + sphi * rng.standard_normal(len(ce)), 0.0)
            keep = ce > cal.threshold
            cpt = ce[keep] / np.cosh(ceta[keep])
            n = int(keep.sum())
            out.append(_block(cev[keep], cpt, ceta[keep], cphi[keep], np.zeros(n), np.full(n, label), np.zeros(n)))

        allc = {k: np.concatenate([b[k] for b in out]) for k in out[0]}
        e_all, px, py, pz = physics.p4_from_pt_eta_phi_m(allc["pt"], allc["eta"], allc["phi"], allc["m"])
        order = np.argsort(allc["ev"], kind="stable")
        cols = {"px": px[order], "py": py[order], "pz": pz[order], "e": e_all[order], "charge": allc["q"][order]}
        return _unflatten(n_events, allc["ev"][order], cols, allc["pid"][order])


def _block(ev, pt, eta, phi, m, pid, q) -> dict[str, np.ndarray]:
    return {"ev": np.asarray(ev, dtype=np.int64), "pt": np.asarray(pt, dtype=float), "eta": np.asarray(eta, dtype=float),
            "phi": np.asarray(phi, dtype=float), "m": np.asarray(m, dtype=float), "pid": np.asarray(pid, dtype=np.int64),
            "q": np.asarray(q, dtype=float)}


def _unflatten(n_events: int, ev: np.ndarray, cols: dict[str, np.ndarray], pid: np.ndarray) -> ak.Array:
    counts = np.bincount(ev, minlength=n_events)
    rec = ak.zip({**{k: cols[k] for k in ("px", "py", "pz", "e")}, "pid": pid, "charge": cols["charge"]})
    return ak.unflatten(rec, counts)
