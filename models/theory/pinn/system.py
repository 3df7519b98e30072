"""The canonical differential-equation system of a family of Feynman master integrals.

A canonical ("epsilon-factorised") system in variables x = (x_1, ..., x_d) for n master integrals:

    d f / d x_i = eps * A_i(x) f,      f = sum_{k=0}^{K} eps^k f^(k)

so that, order by order in eps (dimensional regulator, D = 4 - 2 eps),

    d f^(0) / d x_i = 0,      d f^(k) / d x_i = A_i(x) f^(k-1)   (k = 1 .. K).

The A_i are n x n matrices of sympy expressions free of eps (for Feynman integrals: sums of
dlog forms c / (x - a)); they are real on the domain, so the real and imaginary parts of f obey
the same system and can be learned separately. Boundary conditions give f^(k) (complex) at one
or more points. For d > 1 the matrices must be integrable: d_i A_j = d_j A_i and [A_i, A_j] = 0,
checked numerically at random points of the domain by `check_integrability`.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy

from hepilot.models.theory.pinn.expressions import ExpressionError, compile_expression, evaluate, parse_expression

__all__ = ["SystemSpecError", "BoundaryCondition", "CanonicalDE", "MAX_MASTERS", "MAX_ORDER", "MAX_VARIABLES"]

MAX_MASTERS = 64
MAX_ORDER = 8
MAX_VARIABLES = 4


class SystemSpecError(ValueError):
    """A DE system specification that cannot be used; `field` names the offending part."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class BoundaryCondition:
    """Values f^(k) of all masters at one point: `values[i, k]` is master i at order eps^k."""

    point: tuple[float, ...]
    values: np.ndarray  # (n_masters, n_orders) complex


