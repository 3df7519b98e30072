"""Physics checks on solutions of Feynman-integral differential equations (tool solve_feynman_de).

- feynman_de_residual: the learned functions satisfy the DE — RMS of the scaled residual
  (d_i f^(k) - A_i f^(k-1)) / max(1, |f_b|) on the output grid below the tolerance;
- feynman_boundary_values: the boundary values are reproduced — largest |f_NN - f_b| / max(1, |f_b|)
  at the boundary points below the tolerance;
- feynman_reference_agreement: MMRD against the analytic (shipped families) or numerical
  (solve_ivp, user systems) reference below the tolerance.
The tolerances are stored on the result (they depend on the preset unless given explicitly).
"""
from __future__ import annotations

from typing import Any

from hepilot.evals.checks.base import CheckResult, check

__all__ = ["feynman_de_residual", "feynman_boundary_values", "feynman_reference_agreement"]


@check("feynman_de_residual")
def feynman_de_residual(inp: Any, result: Any) -> CheckResult:
    tol = result.tolerances["residual"]
    ok = result.residual_rms <= tol
    return CheckResult(name="feynman_de_residual", passed=ok, measured=result.residual_rms, expected=f"<= {tol:g}",
                       tolerance=tol, message=f"scaled DE residual RMS {result.residual_rms:.2e} on "
                       f"{result.n_grid_points} grid points ({'<=' if ok else '>'} {tol:g})")


@check("feynman_boundary_values")
def feynman_boundary_values(inp: Any, result: Any) -> CheckResult:
    tol = result.tolerances["boundary"]
    ok = result.boundary_max_rel_diff <= tol
    return CheckResult(name="feynman_boundary_values", passed=ok, measured=result.boundary_max_rel_diff,
                       expected=f"<= {tol:g}", tolerance=tol,
                       message=f"largest scaled boundary mismatch {result.boundary_max_rel_diff:.2e} "
                       f"({'<=' if ok else '>'} {tol:g})")


@check("feynman_reference_agreement")
def feynman_reference_agreement(inp: Any, result: Any) -> CheckResult:
    tol = result.tolerances["mmrd"]
    if result.mmrd is None:
        return CheckResult(name="feynman_reference_agreement", passed=True, tolerance=tol,
                           message="no reference available for this system: agreement not tested")
    ok = result.mmrd <= tol
    return CheckResult(name="feynman_reference_agreement", passed=ok, measured=result.mmrd, expected=f"<= {tol:g}",
                       tolerance=tol, message=f"MMRD {result.mmrd:.2e} vs the {result.reference} reference "
                       f"(max rel. diff {result.max_rel_diff:.2e}; {'<=' if ok else '>'} {tol:g})")
