"""Parametric detector response: tracker, muon spectrometer, electromagnetic and hadronic calorimeters, per particle.

Geant4 cannot run here, so the response is parametrised (as Delphes does) from detector geometry
and published performance. All energies/momenta in GeV, lengths in metres, B in tesla.

Tracker (charged particles inside |eta| < eta_max with pT > pt_min, efficiency `efficiency`):
    sigma(pT)/pT = a(eta) pT  (+)  b(eta)                       (+) = sum in quadrature
    a = sigma_x / (0.3 B L^2) sqrt(720 / (N + 4))              Gluckstern, N equally spaced layers
    b = 0.0136 / (0.3 B L) sqrt(x/X0 / sin theta) (1 + 0.038 ln(x/X0 / sin theta))   multiple scattering
    L(eta) = min(R, Z / |sinh eta|)                             transverse lever arm (barrel/endcap)
Muon spectrometer (optional): a standalone measurement outside the calorimeters,
    sigma(pT)/pT = 8 sigma_s pT / (0.3 B L^2)  (+)  multiple scattering (as above)  (+)  sigma_Eloss / p
combined with the inner track by inverse-variance weighting (sagitta s = 0.3 B L^2 / (8 pT)).
Muons outside the tracker but inside the spectrometer acceptance are measured standalone.
Calorimeters (ECAL: photons, electrons; HCAL: hadrons):
    sigma(E)/E = S / sqrt(E)  (+)  N / E  (+)  C'
    C'^2 = C^2 + 0.25^2 (f_leak(E, depth)^2 - f_leak(E, reference_depth)^2)     (floored at 0)
with f_leak the mean fraction of the shower behind a depth (see _calorimetry): the published
constant term C includes the leakage at the depth that was built (`reference_depth`); a design
with another depth gains or loses the difference. reference_depth None: no leakage modelling.
Granularity: deposits closer than one cluster size (the larger of the cell and the shower width
seen from the calorimeter radius) merge into one cluster (energy sum, energy-weighted centroid);
two photons of a pi0 merge the same way. The cell size sets the angular resolution (cell / sqrt(12)).
Shower merging (`shower_merging`): charged-hadron showers share HCAL clusters with neutral hadrons
and the neutral energy is recovered as the calorimeter excess over the tracks (particle flow).
Photon confusion (`photon_confusion`): a hadron starts its shower in the ECAL (1.1-1.2 lambda deep in
ATLAS and CMS), so a photon inside the same ECAL cluster (cell or Moliere radius, whichever is larger)
cannot be told apart from it: the photon joins the hadron's HCAL cluster and, under particle flow,
survives only in the calorimeter excess over the tracks. Imaging calorimeters (CEPC) separate the
two by their longitudinal and lateral topology (PandoraPFA, arXiv:0907.3577) and keep it off.
Tracks above `track_pt_max` are not used for charged hadrons, which are then measured by the
calorimeters (ATLAS particle flow uses tracks with pT < 40 GeV only, arXiv:1703.10485). With
`dense_cone` (ATLAS), a track is not used either where the calorimeter energy within that radius of
it exceeds its momentum by more than 33.2 log10(40 GeV / pT) GeV (the cores of high-pT jets, where
subtracting a shower from a dense deposit does more harm than good; DENSE_EXCESS_GEV). The cone sum
is the 3 x 3 block of cells of the cone's area around the particle (`_calorimetry.neighbourhood_sum`).
Particle flow keeps the calorimeter excess over the tracks of a cluster as a neutral when it exceeds
`neutral_excess_sigma` times the expected calorimeter spread of the tracks' energy (CMS: 1,
arXiv:1706.04965; ATLAS: 1.5, the remnant test of arXiv:1703.10485).
Calorimeter terms add in quadrature; `linear_constant` adds S/sqrt(E) and C linearly (then N/E in
quadrature), as some test beams quote them (ATLAS combined LAr + Tile pions, hep-ex/0004009).
Electrons combine the track and the ECAL measurement with inverse-variance weights. Neutrinos and
other invisible particles are removed.
Jet-level effects (non-compensation with a jet energy scale, pile-up): `jet_level.JetLevelConfig`,
opt-in per config and applied where jets meet their truth; apply(em_scale=True) gives its e.m. scale.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import awkward as ak
import numpy as np

from hepilot.models import physics
from hepilot.models.events._calorimetry import LEAKAGE_WEIGHT, leak_fraction, merge_cells, neighbourhood_sum, shares_cell
from hepilot.models.events.jet_level import PILEUP_NOISE_CHS, JetLevelConfig

__all__ = [
    "TrackerConfig",
    "MuonSystemConfig",
    "CalorimeterConfig",
    "DetectorConfig",
    "Detector",
    "DETECTOR_PRESETS",
    "get_detector",
    "INVISIBLE_PIDS",
    "LAMBDA_PER_X0",
]

INVISIBLE_PIDS = (12, 14, 16, 1000022, 1000012, 1000014, 1000016, 1000039)
_ECAL_PIDS = (11, 22)
_MUON = 13
# ATLAS particle flow in dense environments (arXiv:2007.02645, Sect. 2, the Run 2 version of arXiv:1703.10485):
# a track is not subtracted when the calorimeter energy within Delta R = 0.15 of it exceeds its momentum by more
# than DENSE_EXCESS_GEV log10(DENSE_PT_GEV / pT) GeV; the calorimeter then measures that hadron.
DENSE_EXCESS_GEV = 33.2
DENSE_PT_GEV = 40.0
LAMBDA_PER_X0 = 0.035  # interaction lengths per radiation length in a high-Z ECAL (Pb 0.032, W 0.035, PbWO4 0.044; PDG)


def _multiple_scattering(b_field: float, lever: np.ndarray, x0: float, eta: np.ndarray) -> np.ndarray:
    x = x0 * np.cosh(eta)  # path length through a barrel of thickness x0: x0 / sin(theta)
    return 0.0136 / (0.3 * b_field * lever) * np.sqrt(x) * (1 + 0.038 * np.log(np.maximum(x, 1e-6)))


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
    silicon_layers: int | None = None  # layers that are silicon (cost); None = all, the rest is gaseous (TPC, straws)

    def resolution_terms(self, eta: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """(a, b) in sigma(pT)/pT = a pT (+) b at pseudorapidity eta."""
        eta = np.abs(np.asarray(eta, dtype=float))
        lever = np.minimum(self.radius, self.half_length / np.maximum(np.sinh(eta), 1e-9))
        a = self.hit_resolution / (0.3 * self.b_field * lever**2) * np.sqrt(720.0 / (self.n_layers + 4))
        return a, _multiple_scattering(self.b_field, lever, self.material_x0, eta)

    def pt_resolution(self, pt: np.ndarray | float, eta: np.ndarray | float = 0.0) -> np.ndarray:
        """Relative resolution sigma(pT)/pT."""
        a, b = self.resolution_terms(eta)
        return np.hypot(a * np.asarray(pt, dtype=float), b)


@dataclass(frozen=True)
class MuonSystemConfig:
    """A standalone muon spectrometer outside the calorimeters (e.g. the ATLAS air-core toroids)."""

    b_field: float = 0.5  # T, average bending field
    lever_arm: float = 5.0  # m, bending length between the first and last station
    sagitta_resolution: float = 50e-6  # m, sagitta error from chamber hits and alignment
    material_x0: float = 4.0  # radiation lengths inside the bending field
    eloss_sigma: float = 0.25  # GeV, fluctuation of the energy lost in the calorimeters in front
    eta_max: float = 2.7
    efficiency: float = 0.97  # standalone reconstruction outside the tracker acceptance

    def pt_resolution(self, pt: np.ndarray | float, eta: np.ndarray | float = 0.0) -> np.ndarray:
        """Standalone relative resolution sigma(pT)/pT."""
        pt = np.asarray(pt, dtype=float)
        eta = np.abs(np.asarray(eta, dtype=float))
        a = 8 * self.sagitta_resolution / (0.3 * self.b_field * self.lever_arm**2)
        b = _multiple_scattering(self.b_field, np.asarray(self.lever_arm), self.material_x0, eta)
        c = self.eloss_sigma / np.maximum(pt * np.cosh(eta), 1e-6)
        return np.sqrt((a * pt) ** 2 + b**2 + c**2)


@dataclass(frozen=True)
class CalorimeterConfig:
    """A sampling or homogeneous calorimeter: sigma(E)/E = S/sqrt(E) (+) N/E (+) C (leakage-corrected)."""

    stochastic: float  # S, in sqrt(GeV)
    noise: float  # N, in GeV
    constant: float  # C
    cell_eta: float  # cell size in eta
    cell_phi: float  # cell size in phi (rad)
    eta_max: float = 3.0
    threshold: float = 0.2  # GeV, deposits below are not read out
    depth: float = 25.0  # radiation (ECAL) or interaction (HCAL) lengths
    shower: str = "em"  # "em" (depth in X0) or "hadronic" (depth in lambda)
    inner_radius: float = 1.5  # m, front face in the barrel (cell size in metres, cost)
    shower_width: float = 0.03  # m, merging distance: Moliere radius (ECAL), ~0.1 m for hadron showers
    unit_length: float = 0.02  # m per X0 (ECAL) or per lambda (HCAL) of the calorimeter medium (cost)
    layers: int = 3  # longitudinal readout layers (channel count)
    technology: str = "sampling"  # "crystal", "sampling", "silicon" or "imaging" (cost per volume and channel)
    reference_depth: float | None = None  # depth at which `constant` was measured; None = no leakage model
    linear_constant: bool = False  # True: sigma/E = (S/sqrt(E) + C) (+) N/E, as some test beams quote it

    def energy_resolution(self, e: np.ndarray | float) -> np.ndarray:
        """Relative resolution sigma(E)/E; the constant term follows the leakage at `depth` (see module doc)."""
        e = np.maximum(np.asarray(e, dtype=float), 1e-6)
        c2 = np.full(e.shape, self.constant**2)
        if self.reference_depth is not None and self.reference_depth != self.depth:
            c2 = np.maximum(c2 + LEAKAGE_WEIGHT**2 * (self.leak(e, self.depth) ** 2
                                                      - self.leak(e, self.reference_depth) ** 2), 0.0)
        if self.linear_constant:
            return np.hypot(self.stochastic / np.sqrt(e) + np.sqrt(c2), self.noise / e)
        return np.sqrt((self.stochastic / np.sqrt(e)) ** 2 + (self.noise / e) ** 2 + c2)

    def leak(self, e: np.ndarray | float, depth: float) -> np.ndarray:
        """Mean leaked fraction behind `depth` (HCAL: about 0.8 lambda of ECAL in front is added)."""
        hadronic = self.shower == "hadronic"
        return leak_fraction(e, depth + (0.8 if hadronic else 0.0), hadronic=hadronic)

    def angular_resolution(self) -> tuple[float, float]:
        """(sigma_eta, sigma_phi) of a single-cell position: cell / sqrt(12)."""
        return self.cell_eta / np.sqrt(12.0), self.cell_phi / np.sqrt(12.0)

    def cluster_size(self) -> tuple[float, float]:
        """(eta, phi) size within which deposits merge: the cell or the shower width, whichever is larger."""
        width = self.shower_width / self.inner_radius
        return max(self.cell_eta, width), max(self.cell_phi, width)


_OPTIONAL = {"muon": MuonSystemConfig, "jet_level": JetLevelConfig}


def _hcal_default() -> CalorimeterConfig:
    return CalorimeterConfig(0.50, 1.0, 0.03, 0.1, 0.1, 4.9, 0.5, 7.4, shower="hadronic", inner_radius=2.3,
                             shower_width=0.1, unit_length=0.25, reference_depth=7.4)


@dataclass(frozen=True)
class DetectorConfig:
    """A full parametric detector; `source` says where the numbers come from."""

    name: str
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    ecal: CalorimeterConfig = field(default_factory=lambda: CalorimeterConfig(0.10, 0.25, 0.007, 0.025, 0.025,
                                                                              reference_depth=25.0))
    hcal: CalorimeterConfig = field(default_factory=_hcal_default)
    muon: MuonSystemConfig | None = None
    smear: bool = True
    shower_merging: bool = True
    neutral_excess_sigma: float = 1.0  # particle flow: calorimeter excess over the tracks kept above this many sigma
    track_pt_max: float | None = None  # GeV; charged hadrons above are measured by the calorimeters (None: all tracked)
    dense_cone: float | None = None  # ATLAS particle flow: no track subtraction in a dense cone of this radius
    photon_confusion: bool = False  # photons sharing an ECAL cluster with a hadron join its hadronic cluster
    magnet_outside_calorimeters: bool = True  # CMS/CEPC-like coil around the HCAL; ATLAS: inside the ECAL
    jet_level: JetLevelConfig | None = None  # in-situ jet effects (jet_level module); None: per particle only
    source: str = ""

    def __post_init__(self):
        if not 0 <= self.neutral_excess_sigma <= 10:
            raise ValueError(f"neutral_excess_sigma = {self.neutral_excess_sigma} must be in [0, 10] (standard "
                             "deviations of the expected calorimeter deposit; CMS 1, ATLAS 1.5)")
        if self.dense_cone is not None and not 0 < self.dense_cone <= 1.0:
            raise ValueError(f"dense_cone = {self.dense_cone} must be in (0, 1] (Delta R; ATLAS 0.15) or None "
                             "(tracks subtracted however dense their surroundings)")

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
            current = getattr(new, head)
            if current is None and head in _OPTIONAL:
                current = _OPTIONAL[head]()
            new = replace(new, **{head: replace(current, **sub)})
        return new

    def to_dict(self) -> dict:
        return asdict(self)


# Published performance these presets reproduce (knowledge/corpus/detectors/*.yaml hold the cards;
# "effective" marks a number tuned to a published resolution rather than read from a drawing):
# ATLAS: ID 2 T, sigma(pT)/pT = 0.05% pT (+) 1.7% (40 effective layers of 74 um: pixels, SCT, TRT; the
#        design goal is 0.05% pT (+) 1%, the 1.7% multiple-scattering term (0.6 X0, the ID holds ~0.5 X0 at
#        eta = 0) reproduces the measured combined muon resolution, 1.7% at 10 GeV and 2.3% at 45 GeV,
#        arXiv:1603.05598);
#        muon spectrometer 0.5 T over 5.2 m with a 47 um sagitta error: 4% at 100 GeV and 10% at
#        1 TeV standalone (design, arXiv:1109.6933); LAr ECAL 10%/sqrt(E) (+) 0.7%, cells 0.025 x 0.0245,
#        R = 1.5 m, 24 X0; hadrons in LAr + Tile (58%/sqrt(E) + 2.5%) (+) 1.7 GeV/E, the pion resolution of
#        the 1996 combined test beam with only the e/h ratios and the electron scale (hep-ex/0004009: what a
#        jet energy scale on e.m.-scale clusters corresponds to; the 50%/sqrt(E) (+) 3% of JINST 3 S08003 is
#        the jet design goal, not a per-hadron number), Tile cells 0.1 x 0.1, R = 2.28 m, 7.4 lambda.
#        ATLAS Collaboration, JINST 3 (2008) S08003. Particle flow with tracks below 40 GeV only, remnants
#        below 1.5 sigma removed (arXiv:1703.10485), no subtraction in dense cores (arXiv:2007.02645).
#        Jet level (2015-2017 in-situ JER, arXiv:2007.02645): e/h = 1.74 +- 0.04 of the LAr e.m. compartment
#        (Kulchitsky et al., hep-ex/0004009, 1996 combined test beam) and 1.362 +- 0.006 of the Tile calorimeter
#        (Budagov et al., JINR-E1-2002-13, 1999 test beam, 10-300 GeV); <mu> = 31.6, the luminosity-weighted
#        mean of 2015 (13.4, 3.2/fb), 2016 (25.1, 33.0/fb) and 2017 (37.8, 44.3/fb) (ATLAS luminosity public
#        results, arXiv:2212.09379); R = 0.4, pile-up tracks removed (particle flow).
# CMS:   3.8 T tracker with effective 32 um hits and 0.44 X0 so that sigma(pT)/pT = 0.015% pT (+) 0.7%
#        (1% at 50 GeV, 7.5% at 500 GeV: the card's cosmic-muon points, 2008 alignment; the muon
#        system is not modelled); PbWO4 ECAL 2.8%/sqrt(E) (+) 12%/E (+) 0.3%, 0.0174 x 0.0174, R = 1.29 m,
#        25.8 X0; HCAL (ECAL+HCAL combined for hadrons) 84.7%/sqrt(E) (+) 7.4%, 0.087 x 0.087, R = 1.77 m,
#        5.8 lambda.  CMS, JINST 3 (2008) S08004; CMS Physics TDR Vol. I (CERN-LHCC-2006-001).
#        Jet level (8 TeV in-situ JER, arXiv:1607.03663): no e.m.-scale layer (particle flow calibrates every
#        hadron cluster; the 84.7% (+) 7.4% test beam is after that correction, EPJC 60 (2009) 359);
#        <mu> = 21 (2012 run, CMS luminosity public results), anti-kT R = 0.5, charged-hadron subtraction.
# CEPC:  3 T, TPC R = 1.8 m, sigma(1/pT) = 2e-5 GeV^-1 (+) 1e-3/(p sin^1.5 theta) (effective 33 um over
#        220 points, 0.02 X0); Si-W ECAL 16%/sqrt(E) (+) 1%, 1 cm cells at R = 1.85 m, 24 X0 in 30 layers;
#        SDHCAL 60%/sqrt(E) (+) 1.5%, 1 cm pads at R = 2.06 m, 6 lambda in 40 layers (deposits closer than
#        a hadron shower, 0.1 m, still merge: the model has no topological shower separation).
#        CEPC CDR, arXiv:1811.10545.
DETECTOR_PRESETS: dict[str, DetectorConfig] = {
    "none": DetectorConfig(name="none", smear=False, source="generator-level particles, no response"),
    "generic": DetectorConfig(name="generic", source="generic LHC-like detector"),
    "atlas": DetectorConfig(
        name="atlas",
        tracker=TrackerConfig(b_field=2.0, radius=1.0, half_length=2.7, n_layers=40, hit_resolution=74e-6,
                              material_x0=0.6, eta_max=2.5, efficiency=0.95, pt_min=0.5, silicon_layers=12),
        muon=MuonSystemConfig(b_field=0.5, lever_arm=5.2, sagitta_resolution=47e-6, material_x0=4.5,
                              eloss_sigma=0.25, eta_max=2.7, efficiency=0.97),
        ecal=CalorimeterConfig(0.10, 0.17, 0.007, 0.025, 0.0245, 3.2, 0.2, 24, inner_radius=1.5, shower_width=0.04,
                               unit_length=0.021, layers=3, technology="sampling", reference_depth=24),
        hcal=CalorimeterConfig(0.58, 1.7, 0.025, 0.1, 0.1, 4.9, 0.5, 7.4, shower="hadronic", inner_radius=2.28,
                               shower_width=0.1, unit_length=0.266, layers=3, reference_depth=7.4,
                               linear_constant=True),
        magnet_outside_calorimeters=False,
        track_pt_max=40.0,
        dense_cone=0.15,
        neutral_excess_sigma=1.5,
        photon_confusion=True,
        jet_level=JetLevelConfig(e_over_h_ecal=1.74, e_over_h_hcal=1.362, pileup_mu=31.6,
                                 pileup_noise=PILEUP_NOISE_CHS[(13000.0, 0.4)], jet_radius=0.4,
                                 source="hep-ex/0004009, JINR-E1-2002-13, arXiv:2212.09379; Pythia 8 Monash pile-up"),
        source="ATLAS, JINST 3 (2008) S08003; particle flow arXiv:1703.10485",
    ),
    "cms": DetectorConfig(
        name="cms",
        tracker=TrackerConfig(b_field=3.8, radius=1.1, half_length=2.8, n_layers=13, hit_resolution=32e-6,
                              material_x0=0.44, eta_max=2.5, efficiency=0.95, pt_min=0.5),
        ecal=CalorimeterConfig(0.028, 0.12, 0.003, 0.0174, 0.0174, 3.0, 0.2, 25.8, inner_radius=1.29,
                               shower_width=0.022, unit_length=0.0089, layers=1, technology="crystal",
                               reference_depth=25.8),
        hcal=CalorimeterConfig(0.847, 1.0, 0.074, 0.087, 0.087, 5.0, 0.5, 5.8, shower="hadronic", inner_radius=1.77,
                               shower_width=0.1, unit_length=0.203, layers=1, reference_depth=5.8),
        photon_confusion=True,
        jet_level=JetLevelConfig(pileup_mu=21.0, pileup_noise=PILEUP_NOISE_CHS[(8000.0, 0.5)], jet_radius=0.5,
                                 source="CMS 2012 luminosity; Pythia 8 Monash pile-up"),
        source="CMS, JINST 3 (2008) S08004",
    ),
    "cepc": DetectorConfig(
        name="cepc",
        tracker=TrackerConfig(b_field=3.0, radius=1.8, half_length=2.35, n_layers=220, hit_resolution=33e-6,
                              material_x0=0.02, eta_max=2.3, efficiency=0.99, pt_min=0.2, silicon_layers=10),
        ecal=CalorimeterConfig(0.16, 0.0, 0.01, 0.0054, 0.0054, 2.65, 0.1, 24, inner_radius=1.85, shower_width=0.015,
                               unit_length=0.0083, layers=30, technology="silicon", reference_depth=24),
        hcal=CalorimeterConfig(0.60, 0.0, 0.015, 0.0049, 0.0049, 2.65, 0.3, 6, shower="hadronic", inner_radius=2.06,
                               shower_width=0.1, unit_length=0.17, layers=40, technology="imaging",
                               reference_depth=6),
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


class Detector:
    """Applies a DetectorConfig to generator-level particles (awkward arrays, one list per event)."""

    def __init__(self, config: DetectorConfig):
        self.config = config

    @property
    def name(self) -> str:
        return self.config.name

    def apply(self, particles: ak.Array, *, rng: np.random.Generator, em_scale: bool = False) -> ak.Array:
        """Reconstructed particles: records px, py, pz, e, pid, charge per event (same layout as input).

        particles: (events, var) records with px, py, pz, e (GeV), pid, charge.
        em_scale: hadron showers at the e.m. scale of a non-compensating `jet_level` (uncalibrated: the
        jet energy scale of `JetLevelConfig.in_situ` restores the mean); ignored without one.
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
        kin = {"pt": physics.pt(flat["px"], flat["py"]), "eta": physics.eta(flat["px"], flat["py"], flat["pz"]),
               "phi": physics.phi(flat["px"], flat["py"]), "m": physics.mass(flat["e"], flat["px"], flat["py"], flat["pz"]),
               "e": flat["e"], "q": flat["charge"], "ev": ev, "pid": pid}
        pt, eta = kin["pt"], kin["eta"]
        charged = (flat["charge"] != 0) & visible
        tracked = charged & (np.abs(eta) < cfg.tracker.eta_max) & (pt > cfg.tracker.pt_min)
        tracked &= rng.random(len(pt)) < cfg.tracker.efficiency
        if cfg.track_pt_max is not None:
            tracked &= ~((pt > cfg.track_pt_max) & (apid != 11) & (apid != _MUON))
        if cfg.dense_cone is not None:  # calorimeter energy around the track far above its momentum (module doc)
            had = tracked & (apid != 11) & (apid != _MUON)
            cone_e = neighbourhood_sum(ev, eta, kin["phi"], np.where(visible & (apid != _MUON), flat["e"], 0.0),
                                       cfg.dense_cone)
            excess = cone_e[had] - flat["e"][had]
            tracked[np.flatnonzero(had)[excess > DENSE_EXCESS_GEV * np.log10(DENSE_PT_GEV / pt[had])]] = False
        out: list[dict[str, np.ndarray]] = []  # blocks of reconstructed objects

        # tracks: pT smeared, direction kept (tracking angles are far better than calorimeter cells)
        sel = tracked & (apid != 11)
        rel = cfg.tracker.pt_resolution(pt[sel], eta[sel])
        if cfg.muon is not None:  # muons inside the spectrometer: combine the inner track with it
            mu = (apid[sel] == _MUON) & (np.abs(eta[sel]) < cfg.muon.eta_max)
            rm = cfg.muon.pt_resolution(pt[sel][mu], eta[sel][mu])
            rel[mu] = 1 / np.sqrt(1 / rel[mu] ** 2 + 1 / rm**2)
        track_pt = pt[sel] * np.maximum(1 + rel * rng.standard_normal(sel.sum()), 1e-3)
        out.append(_block(kin, sel, track_pt))

        if cfg.muon is not None:  # standalone muons beyond the tracker acceptance
            alone = (charged & (apid == _MUON) & (np.abs(eta) >= cfg.tracker.eta_max) & (np.abs(eta) < cfg.muon.eta_max)
                     & (rng.random(len(pt)) < cfg.muon.efficiency))
            rel = cfg.muon.pt_resolution(pt[alone], eta[alone])
            out.append(_block(kin, alone, pt[alone] * np.maximum(1 + rel * rng.standard_normal(alone.sum()), 1e-3)))

        # electrons: track and ECAL combined with inverse-variance weights
        sel = tracked & (apid == 11) & (np.abs(eta) < cfg.ecal.eta_max)
        rt = cfg.tracker.pt_resolution(pt[sel], eta[sel])
        rc = cfg.ecal.energy_resolution(flat["e"][sel])
        rel = 1 / np.sqrt(1 / rt**2 + 1 / rc**2)
        out.append(_block(kin, sel, pt[sel] * np.maximum(1 + rel * rng.standard_normal(sel.sum()), 1e-3)))

        # calorimeter deposits: untracked visible particles except muons (minimum ionising)
        calo = visible & ~tracked & (apid != _MUON)
        is_em = np.isin(apid, _ECAL_PIDS)
        to_ecal = calo & is_em & (np.abs(eta) < cfg.ecal.eta_max)
        confused = np.zeros(len(pt), dtype=bool)
        if cfg.photon_confusion:  # photons inside a hadron's ECAL cluster go with the hadron (module doc)
            hadron = visible & ~is_em & (apid != _MUON) & (np.abs(eta) < cfg.ecal.eta_max)
            photon = to_ecal & (apid == 22)
            cand = photon | hadron
            confused[cand] = shares_cell(ev[cand], eta[cand], kin["phi"][cand], hadron[cand], *cfg.ecal.cluster_size())
            confused &= photon
            to_ecal &= ~confused
        out.append(self._clusters(kin, to_ecal, cfg.ecal, rng, label=22))
        in_hcal = np.abs(eta) < cfg.hcal.eta_max
        to_hcal = (calo & ~is_em & in_hcal) | confused
        # charged hadrons leave their shower in the HCAL too; particle flow subtracts the track momentum
        shadow = tracked & (apid != 11) & (apid != _MUON) & in_hcal if cfg.shower_merging else np.zeros_like(tracked)
        track_e = np.zeros(len(pt))
        track_e[tracked & (apid != 11)] = track_pt * np.cosh(eta[tracked & (apid != 11)])
        deposits = kin
        if em_scale and cfg.jet_level is not None and cfg.jet_level.non_compensating:
            depth = cfg.ecal.depth * LAMBDA_PER_X0  # the hadron deposits and the tracks' expected ones, e.m. scale
            had = (to_hcal & ~confused) | shadow
            deposits = {**kin, "e": kin["e"].copy()}
            deposits["e"][had] *= cfg.jet_level.pion_response(kin["e"][had], depth)
            track_e[shadow] *= cfg.jet_level.pion_response(track_e[shadow], depth)
        out.append(self._clusters(deposits, to_hcal | shadow, cfg.hcal, rng, label=130,
                                  track_e=np.where(shadow, track_e, 0.0), excess_sigma=cfg.neutral_excess_sigma))

        allc = {k: np.concatenate([b[k] for b in out]) for k in out[0]}
        e_all, px, py, pz = physics.p4_from_pt_eta_phi_m(allc["pt"], allc["eta"], allc["phi"], allc["m"])
        order = np.argsort(allc["ev"], kind="stable")
        cols = {"px": px[order], "py": py[order], "pz": pz[order], "e": e_all[order], "charge": allc["q"][order]}
        return _unflatten(n_events, allc["ev"][order], cols, allc["pid"][order])

    @staticmethod
    def _clusters(kin: dict[str, np.ndarray], sel: np.ndarray, cal: CalorimeterConfig, rng: np.random.Generator,
                  *, label: int, track_e: np.ndarray | None = None, excess_sigma: float = 1.0) -> dict[str, np.ndarray]:
        """Neutral clusters of one calorimeter from the deposits `sel` (tracked deposits: track_e > 0)."""
        if not sel.any():
            return _block(kin, sel, np.zeros(0))
        size_eta, size_phi = cal.cluster_size()
        tr = track_e[sel] if track_e is not None else np.zeros(int(sel.sum()))
        cev, ceta, cphi, _, sums = merge_cells(kin["ev"][sel], kin["eta"][sel], kin["phi"][sel],
                                               {"e": kin["e"][sel], "track": tr}, size_eta, size_phi)
        ce = sums["e"] * (1 + cal.energy_resolution(sums["e"]) * rng.standard_normal(len(cev)))
        has_track = sums["track"] > 0
        # particle flow: keep the excess over the tracks when it exceeds the expected calorimeter spread
        expected = excess_sigma * sums["track"] * cal.energy_resolution(np.maximum(sums["track"], 1e-6))
        ce = np.where(has_track, np.where(ce - sums["track"] > expected, ce - sums["track"], 0.0), ce)
        seta, sphi = cal.angular_resolution()
        ceta = ceta + seta * rng.standard_normal(len(ce))
        cphi = physics.delta_phi(cphi + sphi * rng.standard_normal(len(ce)), 0.0)
        keep = ce > cal.threshold
        n = int(keep.sum())
        return {"ev": cev[keep].astype(np.int64), "pt": ce[keep] / np.cosh(ceta[keep]), "eta": ceta[keep],
                "phi": cphi[keep], "m": np.zeros(n), "pid": np.full(n, label, dtype=np.int64), "q": np.zeros(n)}


def _block(kin: dict[str, np.ndarray], sel: np.ndarray, pt: np.ndarray) -> dict[str, np.ndarray]:
    """Reconstructed objects for the particles `sel` with new transverse momenta `pt`, other kinematics kept."""
    return {"ev": kin["ev"][sel].astype(np.int64), "pt": np.asarray(pt, dtype=float), "eta": kin["eta"][sel],
            "phi": kin["phi"][sel], "m": kin["m"][sel], "pid": kin["pid"][sel].astype(np.int64), "q": kin["q"][sel]}


def _unflatten(n_events: int, ev: np.ndarray, cols: dict[str, np.ndarray], pid: np.ndarray) -> ak.Array:
    counts = np.bincount(ev, minlength=n_events)
    rec = ak.zip({**{k: cols[k] for k in ("px", "py", "pz", "e")}, "pid": pid, "charge": cols["charge"]})
    return ak.unflatten(rec, counts)
