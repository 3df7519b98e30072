"""Terms of a Lagrangian: objects (fields, derivatives, sigma-bar, field strengths), index contractions,
the term classes, mass dimension and the canonical form that makes equality exact.

A term is `sign [i] object... [CONTRACTIONS item...] [HC]` (arXiv:2501.09729's grammar, see tokens.py).
Objects are numbered by position (ID0, ID1, ...); an item lists the IDs whose indices one invariant
tensor contracts (LORENTZ, SU3, SU2; U(1) needs none). IDs beyond the objects label the internal index
joining two gauge tensors (one per group at most). `hc` means the term stands for O + O^dagger.

Canonical form: objects of potential / Yukawa / mass terms sorted by (field, dagger); IDs relabelled
among identical objects to the lexicographically smallest token string; IDs sorted inside an item
(every primitive tensor is symmetric or antisymmetric under exchanging legs of the same type, so this
changes at most the sign of a term whose coefficient is free); items sorted by group, variant, IDs.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

from hepilot.models.theory.lagrangian.fields import Field
from hepilot.models.theory.lagrangian.groups import conjugate_leg

__all__ = ["Obj", "Item", "Term", "leg", "term_class", "dimension", "canonical", "blocks_of", "chirality",
           "item_tokens", "field_obj", "ITEM_GROUPS", "TERM_CLASSES"]

ITEM_GROUPS = ("LORENTZ", "SU3", "SU2")
TERM_CLASSES = ("scalar_kinetic", "fermion_kinetic", "gauge_kinetic", "tadpole", "scalar_mass", "cubic", "quartic",
                "fermion_mass", "yukawa", "other")


@dataclass(frozen=True, order=True)
class Obj:
    """One factor: kind in field / derivative / sigma_bar / comm_a / comm_b (halves of [D_mu, D_nu])."""

    kind: str
    field: int = -1
    dagger: bool = False
    group: str = ""


def field_obj(field: int, dagger: bool = False) -> Obj:
    return Obj("field", field, dagger)


@dataclass(frozen=True, order=True)
class Item:
    """One contraction: the IDs whose `group` indices one invariant tensor ties together."""

    group: str
    ids: tuple[int, ...]
    variant: str = ""

    def sort_key(self) -> tuple:
        return (ITEM_GROUPS.index(self.group) if self.group in ITEM_GROUPS else 9, self.variant, self.ids)


@dataclass(frozen=True)
class Term:
    """sign [i] objects CONTRACTIONS items [HC]: the operator c*O (+ (c*O)^dagger when hc), c = +-1 or +-i."""

    objects: tuple[Obj, ...]
    items: tuple[Item, ...] = ()
    sign: str = "+"
    imag: bool = False
    hc: bool = False


def leg(fields: tuple[Field, ...], obj: Obj, group: str) -> str:
    """The leg type (groups.py) an object carries for `group`; '1' if it carries none."""
    if obj.kind != "field":
        return "1"
    f = fields[obj.field]
    if group == "SU3":
        base = {1: "1", 3: "3", -3: "3b", 8: "8"}[f.su3]
    else:
        base = {1: "1", 2: "2", 3: "3"}[f.su2]
    return conjugate_leg(group, base) if obj.dagger else base


def term_class(term: Term, fields: tuple[Field, ...]) -> str:
    """Which kind of term this is (TERM_CLASSES); 'other' for structures no class describes."""
    kinds = [o.kind for o in term.objects]
    if any(o.kind == "field" and not 0 <= o.field < len(fields) for o in term.objects):
        return "other"
    if kinds == ["derivative", "field", "derivative", "field"]:
        return "scalar_kinetic" if fields[term.objects[1].field].is_scalar else "other"
    if kinds == ["field", "sigma_bar", "derivative", "field"]:
        return "fermion_kinetic" if fields[term.objects[0].field].is_fermion else "other"
    if kinds == ["comm_a", "comm_b", "comm_a", "comm_b"]:
        return "gauge_kinetic"
    if set(kinds) != {"field"}:
        return "other"
    n_s = sum(fields[o.field].is_scalar for o in term.objects)
    n_f = len(kinds) - n_s
    table = {(1, 0): "tadpole", (2, 0): "scalar_mass", (3, 0): "cubic", (4, 0): "quartic", (0, 2): "fermion_mass",
             (1, 2): "yukawa"}
    return table.get((n_s, n_f), "other")


def dimension(term: Term, fields: tuple[Field, ...]) -> Fraction:
    """Mass dimension: scalar 1, fermion 3/2, derivative (also inside a field strength) 1, sigma-bar 0."""
    total = Fraction(0)
    for o in term.objects:
        if o.kind == "field":
            total += fields[o.field].dimension if 0 <= o.field < len(fields) else 0
        elif o.kind in ("derivative", "comm_a", "comm_b"):
            total += 1
    return total


def blocks_of(objects: tuple[Obj, ...]) -> tuple[int, ...]:
    """Block index per position: equal objects share a block (they are interchangeable)."""
    first: dict[Obj, int] = {}
    return tuple(first.setdefault(o, len(first)) for o in objects)


def _relabel(items: tuple[Item, ...], mapping: dict[int, int], n_obj: int) -> tuple[Item, ...]:
    """Apply an object relabelling; internal IDs become n_obj, n_obj+1, ... in group order."""
    internal: dict[int, int] = {}
    for it in sorted(items, key=lambda i: (ITEM_GROUPS.index(i.group) if i.group in ITEM_GROUPS else 9)):
        for i in it.ids:
            if i >= n_obj and i not in internal:
                internal[i] = n_obj + len(internal)
    out = []
    for it in items:
        ids = tuple(sorted(mapping.get(i, internal.get(i, i)) if i < n_obj else internal[i] for i in it.ids))
        out.append(Item(it.group, ids, it.variant))
    return tuple(sorted(out, key=Item.sort_key))


def item_tokens(items: tuple[Item, ...]) -> tuple[str, ...]:
    """The contraction tokens of items (without the CONTRACTIONS keyword)."""
    toks: list[str] = []
    for it in items:
        toks += [it.group, *([it.variant] if it.variant else []), *(f"ID{i}" for i in it.ids)]
    return tuple(toks)


def canonical(term: Term, fields: tuple[Field, ...]) -> Term:
    """The canonical representative of a term (see the module docstring)."""
    n = len(term.objects)
    if any(o.kind != "field" for o in term.objects):
        return Term(term.objects, _relabel(term.items, {i: i for i in range(n)}, n), term.sign, term.imag, term.hc)
    order = sorted(range(n), key=lambda i: (term.objects[i].field, term.objects[i].dagger))
    objects = tuple(term.objects[i] for i in order)
    base = {old: new for new, old in enumerate(order)}
    blocks = blocks_of(objects)
    groups = [[i for i in range(n) if blocks[i] == b] for b in sorted(set(blocks))]
    best: tuple[Item, ...] | None = None
    best_key: tuple[str, ...] | None = None
    for perms in itertools.product(*(itertools.permutations(g) for g in groups)):
        swap = {g[k]: p[k] for g, p in zip(groups, perms) for k in range(len(g))}
        mapping = {old: swap[new] for old, new in base.items()}
        items = _relabel(term.items, mapping, n)
        key = item_tokens(items)
        if best_key is None or key < best_key:
            best, best_key = items, key
    return Term(objects, best or (), term.sign, term.imag, term.hc)


def chirality(fields: tuple[Field, ...], obj: Obj) -> Fraction | None:
    """Helicity of a fermion object after conjugation (-1/2 undotted, +1/2 dotted); None for others."""
    if obj.kind != "field" or not 0 <= obj.field < len(fields) or not fields[obj.field].is_fermion:
        return None
    h = fields[obj.field].helicity
    return -h if obj.dagger else h
