"""Representations of SU(3) x SU(2) used by the Lagrangian generator: generators and invariant tensors.

Leg types (the representation one index of an object carries):
    SU3: "3" (a colour triplet field), "3b" (an anti-triplet, or the conjugate of a triplet), "8" (adjoint)
    SU2: "2" (a doublet), "2b" (the conjugate of a doublet), "3" (adjoint)
Conjugation swaps 3 <-> 3b and 2 <-> 2b; adjoints are written in the real (Cartesian) basis, so a
conjugated adjoint transforms in the same basis. Generators are hermitian: T = lambda/2 on "3",
-T* on "3b", (t^b)_ac = -i f_bac on "8"; sigma/2, -sigma*/2 and -i eps_bac for SU(2).

Primitive invariant tensors, keyed by the sorted leg types (order SU3: 3, 3b, 8; SU2: 2, 2b, 3):
    pairs     SU3 (3,3b) delta, (8,8) delta;  SU2 (2,2b) delta, (2,2) eps, (2b,2b) eps, (3,3) delta
    triples   SU3 (3,3,3) eps, (3b,3b,3b) eps, (3,3b,8) (T^a)_ji, (8,8,8) f_abc ("FABC") or d_abc ("DABC")
              SU2 (2,2b,3) (sigma^a)_ji, (2,2,3) (eps sigma^a)_ij, (2b,2b,3) (eps sigma^a)*_ij, (3,3,3) eps
The operator of a tensor t with legs (l1, l2, ...) is sum t[i1, i2, ...] x1_i1 x2_i2 ... . Phases are
part of the token grammar's definition: whether a self-conjugate operator needs a factor i to be
hermitian depends on them (e.g. i eps^abc Delta*^a Delta^b H^dag sigma^c H).
"""
from __future__ import annotations

import functools
import itertools

import numpy as np

__all__ = [
    "GROUPS",
    "LEG_ORDER",
    "conjugate_leg",
    "dim",
    "generators",
    "primitive",
    "primitive_variants",
    "sort_legs",
    "internal_leg",
    "is_invariant",
]

GROUPS = ("SU3", "SU2")
LEG_ORDER = {"SU3": ("3", "3b", "8"), "SU2": ("2", "2b", "3")}
_DIMS = {"SU3": {"1": 1, "3": 3, "3b": 3, "8": 8}, "SU2": {"1": 1, "2": 2, "2b": 2, "3": 3}}
_CONJ = {"3": "3b", "3b": "3", "8": "8", "2": "2b", "2b": "2", "1": "1"}


def conjugate_leg(group: str, leg: str) -> str:
    """The leg type of the conjugated object (adjoints and singlets are self-conjugate)."""
    if group == "SU2" and leg == "3":
        return "3"
    return _CONJ[leg]


def dim(group: str, leg: str) -> int:
    return _DIMS[group][leg]


def _eps(n: int) -> np.ndarray:
    e = np.zeros((n,) * n)
    for perm in itertools.permutations(range(n)):
        inv = sum(1 for i in range(n) for j in range(i + 1, n) if perm[i] > perm[j])
        e[perm] = -1.0 if inv % 2 else 1.0
    return e


_SIGMA = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex)
_EPS2 = np.array([[0.0, 1.0], [-1.0, 0.0]])


def _gell_mann() -> np.ndarray:
    lam = np.zeros((8, 3, 3), dtype=complex)
    lam[0][0, 1] = lam[0][1, 0] = 1
    lam[1][0, 1], lam[1][1, 0] = -1j, 1j
    lam[2][0, 0], lam[2][1, 1] = 1, -1
    lam[3][0, 2] = lam[3][2, 0] = 1
    lam[4][0, 2], lam[4][2, 0] = -1j, 1j
    lam[5][1, 2] = lam[5][2, 1] = 1
    lam[6][1, 2], lam[6][2, 1] = -1j, 1j
    lam[7] = np.diag([1, 1, -2]) / np.sqrt(3)
    return lam


_T3 = _gell_mann() / 2
# [T_a, T_b] = i f_abc T_c and {T_a, T_b} = delta_ab/3 + d_abc T_c, with Tr(T_a T_b) = delta_ab/2
_F = np.real(-2j * np.einsum("aij,bjk,cki->abc", _T3, _T3, _T3) + 2j * np.einsum("bij,ajk,cki->abc", _T3, _T3, _T3))
_D = np.real(2 * np.einsum("aij,bjk,cki->abc", _T3, _T3, _T3) + 2 * np.einsum("bij,ajk,cki->abc", _T3, _T3, _T3))


