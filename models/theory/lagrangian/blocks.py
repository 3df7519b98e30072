"""Interaction blocks: a Lagrangian as the union of the terms of its small sub-contents (locality).

Whether an operator is Lorentz- and gauge-invariant, hermitian and independent depends only on the
fields it contains, so for a content C (canonical order)

    L(C) = union over S of T(S),    T(S) = the terms of L(S) that contain every field of S,

where S runs over the sub-contents that can carry an operator of dimension <= 4 (`blocks`): up to
four scalars (tadpole, mass, cubic, quartic), or one or two Weyl fermions with at most one scalar
(kinetic, psi psi, psi chi, phi psi psi, phi psi chi). A one-field block also holds the gauge kinetic
terms of the groups its field is charged under (they coincide across blocks and are kept once).
Which blocks exist is dimension counting on the input; which terms a block has (none, when no
monomial is neutral) is the answer, and `assemble` puts the union in the generator's canonical order.

A Lagrangian transformer trained on (block -> T(block)) pairs (train --blocks) writes a content's
Lagrangian block by block: the inputs are at most 4 fields whatever the size of the content, which is what
lets it answer 7-8-field contents it has never seen as a whole.
"""
from __future__ import annotations

import itertools

from hepilot.models.theory.lagrangian.fields import Field, canonical_order
from hepilot.models.theory.lagrangian.generator import Lagrangian, _order_key, generate
from hepilot.models.theory.lagrangian.terms import Obj, Term, canonical, term_class

__all__ = ["blocks", "block_terms", "lift", "assemble", "sub_content", "MAX_BLOCK_FIELDS"]

MAX_BLOCK_FIELDS = 4
_KINETIC = ("scalar_kinetic", "fermion_kinetic")
_GROUPS = ("SU3", "SU2", "U1")


def blocks(fields: tuple[Field, ...]) -> list[tuple[int, ...]]:
    """Index tuples (increasing) of the sub-contents of a canonical content that can carry a term."""
    out = []
    for size in range(1, MAX_BLOCK_FIELDS + 1):
        for combo in itertools.combinations(range(len(fields)), size):
            n_f = sum(fields[i].is_fermion for i in combo)
            if n_f == 0 or (n_f <= 2 and size - n_f <= 1):
                out.append(combo)
    return out


def _field_set(term: Term) -> set[int]:
    return {o.field for o in term.objects if o.kind == "field"}


def block_terms(sub: tuple[Field, ...]) -> tuple[Term, ...]:
    """T(sub): the terms of L(sub) containing every field of `sub` (plus its gauge kinetic terms when
    `sub` is one field), in the generator's order; field indices refer to `sub`."""
    lag = generate(sub)
    every = set(range(len(lag.fields)))
    return tuple(t for t in lag.terms
                 if _field_set(t) == every or (len(every) == 1 and term_class(t, lag.fields) == "gauge_kinetic"))


def lift(terms, index: tuple[int, ...], fields: tuple[Field, ...]) -> list[Term]:
    """Terms of a block (field k = fields[index[k]]) renumbered to the whole content, canonical."""
    out = []
    for t in terms:
        objects = tuple(Obj(o.kind, index[o.field], o.dagger, o.group) if o.kind == "field" else o
                        for o in t.objects)
        out.append(canonical(Term(objects, t.items, t.sign, t.imag, t.hc), fields))
    return out


def _position(fields: tuple[Field, ...], t: Term) -> tuple:
    cls = term_class(t, fields)
    if cls in _KINETIC:
        return (0, min(_field_set(t)))
    if cls == "gauge_kinetic":
        return (1, _GROUPS.index(t.objects[0].group))
    return (2, _order_key(fields, t))


def assemble(fields: tuple[Field, ...], terms) -> Lagrangian:
    """Lifted block terms in the exact generator's canonical order. A gauge kinetic term is kept once
    (every one-field block of a charged field holds it); any other repeat is kept, for the validator
    to reject as redundant."""
    fields = canonical_order(fields)
    kept, gauge = [], set()
    for t in terms:
        if term_class(t, fields) == "gauge_kinetic":
            if t in gauge:
                continue
            gauge.add(t)
        kept.append(t)
    return Lagrangian(fields, tuple(sorted(kept, key=lambda t: _position(fields, t))))


def sub_content(fields: tuple[Field, ...], index: tuple[int, ...]) -> tuple[Field, ...]:
    return tuple(fields[i] for i in index)
