"""Shared relativistic kinematics on numpy arrays (GeV units): the one place models take them from.

Conventions (massless limits noted where used):
    pt   = sqrt(px^2 + py^2)
    eta  = asinh(pz / pt)                       (pseudorapidity)
    y    = 0.5 ln((E + pz) / (E - pz))          (rapidity)
    phi  = atan2(py, px) in (-pi, pi]
    m^2  = E^2 - |p|^2                          (clipped at 0 for the mass)
    dR   = sqrt(d_eta^2 + d_phi^2), d_phi wrapped into (-pi, pi]
All functions are built from numpy ufuncs, so they broadcast over numpy arrays, jagged awkward
arrays and python floats alike.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "pt",
    "eta",
    "rapidity",
    "phi",
    "mass",
    "mass2",
    "delta_phi",
    "delta_r",
    "p4_from_pt_eta_phi_m",
    "p4_from_pt_eta_phi_e",
    "energy_from_p_m",
    "boost_to_rest_frame",
    "cos_theta",
]

_TINY = 1e-12


def pt(px, py):
    """Transverse momentum sqrt(px^2 + py^2)."""
    return np.hypot(px, py)


def eta(px, py, pz):
    """Pseudorapidity asinh(pz / pt); +-inf along the beam is avoided by a tiny pt floor."""
    return np.arcsinh(pz / np.maximum(pt(px, py), _TINY))


def rapidity(e, pz):
    """Rapidity 0.5 ln((E + pz) / (E - pz))."""
    return 0.5 * np.log(np.maximum(e + pz, _TINY) / np.maximum(e - pz, _TINY))


def phi(px, py):
    """Azimuth atan2(py, px) in (-pi, pi]."""
    return np.arctan2(py, px)


def mass2(e, px, py, pz):
    """Invariant mass squared E^2 - |p|^2 (may be slightly negative from rounding)."""
    return e**2 - px**2 - py**2 - pz**2


def mass(e, px, py, pz):
    """Invariant mass sqrt(max(m^2, 0))."""
    return np.sqrt(np.maximum(mass2(e, px, py, pz), 0.0))


def delta_phi(phi1, phi2):
    """phi1 - phi2 wrapped into (-pi, pi]."""
    return (phi1 - phi2 + np.pi) % (2 * np.pi) - np.pi


def delta_r(eta1, phi1, eta2, phi2):
    """Angular distance sqrt(d_eta^2 + d_phi^2)."""
    return np.hypot(eta1 - eta2, delta_phi(phi1, phi2))


def energy_from_p_m(px, py, pz, m):
    """E = sqrt(|p|^2 + m^2)."""
    return np.sqrt(px**2 + py**2 + pz**2 + m**2)


def p4_from_pt_eta_phi_m(pt_, eta_, phi_, m):
    """(E, px, py, pz) from (pt, eta, phi, m)."""
    px = pt_ * np.cos(phi_)
    py = pt_ * np.sin(phi_)
    pz = pt_ * np.sinh(eta_)
    return energy_from_p_m(px, py, pz, m), px, py, pz


def p4_from_pt_eta_phi_e(pt_, eta_, phi_, e):
    """(E, px, py, pz) from (pt, eta, phi, E)."""
    return e, pt_ * np.cos(phi_), pt_ * np.sin(phi_), pt_ * np.sinh(eta_)


def boost_to_rest_frame(e, px, py, pz, ref_e, ref_px, ref_py, ref_pz):
    """Boost four-vectors (e, p) into the rest frame of the reference four-vector.

    With beta = p_ref / E_ref, gamma = E_ref / m_ref:
        E'  = gamma (E - beta.p)
        p'  = p + ((gamma - 1) (beta.p) / beta^2 - gamma E) beta
    """
    ref_m = np.maximum(mass(ref_e, ref_px, ref_py, ref_pz), _TINY)
    bx, by, bz = ref_px / ref_e, ref_py / ref_e, ref_pz / ref_e
    b2 = np.maximum(bx * bx + by * by + bz * bz, _TINY)
    gamma = ref_e / ref_m
    bp = bx * px + by * py + bz * pz
    coef = (gamma - 1.0) * bp / b2 - gamma * e
    return gamma * (e - bp), px + coef * bx, py + coef * by, pz + coef * bz


def cos_theta(px, py, pz):
    """cos of the polar angle, pz / |p|."""
    return pz / np.maximum(np.sqrt(px**2 + py**2 + pz**2), _TINY)
