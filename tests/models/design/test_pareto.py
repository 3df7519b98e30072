"""Pareto fronts and exact hypervolumes against hand-computed areas and volumes."""
import numpy as np
import pytest

from hepilot.models.design.pareto import dominates, hypervolume, pareto_mask, to_minimisation


def test_dominance_and_front():
    pts = np.array([[1, 5], [2, 3], [3, 4], [4, 1], [2, 3], [np.nan, 0]])
    assert dominates([2, 3], [3, 4]) and not dominates([2, 3], [2, 3]) and not dominates([1, 5], [4, 1])
    assert pareto_mask(pts).tolist() == [True, True, False, True, True, False]
    assert to_minimisation(np.array([[1.0, 0.9]]), ["minimize", "maximize"]).tolist() == [[1.0, -0.9]]


def test_hypervolume_2d_is_the_union_of_rectangles():
    # points (1,3), (2,2), (3,1) with reference (4,4): staircase area 3 + 2 + 1 = 6
    assert hypervolume(np.array([[1, 3], [2, 2], [3, 1]]), np.array([4, 4])) == pytest.approx(6.0)
    # a dominated point and a point outside the reference change nothing
    assert hypervolume(np.array([[1, 3], [2, 2], [3, 1], [3, 3], [5, 0]]), np.array([4, 4])) == pytest.approx(6.0)
    assert hypervolume(np.zeros((0, 2)), np.array([1.0, 1.0])) == 0.0


def test_hypervolume_3d_matches_inclusion_exclusion():
    a, b = np.array([1.0, 2.0, 2.0]), np.array([2.0, 1.0, 1.0])
    ref = np.array([3.0, 3.0, 3.0])
    vol = lambda p: np.prod(ref - p)  # noqa: E731
    overlap = np.prod(ref - np.maximum(a, b))
    assert hypervolume(np.array([a, b]), ref) == pytest.approx(vol(a) + vol(b) - overlap)
