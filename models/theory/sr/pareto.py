"""Candidates, their scores on data, the complexity-vs-loss Pareto front and model selection.

Loss: the mean squared error, or chi2/ndf when per-point errors sigma are given.
    R^2  = 1 - SSE / sum (y - mean y)^2
    BIC  = n ln(max(MSE, floor)) + k ln n      (without errors; floor = 1e-12 var(y) so that
                                                numerically exact candidates tie on the fit term)
    BIC  = chi2 + k ln n                        (with errors)
with k the number of fitted constants and n the number of points.
Selection criteria (stated in every result):
    "bic"      minimum BIC; ties (within 1e-6) go to the lower complexity. The default.
    "pysr"     PySR's rule: among candidates with loss <= 1.5 x the best loss, the highest score
               -d ln(loss) / d complexity between neighbours on the front.
    "accuracy" the simplest candidate whose loss is within 1% of the best loss.
    "pvalue"   with errors: the simplest candidate whose chi2 p-value is >= 0.01, i.e. the simplest
               law the data cannot reject at 99% confidence (min BIC when none or no errors).
    "auto"     "pvalue" when per-point errors are given, else "bic".
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy
from scipy import stats

from hepilot.models.theory.sr.expression import complexity, compile_expression, n_constants, round_floats
from hepilot.models.theory.sr.units import DimensionCheck

__all__ = ["Candidate", "score_expression", "pareto_front", "select_model", "CRITERIA", "bic"]

CRITERIA: dict[str, str] = {
    "bic": "minimum BIC = n ln(MSE) + k ln(n) (chi2 + k ln(n) with errors; k = fitted constants), "
           "ties to the simpler expression",
    "pysr": "PySR's rule: highest score -dln(loss)/dcomplexity among candidates with loss <= 1.5 x best",
    "accuracy": "simplest expression whose loss is within 1% of the best loss",
    "pvalue": "simplest expression whose chi2 p-value is >= 0.01 (needs per-point errors; else min BIC)",
    "auto": "with per-point errors the simplest expression with chi2 p-value >= 0.01, without them min BIC",
}


@dataclass
class Candidate:
    """One scored expression: numbers on the data, where it came from and its dimensional check."""

    expr: sympy.Expr
    complexity: int
    mse: float
    r2: float
    n_points: int
    n_constants: int
    chi2: float | None = None
    origin: str = "gp"
    parents: tuple[int, ...] = ()
    concepts: tuple[str, ...] = ()
    id: int = -1
    dimension: DimensionCheck | None = None
    extra: dict = field(default_factory=dict)

    @property
    def ndf(self) -> int:
        return max(self.n_points - self.n_constants, 1)

    @property
    def loss(self) -> float:
        return self.chi2 / self.ndf if self.chi2 is not None else self.mse

    def to_dict(self, *, digits: int = 6) -> dict:
        shown = round_floats(self.expr, digits)
        out = {"expression": str(shown), "latex": sympy.latex(shown), "complexity": self.complexity,
               "loss": _finite(self.loss), "mse": _finite(self.mse), "r2": _finite(self.r2),
               "n_constants": self.n_constants, "origin": self.origin, "id": self.id}
        if self.chi2 is not None:
            out["chi2"] = _finite(self.chi2)
            out["ndf"] = self.ndf
        if self.dimension is not None:
            out["dimensionally_consistent"] = self.dimension.consistent
            out["dimension_note"] = self.dimension.message
        return out


def _finite(v: float) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


def score_expression(expr: sympy.Expr, variables: Sequence[sympy.Symbol], X: np.ndarray, y: np.ndarray, *,
                     sigma: np.ndarray | None = None, origin: str = "gp", parents: tuple[int, ...] = (),
                     concepts: tuple[str, ...] = ()) -> Candidate:
    """Evaluate a parameter-free expression on the data and return its Candidate."""
    pred = compile_expression(expr, variables)(X)
    y = np.asarray(y, dtype=float)
    resid = pred - y
    finite = bool(np.all(np.isfinite(resid)))
    sse = float(resid @ resid) if finite else math.inf
    sst = float(((y - y.mean()) ** 2).sum())
    mse = sse / len(y)
    r2 = 1.0 - sse / sst if sst > 0 else (1.0 if sse == 0 else -math.inf)
    chi2 = None
    if sigma is not None:
        pulls = resid / np.asarray(sigma, dtype=float)
        chi2 = float(pulls @ pulls) if finite else math.inf
    return Candidate(expr=expr, complexity=complexity(expr), mse=mse, r2=r2, n_points=len(y),
                     n_constants=n_constants(expr), chi2=chi2, origin=origin, parents=parents, concepts=concepts)


def bic(c: Candidate, *, var_y: float) -> float:
    """BIC of a candidate (see module docstring); +inf when the fit is not finite."""
    if not math.isfinite(c.mse):
        return math.inf
    k, n = c.n_constants, c.n_points
    if c.chi2 is not None:
        return c.chi2 + k * math.log(n)
    floor = max(1e-12 * var_y, 1e-300)
    return n * math.log(max(c.mse, floor)) + k * math.log(n)


def pareto_front(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Non-dominated candidates (lower complexity, lower loss), sorted by complexity."""
    best: dict[int, Candidate] = {}
    for c in candidates:
        if not math.isfinite(c.loss):
            continue
        old = best.get(c.complexity)
        if old is None or c.loss < old.loss:
            best[c.complexity] = c
    front: list[Candidate] = []
    for comp in sorted(best):
        c = best[comp]
        if not front or c.loss < front[-1].loss * (1 - 1e-9):
            front.append(c)
    return front


def select_model(front: Sequence[Candidate], *, criterion: str = "bic", var_y: float = 1.0) -> Candidate:
    """The chosen model of a Pareto front by the named criterion (see CRITERIA)."""
    if not front:
        raise ValueError("empty Pareto front: no candidate produced finite predictions")
    if criterion not in CRITERIA:
        raise ValueError(f"unknown selection criterion {criterion!r}; use one of {sorted(CRITERIA)}")
    if criterion in ("auto", "pvalue"):
        with_errors = [c for c in front if c.chi2 is not None]
        if with_errors:
            good = [c for c in with_errors if stats.chi2.sf(c.chi2, c.ndf) >= 0.01]
            if good:
                return min(good, key=lambda c: c.complexity)
        criterion = "bic"
    if criterion == "bic":
        scores = [bic(c, var_y=var_y) for c in front]
        low = min(scores)
        tol = 1e-6 * max(abs(low), 1.0)
        return min((c for c, s in zip(front, scores) if s <= low + tol), key=lambda c: c.complexity)
    best_loss = min(c.loss for c in front)
    if criterion == "accuracy":
        return min((c for c in front if c.loss <= 1.01 * best_loss + 1e-300), key=lambda c: c.complexity)
    # PySR "best": score = -d ln(loss) / d complexity relative to the previous front member
    eligible, prev, best, best_score = [], None, None, -math.inf
    for c in front:
        score = 0.0
        if prev is not None:
            lo, lp = max(c.loss, 1e-300), max(prev.loss, 1e-300)
            score = -(math.log(lo) - math.log(lp)) / max(c.complexity - prev.complexity, 1)
        prev = c
        if c.loss <= 1.5 * best_loss:
            eligible.append((score, c))
    for score, c in eligible:
        if score > best_score:
            best, best_score = c, score
    return best if best is not None else front[-1]


