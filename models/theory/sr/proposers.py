"""Proposers for the guided search: the search state they see and the deterministic offline proposer.

A proposer is the semantic mutation/crossover operator of the guided search (LaSR
arXiv:2409.09359, IdeaSearchFitter arXiv:2510.08317): from the current Pareto front, the concept
library and the data it proposes new ansaetze with free parameters c0, c1, ... (fitted
afterwards), and it abstracts good hypotheses into concepts. The offline proposer needs no
LLM and is useful on its own; its operators, in priority order:
    power_law     log|y| = b + sum_i a_i log x_i by least squares, exponents rounded to
                  halves/integers/thirds -> c0 prod x_i^a_i;
    dimensional   with units: the dimensionally consistent monomial nearest the power-law fit
                  times functions of the dimensionless (Buckingham pi) groups;
    sparse_sum    sparse regression (sequentially thresholded least squares, SINDy, Brunton et
                  al. 2016, arXiv:1509.03580) on monomials of total degree <= 3 -> short sums;
    family        physics function families of one variable or a pair combination
                  (exp, Gaussian, 1/r^n, sqrt, trig, rational, log, tanh) times the power law of
                  the other variables, screened by a linearised fit, best first;
    concept       templates from the concept library times the remaining power law;
    recombine     the current front: constants snapped to simple numbers, products and sums
                  of front members, a power-law correction of the best member.
"""
from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import sympy

from hepilot.models.theory.sr.concepts import ConceptLibrary
from hepilot.models.theory.sr.equivalence import round_constant
from hepilot.models.theory.sr.expression import compile_expression, parametrize
from hepilot.models.theory.sr.pareto import Candidate
from hepilot.models.theory.sr.parser import is_param, param_symbol
from hepilot.models.theory.sr.units import monomial_exponents, parse_unit

__all__ = ["Proposal", "SearchState", "OfflineProposer", "FAMILIES"]

# f(u) templates; c1, c2 are the family's own parameters (c0 is the overall scale)
FAMILIES: dict[str, str] = {
    "exp": "exp(c1*U)", "gaussian": "exp(c1*U**2)", "inverse": "1/U", "inverse_square": "U**(-2)",
    "inverse_cube": "U**(-3)", "square": "U**2", "sqrt": "sqrt(U)", "sin": "sin(c1*U + c2)",
    "cos": "cos(c1*U)", "sin_squared": "sin(c1*U)**2", "rational": "1/(1 + c1*U)", "quadratic": "1 + c1*U**2",
    "sqrt_quadratic": "sqrt(1 + c1*U**2)", "inv_sqrt_quadratic": "1/sqrt(1 + c1*U**2)", "log": "log(c1*U)",
    "tanh": "tanh(c1*U)", "one_minus_exp": "1 - exp(c1*U)", "bose": "1/(exp(c1*U) - 1)",
    "lorentz": "1/sqrt(1 - U**2)", "sqrt_one_minus_square": "sqrt(1 - U**2)",
}


@dataclass
class Proposal:
    """A proposed ansatz (text with parameters c0, c1, ...), the operator and what it came from."""

    expression: str
    origin: str
    parents: tuple[int, ...] = ()
    concept_ids: tuple[int, ...] = ()
    idea: str = ""


@dataclass
class SearchState:
    """What a proposer sees: data, variables and units, the front, the concepts, the round."""

    X: np.ndarray
    y: np.ndarray
    names: list[str]
    symbols: list[sympy.Symbol]
    front: list[Candidate]
    concepts: ConceptLibrary
    round: int = 0
    units: dict[str, str] | None = None
    target_unit: str | None = None
    natural_units: bool = False
    context: str = ""
    tried: set[str] = field(default_factory=set)


def _mono(names: Sequence[str], exps: Sequence[float]) -> str:
    parts = []
    for n, a in zip(names, exps):
        fa = Fraction(a).limit_denominator(6)
        if fa == 0:
            continue
        parts.append(n if fa == 1 else f"{n}**({fa})")
    return "*".join(parts) or "1"


