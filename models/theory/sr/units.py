"""Dimensional analysis for symbolic regression: unit strings, dimension propagation, Buckingham pi.

A dimension is a vector of rational exponents over the SI base (M, L, T, I, Theta, N, J). Unit
strings ("kg m/s^2", "GeV^-2", "pb", "1") are parsed by the safe expression parser over a fixed
table of unit names. In natural units (hbar = c = 1) every dimension collapses to a power of
energy: [M] = E, [L] = [T] = E^-1.

Propagation through an expression (PySR's convention for fitted constants):
    fitted constants (floats, parameters c0, c1, ...) are wildcards: they may carry any unit;
    exact numbers (integers, rationals, pi) are dimensionless;
    x + y needs equal dimensions (a wildcard term adapts); x * y adds exponents (a wildcard
    factor makes the product a wildcard); x ** p needs a dimensionless exponent;
    exp, log, sin, ... need a dimensionless (or wildcard) argument and return a dimensionless value.
A candidate is flagged inconsistent when a rule is broken or its dimension differs from the target's.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import sympy

from hepilot.models.theory.sr.parser import ExpressionError, is_param, parse_expression

__all__ = ["Dimension", "DimensionCheck", "UNITS", "parse_unit", "check_dimensions", "format_dimension",
           "monomial_exponents"]

BASE = ("M", "L", "T", "I", "Theta", "N", "J")
Dimension = tuple[Fraction, ...]
_DIMLESS: Dimension = (Fraction(0),) * len(BASE)


def _d(**kw: float) -> Dimension:
    return tuple(Fraction(kw.get(b, 0)).limit_denominator(12) for b in BASE)


_ENERGY = _d(M=1, L=2, T=-2)
_AREA = _d(L=2)
UNITS: dict[str, Dimension] = {
    "m": _d(L=1), "cm": _d(L=1), "mm": _d(L=1), "um": _d(L=1), "nm": _d(L=1), "km": _d(L=1), "fm": _d(L=1),
    "kg": _d(M=1), "g": _d(M=1),
    "s": _d(T=1), "ms": _d(T=1), "us": _d(T=1), "ns": _d(T=1), "ps": _d(T=1),
    "A": _d(I=1), "K": _d(Theta=1), "mol": _d(N=1), "cd": _d(J=1),
    "Hz": _d(T=-1), "N": _d(M=1, L=1, T=-2), "J": _ENERGY, "W": _d(M=1, L=2, T=-3), "Pa": _d(M=1, L=-1, T=-2),
    "C": _d(I=1, T=1), "V": _d(M=1, L=2, T=-3, I=-1), "Ohm": _d(M=1, L=2, T=-3, I=-2),
    "F": _d(M=-1, L=-2, T=4, I=2), "T": _d(M=1, T=-2, I=-1), "Wb": _d(M=1, L=2, T=-2, I=-1),
    "H": _d(M=1, L=2, T=-2, I=-2),
    "eV": _ENERGY, "keV": _ENERGY, "MeV": _ENERGY, "GeV": _ENERGY, "TeV": _ENERGY,
    "b": _AREA, "mb": _AREA, "ub": _AREA, "nb": _AREA, "pb": _AREA, "fb": _AREA,
    "rad": _DIMLESS, "sr": _DIMLESS,
}


@dataclass(frozen=True)
class DimensionCheck:
    """Outcome of a dimensional check: consistent or not, the expression's dimension, and why."""

    consistent: bool
    dimension: str
    message: str


def format_dimension(dim: Dimension | None, *, natural: bool = False) -> str:
    """'M L^2 T^-2' (or 'GeV^-2' in natural units); 'any' for a wildcard, '1' for dimensionless."""
    if dim is None:
        return "any"
    names = ("GeV", "", "", *BASE[3:]) if natural else BASE
    parts = [b if p == 1 else f"{b}^{p}" for b, p in zip(names, dim) if p != 0]
    return " ".join(parts) or "1"


def _to_natural(dim: Dimension) -> Dimension:
    """hbar = c = 1: [M] = GeV, [L] = [T] = GeV^-1; the energy power is stored in the M slot."""
    m, l, t, *rest = dim
    return (m - l - t, Fraction(0), Fraction(0), *rest)


