"""Jet-level response of a hadron-collider detector: non-compensation with a jet energy scale, and pile-up noise.

The per-particle detector (`detector.py`) calibrates every hadron shower on its own, as a pion test
beam quotes it, and sees one collision at a time. Jets measured in situ at the LHC carry two effects
that no single-hadron number contains (opt-in: `DetectorConfig.jet_level`, used by
`hepilot.models.design.resolution.jet_response`, where a jet is compared with its truth):

Non-compensation with a jet energy scale (calorimeter jets at the electromagnetic scale, ATLAS EM+JES
and particle-flow jets, arXiv:2007.02645). A hadron of energy E deposits the e.m. fraction (Groom;
PDG Review "Calorimetry"; Gabriel et al., NIM A 338 (1994) 336)
    f_em(E) = 1 - (E / E0)^(m - 1)          (E > E0; 0 below),  E0 = 1 GeV, m = 0.83 for pions
and is seen by a compartment of non-compensation e/h at the mean fraction
    pi/e = f_em + (1 - f_em) / (e/h)
of its energy. The shower shares itself between ECAL and HCAL along the Gamma profile of
`_calorimetry` (w = 1 - f_leak(E, ECAL depth in lambda) in the ECAL), so
    r(E) = w pi/e(ECAL) + (1 - w) pi/e(HCAL).
Photons and electrons respond at 1; tracked particles are not calorimeter measurements (particle flow
subtracts the tracks' expected deposits at the same scale). A jet energy scale calibration (every
in-situ jet gets one, also without non-compensation) divides by the mean response: R(pT) =
<pT_EM / pT_true> is fitted as a + b ln pT_true over the jets (numerical inversion, as an MC-based JES is
derived; a constant for jets within a factor 2 in pT) and pT = pT_EM / R(pT) is solved by iteration.
What this adds beyond the single-hadron terms: a jet-wide
calibration cannot follow how a jet's energy is split between photons (response 1) and hadrons
(response r(E) < 1, rising with E), so jet-to-jet fluctuations of that split and of the hadron spectrum
(fragmentation) become resolution. The single-hadron stochastic terms are left as they are: they
already hold each shower's own e.m.-fraction fluctuation around its mean (pion test beams), which
is why no per-shower f_em fluctuation is drawn here.

Pile-up (after the area-median offset subtraction rho x A, which removes the mean): the residual
transverse momentum in the jet area A = pi R^2 of mu independent interactions adds in quadrature
    sigma_PU = sigma_1 sqrt(mu A)
with sigma_1 the per-interaction spread per unit area (GeV). Detector particle flow with charged-hadron
subtraction removes pile-up tracks (charged, pT > 0.5 GeV, |eta| < 2.5); what is left is neutral.
The underlying event of the hard collision itself is in the generated jets already.

Everything is in GeV.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepilot.models.events._calorimetry import leak_fraction

__all__ = ["JetLevelConfig", "calibrate", "GROOM_E0", "GROOM_M", "PILEUP_NOISE_CHS"]

GROOM_E0 = 1.0  # GeV; PDG Review "Calorimetry" (Groom), after Gabriel et al., NIM A 338 (1994) 336
GROOM_M = 0.83  # same sources, pion-induced showers
# sigma_1 with charged-hadron subtraction (GeV per sqrt(interaction x unit eta-phi area)), keyed by
# (sqrt(s) in GeV, jet R): the RMS of the neutral + soft charged pT in random cones (|eta| < 1.3) of one
# inelastic Pythia 8.3 event (Monash 2013 tune, arXiv:1404.5630, fitted to LHC minimum-bias data),
# 5000 events each; the Gaussian core of a sum of mu = 20-30 interactions is 0-8% narrower than
# sqrt(mu) x RMS. Without subtraction the numbers are 1.8x larger (13 TeV R = 0.4: 1.65).
PILEUP_NOISE_CHS = {(13000.0, 0.4): 0.92, (8000.0, 0.5): 0.79}


@dataclass(frozen=True)
class JetLevelConfig:
    """In-situ conditions of a hadron-collider jet measurement; `source` says where the numbers come from."""

    e_over_h_ecal: float | None = None  # non-compensation of the ECAL compartment; None: hadrons calibrated one by one
    e_over_h_hcal: float | None = None  # same for the HCAL compartment; set both or neither
    em_fraction_e0: float = GROOM_E0  # GeV
    em_fraction_m: float = GROOM_M
    pileup_mu: float = 0.0  # mean number of pp interactions per bunch crossing of the data-taking period
    pileup_noise: float = 0.0  # sigma_1, GeV per sqrt(interaction x unit area) after offset subtraction
    jet_radius: float = 0.4  # anti-kT R of the published jets (pile-up area pi R^2)
    source: str = ""

    def __post_init__(self):
        pair = (self.e_over_h_ecal, self.e_over_h_hcal)
        if (pair[0] is None) != (pair[1] is None):
            raise ValueError("jet_level: set both e_over_h_ecal and e_over_h_hcal (a non-compensating calorimeter "
                             "system), or neither (hadrons calibrated one by one, e.g. CMS particle flow)")
        for name, value in zip(("e_over_h_ecal", "e_over_h_hcal"), pair):
            if value is not None and not 0.5 <= value <= 3.0:
                raise ValueError(f"jet_level.{name} = {value} is outside 0.5-3 (e/h of sampling calorimeters is "
                                 "1.0-1.8, of PbWO4 crystals ~2.4); give the published e/h of the compartment")
        if self.em_fraction_e0 <= 0 or not 0 < self.em_fraction_m < 1:
            raise ValueError(f"jet_level: Groom's em_fraction_e0 must be > 0 GeV and em_fraction_m inside (0, 1), "
                             f"got {self.em_fraction_e0} and {self.em_fraction_m}; pions: 1 GeV and 0.83")
        if self.pileup_mu < 0 or self.pileup_noise < 0:
            raise ValueError(f"jet_level.pileup_mu and pileup_noise must be >= 0, got {self.pileup_mu} and "
                             f"{self.pileup_noise}; use 0 for no pile-up")
        if self.pileup_mu > 0 and self.pileup_noise == 0:
            raise ValueError("jet_level.pileup_mu > 0 needs pileup_noise (sigma_1 in GeV, e.g. "
                             f"{PILEUP_NOISE_CHS[(13000.0, 0.4)]} for 13 TeV, R = 0.4, "
                             "with charged-hadron subtraction)")
        if not 0 < self.jet_radius <= 1.5:
            raise ValueError(f"jet_level.jet_radius must be in (0, 1.5], got {self.jet_radius}")

    @property
    def non_compensating(self) -> bool:
        """Whether hadron showers are measured at the e.m. scale (then a jet energy scale restores the mean)."""
        return self.e_over_h_hcal is not None

    def pion_response(self, e: np.ndarray, ecal_depth_lambda: float) -> np.ndarray:
        """Mean e.m.-scale response r(E) of hadron showers of energy e (GeV) starting in the ECAL (module doc)."""
        e = np.asarray(e, dtype=float)
        if not self.non_compensating:
            return np.ones_like(e)
        f_em = 1.0 - np.maximum(e / self.em_fraction_e0, 1.0) ** (self.em_fraction_m - 1.0)
        in_ecal = 1.0 - leak_fraction(e, ecal_depth_lambda, hadronic=True)
        pi_e = lambda e_over_h: f_em + (1.0 - f_em) / e_over_h  # noqa: E731
        return in_ecal * pi_e(self.e_over_h_ecal) + (1.0 - in_ecal) * pi_e(self.e_over_h_hcal)

    def pileup_sigma(self) -> float:
        """sigma_PU = sigma_1 sqrt(mu pi R^2) in GeV."""
        return self.pileup_noise * float(np.sqrt(self.pileup_mu * np.pi * self.jet_radius**2))

    def in_situ(self, pt_em: np.ndarray, pt_true: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
        """Jet pT after the jet energy scale calibration and the pile-up residual (pt_em: uncalibrated, GeV)."""
        pt = calibrate(np.asarray(pt_em, dtype=float), np.asarray(pt_true, dtype=float))
        if self.pileup_mu > 0:
            pt = pt + self.pileup_sigma() * rng.standard_normal(len(pt))
        return pt


def calibrate(pt_em: np.ndarray, pt_true: np.ndarray, *, iterations: int = 5) -> np.ndarray:
    """pT_EM / R(pT) with R = a + b ln pT fitted to the responses pT_EM / pT_true (3-sigma clipped).

    Jets spanning less than a factor 2 in pT get a constant R (their mean response): inside a narrow bin
    the fitted slope is noise, and inverting it would rescale the jet-to-jet spread by 1 / (1 + b / R).
    """
    x, resp = np.log(np.maximum(pt_true, 1e-3)), pt_em / np.maximum(pt_true, 1e-3)
    keep = np.isfinite(resp)
    for _ in range(3):
        if np.ptp(x[keep]) > np.log(2.0):
            b, a = np.polyfit(x[keep], resp[keep], 1)
        else:
            b, a = 0.0, float(np.mean(resp[keep]))
        resid = resp - (a + b * x)
        keep = np.abs(resid) < 3 * np.std(resid[keep]) + 1e-12
    pt = pt_em / max(a + b * float(np.mean(x)), 1e-3)
    for _ in range(iterations):
        pt = pt_em / np.maximum(a + b * np.log(np.maximum(pt, 1e-3)), 1e-3)
    return pt
