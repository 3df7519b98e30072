"""Gauge-invariant contractions of up to four objects and the selection of independent operators.

For each gauge group the candidate contractions of the charged legs are trees of primitive invariant
tensors (groups.py): one pair or triple, two pairs (all pairings) or two triples joined by one internal
index (all 2+2 splits). They span every invariant of <= 4 legs of the representations used here
(checked against the dimension of the invariant subspace in the tests).

`select_operators` turns the candidates of a monomial (a multiset of objects) into a basis of the
independent operators: products over groups, symmetrised over identical objects (bosons; the two
left-handed spinors of a fermion bilinear psi chi = chi psi are symmetric as well), kept greedily in
canonical order when they increase the rank of the Gram matrix. For a self-conjugate monomial the
basis is hermitian: T (if T = T^dag), i T (if T = -T^dag), or T + h.c. and i T + h.c.
"""
from __future__ import annotations

import functools
import itertools
import string

import numpy as np

from hepilot.models.theory.lagrangian.groups import (
    GROUPS,
    LEG_ORDER,
    conjugate_leg,
    dim,
    internal_leg,
    primitive,
    primitive_variants,
    sort_legs,
)
from hepilot.models.theory.lagrangian.terms import Item

__all__ = ["group_candidates", "group_tensor", "select_operators", "operator_gram", "Selected", "TOL"]

TOL = 1e-8
Selected = tuple[tuple[Item, ...], bool, bool]  # (gauge items, imag, hc)


def _items_for(group: str, legs: tuple[tuple[int, str], ...]) -> list[tuple[Item, ...]]:
    """Single-tensor contractions (pair or triple) of exactly these legs."""
    types = sort_legs(group, tuple(t for _, t in legs))
    ids = tuple(sorted(i for i, _ in legs))
    return [(Item(group, ids, v),) for v in primitive_variants(group, types)]


def group_candidates(group: str, legs: tuple[tuple[int, str], ...], internal_id: int) -> list[tuple[Item, ...]]:
    """All tree contractions of the charged legs (slot id, leg type), in canonical order."""
    n = len(legs)
    if n == 0:
        return [()]
    if n in (2, 3):
        return _items_for(group, legs)
    if n != 4:
        return []
    out: list[tuple[Item, ...]] = []
    splits = [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))]
    for a, b in splits:
        for p in _items_for(group, (legs[a[0]], legs[a[1]])):
            for q in _items_for(group, (legs[b[0]], legs[b[1]])):
                out.append(tuple(sorted(p + q, key=Item.sort_key)))
    for a, b in splits:
        la, lb = (legs[a[0]], legs[a[1]]), (legs[b[0]], legs[b[1]])
        x = internal_leg(group, la[0][1], la[1][1])
        if x is None:
            continue
        for p in _items_for(group, (*la, (internal_id, x))):
            for q in _items_for(group, (*lb, (internal_id, conjugate_leg(group, x)))):
                out.append(tuple(sorted(p + q, key=Item.sort_key)))
    types = dict(legs)
    return sorted(out, key=lambda cand: _complexity(group, cand, types))


def _complexity(group: str, cand: tuple[Item, ...], types: dict[int, str]) -> tuple[int, int]:
    """Prefer (delta-like pairs) < (epsilon pairs) < (trees with an internal index) for readability."""
    internal = sum(1 for it in cand for i in it.ids if i not in types)
    non_delta = 0
    for it in cand:
        legs = [types[i] for i in it.ids if i in types]
        if len(it.ids) != 2 or legs[0] != conjugate_leg(group, legs[1]):
            non_delta += 1
    return (internal, non_delta)


