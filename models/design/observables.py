"""Event observables of the design objectives: diphotons and dimuons in e+e- -> ZH, and jets rebuilt after a detector.

All functions take per-event particle lists (awkward records px, py, pz, e, pid, charge in GeV),
either generator level or after `Detector.apply`, so the same code gives the truth and the
reconstructed value of an observable:
    diphoton   the two most energetic photons with E > e_min: m_gg, E_1, E_2, |cos theta|, isolation
               (scalar sum of the energy of all other particles within dR < 0.3, over the photon E)
    dimuon     the opposite-sign muon pair closest to m_Z: m_mumu and the recoil mass
               m_rec^2 = s - 2 sqrt(s) E_mumu + m_mumu^2 against it
    jets       constituents of stored jets after the detector, with the jet re-summed from them
    ee_jets    e+e- -> ZH, H -> gamma gamma: the two most energetic photons removed, the rest
               clustered into exactly two jets with the generalised e+e- kT algorithm (p = 1, R = 4 > pi: the
               Durham ordering); the constituents
               of every jet as one list (the Z -> q qbar jets of the event)
    visible_mass   the invariant mass of every visible particle of the event (neutrinos removed) and the
               |cos theta| of its two exclusive Durham jets (the CEPC boson-mass-resolution observable)
"""
from __future__ import annotations

import awkward as ak
import numpy as np

from hepilot.models import physics
from hepilot.models.events.samples import JetSample

__all__ = ["diphoton", "dimuon", "rebuild_jets", "ee_jets", "visible_mass", "M_Z"]

M_Z = 91.1876  # GeV, PDG
_ISO_DR = 0.3


def _pairs_sum(a: ak.Array, b: ak.Array) -> dict[str, np.ndarray]:
    return {k: ak.to_numpy(ak.fill_none(a[k] + b[k], np.nan)).astype(float) for k in ("e", "px", "py", "pz")}


def _isolation(photon: ak.Array, particles: ak.Array) -> np.ndarray:
    """Energy of the other particles within dR < 0.3 of `photon` (one or none per event), over the photon energy."""
    eta_g = physics.eta(photon.px, photon.py, photon.pz)
    phi_g = physics.phi(photon.px, photon.py)
    eta_p = physics.eta(particles.px, particles.py, particles.pz)
    phi_p = physics.phi(particles.px, particles.py)
    dr = physics.delta_r(eta_p, phi_p, eta_g, phi_g)
    cone = ak.sum(particles.e[(dr < _ISO_DR) & (dr > 1e-9)], axis=1)
    return ak.to_numpy(ak.fill_none(cone / photon.e, np.nan)).astype(float)


def diphoton(particles: ak.Array, *, e_min: float = 10.0) -> dict[str, np.ndarray]:
    """Per-event diphoton observables; events with fewer than two photons get NaN (`valid` is False)."""
    photons = particles[(particles.pid == 22) & (particles.e > e_min)]
    photons = photons[ak.argsort(photons.e, axis=1, ascending=False)]
    lead = ak.pad_none(photons, 2, clip=True)
    g1, g2 = lead[:, 0], lead[:, 1]
    tot = _pairs_sum(g1, g2)
    out = {"m_gg": physics.mass(tot["e"], tot["px"], tot["py"], tot["pz"])}
    for i, g in ((1, g1), (2, g2)):
        e = ak.to_numpy(ak.fill_none(g.e, np.nan)).astype(float)
        pz = ak.to_numpy(ak.fill_none(g.pz, np.nan)).astype(float)
        out[f"e_g{i}"] = e
        out[f"abs_cos_g{i}"] = np.abs(pz / np.maximum(e, 1e-9))
        out[f"iso_g{i}"] = _isolation(g, particles)
    out["e_gg"] = tot["e"]
    out["n_photons"] = ak.to_numpy(ak.num(photons)).astype(float)
    out["n_charged"] = ak.to_numpy(ak.sum(particles.charge != 0, axis=1)).astype(float)
    out["valid"] = np.isfinite(out["m_gg"])
    return out


def dimuon(particles: ak.Array, *, sqrt_s: float = 240.0) -> dict[str, np.ndarray]:
    """Per-event m_mumu of the opposite-sign muon pair closest to m_Z and its recoil mass (NaN if none)."""
    muons = particles[abs(particles.pid) == 13]
    pairs = ak.combinations(muons, 2, fields=["a", "b"])
    pairs = pairs[pairs.a.charge * pairs.b.charge < 0]
    e = pairs.a.e + pairs.b.e
    px, py, pz = pairs.a.px + pairs.b.px, pairs.a.py + pairs.b.py, pairs.a.pz + pairs.b.pz
    m = physics.mass(e, px, py, pz)
    best = ak.argmin(abs(m - M_Z), axis=1, keepdims=True)
    m_best = ak.to_numpy(ak.fill_none(ak.firsts(m[best]), np.nan)).astype(float)
    e_best = ak.to_numpy(ak.fill_none(ak.firsts(e[best]), np.nan)).astype(float)
    recoil2 = sqrt_s**2 - 2 * sqrt_s * e_best + m_best**2
    return {"m_mumu": m_best, "m_recoil": np.sqrt(np.maximum(recoil2, 0.0)), "valid": np.isfinite(m_best)}