class OfflineProposer:
    """Deterministic proposer (no LLM): dimensional analysis, function families, recombination."""

    name = "offline"

    def __init__(self, *, max_pair_vars: int = 6, max_sparse_terms: int = 6):
        self.max_pair_vars = max_pair_vars
        self.max_sparse_terms = max_sparse_terms

    # ------------------------------------------------------------ data-driven helpers
    @staticmethod
    def _log_fit(state: SearchState) -> np.ndarray | None:
        """Power-law exponents from log|y| regression (None unless y != 0 and x > 0 everywhere)."""
        y, X = state.y, state.X
        if not np.all(y != 0) or not np.all(X > 0):
            return None
        A = np.column_stack([np.ones(len(y)), np.log(X)])
        coef, *_ = np.linalg.lstsq(A, np.log(np.abs(y)), rcond=None)
        return coef[1:]

    def _power_law(self, state: SearchState, a: np.ndarray | None) -> Iterator[Proposal]:
        if a is None or not (np.all(state.y > 0) or np.all(state.y < 0)):
            return
        for denom in (2, 1, 3):
            r = np.round(a * denom) / denom
            yield Proposal("c0*" + _mono(state.names, r), "power_law",
                           idea=f"power law with exponents rounded to 1/{denom}")

    def _dimensional(self, state: SearchState, a: np.ndarray | None) -> Iterator[Proposal]:
        if not state.units or state.target_unit is None:
            return
        dims = [parse_unit(state.units.get(n), natural=state.natural_units) for n in state.names]
        part, basis = monomial_exponents(dims, parse_unit(state.target_unit, natural=state.natural_units))
        if part is None:
            return
        p = np.array([float(v) for v in part])
        B = np.array([[float(v) for v in b] for b in basis]).T if basis else np.zeros((len(p), 0))
        if a is not None and B.shape[1]:
            t, *_ = np.linalg.lstsq(B, a - p, rcond=None)
            p = p + B @ (np.round(t * 2) / 2)
        mono = _mono(state.names, p)
        yield Proposal(f"c0*{mono}", "dimensional", idea="dimensionally consistent monomial nearest the data")
        Xs, ys = _subsample(state.X, state.y, 400)
        with np.errstate(all="ignore"):
            base = ys / np.prod(Xs ** p, axis=1)
        ranked = []
        for b in [v for col in B.T for v in (col, -col)]:  # both orientations: v/c and c/v
            pi = _mono(state.names, b)
            if pi == "1":
                continue
            with np.errstate(all="ignore"):
                u = np.prod(Xs ** b, axis=1)
            for fam in _DIMENSIONLESS_FAMILIES:
                score, k = _linear_screen(FAMILIES[fam], u, base)
                f = FAMILIES[fam].replace("c1", f"({k:.6g})").replace("U", f"({pi})")
                ranked.append((score, f"c0*{mono}*({f})", f"monomial times {fam} of the dimensionless group {pi}"))
        for _, text, idea in sorted(ranked, key=lambda t: t[0]):
            yield Proposal(text, "dimensional", idea=idea)

    def _sparse_sum(self, state: SearchState) -> Iterator[Proposal]:
        """Sparse sums of monomials for y, and for y^2 and 1/y (AI Feynman's target transforms):
        sqrt(sum) and 1/(sum) cover distances and harmonic sums such as 1/(1/d1 + n/d2)."""
        X, y = _subsample(state.X, state.y, 400)
        names = state.names
        allow_neg = np.all(X > 0, axis=0) | np.all(X < 0, axis=0)  # no poles inside the data's domain
        exps = _monomials(len(names), allow_neg)
        if not exps:
            return
        with np.errstate(all="ignore"):
            F = np.column_stack([np.ones(len(y))] + [np.prod(X ** np.array(e), axis=1) for e in exps])
        if not np.all(np.isfinite(F)):
            return
        Fn = F / np.linalg.norm(F, axis=0)
        G = Fn.T @ Fn  # normal equations once; each thresholding step solves a sub-block
        ridge = 1e-10 * np.trace(G) / len(G)
        targets = [("{}", y)]
        if np.all(y > 0):
            targets.append(("sqrt({})", y * y))
        if np.all(y > 0) or np.all(y < 0):
            targets.append(("1/({})", 1.0 / y))
        for wrap, t in targets:
            h = Fn.T @ t
            seen = set()
            for lam in (0.3, 0.1, 0.03, 0.01, 0.003, 0.001):
                active = np.ones(F.shape[1], dtype=bool)
                for _ in range(10):
                    coef = np.zeros(F.shape[1])
                    sub = np.ix_(active, active)
                    coef[active] = np.linalg.solve(G[sub] + ridge * np.eye(active.sum()), h[active])
                    keep = np.abs(coef) >= lam * np.abs(coef).max()
                    if np.array_equal(keep, active):
                        break
                    active = keep
                support = tuple(np.flatnonzero(active))
                if 0 < len(support) <= self.max_sparse_terms and support not in seen:
                    seen.add(support)
                    terms = [f"c{k}" + ("" if j == 0 else "*" + _mono(names, exps[j - 1]))
                             for k, j in enumerate(support)]
                    yield Proposal(wrap.format(" + ".join(terms)), "sparse_sum",
                                   idea="sparse sum of monomials" + ("" if wrap == "{}" else f" for {wrap[:-4]} y"))

    def _families(self, state: SearchState, a: np.ndarray | None) -> Iterator[Proposal]:
        """f(u) times a power law of all variables, u one variable or a pair combination.

        When x > 0 and y != 0 the screen regresses log|y| - log|f_k(u)| on (1, log x_1, ...), so the
        power-law exponents are fitted jointly with the family (k on a grid; for exp and Gaussian the
        coefficient of u or u^2 is one more regression column); otherwise a linear fit of y / (power
        law) on f_k(u). Proposals come best screen first, with the best k as the start value of c1.
        """
        X, y = _subsample(state.X, state.y, 400)
        names = state.names
        d = len(names)
        combos = [(names[i], X[:, i]) for i in range(d)]
        if d <= self.max_pair_vars:
            for i, j in itertools.permutations(range(d), 2):
                combos.append((f"({names[i]}/{names[j]})", X[:, i] / X[:, j]))
                if i < j:
                    combos += [(f"({names[i]}*{names[j]})", X[:, i] * X[:, j]),
                               (f"({names[i]} - {names[j]})", X[:, i] - X[:, j]),
                               (f"({names[i]} + {names[j]})", X[:, i] + X[:, j])]
        log_path = bool(np.all(X > 0) and np.all(y != 0))
        if log_path:
            ly = np.log(np.abs(y))
            A = np.column_stack([np.ones(len(y)), np.log(X)])
            sst = max(float(((ly - ly.mean()) ** 2).sum()), 1e-300)
        else:
            pre = np.zeros(d) if a is None else np.round(a * 2) / 2
            with np.errstate(all="ignore"):
                base = y / np.prod(X ** pre, axis=1)
        scored = []
        for u_text, u in combos:
            scale = 1.0 / max(float(np.median(np.abs(u))), 1e-12)
            grid = (-1.0, 1.0, -scale, scale, -scale ** 2, scale ** 2, -0.99 / max(float(np.max(u * u)), 1e-12))
            for fam, tmpl in FAMILIES.items():
                best = (math.inf, 1.0, np.zeros(d))
                if log_path and fam in ("exp", "gaussian"):
                    h = u if fam == "exp" else u * u
                    Ah = np.column_stack([A, h])
                    coef, *_ = np.linalg.lstsq(Ah, ly, rcond=None)
                    r = ly - Ah @ coef
                    best = (float(r @ r) / sst, float(coef[-1]), coef[1:-1])
                elif log_path:
                    for k in grid:
                        g = _eval_family(tmpl, u, k)
                        if g is None or np.any(g == 0):
                            continue
                        r = ly - np.log(np.abs(g))
                        coef, *_ = np.linalg.lstsq(A, r, rcond=None)
                        res = r - A @ coef
                        if float(res @ res) / sst < best[0]:
                            best = (float(res @ res) / sst, k, coef[1:])
                else:
                    score, k = _linear_screen(tmpl, u, base)
                    best = (score, k, pre)
                score, k, expo = best
                if not math.isfinite(score):
                    continue
                f = "(" + tmpl.replace("c1", f"({k:.6g})").replace("U", u_text) + ")"
                scored.append((score, f"c0*{_mono(names, np.round(np.asarray(expo) * 2) / 2)}*{f}", fam, u_text))
                scored.append((score + 0.1, f"c3 + c0*{f}", fam, u_text))  # additive variants after products
        for score, expr, fam, u_text in sorted(scored, key=lambda t: t[0]):
            yield Proposal(expr, "family", idea=f"{fam} in {u_text}")

    def _concepts(self, state: SearchState, a: np.ndarray | None, rng: np.random.Generator) -> Iterator[Proposal]:
        sym = {str(s) for s in state.symbols}
        for c in state.concepts.sample(6, rng):
            if not c.template:
                continue
            used = [i for i, n in enumerate(state.names) if n in c.template]
            others = [i for i in range(len(state.names)) if i not in used and state.names[i] in sym]
            pre = "1" if a is None else _mono([state.names[i] for i in others], np.round(a[others] * 2) / 2)
            k = 1 + max((int(m) for m in _param_indices(c.template)), default=0)
            yield Proposal(f"c{k}*{pre}*({c.template})", "concept", concept_ids=(c.id,),
                           idea=f"concept: {c.text}")
            yield Proposal(f"c{k} + {c.template}", "concept", concept_ids=(c.id,), idea=f"concept: {c.text}")

    def _recombine(self, state: SearchState) -> Iterator[Proposal]:
        best = sorted(state.front, key=lambda c: c.loss)[:5]
        for c in best:
            for f in sorted(c.expr.atoms(sympy.Float), key=lambda v: abs(float(v))):
                snapped = round_constant(float(f), rtol=2e-2)
                if not isinstance(snapped, sympy.Float):
                    template, _, _ = parametrize(c.expr.xreplace({f: snapped}))
                    yield Proposal(str(template), "snap_constant", parents=(c.id,),
                                   idea=f"constant {float(f):.4g} snapped to {snapped}")
        for c1, c2 in itertools.combinations(best[:3], 2):
            t1, t2 = _shift(parametrize(c1.expr)[0], 0), _shift(parametrize(c2.expr)[0], 20)
            yield Proposal(f"c40*({t1})*({t2})", "crossover_product", parents=(c1.id, c2.id))
            yield Proposal(f"c40*({t1}) + c41*({t2})", "crossover_sum", parents=(c1.id, c2.id))
        if best:
            c = best[0]
            with np.errstate(all="ignore"):
                ratio = state.y / compile_expression(c.expr, state.symbols)(state.X)
            sub = SearchState(state.X, ratio, state.names, state.symbols, [], state.concepts)
            a = self._log_fit(sub) if np.all(np.isfinite(ratio)) else None
            if a is not None:
                template = _shift(parametrize(c.expr)[0], 0)
                yield Proposal(f"({template})*{_mono(state.names, np.round(a * 2) / 2)}", "power_correction",
                               parents=(c.id,), idea="best expression times a power-law correction")

    # ------------------------------------------------------------ the proposer interface
    def propose(self, state: SearchState, *, n: int, rng: np.random.Generator) -> list[Proposal]:
        """Up to n new proposals (not in state.tried), in operator priority order."""
        a = self._log_fit(state)
        streams: list[Iterator[Proposal]] = [self._power_law(state, a), self._dimensional(state, a),
                                             self._sparse_sum(state), self._concepts(state, a, rng),
                                             self._recombine(state), self._families(state, a)]
        out: list[Proposal] = []
        for stream in streams if state.round == 0 else streams[3:] + streams[:3]:
            quota = n - len(out) if stream is streams[-1] else max(n // (2 if stream is streams[1] else 3), 4)
            taken = 0
            for p in stream:
                if p.expression in state.tried:
                    continue
                state.tried.add(p.expression)
                out.append(p)
                taken += 1
                if taken >= quota or len(out) >= n:
                    break
            if len(out) >= n:
                break
        return out

    def abstract(self, state: SearchState) -> list[tuple[str, str | None, float]]:
        """Concepts (text, template, loss of the member it came from) from every front member: the
        lowest-loss members are often over-fitted GP expressions with no reusable structure, while the
        simple end of the front carries the physics (the library keeps the best `max_concepts`)."""
        out: list[tuple[str, str | None, float]] = []
        for c in sorted(state.front, key=lambda k: k.loss):
            template, params, _ = parametrize(c.expr)
            for factor in sympy.Mul.make_args(template):
                kind = _kind(factor)
                t, p, _ = parametrize(factor)
                if kind is None or len(p) > 3:
                    continue
                out.append((f"{kind}: {sympy.sstr(t)}", sympy.sstr(t), c.loss))
            if isinstance(template, sympy.Add) and len(template.args) <= 4 and len(params) <= 4:
                out.append((f"sum of {len(template.args)} terms: {sympy.sstr(template)}", sympy.sstr(template),
                            c.loss))
        return out


def _monomials(d: int, allow_neg: np.ndarray, *, max_degree: int = 3, limit: int = 600) -> list[tuple[int, ...]]:
    """Exponent vectors of the monomials with total degree 1..max_degree (negative powers only for
    variables of one sign); only non-negative powers when there would be more than `limit`."""
    for signs in ((1, -1), (1,)):
        signed = [(i, s) for i in range(d) for s in signs if s > 0 or allow_neg[i]]
        out: dict[tuple[int, ...], None] = {}
        for k in range(1, max_degree + 1):
            for combo in itertools.combinations_with_replacement(signed, k):
                vec = [0] * d
                for i, s in combo:
                    vec[i] += s
                if any(vec):
                    out.setdefault(tuple(vec), None)
        if len(out) <= limit:
            return list(out)
    return []


def _subsample(X: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every k-th row so that at most n remain (deterministic; screening does not need all points)."""
    step = max(1, len(y) // n)
    return X[::step], y[::step]


def _kind(factor: sympy.Expr) -> str | None:
    if isinstance(factor, sympy.exp):
        squares = [p for p in factor.args[0].atoms(sympy.Pow) if p.exp in (2, -2)]
        return "Gaussian-like exponential" if squares else "exponential factor"
    if isinstance(factor, (sympy.sin, sympy.cos, sympy.tan)):
        return "oscillating factor"
    if isinstance(factor, (sympy.log,)):
        return "logarithmic factor"
    if isinstance(factor, sympy.Pow) and isinstance(factor.base, sympy.Add):
        return "square-root factor" if abs(float(factor.exp)) == 0.5 else "rational factor"
    if isinstance(factor, sympy.Pow) and isinstance(factor.base, sympy.Symbol) and factor.exp.is_number:
        return "power law"
    if isinstance(factor, sympy.Pow) and isinstance(factor.base, sympy.Function):
        return "power of a function"
    if isinstance(factor, sympy.Add) and factor.is_polynomial(*(s for s in factor.free_symbols if not is_param(s))):
        return "polynomial factor"  # e.g. (1 + cos_theta**2) in a*(1 + cos_theta**2)
    return None


def _param_indices(text: str) -> list[str]:
    return re.findall(r"\bc(\d{1,2})\b", text)


def _shift(template: sympy.Expr, offset: int) -> str:
    """The template as text with parameters renumbered from `offset` (so two can be combined)."""
    params = sorted((s for s in template.free_symbols if is_param(s)), key=lambda s: int(s.name[1:]))
    return sympy.sstr(template.xreplace({p: param_symbol(offset + i) for i, p in enumerate(params)}))


_POLES = {FAMILIES[k] for k in ("inverse", "inverse_square", "inverse_cube", "log", "sqrt")}
_DIMENSIONLESS_FAMILIES = ("lorentz", "sqrt_one_minus_square", "exp", "gaussian", "rational", "quadratic",
                           "inv_sqrt_quadratic", "sqrt_quadratic", "sin", "cos", "bose", "tanh", "log", "inverse")


def _linear_screen(template: str, u: np.ndarray, base: np.ndarray) -> tuple[float, float]:
    """(1 - cos^2 angle(f_k(u), base), best k) on a grid of the family parameter: the fraction of
    base not explained by c0 f_k(u) (no intercept, like the ansatz); (inf, 1) if never finite."""
    if not np.all(np.isfinite(base)) or not np.all(np.isfinite(u)):
        return math.inf, 1.0
    b = base
    bb = max(float(b @ b), 1e-300)
    scale = 1.0 / max(float(np.median(np.abs(u))), 1e-12)
    best = (math.inf, 1.0)
    for k in (-1.0, 1.0, -scale, scale, -scale ** 2, scale ** 2, -0.99 / max(float(np.max(u * u)), 1e-12)):
        g = _eval_family(template, u, k)
        if g is None:
            continue
        score = 1.0 - float(g @ b) ** 2 / max(float(g @ g) * bb, 1e-300)
        if score < best[0]:
            best = (score, k)
    return best


def _eval_family(template: str, u: np.ndarray, k: float) -> np.ndarray | None:
    """The family with c1 = k, c2 = 0, or None when not finite or constant on the data."""
    fn = _FAMILY_FUNCS[template]
    if template in _POLES and not (np.all(u > 0) or np.all(u < 0)):
        return None  # a pole inside the data's domain
    with np.errstate(all="ignore"):
        g = np.broadcast_to(fn(u, k), u.shape)
    return g if np.all(np.isfinite(g)) and np.std(g) > 0 else None


_FAMILY_FUNCS = {
    FAMILIES["exp"]: lambda u, k: np.exp(k * u), FAMILIES["gaussian"]: lambda u, k: np.exp(k * u * u),
    FAMILIES["inverse"]: lambda u, k: 1 / u, FAMILIES["inverse_square"]: lambda u, k: u ** -2.0,
    FAMILIES["inverse_cube"]: lambda u, k: u ** -3.0, FAMILIES["square"]: lambda u, k: u * u,
    FAMILIES["sqrt"]: lambda u, k: np.sqrt(u), FAMILIES["sin"]: lambda u, k: np.sin(k * u),
    FAMILIES["cos"]: lambda u, k: np.cos(k * u), FAMILIES["sin_squared"]: lambda u, k: np.sin(k * u) ** 2,
    FAMILIES["rational"]: lambda u, k: 1 / (1 + k * u), FAMILIES["quadratic"]: lambda u, k: 1 + k * u * u,
    FAMILIES["sqrt_quadratic"]: lambda u, k: np.sqrt(1 + k * u * u),
    FAMILIES["inv_sqrt_quadratic"]: lambda u, k: 1 / np.sqrt(1 + k * u * u),
    FAMILIES["log"]: lambda u, k: np.log(abs(k) * u), FAMILIES["tanh"]: lambda u, k: np.tanh(k * u),
    FAMILIES["one_minus_exp"]: lambda u, k: 1 - np.exp(k * u), FAMILIES["bose"]: lambda u, k: 1 / (np.exp(k * u) - 1),
    FAMILIES["lorentz"]: lambda u, k: 1 / np.sqrt(1 - u * u),
    FAMILIES["sqrt_one_minus_square"]: lambda u, k: np.sqrt(1 - u * u),
}
