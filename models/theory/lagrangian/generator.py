"""Exact generator: all independent Lorentz- and gauge-invariant hermitian operators of dimension <= 4.

For a field content (fields.py) the renormalisable Lagrangian is the sum of
    kinetic terms      (D_mu phi)^dag D^mu phi (real scalar: D phi D phi), i psi^dag sigma-bar^mu D_mu psi
                       (a right-handed field as i chi sigma-bar D chi^dag); one per field — kinetic
                       mixing between fields with equal charges is removed by a field redefinition
    gauge kinetic      -[D_mu, D_nu][D^mu, D^nu] for every gauge group some field is charged under
                       (theta terms, total derivatives, are left out as in arXiv:2501.09729)
    scalar potential   every gauge-invariant monomial of 1-4 scalars (tadpole, mass, cubic, quartic)
    fermion bilinears  psi chi (mass) and phi psi chi (Yukawa) of left-handed spinors (a right-handed
                       field enters as chi^dag), always + h.c.
with every independent contraction of each monomial (invariants.select_operators): identical-field
symmetry removes vanishing ones (H^T eps H = 0, L L S+ for one flavour), h.c. partners are counted
once, and a Z2-odd field enters only in pairs. Couplings are implicit (a term is one operator).
"""
from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

from hepilot.models.theory.lagrangian.fields import Field, canonical_order, check_content
from hepilot.models.theory.lagrangian.invariants import select_operators
from hepilot.models.theory.lagrangian.terms import (
    TERM_CLASSES,
    Item,
    Obj,
    Term,
    blocks_of,
    canonical,
    field_obj,
    item_tokens,
    leg,
    term_class,
)

__all__ = ["Lagrangian", "generate", "monomial_signature", "gauge_groups", "kinetic_terms"]


@dataclass(frozen=True)
class Lagrangian:
    """A field content (canonical order) and its terms (canonical form and order)."""

    fields: tuple[Field, ...]
    terms: tuple[Term, ...]

    def by_class(self) -> dict[str, list[Term]]:
        out: dict[str, list[Term]] = {}
        for t in self.terms:
            out.setdefault(term_class(t, self.fields), []).append(t)
        return out


def gauge_groups(fields: tuple[Field, ...]) -> tuple[str, ...]:
    """Gauge groups with at least one charged field (their gauge fields get kinetic terms)."""
    return tuple(g for g in ("SU3", "SU2", "U1") if any(f.charged_under(g) for f in fields))


def _gauge_pair(fields: tuple[Field, ...], field: int, a: int, b: int) -> tuple[Item, ...]:
    f = fields[field]
    return tuple(Item(g, (a, b)) for g in ("SU3", "SU2") if f.charged_under(g))


def kinetic_terms(fields: tuple[Field, ...]) -> list[Term]:
    """Kinetic terms of every field and of every gauge group present, in canonical form."""
    out: list[Term] = []
    for i, f in enumerate(fields):
        if f.is_scalar:
            objs = (Obj("derivative"), field_obj(i, not f.real), Obj("derivative"), field_obj(i))
            out.append(Term(objs, (Item("LORENTZ", (0, 2)), *_gauge_pair(fields, i, 1, 3))))
        else:
            first, last = (field_obj(i, True), field_obj(i)) if f.helicity < 0 else (field_obj(i), field_obj(i, True))
            objs = (first, Obj("sigma_bar"), Obj("derivative"), last)
            items = (Item("LORENTZ", (1, 2)), Item("LORENTZ", (0, 1, 3)), *_gauge_pair(fields, i, 0, 3))
            out.append(Term(objs, items, "+", True))
    for g in gauge_groups(fields):
        objs = (Obj("comm_a", group=g), Obj("comm_b", group=g), Obj("comm_a", group=g), Obj("comm_b", group=g))
        out.append(Term(objs, (Item("LORENTZ", (0, 2)), Item("LORENTZ", (1, 3))), "-"))
    return [canonical(t, fields) for t in out]


def _conj(fields: tuple[Field, ...], o: Obj) -> Obj:
    return o if fields[o.field].real else Obj("field", o.field, not o.dagger)


def monomial_signature(fields: tuple[Field, ...], objects: tuple[Obj, ...]):
    """(slots, blocks, conj_perm) of field objects in canonical order, as select_operators takes them.

    conj_perm[s] is the slot holding the conjugate of slot s when the monomial is self-conjugate,
    else None."""
    slots = tuple((leg(fields, o, "SU3"), leg(fields, o, "SU2")) for o in objects)
    blocks = blocks_of(objects)
    conj = [_conj(fields, o) for o in objects]
    if sorted(conj) != sorted(objects):
        return slots, blocks, None
    taken: set[int] = set()
    perm = []
    for c in conj:
        s = next(j for j, o in enumerate(objects) if o == c and j not in taken)
        taken.add(s)
        perm.append(s)
    return slots, blocks, tuple(perm)


