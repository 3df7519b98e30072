"""JetNet-style fidelity metrics for generated jets: W1 of jet mass, particle features and EFPs.

Definitions follow Kansal et al., MPGAN (arXiv:2106.11535) and the `jetnet` package
(jetnet/evaluation/gen_metrics.py); jets are arrays (n_jets, n_particles, 3) of
(eta_rel, phi_rel, pt_rel) with a boolean mask of real particles.

    W1M    1-Wasserstein distance between the relative jet-mass distributions (mass of the sum of
           massless particle four-vectors built from the relative coordinates = m_jet / pT_jet)
    W1P    W1 per particle feature (eta_rel, phi_rel, pt_rel) over real (unmasked) particles,
           averaged over the three features
    W1EFP  W1 per energy-flow polynomial, averaged over the 5 EFPs with 4 vertices, 4 edges and one
           connected component (energyflow: ("n==",4),("d==",4),("p==",1)), hadronic measure,
           beta = 1, normalised energy fractions:
               EFP_G = sum_{i1..i4} z_i1 z_i2 z_i3 z_i4 prod_{(k,l) in G} theta_{ik il},
               z_i = pT_i / sum_j pT_j,  theta_ij = sqrt(d_eta^2 + d_phi^2)
           The 5 multigraphs: the 4-cycle, the triangle with a pendant edge, the 4-path with its
           middle edge doubled, the 4-path with an end edge doubled, the 3-star with one edge
           doubled; each is contracted with matrix products instead of the energyflow package.
Each W1 is evaluated on `n_batches` random batches of `n_eval` jets per sample and reported as
mean and standard deviation over batches (the papers report W1M, W1P x 1e3 and W1EFP x 1e5).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import wasserstein_distance

from hepilot.models import physics

__all__ = [
    "EFP_GRAPHS",
    "jet_mass_rel",
    "efps_d4",
    "w1m",
    "w1p",
    "w1efp",
    "w1_features",
    "jetnet_metrics",
]

EFP_GRAPHS: tuple[str, ...] = ("cycle4", "triangle_pendant", "path_middle_double", "path_end_double",
                               "star_double")
_EFP_CHUNK = 4096


def _check(jets: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    jets = np.asarray(jets, dtype=np.float64)
    if jets.ndim != 3 or jets.shape[2] < 3:
        raise ValueError(f"jets must have shape (n_jets, n_particles, 3) = (eta_rel, phi_rel, pt_rel), got {jets.shape}")
    mask = jets[..., 2] > 0 if mask is None else np.asarray(mask, dtype=bool)
    if mask.shape != jets.shape[:2]:
        raise ValueError(f"mask shape {mask.shape} does not match jets {jets.shape[:2]}")
    return jets, mask


def jet_mass_rel(jets: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """m / pT of each jet from its massless particles in relative coordinates, shape (n_jets,)."""
    jets, mask = _check(jets, mask)
    pt = np.where(mask, jets[..., 2], 0.0)
    e, px, py, pz = physics.p4_from_pt_eta_phi_m(pt, jets[..., 0], jets[..., 1], 0.0)
    return physics.mass(e.sum(1), px.sum(1), py.sum(1), pz.sum(1))


def efps_d4(jets: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """The 5 connected EFPs with 4 vertices and 4 edges (order of EFP_GRAPHS), shape (n_jets, 5)."""
    jets, mask = _check(jets, mask)
    if len(jets) > _EFP_CHUNK:  # bound the (chunk, P, P) temporaries
        return np.concatenate([efps_d4(jets[i:i + _EFP_CHUNK], mask[i:i + _EFP_CHUNK])
                               for i in range(0, len(jets), _EFP_CHUNK)])
    pt = np.where(mask, jets[..., 2], 0.0)
    z = pt / np.maximum(pt.sum(1, keepdims=True), 1e-300)  # (jets, particles)
    eta_, phi_ = jets[..., 0], jets[..., 1]
    theta = physics.delta_r(eta_[:, :, None], phi_[:, :, None], eta_[:, None, :], phi_[:, None, :])  # (J, P, P)
    theta2 = theta**2
    m = z[:, :, None] * theta  # M_ab = z_a theta_ab
    tz = np.einsum("jab,jb->ja", theta, z)  # (Theta z)_a
    t2z = np.einsum("jab,jb->ja", theta2, z)  # ((Theta o Theta) z)_a
    m2 = m @ m
    m3 = m2 @ m
    cycle4 = np.einsum("jab,jba->j", m2, m2)
    triangle_pendant = np.einsum("jcc,jc->j", m3, tz)
    v = z * tz
    path_middle = np.einsum("ja,jab,jb->j", v, theta2, v)
    path_end = np.einsum("ja,jab,jb->j", z * t2z, theta, v)
    star = np.einsum("ja,ja,ja->j", z, t2z, tz**2)
    return np.stack([cycle4, triangle_pendant, path_middle, path_end, star], axis=1)


def _batched_w1(a: np.ndarray, b: np.ndarray, *, n_eval: int, n_batches: int, seed: int) -> tuple[float, float]:
    """Mean and std over batches of W1 between columns of a and b (averaged over columns)."""
    a, b = np.atleast_2d(a.T).T, np.atleast_2d(b.T).T
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n_batches):
        ia = rng.choice(len(a), min(n_eval, len(a)), replace=False)
        ib = rng.choice(len(b), min(n_eval, len(b)), replace=False)
        vals.append(np.mean([wasserstein_distance(a[ia, k], b[ib, k]) for k in range(a.shape[1])]))
    return float(np.mean(vals)), float(np.std(vals))


def w1_features(a: np.ndarray, b: np.ndarray, *, n_eval: int = 50_000, seed: int = 0) -> np.ndarray:
    """W1 of each column of a vs b on up to n_eval random rows of each, shape (n_features,)."""
    a, b = np.atleast_2d(np.asarray(a, float).T).T, np.atleast_2d(np.asarray(b, float).T).T
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"samples have different numbers of features ({a.shape[1]} vs {b.shape[1]})")
    rng = np.random.default_rng(seed)
    a = a[rng.permutation(len(a))[:n_eval]]
    b = b[rng.permutation(len(b))[:n_eval]]
    return np.array([wasserstein_distance(a[:, k], b[:, k]) for k in range(a.shape[1])])


def w1m(real: np.ndarray, gen: np.ndarray, *, mask_real=None, mask_gen=None, n_eval: int = 50_000,
        n_batches: int = 5, seed: int = 0) -> tuple[float, float]:
    """W1 of the relative jet mass: (mean, std) over batches."""
    return _batched_w1(jet_mass_rel(real, mask_real), jet_mass_rel(gen, mask_gen), n_eval=n_eval,
                       n_batches=n_batches, seed=seed)


def w1p(real: np.ndarray, gen: np.ndarray, *, mask_real=None, mask_gen=None, n_eval: int = 50_000,
        n_batches: int = 5, seed: int = 0) -> tuple[float, float, np.ndarray]:
    """W1 of the particle features over real particles: (mean over features, std, per-feature means)."""
    real, mask_real = _check(real, mask_real)
    gen, mask_gen = _check(gen, mask_gen)
    rng = np.random.default_rng(seed)
    per = []
    for _ in range(n_batches):
        ir = rng.choice(len(real), min(n_eval, len(real)), replace=False)
        ig = rng.choice(len(gen), min(n_eval, len(gen)), replace=False)
        pr, pg = real[ir][mask_real[ir]], gen[ig][mask_gen[ig]]
        per.append([wasserstein_distance(pr[:, k], pg[:, k]) for k in range(3)])
    per = np.array(per)
    means = per.mean(1)
    return float(means.mean()), float(means.std()), per.mean(0)


def w1efp(real: np.ndarray, gen: np.ndarray, *, mask_real=None, mask_gen=None, n_eval: int = 50_000,
          n_batches: int = 5, seed: int = 0) -> tuple[float, float]:
    """W1 of the 5 d=4 EFPs, averaged over EFPs: (mean, std) over batches."""
    return _batched_w1(efps_d4(real, mask_real), efps_d4(gen, mask_gen), n_eval=n_eval, n_batches=n_batches,
                       seed=seed)


def jetnet_metrics(real: np.ndarray, gen: np.ndarray, *, mask_real=None, mask_gen=None, n_eval: int = 10_000,
                   n_batches: int = 5, seed: int = 0) -> dict[str, float]:
    """W1M, W1P, W1EFP (means and batch stds) in the papers' units (x1e3, x1e3, x1e5)."""
    kw = {"mask_real": mask_real, "mask_gen": mask_gen, "n_eval": n_eval, "n_batches": n_batches, "seed": seed}
    m, m_err = w1m(real, gen, **kw)
    p, p_err, per = w1p(real, gen, **kw)
    e, e_err = w1efp(real, gen, **kw)
    return {"w1m_x1e3": 1e3 * m, "w1m_err_x1e3": 1e3 * m_err, "w1p_x1e3": 1e3 * p, "w1p_err_x1e3": 1e3 * p_err,
            "w1p_eta_x1e3": 1e3 * per[0], "w1p_phi_x1e3": 1e3 * per[1], "w1p_pt_x1e3": 1e3 * per[2],
            "w1efp_x1e5": 1e5 * e, "w1efp_err_x1e5": 1e5 * e_err}
