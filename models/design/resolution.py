"""Resolutions of a configured detector measured by simulation: photon energy, muon pT, jet energy, masses.

Every number here comes from pushing generated particles through `Detector.apply` and measuring
the spread of the reconstructed quantity, never from reading the configured formula back:
    photons  single photons of energy E, |eta| < eta_max: sigma(E)/E of the leading ECAL cluster
    muons    single muons of transverse momentum pT, |eta| < eta_max: sigma(pT)/pT
    jets     the constituents of generator-level jets (Pythia + FastJet) go through the detector one
             jet at a time; response r = pT_reco / pT_truth (or E for e+e- jets); JER = sigma(r) / <r>;
             a detector with a `jet_level` adds its in-situ effects (e.m. scale + jet energy scale,
             pile-up in the jet area: `hepilot.models.events.jet_level`)
    boson mass  the CEPC boson mass resolution (BMR): e+e- -> ZH, Z -> nu nubar, H -> g g without ISR; the
             mass of all reconstructed visible particles, over events whose Higgs decay lost < 1 GeV of mass
             to neutrinos (truth visible mass) and whose two Durham jets are central (|cos theta| < 0.85):
             the definition of the CEPC software's BMR benchmark (events with ISR photons, with neutrinos
             from the Higgs, or with jets into the endcaps are not used); BMR = sigma / mean
The spread is the Gaussian core: the RMS inside +-2 sigma, iterated to convergence and divided by
0.8796 (the RMS of a unit Gaussian truncated at +-2), the usual core fit without binning.
"""
from __future__ import annotations

import awkward as ak
import numpy as np

from hepilot.models import physics
from hepilot.models.events.detector import Detector

__all__ = ["core_width", "single_particles", "photon_energy_resolution", "muon_pt_resolution", "jet_response",
           "boson_mass_resolution", "TRUNCATED_RMS_2SIGMA"]

TRUNCATED_RMS_2SIGMA = 0.8796  # RMS of a standard normal restricted to |x| < 2


def core_width(values: np.ndarray, *, n_sigma: float = 2.0, iterations: int = 10) -> tuple[float, float]:
    """(mean, sigma) of the Gaussian core of `values` (iterated +-2 sigma truncated RMS, corrected)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 10:
        raise ValueError(f"need at least 10 values for a core width, got {len(x)}")
    q16, mean, q84 = np.percentile(x, [16, 50, 84])
    sigma = max(0.5 * (q84 - q16), 1e-12)
    for _ in range(iterations):
        core = x[np.abs(x - mean) < n_sigma * sigma]
        if len(core) < 5:
            break
        new_mean, new_sigma = float(core.mean()), float(core.std()) / TRUNCATED_RMS_2SIGMA
        if abs(new_sigma - sigma) < 1e-4 * sigma and abs(new_mean - mean) < 1e-4 * sigma:
            mean, sigma = new_mean, new_sigma
            break
        mean, sigma = new_mean, max(new_sigma, 1e-12)
    return float(mean), float(sigma)


def single_particles(pid: int, *, n: int, rng: np.random.Generator, energy: float | None = None,
                     pt: float | None = None, eta_max: float = 0.8, mass: float = 0.0, charge: float = 0.0) -> ak.Array:
    """n one-particle events at fixed energy or fixed pT, uniform in |eta| < eta_max and in phi."""
    eta = rng.uniform(-eta_max, eta_max, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    if pt is None:
        if energy is None or energy <= mass:
            raise ValueError("give a particle energy above its mass, or a pT")
        pt_arr = np.sqrt(energy**2 - mass**2) / np.cosh(eta)
    else:
        pt_arr = np.full(n, float(pt))
    e, px, py, pz = physics.p4_from_pt_eta_phi_m(pt_arr, eta, phi, mass)
    rec = ak.zip({"px": px, "py": py, "pz": pz, "e": e, "pid": np.full(n, pid), "charge": np.full(n, charge)})
    return ak.unflatten(rec, np.ones(n, dtype=np.int64))


def _leading(reco: ak.Array, mask: ak.Array, field: str) -> np.ndarray:
    """Per event the largest `field` among the objects passing `mask` (NaN when none)."""
    vals = reco[field] if field != "pt" else physics.pt(reco.px, reco.py)
    return ak.to_numpy(ak.fill_none(ak.max(vals[mask], axis=1), np.nan)).astype(float)


def photon_energy_resolution(detector: Detector, energy: float, *, n: int = 20000, eta_max: float = 0.8,
                             rng: np.random.Generator) -> float:
    """sigma(E)/E of single photons of `energy` GeV (leading reconstructed photon per event)."""
    reco = detector.apply(single_particles(22, n=n, rng=rng, energy=energy, eta_max=eta_max), rng=rng)
    e = _leading(reco, reco.pid == 22, "e")
    mean, sigma = core_width(e / energy)
    return sigma / mean


def muon_pt_resolution(detector: Detector, pt: float, *, n: int = 20000, eta_max: float = 1.0,
                       rng: np.random.Generator) -> float:
    """sigma(pT)/pT of single muons of transverse momentum `pt` GeV."""
    parts = single_particles(13, n=n, rng=rng, pt=pt, eta_max=eta_max, mass=0.10566, charge=-1.0)
    reco = detector.apply(parts, rng=rng)
    got = _leading(reco, abs(reco.pid) == 13, "pt")
    mean, sigma = core_width(got / pt)
    return sigma / mean


def jet_response(detector: Detector, constituents: ak.Array, truth: np.ndarray, *, rng: np.random.Generator,
                 use_energy: bool = False) -> tuple[float, float]:
    """(mean response, JER) of jets whose generator-level constituents are (jets, var) records.

    truth: the generator-level jet pT (or energy with use_energy) for every jet.
    """
    level = detector.config.jet_level
    reco = detector.apply(constituents, rng=rng, em_scale=level is not None)
    if use_energy:
        got = ak.to_numpy(ak.sum(reco.e, axis=1)).astype(float)
    else:
        got = physics.pt(ak.to_numpy(ak.sum(reco.px, axis=1)), ak.to_numpy(ak.sum(reco.py, axis=1)))
    truth = np.asarray(truth, dtype=float)
    if level is not None:
        got = level.in_situ(got, truth, rng=rng)
    mean, sigma = core_width(got / truth)
    return mean, sigma / mean


def boson_mass_resolution(detector: Detector, particles: ak.Array, *, rng: np.random.Generator,
                          m_boson: float = 125.0, invisible_max: float = 1.0,
                          cos_max: float = 0.85) -> tuple[float, float, int]:
    """(mean reconstructed mass, BMR = sigma / mean, events used) of nu nubar H, H -> g g events (no ISR).

    Events are kept when the truth visible mass is within `invisible_max` GeV of `m_boson` (no neutrino
    of a heavy-flavour decay took part of the Higgs) and both truth Durham jets have |cos theta| < cos_max."""
    from hepilot.models.design.observables import visible_mass

    truth = visible_mass(particles, with_jets=True)
    keep = ((truth["m_vis"] > m_boson - invisible_max) & (truth["abs_cos_j1"] < cos_max)
            & (truth["abs_cos_j2"] < cos_max))
    if keep.sum() < 50:
        raise ValueError(f"only {int(keep.sum())} events pass the BMR selection; give more nu nubar H -> g g events")
    reco = detector.apply(particles[keep], rng=rng)
    mean, sigma = core_width(visible_mass(reco)["m_vis"])
    return mean, sigma / mean, int(keep.sum())
