"""Pareto fronts and hypervolumes for design studies (all objectives as minimisation).

A point a dominates b when a_k <= b_k for every objective and a_k < b_k for at least one. The
hypervolume of a set of points with respect to a reference point r (worse than every point of
interest) is the Lebesgue measure of the region dominated by the set and bounded by r; it is
computed exactly by slicing along the last objective (the HSO recursion,
While et al., IEEE Trans. Evol. Comput. 10 (2006) 29), fine for the few objectives and hundreds of
points of a design study. A larger hypervolume means a better front.
"""
from __future__ import annotations

import numpy as np

__all__ = ["dominates", "pareto_mask", "hypervolume", "to_minimisation"]


def to_minimisation(values: np.ndarray, directions: list[str]) -> np.ndarray:
    """Flip the sign of maximised objectives so that every column is minimised."""
    values = np.asarray(values, dtype=float)
    sign = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    return values * sign


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """True when a dominates b (minimisation)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all(a <= b) and np.any(a < b))


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of `points` (n, d), minimisation; NaN rows are never on it."""
    pts = np.asarray(points, dtype=float)
    n = len(pts)
    mask = np.all(np.isfinite(pts), axis=1) if n else np.zeros(0, dtype=bool)
    for i in np.flatnonzero(mask):
        others = pts[mask]
        if np.any(np.all(others <= pts[i], axis=1) & np.any(others < pts[i], axis=1)):
            mask[i] = False
    return mask


def hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    """Exact hypervolume dominated by `points` (n, d) and bounded by `reference` (d,), minimisation."""
    ref = np.asarray(reference, dtype=float)
    pts = np.asarray(points, dtype=float).reshape(-1, len(ref))
    pts = pts[np.all(np.isfinite(pts), axis=1) & np.all(pts < ref, axis=1)]
    if len(pts) == 0:
        return 0.0
    pts = pts[pareto_mask(pts)]
    return _hv(pts, ref)


def _hv(pts: np.ndarray, ref: np.ndarray) -> float:
    if pts.shape[1] == 1:
        return float(ref[0] - pts[:, 0].min())
    order = np.argsort(pts[:, -1], kind="stable")
    pts = pts[order]
    total = 0.0
    for i in range(len(pts)):
        upper = pts[i + 1, -1] if i + 1 < len(pts) else ref[-1]
        depth = upper - pts[i, -1]
        if depth > 0:
            sub = pts[: i + 1, :-1]
            total += depth * _hv(sub[pareto_mask(sub)], ref[:-1])
    return float(total)
