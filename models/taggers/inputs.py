"""Model inputs built from a JetSample: per-particle features, points, 4-vectors, masks and jet images.

Per-particle inputs follow the weaver-core "kin" configuration of the Top Tagging Reference
Dataset (jet-universe/particle_transformer data/TopLandscape/top_kin.yaml and
utils/convert_top_datasets.py), so ParticleNet and ParT see exactly what they saw in the papers:

    part_pt_log   = ln pT                         (x - 1.7) * 0.7
    part_e_log    = ln E                          (x - 2.0) * 0.7
    part_logptrel = ln(pT / pT_jet)               (x + 4.7) * 0.7
    part_logerel  = ln(E / E_jet)                 (x + 4.7) * 0.7
    part_deltaR   = sqrt(deta^2 + dphi^2)         (x - 0.2) * 4.0
    part_deta     = (eta - eta_jet) * sign(eta_jet)    unscaled
    part_dphi     = phi - phi_jet (wrapped)            unscaled

Scaled features are clipped to [-5, 5] (weaver's default). Points are (deta, dphi), vectors are
(px, py, pz, E) in GeV, the mask is 1 for real particles. Constituents are pT-ordered (the sample
format guarantees it); the first `n_particles` are kept and shorter jets are padded with
weaver's `wrap` mode (the jet's own particles repeated, mask 0), which keeps batch-norm
statistics close to the real particles'. All arrays are channel-first, (n_jets, channels, P).

Jet images (for the CNN of arXiv:2203.14569, after Macaluso & Shih arXiv:1803.00107): the pT of
each constituent is binned in (deta, dphi) around the pT-weighted centroid; the image is rotated
so that the principal axis of the pT distribution is vertical, flipped so that the hardest half
lies at positive deta and positive dphi, and normalised to unit total pT.
"""
from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepilot.models import physics
from hepilot.models.events.samples import JetSample

__all__ = [
    "KIN_FEATURES",
    "KIN_SCALING",
    "ParticleArrays",
    "particle_arrays",
    "jet_images",
    "PARTICLE_TYPES",
]

KIN_FEATURES = ("part_pt_log", "part_e_log", "part_logptrel", "part_logerel", "part_deltaR", "part_deta",
                "part_dphi")
# (shift, scale) of weaver's manual standardisation; None = unscaled
KIN_SCALING: dict[str, tuple[float, float] | None] = {
    "part_pt_log": (1.7, 0.7),
    "part_e_log": (2.0, 0.7),
    "part_logptrel": (-4.7, 0.7),
    "part_logerel": (-4.7, 0.7),
    "part_deltaR": (0.2, 4.0),
    "part_deta": None,
    "part_dphi": None,
}
_CLIP = 5.0
_TINY = 1e-20
# reconstructed particle classes for one-hot node types (|pid| -> index); anything else = charged hadron
PARTICLE_TYPES = {"photon": (22,), "electron": (11,), "muon": (13,), "neutral_hadron": (130, 2112, 310),
                  "charged_hadron": ()}


@dataclass
class ParticleArrays:
    """Padded per-particle arrays of a jet sample (float32, channel-first)."""

    features: np.ndarray  # (n_jets, 7, P) the kin features above
    points: np.ndarray  # (n_jets, 2, P) deta, dphi
    vectors: np.ndarray  # (n_jets, 4, P) px, py, pz, E (GeV)
    mask: np.ndarray  # (n_jets, 1, P) 1 = real particle, 0 = padding
    types: np.ndarray  # (n_jets, P) int8 index into PARTICLE_TYPES

    def __len__(self) -> int:
        return self.features.shape[0]

    def as_dict(self) -> dict[str, np.ndarray]:
        return {"features": self.features, "points": self.points, "vectors": self.vectors, "mask": self.mask,
                "types": self.types}


def _flat(sample: JetSample) -> tuple[dict[str, np.ndarray], np.ndarray]:
    counts = ak.to_numpy(ak.num(sample.particles)).astype(np.int64)
    cols = {f: ak.to_numpy(ak.flatten(sample.particles[f])).astype(np.float64) for f in ("px", "py", "pz", "e")}
    cols["pid"] = ak.to_numpy(ak.flatten(sample.particles.pid)).astype(np.int64)
    return cols, counts


def _pad(flat: np.ndarray, counts: np.ndarray, n: int, *, wrap: bool) -> np.ndarray:
    """(n_jets, n) from a flat array of jagged rows: first n entries, then wrapped or zero padding."""
    offsets = np.r_[0, np.cumsum(counts)[:-1]]
    take = np.minimum(counts, n)
    j = np.arange(n)
    idx = j[None, :] % np.maximum(take, 1)[:, None] if wrap else np.minimum(j[None, :], np.maximum(take - 1, 0)[:, None])
    gather = np.minimum(offsets[:, None] + idx, max(flat.size - 1, 0))
    out = flat[gather] if flat.size else np.zeros((counts.size, n), dtype=flat.dtype)
    out = np.where(take[:, None] > 0, out, 0)
    if not wrap:
        out = np.where(j[None, :] < take[:, None], out, 0)
    return out


def _type_index(pid: np.ndarray) -> np.ndarray:
    apid = np.abs(pid)
    out = np.full(pid.shape, list(PARTICLE_TYPES).index("charged_hadron"), dtype=np.int8)
    for k, ids in enumerate(PARTICLE_TYPES.values()):
        if ids:
            out[np.isin(apid, ids)] = k
    return out


