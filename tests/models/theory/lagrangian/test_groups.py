"""Group theory: primitive tensors are invariant, and the tree contractions span every invariant."""
import itertools

import numpy as np
import pytest

from hepilot.models.theory.lagrangian import groups as G
from hepilot.models.theory.lagrangian.invariants import _basis


@pytest.mark.parametrize("key", list(G._PRIMITIVES))
def test_primitive_tensors_are_invariant(key):
    group, legs, variant = key
    assert G.is_invariant(group, legs, G.primitive(group, legs, variant))


def test_generators_close_the_same_algebra_in_every_rep():
    for group in G.GROUPS:
        fund = G.generators(group, G.LEG_ORDER[group][0])
        n = fund.shape[0]
        # structure constants from the fundamental: [T_a, T_b] = i f_abc T_c, Tr(T_a T_b) = delta_ab / 2
        f = np.einsum("aij,bjk,cki->abc", fund, fund, fund) - np.einsum("bij,ajk,cki->abc", fund, fund, fund)
        f = (-2j * f).real
        for leg in G.LEG_ORDER[group]:
            t = G.generators(group, leg)
            comm = np.einsum("aij,bjk->abik", t, t) - np.einsum("bij,ajk->abik", t, t)
            assert np.allclose(comm, 1j * np.einsum("abc,cik->abik", f, t), atol=1e-12)
        assert n == (8 if group == "SU3" else 3)


def _invariant_dim(group: str, legs: tuple[str, ...]) -> int:
    """Dimension of the invariant subspace: null space of the total Casimir on the tensor product."""
    dims = [G.dim(group, leg) for leg in legs]
    size = int(np.prod(dims))
    casimir = np.zeros((size, size), dtype=complex)
    for a in range(G.generators(group, "1").shape[0]):
        total = np.zeros((size, size), dtype=complex)
        for k, leg in enumerate(legs):
            ops = [np.eye(d) for d in dims]
            ops[k] = G.generators(group, leg)[a]
            m = ops[0]
            for o in ops[1:]:
                m = np.kron(m, o)
            total += m
        casimir += total @ total
    return int((np.linalg.eigvalsh(casimir) < 1e-8).sum())


CASES = [(g, legs) for g in G.GROUPS for n in (2, 3, 4)
         for legs in itertools.combinations_with_replacement(G.LEG_ORDER[g], n)
         if np.prod([G.dim(g, leg) for leg in legs]) <= 256]


@pytest.mark.parametrize("group,legs", CASES)
def test_tree_contractions_span_the_invariants(group, legs):
    assert len(_basis(group, legs)) == _invariant_dim(group, legs)


@pytest.mark.parametrize("legs,n", [
    (("8", "8", "8"), 2),             # f and d
    (("3", "3", "3", "8"), 2),        # 3x3x3 = 1 + 8 + 8 + 10
    (("3b", "3b", "3b", "8"), 2),
    (("3", "3b", "8", "8"), 3),       # (1 + 8) x (1 + 8 + 8 + ...): delta delta, T^a T^b, T^b T^a
    (("8", "8", "8", "8"), 8),        # 8x8 = 1 + 8 + 8 + 10 + 10bar + 27: 1 + 4 + 1 + 1 + 1
])
def test_larger_su3_products_have_the_textbook_number_of_invariants(legs, n):
    # (too large for the Casimir diagonalisation in a fast test)
    assert len(_basis("SU3", legs)) == n