def rebuild_jets(reco: ak.Array, labels: np.ndarray, *, jet_r: float, max_constituents: int = 200) -> JetSample:
    """A JetSample from reconstructed constituents (one list per jet): the jet is the sum of its constituents."""
    pt = physics.pt(reco.px, reco.py)
    reco = reco[ak.argsort(pt, axis=1, ascending=False)][:, :max_constituents]
    sums = {k: ak.to_numpy(ak.sum(reco[k], axis=1)).astype(float) for k in ("e", "px", "py", "pz")}
    n = len(labels)
    jets = ak.zip({"label": np.asarray(labels, dtype=np.int32), "jet_pt": physics.pt(sums["px"], sums["py"]),
                   "jet_eta": physics.eta(sums["px"], sums["py"], sums["pz"]), "jet_phi": physics.phi(sums["px"], sums["py"]),
                   "jet_mass": physics.mass(sums["e"], sums["px"], sums["py"], sums["pz"]), "jet_e": sums["e"],
                   "truth_matched": np.ones(n, dtype=bool), "event": np.arange(n), "chunk": np.zeros(n, dtype=np.int32)})
    return JetSample(jets, reco, {"config": {"jet_r": jet_r}})


def _visible(particles: ak.Array) -> ak.Array:
    apid = abs(particles.pid)
    return particles[(apid != 12) & (apid != 14) & (apid != 16)]


def ee_jets(particles: ak.Array) -> ak.Array:
    """(2 x events, var) constituents of the two Durham jets after removing the two leading photons."""
    import fastjet

    from hepilot.models.events._fastjet import jet_definition

    jet_definition("kt", 0.4)  # silences FastJet's banner once per process
    visible = _visible(particles)
    rank = ak.argsort(ak.where(visible.pid == 22, visible.e, -1.0), axis=1, ascending=False)
    is_photon = visible.pid[rank] == 22
    drop = ak.local_index(rank) < 2
    keep_sorted = ~(drop & is_photon)
    rest = visible[rank][keep_sorted]
    rest = rest[ak.num(rest) >= 2]
    vecs = ak.zip({"px": rest.px, "py": rest.py, "pz": rest.pz, "E": rest.e}, with_name="Momentum4D")
    cs = fastjet.ClusterSequence(vecs, fastjet.JetDefinition(fastjet.ee_genkt_algorithm, 4.0, 1.0))
    idx = cs.exclusive_jets_constituent_index(2)  # (events, 2, var)
    per_jet = ak.flatten(idx, axis=1)
    owner = np.repeat(np.arange(len(rest)), 2)
    return rest[owner][per_jet]


def visible_mass(particles: ak.Array, *, with_jets: bool = False) -> dict[str, np.ndarray]:
    """Per event the invariant mass of all visible particles; with_jets also the |cos theta| of its two
    exclusive Durham jets (`abs_cos_j1`, `abs_cos_j2`; NaN for events with fewer than two particles)."""
    vis = _visible(particles)
    tot = {k: ak.to_numpy(ak.sum(vis[k], axis=1)).astype(float) for k in ("e", "px", "py", "pz")}
    out = {"m_vis": physics.mass(tot["e"], tot["px"], tot["py"], tot["pz"])}
    if with_jets:
        import fastjet

        from hepilot.models.events._fastjet import jet_definition

        jet_definition("kt", 0.4)  # silences FastJet's banner once per process
        ok = ak.to_numpy(ak.num(vis)) >= 2
        vecs = ak.zip({"px": vis.px[ok], "py": vis.py[ok], "pz": vis.pz[ok], "E": vis.e[ok]}, with_name="Momentum4D")
        cs = fastjet.ClusterSequence(vecs, fastjet.JetDefinition(fastjet.ee_genkt_algorithm, 4.0, 1.0))
        jets = cs.exclusive_jets(2)
        for i in (0, 1):
            cos = np.full(len(vis), np.nan)
            cos[ok] = np.abs(physics.cos_theta(*(ak.to_numpy(jets[k][:, i]) for k in ("px", "py", "pz"))))
            out[f"abs_cos_j{i + 1}"] = cos
    return out
