"""Symbolic equivalence up to constant fitting: is a found expression the true law?

`symbolic_match(found, truth, variables, X)`:
1. floats whose removal changes `found` by less than rtol (RMS) are set to zero (GP leftovers
   like 1e-9*x); every other float of `found` becomes a free parameter; the parameters are refitted by least
   squares to the noiseless truth on the points X (free parameters of `truth`, e.g. the `a` in
   a*(1 + x^2), are given generic values first);
2. numeric test: relative RMS deviation of the refitted expression from the truth < rtol;
3. symbolic test: the refitted constants are rounded to simple numbers (small rationals, times
   pi^k or sqrt(pi)^k, or square roots of small rationals) and sympy must simplify either
   found - truth or found / truth to a constant (no variables left).
Both must hold. This is the "symbolic solution" criterion of SRBench (La Cava et al. 2021,
arXiv:2107.14351), with the constants refitted on clean data so that noise in the fitted
constants does not decide the outcome.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy

from hepilot.models.theory.sr.expression import complexity, compile_expression, fit_constants, parametrize
from hepilot.models.theory.sr.parser import is_param

__all__ = ["MatchResult", "symbolic_match", "round_constant", "ExpectedComparison", "compare_to_expected"]

_GENERIC = (1.3, 0.7, 1.9, 0.45, 2.6, 1.15)
_MAX_SYMBOLIC_NODES = 150


@dataclass(frozen=True)
class MatchResult:
    """Outcome of an equivalence test: verdict, numeric deviation, the refitted/rounded forms, why."""

    equivalent: bool
    rel_rms: float
    refitted: sympy.Expr
    rounded: sympy.Expr
    reason: str


def round_constant(v: float, *, rtol: float = 1e-5, max_denominator: int = 60) -> sympy.Expr:
    """A simple exact number within rtol of v: r pi^k or sqrt(r pi^k) with r = p/q, q <= max_denominator,
    |p| <= 1000 and k in {0, +-1, +-2}; the float itself when none is that close."""
    if v == 0 or not math.isfinite(v):
        return sympy.Float(v)
    tol = rtol * abs(v)
    for power in (1, 2):
        for k in (0, 1, -1, 2, -2):
            r = Fraction(abs(v) ** power / math.pi ** k).limit_denominator(max_denominator)
            if r == 0 or abs(r.numerator) > 1000:
                continue
            approx = (float(r) * math.pi ** k) ** (1.0 / power)
            if abs(approx - abs(v)) <= tol:
                exact = sympy.Rational(r.numerator, r.denominator) * sympy.pi ** k
                return (1 if v > 0 else -1) * (exact if power == 1 else sympy.sqrt(exact))
    return sympy.Float(v)


def _prune_negligible(found: sympy.Expr, variables: Sequence[sympy.Symbol], X: np.ndarray,
                      rtol: float) -> sympy.Expr:
    """Set to zero every float whose removal changes the found expression's values by < rtol (RMS)."""
    base = compile_expression(found, variables)(X)
    scale = math.sqrt(float(np.mean(base * base))) or 1.0
    for f in sorted(found.atoms(sympy.Float), key=lambda v: abs(float(v))):
        trial = found.xreplace({f: sympy.Integer(0)})
        vals = compile_expression(trial, variables)(X)
        if np.all(np.isfinite(vals)) and math.sqrt(float(np.mean((vals - base) ** 2))) < rtol * scale:
            found = trial
    return found


def _is_constant(expr: sympy.Expr, variables: set) -> bool:
    return not (expr.free_symbols & variables)


