"""Physics checks for symbolic regression and the QED rediscovery (tools in hepilot.tools.symbolic).

- sr_fit_quality: the chosen expression describes the data — with per-point errors
  chi2/ndf <= 1 + 5 sqrt(2/ndf) (about 5 standard deviations of the chi2/ndf distribution),
  without errors R^2 >= 0.9 (a constant has R^2 = 0);
- sr_expected_form: when an expected form is given (e.g. c0*(1 + cos_theta**2) from
  qed_angular_distribution), the chosen expression is that form up to its constants (sympy) and
  the form's fitted constants agree with the reference values within the stated tolerance;
- sr_dimensional_consistency: when units are given, the chosen expression is consistent;
- qed_total_cross_section: the generator's sigma equals 4 pi alpha^2 / (3 s) with the alpha it
  used, within 1e-3 relative (muon-mass corrections are ~2e-4 at 10 GeV);
- qed_angular_shape: a (1 + b cos^2) fitted to the histogram has b = 1 within 3 standard
  errors (99.7% confidence) and a chi2 p-value >= 0.001.
"""
from __future__ import annotations

import math
from typing import Any

from scipy import stats

from hepilot.evals.checks.base import CheckResult, check

__all__ = ["sr_fit_quality", "sr_expected_form", "sr_dimensional_consistency", "qed_total_cross_section",
           "qed_angular_shape"]


@check("sr_fit_quality")
def sr_fit_quality(inp: Any, result: Any) -> CheckResult:
    c = result.chosen
    if c.chi2 is not None and c.ndf:
        ratio = c.chi2 / c.ndf
        limit = 1.0 + 5.0 * math.sqrt(2.0 / c.ndf)
        ok = ratio <= limit
        return CheckResult(name="sr_fit_quality", passed=ok, measured=ratio, expected=f"<= {limit:.3g}",
                           tolerance="5 sigma of chi2/ndf", message=f"chosen expression chi2/ndf = {c.chi2:.1f}/"
                           f"{c.ndf} = {ratio:.2f} ({'<=' if ok else '>'} {limit:.2f})")
    ok = c.r2 is not None and c.r2 >= 0.9
    return CheckResult(name="sr_fit_quality", passed=ok, measured=c.r2, expected=">= 0.9", tolerance=0.9,
                       message=f"chosen expression R^2 = {c.r2:.6g} ({'>=' if ok else '<'} 0.9)")


@check("sr_expected_form")
def sr_expected_form(inp: Any, result: Any) -> list[CheckResult]:
    e = result.expected
    if e is None:
        return []
    out = [CheckResult(name="sr_expected_form", passed=e.equivalent, measured=result.chosen.expression,
                       expected=e.expression, message=("chosen expression is " if e.equivalent else
                                                       "chosen expression is NOT ") + f"{e.expression} up to "
                       f"constants ({e.reason})")]
    for name, dev in e.deviation.items():
        ok = abs(dev) <= e.tolerance
        out.append(CheckResult(name="sr_expected_constant", passed=ok, measured=e.fitted[name],
                               expected=e.reference[name], tolerance=e.tolerance,
                               message=f"{name} = {e.fitted[name]:.6g} +- {e.errors.get(name, float('nan')):.2g} vs "
                               f"reference {e.reference[name]:.6g}: {dev:+.2%} ({'within' if ok else 'outside'} "
                               f"{e.tolerance:.0%})"))
    return out


@check("sr_dimensional_consistency")
def sr_dimensional_consistency(inp: Any, result: Any) -> list[CheckResult]:
    c = result.chosen
    if c.dimensionally_consistent is None:
        return []
    return [CheckResult(name="sr_dimensional_consistency", passed=c.dimensionally_consistent,
                        measured=c.dimension_note, message=f"chosen expression: {c.dimension_note}")]


@check("qed_total_cross_section")
def qed_total_cross_section(inp: Any, result: Any) -> CheckResult:
    rel = result.sigma_pb / result.sigma_expected_pb - 1.0
    ok = abs(rel) <= 1e-3
    return CheckResult(name="qed_total_cross_section", passed=ok, measured=result.sigma_pb,
                       expected=result.sigma_expected_pb, tolerance=1e-3,
                       message=f"sigmaGen = {result.sigma_pb:.6g} pb vs 4 pi alpha^2/(3s) = "
                       f"{result.sigma_expected_pb:.6g} pb with alpha = 1/{1 / result.alpha_em:.3f} ({rel:+.1e})")


@check("qed_angular_shape")
def qed_angular_shape(inp: Any, result: Any) -> CheckResult:
    pull = (result.b_fit - 1.0) / result.b_fit_err
    p_value = float(stats.chi2.sf(result.shape_chi2, result.shape_ndf))
    ok = abs(pull) <= 3.0 and p_value >= 1e-3
    return CheckResult(name="qed_angular_shape", passed=ok, measured=result.b_fit, expected=1.0,
                       tolerance="3 standard errors, chi2 p >= 0.001",
                       message=f"a(1 + b cos^2) fit: b = {result.b_fit:.4f} +- {result.b_fit_err:.4f} "
                       f"({pull:+.1f} sigma from 1), chi2/ndf = {result.shape_chi2:.1f}/{result.shape_ndf} "
                       f"(p = {p_value:.2g})")