def parse_unit(text: str | None, *, natural: bool = False) -> Dimension:
    """Dimension of a unit string: products/quotients/powers of names in UNITS ("kg m s^-2", "GeV^-2")."""
    if text is None or not str(text).strip() or str(text).strip() in ("1", "dimensionless", "-"):
        dim = _DIMLESS
    else:
        s = " ".join(str(text).replace("·", "*").split())
        s = s.replace(" * ", "*").replace(" / ", "/").replace(" ^ ", "^").replace(" ", "*")
        symbols = {name: sympy.Symbol(name, positive=True) for name in UNITS}
        try:
            expr = parse_expression(s, symbols, allow_params=False)
        except ExpressionError:
            unknown = sorted(set(re.findall(r"[A-Za-z_]\w*", s)) - set(UNITS))
            what = f"unknown unit name(s) {unknown}" if unknown else "not a product of unit powers"
            raise ValueError(f"unit {text!r} is not understood ({what}); write units like 'kg m/s^2', 'GeV^-2', "
                             f"'pb' using: {', '.join(sorted(UNITS))}") from None
        dim = list(_DIMLESS)
        for factor in sympy.Mul.make_args(expr):
            b, p = factor.as_base_exp()
            if b.is_number:
                continue
            if not isinstance(b, sympy.Symbol) or not p.is_Rational:
                raise ValueError(f"unit {text!r} must be a product of powers of unit names, got {factor}")
            dim = [d + Fraction(int(p.p), int(p.q)) * u for d, u in zip(dim, UNITS[b.name])]
        dim = tuple(dim)
    return _to_natural(dim) if natural else dim


class _Inconsistent(Exception):
    pass


def _dim_of(expr: sympy.Basic, dims: Mapping[sympy.Symbol, Dimension], zero: Dimension) -> Dimension | None:
    if isinstance(expr, sympy.Symbol):
        return None if is_param(expr) else dims.get(expr, zero)
    if isinstance(expr, sympy.Float):
        return None
    if expr.is_number:
        return zero
    if isinstance(expr, sympy.Add):
        concrete = {d for d in (_dim_of(a, dims, zero) for a in expr.args) if d is not None}
        if len(concrete) > 1:
            raise _Inconsistent(f"adds terms of different dimensions in {expr}")
        return concrete.pop() if concrete else None
    if isinstance(expr, sympy.Mul):
        out = zero
        for a in expr.args:
            d = _dim_of(a, dims, zero)
            if d is None:
                return None
            out = tuple(x + y for x, y in zip(out, d))
        return out
    if isinstance(expr, sympy.Pow):
        base, exponent = expr.args
        de = _dim_of(exponent, dims, zero)
        if de is not None and de != zero:
            raise _Inconsistent(f"exponent {exponent} is not dimensionless")
        db = _dim_of(base, dims, zero)
        if db is None or db == zero:
            return db
        if not exponent.is_number:
            raise _Inconsistent(f"{base} has a dimension but is raised to the non-numeric power {exponent}")
        p = Fraction(float(exponent)).limit_denominator(1000)
        return tuple(x * p for x in db)
    if isinstance(expr, sympy.Abs):
        return _dim_of(expr.args[0], dims, zero)
    if isinstance(expr, sympy.Function):
        for a in expr.args:
            d = _dim_of(a, dims, zero)
            if d is not None and d != zero:
                raise _Inconsistent(f"{expr.func.__name__} of a dimensionful argument {a}")
        return zero
    raise _Inconsistent(f"cannot assign a dimension to {expr}")


def check_dimensions(expr: sympy.Expr, units: Mapping[sympy.Symbol, str | None], target_unit: str | None, *,
                     natural: bool = False) -> DimensionCheck:
    """Is `expr` dimensionally consistent with the variables' units and the target unit?"""
    dims = {s: parse_unit(u, natural=natural) for s, u in units.items()}
    zero = parse_unit(None, natural=natural)
    target = parse_unit(target_unit, natural=natural)
    try:
        d = _dim_of(expr, dims, zero)
    except _Inconsistent as exc:
        return DimensionCheck(False, "inconsistent", str(exc))
    shown = format_dimension(d, natural=natural)
    if d is not None and d != target:
        return DimensionCheck(False, shown, f"has dimension {shown}, the target has "
                                            f"{format_dimension(target, natural=natural)}")
    return DimensionCheck(True, shown, "consistent" + (" (a fitted constant carries the units)" if d is None else ""))


def monomial_exponents(var_dims: Sequence[Dimension], target: Dimension) -> tuple[list[Fraction] | None,
                                                                                  list[list[Fraction]]]:
    """Buckingham pi: one exponent vector giving the target's dimension (None if impossible) and a
    basis of dimensionless groups (exponent vectors in the variables' order)."""
    A = sympy.Matrix([[sympy.Rational(d.numerator, d.denominator) for d in dim] for dim in var_dims]).T
    b = sympy.Matrix([sympy.Rational(t.numerator, t.denominator) for t in target])
    basis = [[Fraction(int(x.p), int(x.q)) for x in v] for v in A.nullspace()]
    try:
        sol, params = A.gauss_jordan_solve(b)
    except ValueError:
        return None, basis
    particular = sol.subs({p: 0 for p in params})
    return [Fraction(int(x.p), int(x.q)) for x in particular], basis