@dataclass(frozen=True)
class CanonicalDE:
    """d f / d x_i = eps A_i(x) f expanded to order eps^order; see the module docstring."""

    variables: tuple[str, ...]
    masters: tuple[str, ...]
    matrices: tuple[sympy.Matrix, ...]  # one (n, n) matrix per variable
    order: int
    boundary: tuple[BoundaryCondition, ...]

    @property
    def n_vars(self) -> int:
        return len(self.variables)

    @property
    def n_masters(self) -> int:
        return len(self.masters)

    @property
    def n_orders(self) -> int:
        return self.order + 1

    @property
    def symbols(self) -> tuple[sympy.Symbol, ...]:
        return tuple(sympy.Symbol(v, real=True) for v in self.variables)

    @property
    def is_complex(self) -> bool:
        """True when some boundary value has an imaginary part (then two networks are trained)."""
        return any(np.any(np.abs(b.values.imag) > 0) for b in self.boundary)

    @functools.cached_property
    def _compiled(self) -> list[tuple[int, int, int, Callable[[np.ndarray], np.ndarray]]]:
        return [(i, a, b, compile_expression(mat[a, b], self.symbols))
                for i, mat in enumerate(self.matrices)
                for a in range(self.n_masters) for b in range(self.n_masters) if mat[a, b] != 0]

    def matrix_values(self, points: np.ndarray) -> np.ndarray:
        """A_i at the points: (n_points, n_vars) -> (n_points, n_vars, n, n), real float64."""
        points = np.asarray(points, dtype=float).reshape(-1, self.n_vars)
        out = np.zeros((len(points), self.n_vars, self.n_masters, self.n_masters))
        with np.errstate(divide="ignore", invalid="ignore"):
            for i, a, b, fn in self._compiled:
                val = fn(points)
                if np.any(np.abs(val.imag) > 1e-12 * np.maximum(1.0, np.abs(val.real))):
                    raise SystemSpecError(f"matrices.{self.variables[i]}[{a}][{b}]",
                                          "is complex on the domain; the matrices must be real there")
                out[:, i, a, b] = val.real
        if not np.all(np.isfinite(out)):
            raise SystemSpecError("matrices", "are singular (infinite or NaN) somewhere in the domain; "
                                  "choose a domain away from the singular points")
        return out

    def check_integrability(self, domain: Sequence[tuple[float, float]], *, n_points: int = 16,
                            seed: int = 0) -> float:
        """Largest violation of d_i A_j = d_j A_i and [A_i, A_j] = 0 at random domain points."""
        if self.n_vars == 1:
            return 0.0
        rng = np.random.default_rng(seed)
        lo, hi = np.array(domain, dtype=float).T
        pts = lo + (hi - lo) * rng.random((n_points, self.n_vars))
        env = {s: pts[:, j] for j, s in enumerate(self.symbols)}
        a = self.matrix_values(pts)
        worst = 0.0
        for i in range(self.n_vars):
            for j in range(i + 1, self.n_vars):
                curl = self.matrices[j].diff(self.symbols[i]) - self.matrices[i].diff(self.symbols[j])
                for e in curl:
                    if e != 0:
                        worst = max(worst, float(np.max(np.abs(evaluate(e, env)))))
                comm = a[:, i] @ a[:, j] - a[:, j] @ a[:, i]
                worst = max(worst, float(np.max(np.abs(comm))))
        return worst

    @classmethod
    def from_strings(cls, *, variables: Sequence[str], matrices: Mapping[str, Sequence[Sequence[str]]],
                     order: int, boundary: Sequence[Mapping], masters: Sequence[str] | None = None,
                     ) -> CanonicalDE:
        """Build a system from text: matrices[var][row][col] and boundary [{point: {var: value},
        values: [[f_i^(0), f_i^(1), ...] per master]}]; every problem raises SystemSpecError(field)."""
        variables = tuple(variables)
        if not 1 <= len(variables) <= MAX_VARIABLES:
            raise SystemSpecError("variables", f"give 1 to {MAX_VARIABLES} kinematic variable names")
        for v in variables:
            if not v.isidentifier() or v in ("pi", "I", "j", "E", "eps"):
                raise SystemSpecError("variables", f"'{v}' is not a usable variable name (identifier, not pi/I/E/eps)")
        if len(set(variables)) != len(variables):
            raise SystemSpecError("variables", "variable names must be distinct")
        if not 0 <= order <= MAX_ORDER:
            raise SystemSpecError("order", f"must be between 0 and {MAX_ORDER}")
        symbols = {v: sympy.Symbol(v, real=True) for v in variables}
        missing = [v for v in variables if v not in matrices]
        extra = [k for k in matrices if k not in symbols]
        if missing or extra:
            raise SystemSpecError("matrices", f"need exactly one matrix per variable {list(variables)}; "
                                  + (f"missing {missing}" if missing else f"unknown variables {extra}"))
        mats, n = [], None
        for v in variables:
            rows = matrices[v]
            n = len(rows) if n is None else n
            if not isinstance(rows, Sequence) or isinstance(rows, str) or not 1 <= len(rows) <= MAX_MASTERS:
                raise SystemSpecError(f"matrices.{v}", f"must be a list of 1 to {MAX_MASTERS} rows")
            if len(rows) != n or any(isinstance(r, str) or len(r) != n for r in rows):
                raise SystemSpecError(f"matrices.{v}", f"must be square and of the same size for every variable "
                                      f"(expected {n} x {n}, got rows of lengths {[len(r) for r in rows]})")
            entries = [[None] * n for _ in range(n)]
            for a, row in enumerate(rows):
                for b, text in enumerate(row):
                    try:
                        expr = parse_expression(text, symbols)
                        compile_expression(expr, tuple(symbols.values()))  # numerically evaluable?
                    except ExpressionError as exc:
                        raise SystemSpecError(f"matrices.{v}[{a}][{b}]", str(exc)) from None
                    if expr.has(sympy.I):
                        raise SystemSpecError(f"matrices.{v}[{a}][{b}]", "must be real (no I); canonical "
                                              "matrices of Feynman integrals are real dlog forms")
                    entries[a][b] = expr
            mats.append(sympy.Matrix(entries))
        masters = tuple(masters) if masters else tuple(f"f{i + 1}" for i in range(n))
        if len(masters) != n:
            raise SystemSpecError("masters", f"give {n} names (one per master integral), got {len(masters)}")
        bcs = tuple(_boundary(i, b, variables, n, order) for i, b in enumerate(boundary))
        if not bcs:
            raise SystemSpecError("boundary", "give at least one boundary point with the values of all masters")
        return cls(variables, masters, tuple(mats), order, bcs)


def _boundary(i: int, spec: Mapping, variables: tuple[str, ...], n: int, order: int) -> BoundaryCondition:
    where = f"boundary[{i}]"
    if not isinstance(spec, Mapping) or set(spec) != {"point", "values"}:
        raise SystemSpecError(where, "must be an object {point: {variable: value}, values: [[...] per master]}")
    point = spec["point"]
    if not isinstance(point, Mapping) or set(point) != set(variables):
        raise SystemSpecError(f"{where}.point", f"must give a number for each variable {list(variables)}")
    values = spec["values"]
    if isinstance(values, str) or len(values) != n:
        raise SystemSpecError(f"{where}.values", f"must have one list per master ({n}), got {len(values)}")
    out = np.zeros((n, order + 1), dtype=complex)
    for a, row in enumerate(values):
        if isinstance(row, str) or len(row) < order + 1:
            raise SystemSpecError(f"{where}.values[{a}]", f"must list the eps^0..eps^{order} coefficients "
                                  f"({order + 1} values)")
        for k in range(order + 1):
            try:
                expr = parse_expression(row[k], {})
                out[a, k] = complex(expr.evalf(17))
            except (ExpressionError, TypeError) as exc:
                raise SystemSpecError(f"{where}.values[{a}][{k}]", f"must be a number (may use I, pi, log, "
                                      f"zeta): {exc}") from None
    try:
        pt = tuple(float(point[v]) for v in variables)
    except (TypeError, ValueError):
        raise SystemSpecError(f"{where}.point", "values must be numbers") from None
    return BoundaryCondition(pt, out)
