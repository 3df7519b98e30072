"""Physics checks on jet samples and jet classifiers (generate_jets, train_bdt, taggers).

    top_mass_peak          the top-jet mass peak lies in 150-200 GeV (m_top = 172.6 GeV, PDG via
                           `particle`, smeared and shifted by the jet response)
    qcd_mass_below_top     the QCD jet-mass median is below the top jet-mass median
    efficiencies_in_range  every efficiency a result reports lies in [0, 1]
    auc_above_random       held-out AUC exceeds 0.5 by more than 3 sigma of the null distribution
                           sigma_0 = sqrt((n_s + n_b + 1) / (12 n_s n_b))  (Mann-Whitney, Hanley-McNeil)
    no_train_test_overlap  no jet is both in the training and the test set
"""
from __future__ import annotations

import math

from hepilot.evals.checks.base import CheckResult, check

__all__ = ["top_mass_peak", "qcd_mass_below_top", "efficiencies_in_range", "auc_above_random",
           "no_train_test_overlap", "TOP_MASS_WINDOW", "auc_null_sigma"]

TOP_MASS_WINDOW = (150.0, 200.0)


def _pdg_top_mass() -> float:
    from particle import Particle

    return Particle.from_pdgid(6).mass / 1000.0


@check("top_mass_peak")
def top_mass_peak(inp, result) -> list[CheckResult]:
    peaks = getattr(result, "mass_peak", {}) or {}
    if "top" not in peaks:
        return []
    lo, hi = TOP_MASS_WINDOW
    peak = peaks["top"]
    return [CheckResult(name="top_mass_peak", passed=lo <= peak <= hi, measured=round(peak, 2), expected=[lo, hi],
                        message=f"top-jet mass peak {peak:.1f} GeV (PDG m_top = {_pdg_top_mass():.1f} GeV), "
                                f"required in [{lo:g}, {hi:g}] GeV")]


@check("qcd_mass_below_top")
def qcd_mass_below_top(inp, result) -> list[CheckResult]:
    med = getattr(result, "mass_median", {}) or {}
    if "top" not in med or "qcd" not in med:
        return []
    ok = med["qcd"] < med["top"]
    return [CheckResult(name="qcd_mass_below_top", passed=ok, measured={"qcd": round(med["qcd"], 2),
                        "top": round(med["top"], 2)}, expected="median(qcd) < median(top)",
                        message=f"median jet mass qcd {med['qcd']:.1f} GeV vs top {med['top']:.1f} GeV")]


@check("efficiencies_in_range")
def efficiencies_in_range(inp, result) -> CheckResult:
    effs = getattr(result, "efficiencies", {}) or {}
    bad = {k: v for k, v in effs.items() if not (0.0 <= v <= 1.0)}
    return CheckResult(name="efficiencies_in_range", passed=not bad, measured=effs, expected=[0.0, 1.0],
                       message="all efficiencies in [0, 1]" if not bad else f"out of [0, 1]: {bad}")


def auc_null_sigma(n_signal: int, n_background: int) -> float:
    """Standard deviation of the AUC of a random classifier (Mann-Whitney U / (n_s n_b))."""
    return math.sqrt((n_signal + n_background + 1) / (12.0 * n_signal * n_background))


@check("auc_above_random")
def auc_above_random(inp, result) -> CheckResult:
    auc = float(result.auc)
    sigma = auc_null_sigma(int(result.n_test_signal), int(result.n_test_background))
    need = 0.5 + 3 * sigma
    return CheckResult(name="auc_above_random", passed=auc > need, measured=round(auc, 4), expected=f"> {need:.4f}",
                       tolerance="3 sigma of the random-classifier AUC",
                       message=f"held-out AUC {auc:.4f} vs random 0.5 + 3 x {sigma:.4f}")


@check("no_train_test_overlap")
def no_train_test_overlap(inp, result) -> CheckResult:
    n = int(result.train_test_overlap)
    return CheckResult(name="no_train_test_overlap", passed=n == 0, measured=n, expected=0,
                       message="train and test sets are disjoint" if n == 0 else f"{n} jets in both train and test")