@functools.cache
def generators(group: str, leg: str) -> np.ndarray:
    """Hermitian generators acting on one leg, shape (n_generators, dim, dim)."""
    if group == "SU3":
        table = {"1": np.zeros((8, 1, 1)), "3": _T3, "3b": -_T3.conj(), "8": -1j * _F}
    else:
        table = {"1": np.zeros((3, 1, 1)), "2": _SIGMA / 2, "2b": -_SIGMA.conj() / 2,
                 "3": -1j * _eps(3)}
    return np.asarray(table[leg], dtype=complex)


def _primitive_table() -> dict[tuple[str, tuple[str, ...], str], np.ndarray]:
    eps2sig = np.einsum("ij,ajk->ika", _EPS2, _SIGMA)  # (eps sigma^a)_ik, legs (2, 2, 3)
    table = {
        ("SU3", ("3", "3b"), ""): np.eye(3),
        ("SU3", ("8", "8"), ""): np.eye(8),
        ("SU3", ("3", "3", "3"), ""): _eps(3),
        ("SU3", ("3b", "3b", "3b"), ""): _eps(3),
        ("SU3", ("3", "3b", "8"), ""): np.transpose(_T3, (2, 1, 0)),
        ("SU3", ("8", "8", "8"), "FABC"): _F,
        ("SU3", ("8", "8", "8"), "DABC"): _D,
        ("SU2", ("2", "2b"), ""): np.eye(2),
        ("SU2", ("2", "2"), ""): _EPS2,
        ("SU2", ("2b", "2b"), ""): _EPS2,
        ("SU2", ("3", "3"), ""): np.eye(3),
        ("SU2", ("2", "2b", "3"), ""): np.transpose(_SIGMA, (2, 1, 0)),
        ("SU2", ("2", "2", "3"), ""): eps2sig,
        ("SU2", ("2b", "2b", "3"), ""): eps2sig.conj(),
        ("SU2", ("3", "3", "3"), ""): _eps(3),
    }
    return {k: np.asarray(v, dtype=complex) for k, v in table.items()}


_PRIMITIVES = _primitive_table()


def primitive_variants(group: str, legs: tuple[str, ...]) -> tuple[str, ...]:
    """Tensor variants ('' or FABC/DABC) that contract these leg types (sorted canonically)."""
    return tuple(v for (g, ls, v) in _PRIMITIVES if g == group and ls == legs)


def primitive(group: str, legs: tuple[str, ...], variant: str = "") -> np.ndarray:
    """The invariant tensor with the given sorted leg types; KeyError if there is none."""
    return _PRIMITIVES[(group, legs, variant)]


def sort_legs(group: str, legs: tuple[str, ...]) -> tuple[str, ...]:
    order = LEG_ORDER[group]
    return tuple(sorted(legs, key=order.index))


def internal_leg(group: str, a: str, b: str) -> str | None:
    """The internal leg type X closing a triple (a, b, X) in the canonical convention, or None.

    The tensor on the other side of the internal line then carries the conjugate leg. Where two
    choices exist (SU2 doublet + triplet: X = 2 or 2b) they give the same operator up to a factor,
    and the convention takes the first in LEG_ORDER's reverse preference (adjoint, then 2b/3b).
    """
    prefs = {"SU3": ("8", "3b", "3"), "SU2": ("3", "2b", "2")}[group]
    for x in prefs:
        legs = sort_legs(group, (a, b, x))
        if primitive_variants(group, legs):
            return x
    return None


def is_invariant(group: str, legs: tuple[str, ...], tensor: np.ndarray, *, atol: float = 1e-9) -> bool:
    """True if sum over legs of the generator action on `tensor` vanishes (infinitesimal invariance)."""
    n_gen = generators(group, "1").shape[0]
    for a in range(n_gen):
        total = np.zeros_like(tensor)
        for axis, leg in enumerate(legs):
            g = generators(group, leg)[a]
            moved = np.tensordot(tensor, g, axes=([axis], [0]))  # sum_i t[..i..] G_ij
            total = total + np.moveaxis(moved, -1, axis)
        if not np.allclose(total, 0, atol=atol):
            return False
    return True