def group_tensor(group: str, slot_legs: tuple[str, ...], items: tuple[Item, ...]) -> np.ndarray:
    """The invariant tensor over all slots (singlet slots have size 1) that `items` define.

    Raises ValueError (with the reason) if an item contracts leg types no primitive tensor joins, a
    charged slot is contracted zero or several times, or an internal index is not used exactly twice.
    """
    n = len(slot_legs)
    letters = iter(string.ascii_letters)
    slot_letter = {i: next(letters) for i in range(n)}
    uses: dict[int, int] = {}
    for it in items:
        for i in it.ids:
            uses[i] = uses.get(i, 0) + 1
    for i in range(n):
        if slot_legs[i] != "1" and uses.get(i, 0) != 1:
            raise ValueError(f"ID{i} carries an {group} index contracted {uses.get(i, 0)} times (needs exactly 1)")
        if slot_legs[i] == "1" and uses.get(i, 0):
            raise ValueError(f"ID{i} is an {group} singlet but appears in an {group} contraction")
    internal = sorted(i for i in uses if i >= n)
    for i in internal:
        if uses[i] != 2:
            raise ValueError(f"internal ID{i} joins {uses[i]} {group} tensors (needs exactly 2)")
    internal_type: dict[int, str] = {}
    operands: list[np.ndarray] = []
    subscripts: list[str] = []
    for it in items:
        known = [(i, slot_legs[i]) for i in it.ids if i < n]
        inner = [i for i in it.ids if i >= n]
        if len(inner) > 1:
            raise ValueError(f"an {group} contraction has two internal IDs")
        legs = list(known)
        if inner:
            i = inner[0]
            if i in internal_type:
                legs.append((i, conjugate_leg(group, internal_type[i])))
            else:
                if len(known) != 2:
                    raise ValueError(f"internal ID{i} must join two triples of {group}")
                x = internal_leg(group, known[0][1], known[1][1])
                if x is None:
                    raise ValueError(f"no {group} triple joins {known[0][1]} x {known[1][1]} to an internal index")
                internal_type[i] = x
                legs.append((i, x))
        order = LEG_ORDER[group]
        if any(t not in order for _, t in legs):
            raise ValueError(f"an {group} contraction lists an {group} singlet")
        legs.sort(key=lambda p: order.index(p[1]))
        types = tuple(t for _, t in legs)
        try:
            tensor = primitive(group, types, it.variant)
        except KeyError:
            shown = " x ".join(types)
            hint = " (FABC or DABC needed for 8 x 8 x 8)" if types == ("8", "8", "8") else ""
            raise ValueError(f"no invariant {group} tensor {it.variant or ''} contracts {shown}{hint}") from None
        for i, _ in legs:
            if i >= n and i not in slot_letter:
                slot_letter[i] = next(letters)
        operands.append(tensor)
        subscripts.append("".join(slot_letter[i] for i, _ in legs))
    for i in range(n):
        if slot_legs[i] == "1":
            operands.append(np.ones(1))
            subscripts.append(slot_letter[i])
    out = "".join(slot_letter[i] for i in range(n))
    if not operands:
        return np.ones((1,) * n, dtype=complex)
    return np.einsum(",".join(subscripts) + "->" + out, *operands).astype(complex)


