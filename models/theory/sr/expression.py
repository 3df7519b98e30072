"""Numeric side of symbolic expressions: evaluation without exec, complexity, constant fitting.

`compile_expression` turns a (whitelisted) sympy tree into nested numpy closures — no code
generation, so nothing is `exec`-ed. `fit_constants` fits the free parameters of an ansatz by
least squares (scipy, Levenberg-Marquardt, a few seeded restarts), minimising
    sum_i ((f(x_i; c) - y_i) / sigma_i)^2          (sigma_i = 1 without errors),
and returns the parameter covariance (J^T J)^-1, scaled by chi2/ndf when no errors are given.
Complexity is a weighted node count of the sympy expression tree (the same for every backend).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy
from scipy.optimize import least_squares

from hepilot.models.theory.sr.parser import is_param, param_symbol

__all__ = ["compile_expression", "evaluate", "complexity", "parametrize", "fit_constants", "FitResult",
           "round_floats", "tidy", "n_constants"]

log = logging.getLogger(__name__)

_NP_FUNCS: dict[type, Callable] = {
    sympy.exp: np.exp, sympy.log: np.log, sympy.sin: np.sin, sympy.cos: np.cos, sympy.tan: np.tan,
    sympy.asin: np.arcsin, sympy.acos: np.arccos, sympy.atan: np.arctan, sympy.sinh: np.sinh,
    sympy.cosh: np.cosh, sympy.tanh: np.tanh, sympy.Abs: np.abs,
}
Compiled = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _build(node: sympy.Basic, index: dict, pindex: dict) -> Compiled:
    if isinstance(node, sympy.Symbol):
        if node in index:
            i = index[node]
            return lambda X, P: X[:, i]
        if node in pindex:
            j = pindex[node]
            return lambda X, P: P[j]
        raise ValueError(f"symbol {node} is neither a variable nor a parameter")
    if node.is_number and not node.free_symbols:
        try:
            v = float(node)
        except TypeError:  # zoo, nan or complex (e.g. after a constant was set to zero): not a real value
            v = math.nan
        return lambda X, P: v
    args = [_build(a, index, pindex) for a in node.args]
    if isinstance(node, sympy.Add):
        def add(X, P):
            out = args[0](X, P)
            for f in args[1:]:
                out = out + f(X, P)
            return out
        return add
    if isinstance(node, sympy.Mul):
        def mul(X, P):
            out = args[0](X, P)
            for f in args[1:]:
                out = out * f(X, P)
            return out
        return mul
    if isinstance(node, sympy.Pow):
        base, expo = args
        e = node.args[1]
        if e.is_number:
            ev = float(e)
            if ev == 2:
                return lambda X, P: base(X, P) ** 2
            if ev == -1:
                return lambda X, P: 1.0 / base(X, P)
            if ev == 0.5:
                return lambda X, P: np.sqrt(base(X, P))
            if ev == -0.5:
                return lambda X, P: 1.0 / np.sqrt(base(X, P))
            return lambda X, P: np.power(base(X, P), ev)
        return lambda X, P: np.power(base(X, P), expo(X, P))
    fn = _NP_FUNCS.get(node.func)
    if fn is None:
        raise ValueError(f"cannot evaluate {node.func}")
    (arg,) = args
    return lambda X, P: fn(arg(X, P))


def compile_expression(expr: sympy.Expr, variables: Sequence[sympy.Symbol],
                       params: Sequence[sympy.Symbol] = ()) -> Callable[[np.ndarray, np.ndarray | None], np.ndarray]:
    """f(X, P) -> y: X (n_points, n_variables) in `variables` order, P (n_params,) in `params` order."""
    index = {s: i for i, s in enumerate(variables)}
    pindex = {p: j for j, p in enumerate(params)}
    inner = _build(expr, index, pindex)

    def f(X: np.ndarray, P: np.ndarray | None = None) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        with np.errstate(all="ignore"):
            out = inner(X, np.asarray(P if P is not None else (), dtype=float))
        out = np.asarray(out, dtype=float)
        return out if out.shape == (X.shape[0],) else np.full(X.shape[0], out, dtype=float)

    return f


def evaluate(expr: sympy.Expr, variables: Sequence[sympy.Symbol], X: np.ndarray) -> np.ndarray:
    """Values of an expression without free parameters at the rows of X."""
    return compile_expression(expr, variables)(X)


_TRANSCENDENTAL = (sympy.exp, sympy.log, sympy.sin, sympy.cos, sympy.tan, sympy.asin, sympy.acos, sympy.atan,
                   sympy.sinh, sympy.cosh, sympy.tanh)


def complexity(expr: sympy.Basic) -> int:
    """Weighted node count of the expression tree: every symbol, number and operation counts 1,
    except that a small integer power (x^2, x^-1, sqrt) costs nothing beyond its Pow node and a
    transcendental function (exp, log, sin, ...) costs 2 — the prior that algebra is simpler than
    transcendental functions (PySR's complexity_of_operators does the same)."""
    if not expr.args:
        return 1
    if isinstance(expr, sympy.Pow) and expr.args[1].is_Rational and abs(expr.args[1]) <= 4 \
            and expr.args[1].q <= 2:
        return 1 + complexity(expr.args[0])
    own = 2 if isinstance(expr, _TRANSCENDENTAL) else 1
    return own + sum(complexity(a) for a in expr.args)


def n_constants(expr: sympy.Basic) -> int:
    """Number of fitted constants: floating-point numbers and free parameters."""
    return len(expr.atoms(sympy.Float)) + sum(1 for s in expr.free_symbols if is_param(s))


def parametrize(expr: sympy.Expr) -> tuple[sympy.Expr, list[sympy.Symbol], np.ndarray]:
    """Replace every float (and keep every free parameter) by parameters c0, c1, ...

    Returns (template, parameters, start values); exact numbers (integers, rationals, pi) stay.
    """
    existing = sorted((s for s in expr.free_symbols if is_param(s)), key=lambda s: int(s.name[1:]))
    floats = sorted(expr.atoms(sympy.Float), key=lambda f: (abs(float(f)), float(f)))
    start = [1.0] * len(existing)
    used = {int(s.name[1:]) for s in existing}
    mapping, params = {}, list(existing)
    k = 0
    for f in floats:
        while k in used:
            k += 1
        p = param_symbol(k)
        used.add(k)
        mapping[f] = p
        params.append(p)
        start.append(float(f))
    return expr.xreplace(mapping), params, np.asarray(start, dtype=float)


@dataclass
class FitResult:
    """Fitted parameter values, their covariance, chi2 (or SSE without errors) and success."""

    values: np.ndarray
    covariance: np.ndarray | None
    chi2: float
    n_points: int
    success: bool

    @property
    def errors(self) -> np.ndarray | None:
        if self.covariance is None:
            return None
        return np.sqrt(np.clip(np.diag(self.covariance), 0, None))


def fit_constants(template: sympy.Expr, params: Sequence[sympy.Symbol], variables: Sequence[sympy.Symbol],
                  X: np.ndarray, y: np.ndarray, *, sigma: np.ndarray | None = None, x0: np.ndarray | None = None,
                  n_restarts: int = 3, seed: int = 0, max_nfev: int = 400) -> FitResult:
    """Least-squares fit of the parameters of `template` to (X, y); restarts drawn around x0."""
    f = compile_expression(template, variables, params)
    y = np.asarray(y, dtype=float)
    w = 1.0 / np.asarray(sigma, dtype=float) if sigma is not None else np.ones_like(y)
    n, p = len(y), len(params)
    penalty = 1e6 * (np.std(y) + np.abs(y).mean() + 1e-300) * w

    def resid(P: np.ndarray) -> np.ndarray:
        r = (f(X, P) - y) * w
        return np.where(np.isfinite(r), r, penalty)

    if p == 0:
        r = resid(np.zeros(0))
        return FitResult(np.zeros(0), None, float(r @ r), n, bool(np.all(np.isfinite(r))))
    rng = np.random.default_rng(seed)
    start = np.ones(p) if x0 is None else np.asarray(x0, dtype=float)
    starts = [start] + [start * np.exp(rng.normal(0, 1, p)) * rng.choice([-1, 1], p) for _ in range(n_restarts)]
    best = None
    for s in starts:
        try:
            res = least_squares(resid, s, method="lm" if n > p else "trf", max_nfev=max_nfev * (p + 1))
        except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
            log.debug("fit failed from %s: %s", s, exc)
            continue
        chi2 = float(res.fun @ res.fun)
        if np.isfinite(chi2) and (best is None or chi2 < best[1]):
            best = (res, chi2)
        if chi2 <= 1e-24 * (y @ y + 1e-300):
            break
    if best is None:
        return FitResult(start, None, float("inf"), n, False)
    res, chi2 = best
    cov = None
    try:
        J = res.jac
        cov = np.linalg.pinv(J.T @ J)
        if sigma is None and n > p:
            cov = cov * chi2 / (n - p)
    except (np.linalg.LinAlgError, ValueError):
        cov = None
    return FitResult(res.x, cov, chi2, n, bool(np.all(np.abs(res.fun) < penalty)))


def round_floats(expr: sympy.Basic, digits: int = 6) -> sympy.Basic:
    """The expression with every float rounded to `digits` significant digits (for display)."""
    return expr.xreplace({f: sympy.Float(float(f"{float(f):.{digits}g}"), digits)
                          for f in expr.atoms(sympy.Float)})


def tidy(expr: sympy.Expr, *, max_nodes: int = 60) -> sympy.Expr:
    """A simpler equivalent form from cheap rewrites (powsimp, factor_terms, cancel for rational
    expressions), kept only if less complex. Full sympy.simplify is avoided: its trig and factor
    passes took seconds per expression on GP output."""
    if complexity(expr) > max_nodes:
        return expr
    best = expr
    rewrites = [sympy.powsimp, sympy.factor_terms]
    if not any(isinstance(a, sympy.Function) for a in sympy.preorder_traversal(expr)):
        rewrites.append(sympy.cancel)
    for rewrite in rewrites:
        try:
            s = rewrite(best)
        except (TypeError, ValueError, RecursionError, AttributeError, sympy.PolynomialError):
            continue
        if not s.has(sympy.I, sympy.zoo, sympy.nan) and complexity(s) < complexity(best):
            best = s
    return best
