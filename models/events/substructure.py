"""Jet substructure observables computed from stored constituents, vectorised over jets.

With constituent transverse momenta pt_i, pT fractions z_i = pt_i / sum_j pt_j, and angular
distances dR_ij in (eta, phi):
    tau_N   = sum_i pt_i min_k dR(i, a_k) / (sum_i pt_i R)     N-subjettiness (beta = 1), axes a_k =
                                                               exclusive kT subjets (arXiv:1011.2268)
    tau21 = tau_2 / tau_1,  tau32 = tau_3 / tau_2
    e2 = sum_{i<j} z_i z_j dR_ij,  e3 = sum_{i<j<k} z_i z_j z_k dR_ij dR_ik dR_jk   (beta = 1)
    C2 = e3 / e2^2,  D2 = e3 / e2^3                            energy-correlation ratios (arXiv:1305.0007,
                                                               arXiv:1409.6298), e3 = tr(A^3)/6 with
                                                               A_ij = sqrt(z_i) dR_ij sqrt(z_j)
    pT_D  = sqrt(sum pt_i^2) / sum pt_i,   girth = sum_i pt_i dR(i, jet) / pT_jet
"""
from __future__ import annotations

import warnings

import awkward as ak
import numpy as np

from hepilot.models import physics
from hepilot.models.events._fastjet import jet_definition
from hepilot.models.events.samples import JetSample

__all__ = ["FEATURES", "jet_substructure", "nsubjettiness", "energy_correlations"]

FEATURES = ("jet_pt", "jet_eta", "jet_mass", "n_constituents", "n_charged", "tau1", "tau2", "tau3", "tau21", "tau32",
            "c2", "d2", "ptd", "girth")
_TINY = 1e-12


def _padded(arr: ak.Array, n: int) -> np.ndarray:
    return ak.to_numpy(ak.fill_none(ak.pad_none(arr, n, clip=True), 0.0)).astype(np.float64)


def nsubjettiness(particles: ak.Array, *, jet_r: float, n_max: int = 3) -> np.ndarray:
    """tau_1..tau_n_max per jet, shape (n_jets, n_max), with exclusive-kT axes (beta = 1)."""
    import fastjet

    n_const = ak.to_numpy(ak.num(particles.px))
    width = max(int(n_const.max()) if len(n_const) else 1, 1)
    pt = _padded(physics.pt(particles.px, particles.py), width)
    eta = _padded(physics.eta(particles.px, particles.py, particles.pz), width)
    phi = _padded(physics.phi(particles.px, particles.py), width)
    d0 = np.maximum(pt.sum(axis=1) * jet_r, _TINY)
    kt = jet_definition("kt", jet_r)
    taus = np.zeros((len(n_const), n_max))  # tau_N = 0 when a jet has no more than N constituents
    for k in range(1, n_max + 1):
        ok = n_const > k
        if not ok.any():
            continue
        sub = particles[ok]
        vecs = ak.zip({"px": sub.px, "py": sub.py, "pz": sub.pz, "E": sub.e}, with_name="Momentum4D")
        with warnings.catch_warnings():  # fastjet warns about exclusive jets generically, even for kT
            warnings.simplefilter("ignore", UserWarning)
            axes = fastjet.ClusterSequence(vecs, kt).exclusive_jets(n_jets=k)
        ax_px, ax_py, ax_pz = (ak.to_numpy(ak.flatten(axes[c])).reshape(-1, k).astype(float) for c in ("px", "py", "pz"))
        ax_eta, ax_phi = physics.eta(ax_px, ax_py, ax_pz), physics.phi(ax_px, ax_py)
        dr = physics.delta_r(eta[ok][:, :, None], phi[ok][:, :, None], ax_eta[:, None, :], ax_phi[:, None, :])
        taus[ok, k - 1] = (pt[ok] * dr.min(axis=2)).sum(axis=1) / d0[ok]
    return taus


def energy_correlations(particles: ak.Array, *, chunk: int = 256, max_particles: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """(e2, e3) per jet with beta = 1 on the leading `max_particles` constituents."""
    pt_j = physics.pt(particles.px, particles.py)
    order = ak.argsort(pt_j, axis=1, ascending=False)
    parts = particles[order][:, :max_particles]
    n = max(int(ak.max(ak.num(parts.px))) if len(parts) else 1, 1)
    pt = _padded(physics.pt(parts.px, parts.py), n)
    eta = _padded(physics.eta(parts.px, parts.py, parts.pz), n)
    phi = _padded(physics.phi(parts.px, parts.py), n)
    z = pt / np.maximum(pt.sum(axis=1, keepdims=True), _TINY)
    e2 = np.zeros(len(pt))
    e3 = np.zeros(len(pt))
    for a in range(0, len(pt), chunk):
        b = slice(a, a + chunk)
        dr = physics.delta_r(eta[b][:, :, None], phi[b][:, :, None], eta[b][:, None, :], phi[b][:, None, :])
        sz = np.sqrt(z[b])
        mat = sz[:, :, None] * dr * sz[:, None, :]  # A_ij = sqrt(z_i) dR_ij sqrt(z_j), symmetric
        e2[b] = 0.5 * (sz[:, :, None] * mat * sz[:, None, :]).sum(axis=(1, 2))
        e3[b] = ((mat @ mat) * mat).sum(axis=(1, 2)) / 6.0  # tr(A^3) = sum_ij (A^2)_ij A_ji
    return e2, e3


def jet_substructure(sample: JetSample, *, jet_r: float | None = None) -> dict[str, np.ndarray]:
    """All FEATURES for every jet of a sample, as float64 arrays keyed by name."""
    r = jet_r if jet_r is not None else float(sample.manifest.get("config", {}).get("jet_r", 0.8))
    parts = sample.particles
    jets = sample.jets
    pt = physics.pt(parts.px, parts.py)
    sum_pt = ak.to_numpy(ak.sum(pt, axis=1)).astype(float)
    jet_pt = ak.to_numpy(jets.jet_pt).astype(float)
    dr_axis = physics.delta_r(physics.eta(parts.px, parts.py, parts.pz), physics.phi(parts.px, parts.py),
                              jets.jet_eta, jets.jet_phi)
    taus = nsubjettiness(parts, jet_r=r)
    e2, e3 = energy_correlations(parts)
    return {
        "jet_pt": jet_pt,
        "jet_eta": ak.to_numpy(jets.jet_eta).astype(float),
        "jet_mass": ak.to_numpy(jets.jet_mass).astype(float),
        "n_constituents": ak.to_numpy(ak.num(parts.px)).astype(float),
        "n_charged": ak.to_numpy(ak.sum(parts.charge != 0, axis=1)).astype(float),
        "tau1": taus[:, 0],
        "tau2": taus[:, 1],
        "tau3": taus[:, 2],
        "tau21": taus[:, 1] / np.maximum(taus[:, 0], _TINY),
        "tau32": taus[:, 2] / np.maximum(taus[:, 1], _TINY),
        "c2": e3 / np.maximum(e2**2, _TINY),
        "d2": e3 / np.maximum(e2**3, _TINY),
        "ptd": np.sqrt(ak.to_numpy(ak.sum(pt**2, axis=1)).astype(float)) / np.maximum(sum_pt, _TINY),
        "girth": ak.to_numpy(ak.sum(pt * dr_axis, axis=1)).astype(float) / np.maximum(jet_pt, _TINY),
    }
