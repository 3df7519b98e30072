"""Derivation of the canonical DE of the one-loop massless box by integration-by-parts (IBP) with sympy.

Family (all external legs massless, p1+p2+p3+p4 = 0, s = (p1+p2)^2, t = (p2+p3)^2):
  F(a1, a2, a3, a4) = int d^Dk / (i pi^(D/2)) 1 / (D1^a1 D2^a2 D3^a3 D4^a4),
  D1 = k^2, D2 = (k+p1)^2, D3 = (k+p1+p2)^2, D4 = (k+p1+p2+p3)^2   (negative a_i = numerators).

1. IBP identities  int d/dk^mu [q^mu / (D1^a1 ... D4^a4)] = 0  for q in {k, p1, p2, p3}, with every
   scalar product k.q rewritten through the D_m (the family is complete: 4 propagators, 4 k-products).
2. d/dt at fixed s acting on the integrand, as the operator  sum_ij c_ij p_i . d/dp_j  whose
   action on the invariants is  (p_i^2, p1.p2, p2.p3, p1.p3) -> (0, 0, 1/2, -1/2)  (solved for c_ij).
3. Laporta reduction: the identities for seeds a_i in {-1, 0, 1, 2} (<= 4 dots) are solved by row reduction
   over Q(d, s, t) (sympy DomainMatrix), scaleless sectors set to zero; the masters left are
   F(1,0,1,0) (s-bubble), F(0,1,0,1) (t-bubble) and F(1,1,1,1) (box).
4. The canonical basis f = (-eps(1-2eps) Bub(s), -eps(1-2eps) Bub(t), eps^2 s t Box) (-s)^eps / c_Gamma
   turns d/dt into  d f/dx = eps (A0/x + A1/(1+x)) f  with x = t/s; `derive_massless_box_de`
   returns A0 and A1 and fails loudly if the result is not eps-factorised.
"""
from __future__ import annotations

import functools
import itertools
import logging

import sympy
from sympy import QQ
from sympy.polys.matrices import DomainMatrix

__all__ = ["box_t_derivative", "derive_massless_box_de"]

log = logging.getLogger(__name__)

d, s, t = sympy.symbols("d s t")
_D = sympy.symbols("D1:5")
_MOMENTA = ("p1", "p2", "p3")
_P = ((), ("p1",), ("p1", "p2"), ("p1", "p2", "p3"))  # D_m = (k + sum P_m)^2
_EXT = {("p1", "p1"): 0, ("p2", "p2"): 0, ("p3", "p3"): 0,
        ("p1", "p2"): s / 2, ("p2", "p3"): t / 2, ("p1", "p3"): -(s + t) / 2}
# k.p_i through the propagators (p4^2 = (p1+p2+p3)^2 = 0 used in k.p3)
_KP = {"p1": (_D[1] - _D[0]) / 2, "p2": (_D[2] - _D[1] - s) / 2, "p3": (_D[3] - _D[2] + s) / 2}

Index = tuple[int, int, int, int]
_SEED_MAX = 4  # seeds with up to 4 dots suffice for the derivative of the box and bubbles


def _pp(a: str, b: str) -> sympy.Expr:
    return _EXT.get((a, b), _EXT.get((b, a)))


def _q_dot_k_plus_p(q: str, m: int) -> sympy.Expr:
    """q.(k + P_m) with q = 'k' or an external momentum, in terms of D's and invariants."""
    if q == "k":
        return _D[0] + sum(_KP[p] for p in _P[m])
    return _KP[q] + sum(_pp(q, p) for p in _P[m])


def _times_integral(poly: sympy.Expr, a: list[int]) -> dict[Index, sympy.Expr]:
    """poly(D) * F(a) as a combination of integrals: each D_j in a monomial lowers a_j by one."""
    out: dict[Index, sympy.Expr] = {}
    for powers, coef in sympy.Poly(sympy.expand(poly), *_D).terms():
        idx = tuple(int(a[j] - powers[j]) for j in range(4))
        out[idx] = out.get(idx, 0) + coef
    return out


def _add(acc: dict[Index, sympy.Expr], terms: dict[Index, sympy.Expr], factor: sympy.Expr) -> None:
    for idx, c in terms.items():
        acc[idx] = acc.get(idx, 0) + factor * c


def _ibp(a: Index, q: str) -> dict[Index, sympy.Expr]:
    acc: dict[Index, sympy.Expr] = {tuple(a): d} if q == "k" else {}
    for m in range(4):
        if a[m] != 0:
            raised = list(a)
            raised[m] += 1
            _add(acc, _times_integral(2 * _q_dot_k_plus_p(q, m), raised), -a[m])
    return {k: v for k, v in ((k, sympy.expand(v)) for k, v in acc.items()) if v != 0}


def _derivative_operator() -> dict[tuple[str, str], sympy.Expr]:
    """Coefficients c_ij of d/dt = sum c_ij p_i . d/dp_j on the on-shell surface at fixed s."""
    c = {(i, j): sympy.Symbol(f"c_{i}{j}") for i in _MOMENTA for j in _MOMENTA}

    def action(a: str, b: str) -> sympy.Expr:
        return sum(cij * ((_pp(pi, b) if pj == a else 0) + (_pp(a, pi) if pj == b else 0))
                   for (pi, pj), cij in c.items())

    eqs = [action(p, p) for p in _MOMENTA] + [action("p1", "p2"), action("p2", "p3") - sympy.Rational(1, 2),
                                               action("p1", "p3") + sympy.Rational(1, 2)]
    sol = sympy.solve(eqs, list(c.values()), dict=True)[0]
    return {k: sympy.sympify(sol.get(v, 0)).subs({u: 0 for u in c.values()}) for k, v in c.items()}


