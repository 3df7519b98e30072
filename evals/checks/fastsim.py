"""Physics checks on fast-simulation results (fastsim_gan).

    fastsim_finite           the generated sample has no NaN or inf values
    fastsim_physical_ranges  jets: 0 <= pT_rel <= 1; CCQE: |cos theta_mu| <= 1, m_mu < E_mu < E_nu
    fastsim_w1_vs_truth      every W1 metric of generated vs simulated events is below
                             W1_TOLERANCE x the same metric between two simulated samples (the
                             statistical floor); a trained generator is typically within 2-5x
    fastsim_classifier_auc   the classifier two-sample AUC (generated vs simulated) is <= 0.55,
                             the fast-simulation goal (0.5 = indistinguishable)
    fastsim_speedup          generation is >= 25x faster than the simulation it replaces
                             (arXiv:2502.20244 reports 25.7x for a GAN replacing NuWro on a CPU)
"""
from __future__ import annotations

import math

from hepilot.evals.checks.base import CheckResult, check
from hepilot.models.events.ccqe import MUON_MASS

__all__ = ["fastsim_finite", "fastsim_physical_ranges", "fastsim_w1_vs_truth", "fastsim_classifier_auc",
           "fastsim_speedup", "AUC_GOAL", "SPEEDUP_GOAL", "W1_TOLERANCE"]

AUC_GOAL = 0.55
SPEEDUP_GOAL = 25.0
W1_TOLERANCE = 10.0


@check("fastsim_finite")
def fastsim_finite(inp, result) -> CheckResult:
    n = int(result.n_nonfinite)
    return CheckResult(name="fastsim_finite", passed=n == 0, measured=n, expected=0,
                       message=f"{n} non-finite values in {result.n_generated} generated events")


@check("fastsim_physical_ranges")
def fastsim_physical_ranges(inp, result) -> list[CheckResult]:
    r = result.ranges
    out = []
    if "pt_rel" in r:
        lo, hi = r["pt_rel"]
        out.append(CheckResult(name="fastsim_physical_ranges", passed=lo >= 0.0 and hi <= 1.0, measured=[lo, hi],
                               expected=[0.0, 1.0], message=f"constituent pT_rel in [{lo:.3g}, {hi:.3g}], must lie in [0, 1]"))
    if "cos_theta" in r:
        lo, hi = r["cos_theta"]
        out.append(CheckResult(name="fastsim_physical_ranges", passed=lo >= -1.0 and hi <= 1.0, measured=[lo, hi],
                               expected=[-1.0, 1.0], message=f"cos theta_mu in [{lo:.4g}, {hi:.4g}], must lie in [-1, 1]"))
    if "e_mu_minus_e_nu" in r:
        d_max, e_min = r["e_mu_minus_e_nu"][1], r["e_mu"][0]
        ok = d_max < 0.0 and e_min > MUON_MASS
        out.append(CheckResult(name="fastsim_physical_ranges", passed=ok, measured={"max(E_mu - E_nu)": d_max,
                               "min(E_mu)": e_min}, expected=f"E_mu - E_nu < 0 and E_mu > m_mu = {MUON_MASS} GeV",
                               message=f"max(E_mu - E_nu) = {d_max:.4g} GeV, min E_mu = {e_min:.4g} GeV"))
    if not out:
        out.append(CheckResult(name="fastsim_physical_ranges", passed=False, message="the result reports no ranges"))
    return out


@check("fastsim_w1_vs_truth")
def fastsim_w1_vs_truth(inp, result) -> list[CheckResult]:
    out = []
    for key, ref in result.metrics.items():
        if not key.startswith("truth_") or "_err" in key:
            continue
        name = key.removeprefix("truth_")
        val = result.metrics.get(name)
        if val is None or not math.isfinite(ref) or ref <= 0:
            continue
        ratio = val / ref
        out.append(CheckResult(name="fastsim_w1_vs_truth", passed=math.isfinite(ratio) and ratio <= W1_TOLERANCE,
                               measured=round(ratio, 3), expected=f"<= {W1_TOLERANCE}", tolerance=W1_TOLERANCE,
                               message=f"{name}: generated {val:.4g} vs simulation-to-simulation {ref:.4g} "
                                       f"({ratio:.1f}x)"))
    return out


@check("fastsim_classifier_auc")
def fastsim_classifier_auc(inp, result) -> CheckResult:
    auc, err = result.classifier_auc, result.classifier_auc_err
    return CheckResult(name="fastsim_classifier_auc", passed=auc <= AUC_GOAL, measured=round(auc, 4),
                       expected=f"<= {AUC_GOAL}", tolerance=round(err, 4),
                       message=f"classifier AUC generated vs simulated {auc:.3f} +- {err:.3f} (goal <= {AUC_GOAL})")


@check("fastsim_speedup")
def fastsim_speedup(inp, result) -> CheckResult:
    s = result.speedup
    ok = s is not None and math.isfinite(s) and s >= SPEEDUP_GOAL
    return CheckResult(name="fastsim_speedup", passed=ok, measured=None if s is None else round(s, 2),
                       expected=f">= {SPEEDUP_GOAL}",
                       message=f"generation {s:.1f}x faster than the simulation (goal >= {SPEEDUP_GOAL:g}x)"
                       if s is not None else "speed of the simulation unknown (sample without timing)")
