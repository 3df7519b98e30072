"""Jet point clouds in JetNet coordinates: the 30 leading constituents as (eta_rel, phi_rel, pT_rel).

    eta_rel = eta_i - eta_jet,  phi_rel = phi_i - phi_jet (wrapped into (-pi, pi]),  pT_rel = pT_i / pT_jet
for the `n_particles` highest-pT constituents of each jet, zero-padded, with a mask of real
particles (the JetNet / MPGAN format, arXiv:2106.11535). `JetClouds` also carries the jet type
(index into `processes`), jet pT, eta and phi, which condition the generator and place generated
jets back into the detector frame.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from hepilot.models import physics
from hepilot.models.events.samples import JetSample

__all__ = ["JetClouds", "clouds_from_sample", "clouds_to_particles", "save_clouds", "load_clouds"]


@dataclass
class JetClouds:
    """Jets as fixed-size point clouds plus their conditions (numpy arrays, first axis = jet)."""

    points: np.ndarray  # (n_jets, n_particles, 3) eta_rel, phi_rel, pt_rel; zeros where mask is False
    mask: np.ndarray  # (n_jets, n_particles) bool, real particles first
    jet_type: np.ndarray  # (n_jets,) int, index into processes
    jet_pt: np.ndarray  # (n_jets,) GeV
    jet_eta: np.ndarray
    jet_phi: np.ndarray
    processes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.points)

    @property
    def multiplicity(self) -> np.ndarray:
        return self.mask.sum(1)

    def select(self, idx: np.ndarray) -> JetClouds:
        return JetClouds(self.points[idx], self.mask[idx], self.jet_type[idx], self.jet_pt[idx], self.jet_eta[idx],
                         self.jet_phi[idx], list(self.processes))

    def split(self, fraction: float, *, seed: int = 0) -> tuple[JetClouds, JetClouds]:
        """A random (1 - fraction, fraction) split, e.g. 70/30 train/evaluation as in JetNet."""
        order = np.random.default_rng(seed).permutation(len(self))
        cut = int(round(len(self) * (1 - fraction)))
        return self.select(order[:cut]), self.select(order[cut:])


def clouds_from_sample(sample: JetSample, *, n_particles: int = 30) -> JetClouds:
    """The `n_particles` leading constituents of every jet of a hepilot jet sample."""
    parts = sample.particles
    pt_ = np.sqrt(parts.px**2 + parts.py**2)
    order = ak.argsort(pt_, axis=1, ascending=False)
    parts, pt_ = parts[order][:, :n_particles], pt_[order][:, :n_particles]
    padded = {k: ak.to_numpy(ak.fill_none(ak.pad_none(v, n_particles, axis=1, clip=True), 0.0))
              for k, v in {"px": parts.px, "py": parts.py, "pz": parts.pz, "pt": pt_}.items()}
    mask = padded["pt"] > 0
    jet_pt = ak.to_numpy(sample.jets.jet_pt).astype(np.float64)
    jet_eta = ak.to_numpy(sample.jets.jet_eta).astype(np.float64)
    jet_phi = ak.to_numpy(sample.jets.jet_phi).astype(np.float64)
    eta_rel = physics.eta(padded["px"], padded["py"], padded["pz"]) - jet_eta[:, None]
    phi_rel = physics.delta_phi(physics.phi(padded["px"], padded["py"]), jet_phi[:, None])
    pt_rel = padded["pt"] / jet_pt[:, None]
    points = np.where(mask[..., None], np.stack([eta_rel, phi_rel, pt_rel], axis=-1), 0.0)
    return JetClouds(points.astype(np.float32), mask, sample.labels, jet_pt, jet_eta, jet_phi, sample.processes)


def clouds_to_particles(clouds: JetClouds) -> tuple[dict[str, np.ndarray], ak.Array]:
    """Jet-level branches and massless constituent four-vectors (GeV) in the detector frame.

    Generated constituents carry no particle identity: pid 0 and charge 0.
    """
    pt_ = clouds.points[..., 2] * clouds.jet_pt[:, None]
    eta_ = clouds.points[..., 0] + clouds.jet_eta[:, None]
    phi_ = physics.delta_phi(clouds.points[..., 1] + clouds.jet_phi[:, None], 0.0)
    e, px, py, pz = physics.p4_from_pt_eta_phi_m(pt_, eta_, phi_, 0.0)
    counts = clouds.mask.sum(1)
    flat = clouds.mask.ravel()

    def jag(a: np.ndarray) -> ak.Array:
        return ak.unflatten(np.asarray(a).ravel()[flat], counts)

    particles = ak.zip({"px": jag(px), "py": jag(py), "pz": jag(pz), "e": jag(e),
                        "pid": jag(np.zeros_like(px, dtype=np.int32)), "charge": jag(np.zeros_like(px))})
    m = np.where(clouds.mask, 1.0, 0.0)
    sums = [(a * m).sum(1) for a in (e, px, py, pz)]
    jets = {"label": clouds.jet_type.astype(np.int32), "jet_pt": physics.pt(sums[1], sums[2]),
            "jet_eta": physics.eta(sums[1], sums[2], sums[3]), "jet_phi": physics.phi(sums[1], sums[2]),
            "jet_mass": physics.mass(*sums), "jet_e": sums[0], "truth_matched": np.ones(len(clouds), bool),
            "event": np.arange(len(clouds), dtype=np.int64), "chunk": np.zeros(len(clouds), np.int32)}
    return jets, particles


def save_clouds(path: Path, clouds: JetClouds, **extra: Any) -> Path:
    """Write clouds (and extra arrays) to a compressed .npz file."""
    np.savez_compressed(path, points=clouds.points, mask=clouds.mask, jet_type=clouds.jet_type, jet_pt=clouds.jet_pt,
                        jet_eta=clouds.jet_eta, jet_phi=clouds.jet_phi, processes=np.array(clouds.processes), **extra)
    return Path(path)


def load_clouds(path: Path) -> JetClouds:
    """Read clouds written by `save_clouds`."""
    with np.load(path) as f:
        return JetClouds(f["points"], f["mask"].astype(bool), f["jet_type"], f["jet_pt"], f["jet_eta"], f["jet_phi"],
                         [str(p) for p in f["processes"]])