def particle_arrays(sample: JetSample, *, n_particles: int = 128, pad_mode: str = "wrap") -> ParticleArrays:
    """The weaver "kin" inputs of every jet, padded/truncated to `n_particles`."""
    if n_particles < 1:
        raise ValueError(f"n_particles must be >= 1, got {n_particles}")
    if pad_mode not in ("wrap", "constant"):
        raise ValueError(f"pad_mode must be 'wrap' or 'constant', got {pad_mode!r}")
    cols, counts = _flat(sample)
    jet = {k: ak.to_numpy(sample.jets[k]).astype(np.float64) for k in ("jet_pt", "jet_eta", "jet_phi", "jet_e")}
    rep = {k: np.repeat(v, counts) for k, v in jet.items()}
    pt = physics.pt(cols["px"], cols["py"])
    eta = physics.eta(cols["px"], cols["py"], cols["pz"])
    sign = np.sign(rep["jet_eta"])
    sign[sign == 0] = 1.0
    deta = (eta - rep["jet_eta"]) * sign
    dphi = physics.delta_phi(physics.phi(cols["px"], cols["py"]), rep["jet_phi"])
    raw = {
        "part_pt_log": np.log(np.maximum(pt, _TINY)),
        "part_e_log": np.log(np.maximum(cols["e"], _TINY)),
        "part_logptrel": np.log(np.maximum(pt / np.maximum(rep["jet_pt"], _TINY), _TINY)),
        "part_logerel": np.log(np.maximum(cols["e"] / np.maximum(rep["jet_e"], _TINY), _TINY)),
        "part_deltaR": np.hypot(deta, dphi),
        "part_deta": deta,
        "part_dphi": dphi,
    }
    wrap = pad_mode == "wrap"
    feats = []
    for name in KIN_FEATURES:
        x = raw[name]
        if KIN_SCALING[name] is not None:
            shift, scale = KIN_SCALING[name]
            x = np.clip((x - shift) * scale, -_CLIP, _CLIP)
        feats.append(_pad(x, counts, n_particles, wrap=wrap))
    mask = (np.arange(n_particles)[None, :] < np.minimum(counts, n_particles)[:, None]).astype(np.float32)
    return ParticleArrays(
        features=np.stack(feats, axis=1).astype(np.float32),
        points=np.stack([_pad(deta, counts, n_particles, wrap=wrap), _pad(dphi, counts, n_particles, wrap=wrap)],
                        axis=1).astype(np.float32),
        vectors=np.stack([_pad(cols[k], counts, n_particles, wrap=wrap) for k in ("px", "py", "pz", "e")],
                         axis=1).astype(np.float32),
        mask=mask[:, None, :],
        types=np.where(mask > 0, _pad(_type_index(cols["pid"]), counts, n_particles, wrap=False), 0).astype(np.int8),
    )


def jet_images(sample: JetSample, *, size: int = 40, half_width: float = 0.8, rotate: bool = True,
               flip: bool = True) -> np.ndarray:
    """(n_jets, 1, size, size) float32 pT images in (deta, dphi), centred, rotated, flipped, unit sum.

    Axis 2 of the image is deta, axis 3 is dphi; pixels cover [-half_width, half_width] in both.
    """
    if size < 2 or half_width <= 0:
        raise ValueError(f"size must be >= 2 and half_width > 0, got {size}, {half_width}")
    cols, counts = _flat(sample)
    n_jets = counts.size
    ev = np.repeat(np.arange(n_jets), counts)
    pt = physics.pt(cols["px"], cols["py"])
    eta = physics.eta(cols["px"], cols["py"], cols["pz"])
    phi = physics.phi(cols["px"], cols["py"])
    jet_eta = np.repeat(ak.to_numpy(sample.jets.jet_eta).astype(np.float64), counts)
    jet_phi = np.repeat(ak.to_numpy(sample.jets.jet_phi).astype(np.float64), counts)
    x = eta - jet_eta
    y = physics.delta_phi(phi, jet_phi)
    sum_pt = np.maximum(np.bincount(ev, weights=pt, minlength=n_jets), _TINY)

    def per_jet_mean(v):
        return np.bincount(ev, weights=pt * v, minlength=n_jets) / sum_pt

    x = x - per_jet_mean(x)[ev]  # centre on the pT centroid
    y = y - per_jet_mean(y)[ev]
    if rotate:
        # principal axis of the pT-weighted second-moment tensor -> vertical (along dphi)
        sxx, syy, sxy = per_jet_mean(x * x), per_jet_mean(y * y), per_jet_mean(x * y)
        theta = 0.5 * np.arctan2(2 * sxy, sxx - syy)  # angle of the major axis from the deta axis
        alpha = (np.pi / 2 - theta)[ev]
        x, y = x * np.cos(alpha) - y * np.sin(alpha), x * np.sin(alpha) + y * np.cos(alpha)
    if flip:
        # put the larger pT on the positive side of each axis
        x = x * np.where(np.bincount(ev, weights=pt * np.sign(x), minlength=n_jets) < 0, -1.0, 1.0)[ev]
        y = y * np.where(np.bincount(ev, weights=pt * np.sign(y), minlength=n_jets) < 0, -1.0, 1.0)[ev]
    width = 2 * half_width / size
    ix = np.floor((x + half_width) / width).astype(np.int64)
    iy = np.floor((y + half_width) / width).astype(np.int64)
    inside = (ix >= 0) & (ix < size) & (iy >= 0) & (iy < size)
    flat_idx = (ev * size + ix) * size + iy
    img = np.bincount(flat_idx[inside], weights=pt[inside], minlength=n_jets * size * size)
    img = img.reshape(n_jets, 1, size, size) / sum_pt[:, None, None, None]
    return img.astype(np.float32)