def symbolic_match(found: sympy.Expr, truth: sympy.Expr, variables: Sequence[sympy.Symbol], X: np.ndarray, *,
                   rtol: float = 1e-6, seed: int = 0) -> MatchResult:
    """Test whether `found` equals `truth` up to the values of its fitted constants (see module doc)."""
    tparams = sorted((s for s in truth.free_symbols if is_param(s)), key=lambda s: s.name)
    truth_num = truth.xreplace({p: sympy.Float(_GENERIC[i % len(_GENERIC)]) for i, p in enumerate(tparams)})
    y = compile_expression(truth_num, variables)(X)
    ok = np.isfinite(y)
    X, y = X[ok], y[ok]
    scale = math.sqrt(float(np.mean(y * y))) or 1.0
    found = _prune_negligible(found, variables, X, rtol)
    template, params, start = parametrize(found)
    fit = fit_constants(template, params, variables, X, y, x0=start, n_restarts=4, seed=seed)
    refitted = template.xreplace({p: sympy.Float(v) for p, v in zip(params, fit.values)})
    rel_rms = math.sqrt(fit.chi2 / max(len(y), 1)) / scale
    if not (rel_rms < rtol):
        return MatchResult(False, rel_rms, refitted, refitted, f"numeric mismatch: relative RMS {rel_rms:.3g} "
                                                                f">= {rtol:g} after refitting the constants")
    rounded = template.xreplace({p: round_constant(float(v)) for p, v in zip(params, fit.values)})
    if complexity(rounded) > _MAX_SYMBOLIC_NODES:
        return MatchResult(False, rel_rms, refitted, rounded, "numerically exact but too large for a symbolic check")
    varset = set(variables)
    truth_exact = truth.xreplace({p: sympy.Rational(str(_GENERIC[i % len(_GENERIC)]))
                                  for i, p in enumerate(tparams)})
    for what, combo in (("found/truth", rounded / truth_exact), ("found - truth", rounded - truth_exact)):
        try:
            simple = sympy.simplify(combo)
        except (TypeError, ValueError, RecursionError, AttributeError, ZeroDivisionError):
            continue
        if _is_constant(simple, varset):
            return MatchResult(True, rel_rms, refitted, rounded, f"sympy: {what} simplifies to the constant {simple}")
    vals = np.abs(fit.values)
    if len(vals) and vals.min() < 1e-9 * max(vals.max(), 1e-300):
        return MatchResult(False, rel_rms, refitted, rounded, "has a term the truth lacks (its constant refits to ~0)")
    return MatchResult(False, rel_rms, refitted, rounded, "numerically exact but sympy cannot show equivalence "
                                                          "(constants do not round to simple numbers)")


@dataclass(frozen=True)
class ExpectedComparison:
    """The chosen model against an expected form: symbolic verdict, the form's fitted constants
    (with errors and chi2), and their relative deviations from reference values."""

    expression: str
    equivalent: bool
    reason: str
    fitted: dict[str, float]
    errors: dict[str, float]
    chi2: float
    ndf: int
    reference: dict[str, float]
    deviation: dict[str, float]
    tolerance: float

    @property
    def within_tolerance(self) -> bool | None:
        if not self.deviation:
            return None
        return all(abs(d) <= self.tolerance for d in self.deviation.values())


def compare_to_expected(chosen: sympy.Expr, expected: sympy.Expr, variables: Sequence[sympy.Symbol],
                        X: np.ndarray, y: np.ndarray, *, sigma: np.ndarray | None = None,
                        reference: dict[str, float] | None = None, tolerance: float = 0.02,
                        seed: int = 0) -> ExpectedComparison:
    """Is `chosen` the `expected` form (free constants c0, c1, ...) up to its constants, and what are
    the expected form's constants fitted to (X, y, sigma), relative to `reference`?"""
    match = symbolic_match(chosen, expected, variables, X, seed=seed)
    template, params, start = parametrize(expected)
    fit = fit_constants(template, params, variables, X, y, sigma=sigma, x0=start, n_restarts=4, seed=seed)
    errors = fit.errors if fit.errors is not None else np.full(len(params), np.nan)
    fitted = {p.name: float(v) for p, v in zip(params, fit.values)}
    ref = {k: float(v) for k, v in (reference or {}).items() if k in fitted}
    deviation = {k: (fitted[k] - v) / v for k, v in ref.items() if v != 0}
    return ExpectedComparison(sympy.sstr(expected), match.equivalent, match.reason, fitted,
                              {p.name: float(e) for p, e in zip(params, errors)}, fit.chi2,
                              max(len(y) - len(params), 1), ref, deviation, tolerance)