def _t_derivative_unreduced(a: Index, op: dict) -> dict[Index, sympy.Expr]:
    acc: dict[Index, sympy.Expr] = {}
    for (pi, pj), cij in op.items():
        if cij == 0:
            continue
        for m in range(4):
            if a[m] != 0 and pj in _P[m]:
                raised = list(a)
                raised[m] += 1
                _add(acc, _times_integral(2 * _q_dot_k_plus_p(pi, m), raised), -a[m] * cij)
    return {k: v for k, v in ((k, sympy.expand(v)) for k, v in acc.items()) if v != 0}


def _scaleless(a: Index) -> bool:
    """Sectors without both propagators of the s- or of the t-channel cut vanish (no scale)."""
    pos = {i for i in range(4) if a[i] > 0}
    return not ({0, 2} <= pos or {1, 3} <= pos)


def _weight(a: Index) -> tuple:
    return (sum(x > 0 for x in a), sum(x for x in a if x > 0), -sum(x for x in a if x < 0), a)


def _reducer() -> tuple[list[Index], dict[Index, int], list[int], sympy.Matrix]:
    seeds = [a for a in itertools.product(range(-1, 3), repeat=4)
             if sum(x < 0 for x in a) <= 1 and sum(x for x in a if x > 0) <= _SEED_MAX and not _scaleless(a)]
    rows = []
    for a in seeds:
        for q in ("k", *_MOMENTA):
            eq = {k: v for k, v in _ibp(a, q).items() if not _scaleless(k)}
            if eq:
                rows.append(eq)
    ints = sorted({k for r in rows for k in r}, key=_weight, reverse=True)
    col = {k: i for i, k in enumerate(ints)}
    field = QQ.frac_field(d, s, t)
    mat = [[field.zero] * len(ints) for _ in rows]
    for i, r in enumerate(rows):
        for k, v in r.items():
            mat[i][col[k]] = field.from_sympy(sympy.together(v))
    rref, pivots = DomainMatrix(mat, (len(rows), len(ints)), field).rref()
    log.debug("IBP system: %d equations, %d integrals, rank %d", len(rows), len(ints), len(pivots))
    return ints, col, list(pivots), rref.to_Matrix()


@functools.cache
def box_t_derivative() -> dict[Index, dict[Index, sympy.Expr]]:
    """d/dt of the three masters reduced to the masters: {master: {master: coefficient(d, s, t)}}."""
    ints, col, pivots, rref = _reducer()
    op = _derivative_operator()
    masters: tuple[Index, ...] = ((1, 0, 1, 0), (0, 1, 0, 1), (1, 1, 1, 1))

    def reduce(k: Index) -> dict[Index, sympy.Expr]:
        if _scaleless(k):
            return {}
        j = col[k]
        if j not in pivots:
            return {k: sympy.Integer(1)}
        row = pivots.index(j)
        return {ints[m]: -rref[row, m] for m in range(len(ints)) if m != j and rref[row, m] != 0}

    out = {}
    for mst in masters:
        total: dict[Index, sympy.Expr] = {}
        for k, v in _t_derivative_unreduced(mst, op).items():
            _add(total, reduce(k), v)
        unknown = set(total) - set(masters)
        if unknown:
            raise RuntimeError(f"IBP reduction left non-master integrals {sorted(unknown)}")
        out[mst] = {k: sympy.factor(v) for k, v in total.items() if sympy.simplify(v) != 0}
    return out


def derive_massless_box_de() -> tuple[sympy.Matrix, sympy.Matrix]:
    """(A0, A1) with d f/dx = eps (A0/x + A1/(1+x)) f for the canonical box basis (module docstring)."""
    eps, x = sympy.symbols("eps x")
    deriv = box_t_derivative()
    masters = [(1, 0, 1, 0), (0, 1, 0, 1), (1, 1, 1, 1)]
    m_ibp = sympy.Matrix(3, 3, lambda i, j: deriv[masters[i]].get(masters[j], 0)).subs(d, 4 - 2 * eps)
    # f = N I with I = (Bub(s), Bub(t), Box); the t-independent (-s)^eps / c_Gamma drops out of d/dt
    norm = sympy.diag(-eps * (1 - 2 * eps), -eps * (1 - 2 * eps), eps**2 * s * t)
    dfdt = (norm.diff(t) + norm * m_ibp) * norm.inv()
    dfdx = sympy.simplify((s * dfdt).subs(t, x * s))
    a_eps = sympy.simplify(dfdx / eps)
    if a_eps.has(eps) or a_eps.has(s):
        raise RuntimeError(f"the box basis is not canonical: d f/dx / eps = {a_eps}")
    a0 = a_eps.applyfunc(lambda e: sympy.limit(e * x, x, 0))
    a1 = a_eps.applyfunc(lambda e: sympy.limit(e * (1 + x), x, -1))
    rest = sympy.simplify(a_eps - a0 / x - a1 / (1 + x))
    if rest != sympy.zeros(3, 3):
        raise RuntimeError(f"d f/dx has singularities other than x = 0, -1: {rest}")
    return a0, a1
