"""LaTeX rendering of a Lagrangian with explicit index contractions and named couplings.

Indices: SU(3) triplet a, b, c, ...; SU(3) adjoint A, B, C, ...; SU(2) doublet i, j, k, ...;
SU(2) adjoint I, J, K, ...; an internal index gets the next free letter. Tensors: delta, epsilon,
(T^A)_{ab} = lambda^A/2, f^{ABC}, d^{ABC}, (sigma^I)_{ij}, (epsilon sigma^I)_{ij}. Couplings are
named by class: t (tadpole), m^2 (mass), kappa (cubic), lambda (quartic), M (fermion mass),
y (Yukawa); V enters with a minus sign, "+ h.c." closes a term that carries HC.
"""
from __future__ import annotations

from hepilot.models.theory.lagrangian.fields import Field
from hepilot.models.theory.lagrangian.groups import conjugate_leg, internal_leg
from hepilot.models.theory.lagrangian.terms import Term, leg, term_class

__all__ = ["term_latex", "lagrangian_latex", "field_symbol"]

_GAUGE = {"SU3": ("G", "A"), "SU2": ("W", "I"), "U1": ("B", "")}
_COUPLING = {"tadpole": "t", "scalar_mass": "m^{2}", "cubic": "\\kappa", "quartic": "\\lambda",
             "fermion_mass": "M", "yukawa": "y"}
_LETTERS = {("SU3", "fund"): "abcdefgh", ("SU3", "adj"): "ABCDEFGH", ("SU2", "fund"): "ijklmnpq",
            ("SU2", "adj"): "IJKLMNPQ"}


def field_symbol(f: Field, *, dagger: bool = False, indices: str = "") -> str:
    """The field's symbol (H2 -> {H_{2}}), with a dagger and lower indices when given."""
    base = f.name.replace("_", "")
    if len(base) > 1 and base[1:].isdigit():
        base = f"{{{base[0]}_{{{base[1:]}}}}}"
    return base + ("^{\\dagger}" if dagger else "") + (f"_{{{indices}}}" if indices else "")


def _kind(group: str, leg_type: str) -> str:
    return "adj" if leg_type in ("8",) or (group == "SU2" and leg_type == "3") else "fund"


def _tensor(group: str, legs: list[tuple[str, str]], variant: str) -> str:
    """Symbol of one primitive tensor with index letters; legs = (leg type, letter) in canonical order."""
    idx = "".join(letter for _, letter in legs)
    types = tuple(t for t, _ in legs)
    if len(legs) == 2:
        eps = group == "SU2" and types in (("2", "2"), ("2b", "2b"))
        return f"\\epsilon_{{{idx}}}" if eps else f"\\delta_{{{idx}}}"
    if variant:
        return f"{variant[0].lower()}^{{{idx}}}"
    if types in (("3", "3", "3"), ("3b", "3b", "3b")):
        return f"\\epsilon_{{{idx}}}"
    adj = legs[2][1]
    fund = legs[0][1] + legs[1][1]
    if group == "SU3":
        return f"(T^{{{adj}}})_{{{fund}}}"
    return f"(\\epsilon\\sigma^{{{adj}}})_{{{fund}}}" if types[0] == types[1] else f"(\\sigma^{{{adj}}})_{{{fund}}}"


def _monomial_latex(term: Term, fields: tuple[Field, ...]) -> str:
    n = len(term.objects)
    letters: dict[tuple[str, int], str] = {}
    used = {k: 0 for k in _LETTERS}
    types: dict[tuple[str, int], str] = {}

    def take(group: str, kind: str) -> str:
        ch = _LETTERS[(group, kind)][used[(group, kind)] % 8]
        used[(group, kind)] += 1
        return ch

    for group in ("SU3", "SU2"):
        for i, o in enumerate(term.objects):
            t = leg(fields, o, group)
            if t != "1":
                types[(group, i)] = t
                letters[(group, i)] = take(group, _kind(group, t))
    tensors = []
    for it in term.items:
        if it.group == "LORENTZ":
            continue
        known = [i for i in it.ids if i < n]
        inner = [i for i in it.ids if i >= n]
        legs = [(types[(it.group, i)], letters[(it.group, i)]) for i in known]
        for i in inner:
            if (it.group, i) not in letters:
                x = internal_leg(it.group, legs[0][0], legs[1][0]) or "8"
                types[(it.group, i)] = x
                letters[(it.group, i)] = take(it.group, _kind(it.group, x))
                legs.append((x, letters[(it.group, i)]))
            else:
                legs.append((conjugate_leg(it.group, types[(it.group, i)]), letters[(it.group, i)]))
        order = {"SU3": ("3", "3b", "8"), "SU2": ("2", "2b", "3")}[it.group]
        legs.sort(key=lambda p: order.index(p[0]))
        tensors.append(_tensor(it.group, legs, it.variant))
    factors = []
    for i, o in enumerate(term.objects):
        f = fields[o.field]
        idx = "".join(letters.get((g, i), "") for g in ("SU3", "SU2"))
        factors.append(field_symbol(f, dagger=o.dagger, indices=idx))
    return "\\,".join(tensors + factors)


def term_latex(term: Term, fields: tuple[Field, ...], *, number: int = 1) -> str:
    """One term as LaTeX, with its coupling numbered `number` within its class."""
    cls = term_class(term, fields)
    o = term.objects
    if cls == "scalar_kinetic":
        s = field_symbol(fields[o[3].field])
        return (f"+\\frac{{1}}{{2}}(D_{{\\mu}}{s})(D^{{\\mu}}{s})" if fields[o[3].field].real
                else f"+(D_{{\\mu}}{s})^{{\\dagger}}(D^{{\\mu}}{s})")
    if cls == "fermion_kinetic":
        a, b = o[0], o[3]
        sa = field_symbol(fields[a.field], dagger=a.dagger)
        sb = field_symbol(fields[b.field], dagger=b.dagger)
        return f"+i\\,{sa}\\bar{{\\sigma}}^{{\\mu}}D_{{\\mu}}{sb}"
    if cls == "gauge_kinetic":
        sym, adj = _GAUGE[o[0].group]
        up = f"^{{{adj}}}" if adj else ""
        return f"-\\frac{{1}}{{4}}{sym}{up}_{{\\mu\\nu}}{sym}^{{{adj}\\mu\\nu}}"
    coupling = f"{_COUPLING.get(cls, 'c')}_{{{number}}}"
    phase = "i\\," if term.imag else ""
    body = f"-{phase}{coupling}\\,{_monomial_latex(term, fields)}"
    if term.hc:
        body += " + \\mathrm{h.c.}"
    return body


def lagrangian_latex(terms: tuple[Term, ...] | list[Term], fields: tuple[Field, ...]) -> str:
    """The whole Lagrangian: \\mathcal{L} = term + term + ... (one term per line in an aligned block)."""
    counts: dict[str, int] = {}
    lines = []
    for t in terms:
        cls = term_class(t, fields)
        counts[cls] = counts.get(cls, 0) + 1
        lines.append(term_latex(t, fields, number=counts[cls]))
    if not lines:
        return "\\mathcal{L} = 0"
    return "\\begin{aligned}\n\\mathcal{L} = {}& " + " \\\\\n& ".join(lines) + "\n\\end{aligned}"
