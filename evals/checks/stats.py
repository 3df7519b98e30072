"""Physics/statistics checks on the stats and quantum tools (nplm_test, two_sample_test, quantum_classifier).

    nplm_calibration_verified  a reported Z rests on a calibration: >= min_toys null toys, and a
                               chi2(dof) p-value only when those toys passed the KS test against
                               chi2(dof); a result without any p-value passes (nothing to verify)
    nplm_null_follows_chi2     the null toys follow chi2(dof) in shape (KS p >= alpha_ks) and in the
                               tail (largest toy: 1 - F(t_max)^n >= alpha_ks): the clipping is tuned
                               as the paper requires; fails (suggesting tune_clipping) if not
    c2st_test_split_balanced   the held-out split has equal class counts, so the binomial null
                               (chance accuracy 1/2) is the right one
    quantum_kernel_valid       the quantum kernel matrix is a Gram matrix of states: diagonal 1
                               (statevector: 1e-9; shots: 5 sigma of the shot noise) and
                               positive semi-definite (smallest eigenvalue >= -tol)
    diphoton_peak_at_higgs     generate_ee_zh: the median m_gg of ZH events lies within 2 GeV of
                               m_H = 125 GeV (Pythia's default; resolution ~2 GeV, so 3 sigma of the
                               median already at ~15 events)
"""
from __future__ import annotations

import math

from hepilot.evals.checks.base import CheckResult, check

__all__ = ["nplm_calibration_verified", "nplm_null_follows_chi2", "c2st_test_split_balanced",
           "quantum_kernel_valid", "diphoton_peak_at_higgs", "HIGGS_MASS"]

HIGGS_MASS = 125.0  # GeV, Pythia 8's default 25:m0


@check("nplm_calibration_verified")
def nplm_calibration_verified(inp, result) -> CheckResult:
    cal = result.calibration
    if result.z is None:
        return CheckResult(name="nplm_calibration_verified", passed=True, measured=cal.get("n_toys"),
                           expected=f">= {cal.get('min_toys')} toys for a p-value",
                           message="no p-value or Z reported: the setup is uncalibrated")
    enough = cal.get("n_toys", 0) >= cal.get("min_toys", math.inf)
    chi2_ok = result.p_method != "chi2" or bool(cal.get("chi2_verified"))
    ok = enough and chi2_ok
    why = ("" if ok else " (too few null toys)" if not enough else " (chi2 law used without passing its KS test)")
    return CheckResult(name="nplm_calibration_verified", passed=ok,
                       measured={"n_toys": cal.get("n_toys"), "ks_pvalue": cal.get("ks_pvalue"),
                                 "method": result.p_method},
                       expected={"n_toys": f">= {cal.get('min_toys')}", "ks_pvalue": f">= {cal.get('alpha_ks')}"},
                       message=f"Z = {result.z:.2f} from a {result.p_method} p-value{why}")


@check("nplm_null_follows_chi2")
def nplm_null_follows_chi2(inp, result) -> list[CheckResult]:
    cal = result.calibration
    if not cal.get("n_toys"):
        return []
    ks = cal.get("ks_pvalue", float("nan"))
    tail = cal.get("tail_pvalue", float("nan"))
    alpha = cal.get("alpha_ks", 0.01)
    ok = bool(ks >= alpha and tail >= alpha)
    hint = "" if ok else "; rerun with tune_clipping=true or another weight_clipping"
    return [CheckResult(name="nplm_null_follows_chi2", passed=ok,
                        measured={"ks_pvalue": round(float(ks), 4), "tail_pvalue": round(float(tail), 4)},
                        expected=f">= {alpha}", tolerance=f"KS and largest-toy tests at {alpha}",
                        message=f"{cal.get('n_toys')} null toys: mean t {cal.get('mean_t', float('nan')):.2f} vs "
                                f"dof {result.dof}, KS p {ks:.3g}, largest toy {cal.get('max_t', float('nan')):.1f} "
                                f"(tail p {tail:.3g}){hint}")]


@check("c2st_test_split_balanced")
def c2st_test_split_balanced(inp, result) -> CheckResult:
    a, b = int(result.n_test_a), int(result.n_test_b)
    return CheckResult(name="c2st_test_split_balanced", passed=a == b and a > 0, measured={"a": a, "b": b},
                       expected="equal counts", message=f"test split holds {a} events of A and {b} of B")


@check("quantum_kernel_valid")
def quantum_kernel_valid(inp, result) -> list[CheckResult]:
    k = getattr(result, "kernel_checks", None)
    if not k:
        return []
    shots = k.get("shots")
    # a fidelity estimated from S shots has sigma <= 1/(2 sqrt(S)); 5 sigma, plus a floor for round-off
    tol = 1e-9 if not shots else 5 * 0.5 / math.sqrt(shots)
    diag_ok = k["max_diag_deviation"] <= tol
    psd_tol = tol * k.get("n", 1)
    psd_ok = k["min_eigenvalue"] >= -max(psd_tol, 1e-9)
    return [CheckResult(name="quantum_kernel_valid", passed=diag_ok and psd_ok,
                        measured={"max_diag_deviation": k["max_diag_deviation"], "min_eigenvalue": k["min_eigenvalue"]},
                        expected={"max_diag_deviation": f"<= {tol:.2g}", "min_eigenvalue": f">= {-max(psd_tol, 1e-9):.2g}"},
                        message=f"training kernel ({k.get('n')} x {k.get('n')}, "
                                f"{'statevector' if not shots else f'{shots} shots'}): diag within "
                                f"{k['max_diag_deviation']:.2g} of 1, smallest eigenvalue {k['min_eigenvalue']:.3g}")]


@check("diphoton_peak_at_higgs")
def diphoton_peak_at_higgs(inp, result) -> list[CheckResult]:
    peak = (getattr(result, "m_gg_median", None) or {}).get("zh")
    if peak is None:
        return []
    return [CheckResult(name="diphoton_peak_at_higgs", passed=abs(peak - HIGGS_MASS) < 2.0, measured=round(peak, 2),
                        expected=HIGGS_MASS, tolerance=2.0,
                        message=f"median m_gg of ZH events {peak:.2f} GeV vs m_H = {HIGGS_MASS} GeV")]