def _perms(blocks: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Permutations of slots that map every slot into its own block of identical objects."""
    n = len(blocks)
    groups = [[i for i in range(n) if blocks[i] == b] for b in sorted(set(blocks))]
    out = []
    for choice in itertools.product(*(itertools.permutations(g) for g in groups)):
        perm = list(range(n))
        for g, p in zip(groups, choice):
            for src, dst in zip(g, p):
                perm[src] = dst
        out.append(tuple(perm))
    return out


def operator_gram(elements: list[dict[str, np.ndarray]], blocks: tuple[int, ...]) -> np.ndarray:
    """Gram matrix <S x_m, S x_n> of product tensors x = (x) over groups, S = symmetrisation."""
    k = len(elements)
    gram = np.zeros((k, k), dtype=complex)
    if k == 0:
        return gram
    stacked = {g: np.stack([e[g] for e in elements]) for g in GROUPS}  # (k, dim_slot0, dim_slot1, ...)
    flat = {g: s.reshape(k, -1).conj() for g, s in stacked.items()}
    for perm in _perms(blocks):
        axes = (0, *(1 + int(a) for a in np.argsort(perm)))
        prod = np.ones((k, k), dtype=complex)
        for g in GROUPS:
            moved = np.transpose(stacked[g], axes).reshape(k, -1)
            prod *= flat[g] @ moved.T
        gram += prod
    return gram


@functools.cache
def _basis(group: str, slot_legs: tuple[str, ...]) -> tuple[tuple[tuple[Item, ...], np.ndarray], ...]:
    """A basis of the group's invariants: candidates kept in order while they raise the rank."""
    legs = tuple((i, t) for i, t in enumerate(slot_legs) if t != "1")
    kept: list[tuple[tuple[Item, ...], np.ndarray]] = []
    vecs: list[np.ndarray] = []
    for cand in group_candidates(group, legs, len(slot_legs)):
        t = group_tensor(group, slot_legs, cand)
        if _independent(vecs, t.reshape(-1)):
            kept.append((cand, t))
            vecs.append(t.reshape(-1))
    return tuple(kept)


def _independent(vecs: list[np.ndarray], v: np.ndarray) -> bool:
    """True if v is not (numerically) in the span of vecs (Schur complement of the Gram matrix)."""
    norm = np.vdot(v, v).real
    if norm <= 1e-12:
        return False
    if not vecs:
        return True
    a = np.stack(vecs)
    g_ss = a.conj() @ a.T
    g_sv = a.conj() @ v
    resid = norm - np.vdot(g_sv, np.linalg.solve(g_ss, g_sv)).real
    return bool(resid > TOL * norm)


def _conj_element(e: dict[str, np.ndarray], conj_perm: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Tensor of O^dagger over the same slots: slot s's conjugate sits at slot conj_perm[s]."""
    axes = tuple(np.argsort(conj_perm))
    return {g: np.transpose(t.conj(), axes) for g, t in e.items()}


@functools.cache
def select_operators(slots: tuple[tuple[str, str], ...], blocks: tuple[int, ...],
                     conj_perm: tuple[int, ...] | None) -> tuple[Selected, ...]:
    """Independent operators of a monomial. slots: (SU3 leg, SU2 leg) per object in canonical order;
    blocks: identical-object classes; conj_perm: for a self-conjugate monomial, where each slot's
    conjugate sits (None otherwise: the operators then come with + h.c.)."""
    bases = {g: _basis(g, tuple(s[k] for s in slots)) for k, g in enumerate(GROUPS)}
    cands = [dict(zip(GROUPS, combo)) for combo in itertools.product(*(bases[g] for g in GROUPS))]
    elements: list[dict[str, np.ndarray]] = []
    for c in cands:
        e = {g: c[g][1] for g in GROUPS}
        elements.append(e)
        if conj_perm is not None:
            elements.append(_conj_element(e, conj_perm))
    gram = operator_gram(elements, blocks)
    chosen: list[np.ndarray] = []
    out: list[Selected] = []

    def try_add(coef: np.ndarray) -> bool:
        norm = float((coef.conj() @ gram @ coef).real)
        if norm <= 1e-12:
            return False
        if chosen:
            c = np.stack(chosen, axis=1)
            g_ss = c.conj().T @ gram @ c
            g_sv = c.conj().T @ gram @ coef
            sol = np.linalg.solve(g_ss, g_sv)
            resid = norm - float((g_sv.conj() @ sol).real)
        else:
            resid = norm
        if resid > TOL * norm:
            chosen.append(coef)
            return True
        return False

    size = len(elements)
    for k, c in enumerate(cands):
        items = tuple(sorted(c["SU3"][0] + c["SU2"][0], key=Item.sort_key))
        if conj_perm is None:
            coef = np.zeros(size, dtype=complex)
            coef[k] = 1
            if try_add(coef):
                out.append((items, False, True))
            continue
        t, td = np.zeros(size, dtype=complex), np.zeros(size, dtype=complex)
        t[2 * k], td[2 * k + 1] = 1, 1
        n_t = float((t @ gram @ t).real)
        if n_t <= 1e-12:
            continue
        diff = float(((t - td).conj() @ gram @ (t - td)).real)
        summ = float(((t + td).conj() @ gram @ (t + td)).real)
        if diff < TOL * n_t:
            if try_add(t):
                out.append((items, False, False))
        elif summ < TOL * n_t:
            if try_add(1j * t):
                out.append((items, True, False))
        else:
            if try_add(t + td):
                out.append((items, False, True))
            if try_add(1j * (t - td)):
                out.append((items, True, True))
    return tuple(out)
