"""Side-by-side fidelity of a fast simulation: W1 metrics, classifier two-sample AUC and physical ranges.

Jets (JetNet coordinates): W1M, W1P, W1EFP (hepilot.models.fastsim.metrics) between simulated and
generated jets, the same metrics between two halves of the simulated jets (the statistical floor,
"truth" rows of the MPGAN tables), and the held-out AUC of an xgboost classifier separating
simulated from generated jets (hepilot.models.stats.c2st; 0.5 = indistinguishable) on
    high level: jet type, jet pT, m/pT, the 5 EFPs (d = 4), multiplicity, sum of pT_rel and the
                pT_rel of the three leading constituents;
    low level:  the pT-ordered (eta_rel, phi_rel, pT_rel) of all 30 constituent slots.
CCQE: W1 of E_mu (GeV) and cos theta_mu overall, the same between two independent simulated
samples, and the classifier AUC on (E_nu, E_mu, cos theta_mu).
"""
from __future__ import annotations

import numpy as np

from hepilot.models.fastsim.jet_clouds import JetClouds
from hepilot.models.fastsim.metrics import efps_d4, jet_mass_rel, jetnet_metrics, w1_features

__all__ = ["HIGH_LEVEL", "jet_features_high_level", "evaluate_jets", "evaluate_ccqe", "ccqe_ranges", "jet_ranges"]

HIGH_LEVEL = ("jet_type", "jet_pt", "mass_rel", "efp_1", "efp_2", "efp_3", "efp_4", "efp_5", "n_constituents",
              "sum_pt_rel", "pt_rel_1", "pt_rel_2", "pt_rel_3")


def jet_features_high_level(clouds: JetClouds) -> np.ndarray:
    """(n_jets, 13) jet-level features in the order of HIGH_LEVEL."""
    pt_rel = np.where(clouds.mask, clouds.points[..., 2], 0.0)
    lead = -np.sort(-pt_rel, axis=1)[:, :3]
    return np.column_stack([clouds.jet_type, clouds.jet_pt, jet_mass_rel(clouds.points, clouds.mask),
                            efps_d4(clouds.points, clouds.mask), clouds.mask.sum(1), pt_rel.sum(1), lead])


def _low_level(clouds: JetClouds) -> np.ndarray:
    pts = np.where(clouds.mask[..., None], clouds.points, 0.0)
    order = np.argsort(-pts[..., 2], axis=1, kind="stable")
    return np.take_along_axis(pts, order[..., None], axis=1).reshape(len(clouds), -1)


def jet_ranges(clouds: JetClouds) -> dict[str, list[float]]:
    """[min, max] of each constituent feature over real particles."""
    real = clouds.points[clouds.mask]
    names = ("eta_rel", "phi_rel", "pt_rel")
    return {n: [float(real[:, k].min()), float(real[:, k].max())] for k, n in enumerate(names)}


def evaluate_jets(real: JetClouds, gen: JetClouds, *, seed: int = 0, n_eval: int = 10_000,
                  n_batches: int = 5) -> dict[str, float]:
    """JetNet metrics (gen vs real and real half vs real half) and classifier AUCs."""
    from hepilot.models.stats.c2st import classifier_two_sample_auc

    out = jetnet_metrics(real.points, gen.points, mask_real=real.mask, mask_gen=gen.mask,
                         n_eval=min(n_eval, len(real), len(gen)), n_batches=n_batches, seed=seed)
    half_a, half_b = real.split(0.5, seed=seed)
    ref = jetnet_metrics(half_a.points, half_b.points, mask_real=half_a.mask, mask_gen=half_b.mask,
                         n_eval=min(n_eval, len(half_a), len(half_b)), n_batches=n_batches, seed=seed)
    out.update({f"truth_{k}": v for k, v in ref.items()})
    auc, err = classifier_two_sample_auc(jet_features_high_level(real), jet_features_high_level(gen), seed=seed)
    auc_ll, err_ll = classifier_two_sample_auc(_low_level(real), _low_level(gen), seed=seed)
    out.update({"classifier_auc": auc, "classifier_auc_err": err, "classifier_auc_lowlevel": auc_ll,
                "classifier_auc_lowlevel_err": err_ll})
    return out


def ccqe_ranges(events: dict[str, np.ndarray]) -> dict[str, list[float]]:
    """[min, max] of cos theta, E_mu and E_mu - E_nu (must be < 0)."""
    d = events["e_mu"] - events["e_nu"]
    return {"cos_theta": [float(events["cos_theta"].min()), float(events["cos_theta"].max())],
            "e_mu": [float(events["e_mu"].min()), float(events["e_mu"].max())],
            "e_mu_minus_e_nu": [float(d.min()), float(d.max())]}


def _ccqe_matrix(events: dict[str, np.ndarray]) -> np.ndarray:
    return np.column_stack([events["e_nu"], events["e_mu"], events["cos_theta"]])


def evaluate_ccqe(sim: dict[str, np.ndarray], gen: dict[str, np.ndarray], *, reference: dict[str, np.ndarray],
                  seed: int = 0) -> dict[str, float]:
    """W1 of E_mu and cos theta (gen vs sim, and an independent simulated sample vs sim) and the AUC."""
    from hepilot.models.stats.c2st import classifier_two_sample_auc

    cols = ("e_mu", "cos_theta")
    w_gen = w1_features(np.column_stack([sim[c] for c in cols]), np.column_stack([gen[c] for c in cols]), seed=seed)
    w_ref = w1_features(np.column_stack([sim[c] for c in cols]), np.column_stack([reference[c] for c in cols]),
                        seed=seed)
    auc, err = classifier_two_sample_auc(_ccqe_matrix(sim), _ccqe_matrix(gen), seed=seed)
    return {"w1_e_mu": float(w_gen[0]), "w1_cos_theta": float(w_gen[1]), "truth_w1_e_mu": float(w_ref[0]),
            "truth_w1_cos_theta": float(w_ref[1]), "classifier_auc": auc, "classifier_auc_err": err}
