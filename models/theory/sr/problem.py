"""A regression problem (data, variables, units) and the one path every expression takes through it.

`Problem.evaluate(text_or_expr, ...)` = safe parse -> fit constants -> score -> drop constants whose
removal leaves the loss unchanged -> dimensional check. `deletion_variants` drops one term of a sum
at a time and refits (GP output often carries small spurious terms). Plain GP output keeps its
constants as start values and is refitted (with per-point errors when given); an ansatz with free
parameters c0, c1, ... is fitted from several seeded starts. Symbols are real, and positive for
columns whose values are all > 0 (so sympy may use sqrt(x^2) = x on the data's domain).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy

from hepilot.models.theory.sr.equivalence import round_constant
from hepilot.models.theory.sr.expression import fit_constants, parametrize, tidy
from hepilot.models.theory.sr.pareto import Candidate, pareto_front, score_expression
from hepilot.models.theory.sr.parser import ExpressionError, is_param, make_symbols, parse_expression
from hepilot.models.theory.sr.units import DimensionCheck, check_dimensions, parse_unit

__all__ = ["Problem"]

log = logging.getLogger(__name__)
_NOT_FINITE = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I)


@dataclass
class Problem:
    """Data (X: (n_points, n_variables), y, optional errors sigma), variable symbols and units."""

    X: np.ndarray
    y: np.ndarray
    names: list[str]
    symbols: list[sympy.Symbol]
    sigma: np.ndarray | None = None
    units: dict[str, str] | None = None
    target_unit: str | None = None
    natural_units: bool = False
    seed: int = 0
    _n_evaluated: int = field(default=0, repr=False)

    @classmethod
    def build(cls, X: np.ndarray, y: np.ndarray, *, names: Sequence[str], sigma: np.ndarray | None = None,
              units: Mapping[str, str] | None = None, target_unit: str | None = None,
              natural_units: bool = False, seed: int = 0) -> Problem:
        """Validate shapes, values and units; raise ValueError naming what is wrong."""
        X = np.array(X, dtype=float)
        y = np.array(y, dtype=float).reshape(-1)
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[0] != y.shape[0]:
            raise ValueError(f"X must be (n_points, n_variables) with n_points = len(y) = {len(y)}, got {X.shape}")
        if len(names) != X.shape[1]:
            raise ValueError(f"{len(names)} variable names for {X.shape[1]} columns")
        if X.shape[0] < 3:
            raise ValueError(f"need at least 3 data points, got {X.shape[0]}")
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
            raise ValueError("data contain NaN or infinite values; drop or fix those rows")
        if sigma is not None:
            sigma = np.asarray(sigma, dtype=float).reshape(-1)
            if sigma.shape != y.shape or not np.all(np.isfinite(sigma)) or np.any(sigma <= 0):
                raise ValueError("errors (sigma) must be finite, > 0 and one per data point")
        positive = [n for n, col in zip(names, X.T) if np.all(col > 0)]
        sym = make_symbols(names, positive=positive)
        if units:
            unknown = sorted(set(units) - set(names))
            if unknown:
                raise ValueError(f"units given for unknown variables {unknown}; variables are {list(names)}")
            for u in list(units.values()) + [target_unit]:
                parse_unit(u, natural=natural_units)
        return cls(X, y, list(names), [sym[n] for n in names], sigma, dict(units) if units else None,
                   target_unit, natural_units, seed)

    @property
    def symbol_map(self) -> dict[str, sympy.Symbol]:
        return dict(zip(self.names, self.symbols))

    @property
    def var_y(self) -> float:
        return float(np.var(self.y))

    def parse(self, text: str, *, dialect: str = "standard") -> sympy.Expr:
        return parse_expression(text, self.symbol_map, dialect=dialect)

    def dimension(self, expr: sympy.Expr) -> DimensionCheck | None:
        if not self.units and not self.target_unit:
            return None
        units = {s: (self.units or {}).get(n) for n, s in zip(self.names, self.symbols)}
        return check_dimensions(expr, units, self.target_unit, natural=self.natural_units)

    def evaluate(self, source: str | sympy.Expr, *, origin: str, dialect: str = "standard",
                 parents: tuple[int, ...] = (), concepts: tuple[str, ...] = (), n_restarts: int = 0,
                 refit: bool = True, max_params: int | None = None) -> Candidate | None:
        """Parse (if text), fit constants, score; None when the expression is invalid or not finite
        (or has more than max_params constants to fit)."""
        try:
            expr = self.parse(source, dialect=dialect) if isinstance(source, str) else source
        except ExpressionError as exc:
            log.debug("rejected %r: %s", source, exc)
            return None
        if expr.has(*_NOT_FINITE):
            return None
        is_ansatz = any(is_param(s) for s in expr.free_symbols)
        if is_ansatz:
            n_restarts = max(n_restarts, 2)
        template, params, start = parametrize(expr)
        if max_params is not None and len(params) > max_params:
            return None
        self._n_evaluated += 1
        if params and refit:
            fit = fit_constants(template, params, self.symbols, self.X, self.y, sigma=self.sigma, x0=start,
                                n_restarts=n_restarts, seed=self.seed + self._n_evaluated,
                                max_nfev=100 if is_ansatz else 30)
            if not math.isfinite(fit.chi2):
                return None
            expr = template.xreplace({p: sympy.Float(v) for p, v in zip(params, fit.values)})
        elif is_ansatz:
            return None
        cand = score_expression(expr, self.symbols, self.X, self.y, sigma=self.sigma, origin=origin,
                                parents=parents, concepts=concepts)
        if not math.isfinite(cand.loss):
            return None
        cand = self._prune(cand)
        cand.dimension = self.dimension(cand.expr)
        return cand

    def _prune(self, cand: Candidate) -> Candidate:
        """Drop constants whose removal leaves the loss unchanged (within 1e-6 relative, or at the
        numerical floor 1e-20 var(y)) — leftovers like 1e-19*x of a fitted '... + c3' term — and
        replace constants by simple exact numbers (1.00000000003 -> 1, 0.0795774715 -> 1/(4 pi))
        when that leaves the loss unchanged in the same sense."""
        floor = 1e-20 * max(self.var_y, 1e-300)
        for f in sorted(cand.expr.atoms(sympy.Float), key=lambda v: abs(float(v))):
            if f not in cand.expr.atoms(sympy.Float):
                continue
            # denominators <= 12: a noisy constant must not land on a "simple" number by coincidence
            for value in (sympy.Integer(0), round_constant(float(f), rtol=1e-6, max_denominator=12)):
                if isinstance(value, sympy.Float):
                    continue
                reduced = cand.expr.xreplace({f: value})
                if reduced.has(*_NOT_FINITE) or not reduced.free_symbols & set(self.symbols):
                    continue
                trial = score_expression(reduced, self.symbols, self.X, self.y, sigma=self.sigma,
                                         origin=cand.origin, parents=cand.parents, concepts=cand.concepts)
                if math.isfinite(trial.loss) and trial.mse <= cand.mse * (1 + 1e-6) + floor and (
                        trial.chi2 is None or trial.chi2 <= cand.chi2 * (1 + 1e-6) + 1e-12):
                    cand = trial
                    break
        return cand

    def deletion_variants(self, cand: Candidate, *, max_terms: int = 12) -> list[Candidate]:
        """Each variant drops one term of one sum in the expression and refits the constants
        (a standard SR refinement: GP often carries small spurious terms such as 5*x next to 340*x^2)."""
        variants, seen = [], set()
        for node in sympy.preorder_traversal(cand.expr):
            if not isinstance(node, sympy.Add) or len(node.args) > max_terms:
                continue
            for term in node.args:
                rest = sympy.Add(*[a for a in node.args if a is not term])
                trial = cand.expr.xreplace({node: rest})
                if trial in seen or not trial.free_symbols & set(self.symbols):
                    continue
                seen.add(trial)
                c = self.evaluate(trial, origin=f"{cand.origin}+deletion", parents=(cand.id,),
                                  concepts=cand.concepts)
                if c is not None:
                    variants.append(c)
        return variants

    def tidy_front(self, candidates: Sequence[Candidate]) -> list[Candidate]:
        """Pareto front after simplifying its members with sympy (kept when the loss is unchanged)."""
        front = pareto_front(candidates)
        out = list(candidates)
        for c in front:
            s = tidy(c.expr)
            if s == c.expr:
                continue
            new = score_expression(s, self.symbols, self.X, self.y, sigma=self.sigma, origin=c.origin,
                                   parents=c.parents, concepts=c.concepts)
            if math.isfinite(new.loss) and new.loss <= c.loss * (1 + 1e-6) + 1e-300:
                new.dimension = self.dimension(s)
                new.id = c.id
                new.extra = dict(c.extra)
                out.append(new)
        return pareto_front(out)
