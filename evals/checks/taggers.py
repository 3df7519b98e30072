"""Physics checks on tagger results (train_tagger, compare_taggers).

    auc_above_bdt           every neural tagger's held-out AUC > AUC(BDT baseline, same split) - 0.01:
                            a network on the full constituent information must not lose to
                            substructure observables (0.01 ~ 2-3 bootstrap sigma on a few thousand jets)
    every_auc_above_random  every classifier of a comparison beats a random one by 3 sigma
                            (sigma_0 = sqrt((n_s + n_b + 1) / (12 n_s n_b)))
Results without a BDT baseline skip `auc_above_bdt` (no CheckResult).
"""
from __future__ import annotations

from hepilot.evals.checks.base import CheckResult, check
from hepilot.evals.checks.jets import auc_null_sigma

__all__ = ["auc_above_bdt", "every_auc_above_random", "BDT_MARGIN"]

BDT_MARGIN = 0.01


def _rows(result) -> list[tuple[str, float]]:
    table = getattr(result, "table", None)
    if table is not None:
        return [(r["name"], float(r["auc"])) for r in table]
    return [(result.architecture, float(result.auc))]


@check("auc_above_bdt")
def auc_above_bdt(inp, result) -> list[CheckResult]:
    bdt = getattr(result, "bdt_auc", None)
    if bdt is None:
        return []
    out = []
    for name, auc in _rows(result):
        if name == "bdt":
            continue
        need = bdt - BDT_MARGIN
        out.append(CheckResult(name="auc_above_bdt", passed=auc > need, measured={name: round(auc, 4)},
                               expected=f"> {need:.4f}", tolerance=BDT_MARGIN,
                               message=f"{name} AUC {auc:.4f} vs BDT baseline {bdt:.4f} - {BDT_MARGIN}"))
    return out


@check("every_auc_above_random")
def every_auc_above_random(inp, result) -> list[CheckResult]:
    sigma = auc_null_sigma(int(result.n_test_signal), int(result.n_test_background))
    need = 0.5 + 3 * sigma
    return [CheckResult(name="every_auc_above_random", passed=auc > need, measured={name: round(auc, 4)},
                        expected=f"> {need:.4f}", tolerance="3 sigma of the random-classifier AUC",
                        message=f"{name} held-out AUC {auc:.4f} vs random 0.5 + 3 x {sigma:.4f}")
            for name, auc in _rows(result)]