def _charges(fields: tuple[Field, ...]) -> dict[Obj, tuple[int, int, int, int]]:
    """Per object (field, dagger): (6*lcm*Y as an integer, Z2 parity, triality, doublet number)."""
    scale = 1
    for f in fields:
        scale = scale * f.y.denominator // math.gcd(scale, f.y.denominator)
    out = {}
    for i, f in enumerate(fields):
        for dagger in (False, True):
            o = field_obj(i, dagger)
            y = int(f.y * scale) * (-1 if dagger else 1)
            tri = {"3": 1, "3b": 2}.get(leg(fields, o, "SU3"), 0)
            out[o] = (y, int(f.odd), tri, int(leg(fields, o, "SU2") in ("2", "2b")))
    return out


def _charges_vanish(charges: dict[Obj, tuple[int, int, int, int]], objects: tuple[Obj, ...]) -> bool:
    y = odd = tri = dbl = 0
    for o in objects:
        cy, co, ct, cd = charges[o]
        y, odd, tri, dbl = y + cy, odd + co, tri + ct, dbl + cd
    return y == 0 and odd % 2 == 0 and tri % 3 == 0 and dbl % 2 == 0


def _operators(fields: tuple[Field, ...], objects: tuple[Obj, ...], lorentz: tuple[Item, ...]) -> list[Term]:
    slots, blocks, conj_perm = monomial_signature(fields, objects)
    terms = []
    for items, imag, hc in select_operators(slots, blocks, conj_perm):
        terms.append(canonical(Term(objects, tuple(sorted(lorentz + items, key=Item.sort_key)), "+", imag, hc),
                     fields))
    return terms


def _key(o: Obj) -> tuple[int, bool]:
    return (o.field, o.dagger)


def _potential(fields: tuple[Field, ...]) -> list[Term]:
    kinds = [field_obj(i, d) for i, f in enumerate(fields) if f.is_scalar
             for d in ((False,) if f.real else (False, True))]
    charges = _charges(fields)
    out = []
    for degree in range(1, 5):
        for combo in itertools.combinations_with_replacement(kinds, degree):
            objects = tuple(sorted(combo, key=_key))
            if not _charges_vanish(charges, objects):
                continue
            conj = tuple(sorted((_conj(fields, o) for o in objects), key=_key))
            if [_key(o) for o in conj] < [_key(o) for o in objects]:
                continue  # counted with its h.c. partner
            out += _operators(fields, objects, ())
    return out


def _fermion_bilinears(fields: tuple[Field, ...]) -> list[Term]:
    # left-handed spinors: LH fields as they are, RH fields conjugated
    lh = [field_obj(i, f.helicity > 0) for i, f in enumerate(fields) if f.is_fermion]
    scalars = [None] + [field_obj(i, d) for i, f in enumerate(fields) if f.is_scalar
                        for d in ((False,) if f.real else (False, True))]
    charges = _charges(fields)
    out = []
    for a, b in itertools.combinations_with_replacement(lh, 2):
        for s in scalars:
            objects = tuple(sorted([a, b] + ([s] if s else []), key=_key))
            if not _charges_vanish(charges, objects):
                continue
            ferm = tuple(i for i, o in enumerate(objects) if fields[o.field].is_fermion)
            out += _operators(fields, objects, (Item("LORENTZ", ferm),))
    return out


def _order_key(fields: tuple[Field, ...], t: Term) -> tuple:
    return (TERM_CLASSES.index(term_class(t, fields)), [_key(o) for o in t.objects if o.kind == "field"],
            item_tokens(t.items), t.imag, t.hc)


@functools.lru_cache(maxsize=4096)
def _generate(fields: tuple[Field, ...]) -> Lagrangian:
    terms = _potential(fields) + _fermion_bilinears(fields)
    terms.sort(key=lambda t: _order_key(fields, t))
    return Lagrangian(fields, tuple(kinetic_terms(fields) + terms))


def generate(fields: list[Field] | tuple[Field, ...]) -> Lagrangian:
    """The complete renormalisable Lagrangian of a field content (fields are put in canonical order)."""
    check_content(fields)
    return _generate(canonical_order(fields))
