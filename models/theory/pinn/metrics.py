"""Accuracy measures of a learned Feynman-integral solution against a reference.

Relative difference of one coefficient: r = |f_NN - f_ref| / |f_ref|, with complex magnitudes, for
every test point, master integral and eps order whose reference is not zero (|f_ref| > floor;
e.g. f^(k>=1) of a constant master vanishes identically and is left out).
MMRD ("mean magnitude of the relative difference", the accuracy measure of arXiv:2312.02067) is the
mean of r over all those entries; we report it together with the maximum of r. We use complex
magnitudes rather than real and imaginary parts apart, so a real or imaginary part that crosses
zero inside the domain does not blow the ratio up.
"""
from __future__ import annotations

import numpy as np

__all__ = ["relative_differences", "mmrd", "max_relative_difference", "per_order_mmrd"]

_FLOOR = 1e-12


def relative_differences(pred: np.ndarray, ref: np.ndarray, *, floor: float = _FLOOR) -> np.ndarray:
    """|pred - ref| / |ref| where |ref| > floor (NaN elsewhere), same shape as the inputs."""
    pred, ref = np.asarray(pred), np.asarray(ref)
    if pred.shape != ref.shape:
        raise ValueError(f"prediction {pred.shape} and reference {ref.shape} have different shapes")
    mag = np.abs(ref)
    out = np.full(ref.shape, np.nan)
    ok = mag > floor
    out[ok] = np.abs(pred[ok] - ref[ok]) / mag[ok]
    return out


def mmrd(pred: np.ndarray, ref: np.ndarray, *, floor: float = _FLOOR) -> float:
    """Mean magnitude of the relative difference over all non-vanishing reference entries."""
    return float(np.nanmean(relative_differences(pred, ref, floor=floor)))


def max_relative_difference(pred: np.ndarray, ref: np.ndarray, *, floor: float = _FLOOR) -> float:
    """Largest relative difference over all non-vanishing reference entries."""
    return float(np.nanmax(relative_differences(pred, ref, floor=floor)))


def per_order_mmrd(pred: np.ndarray, ref: np.ndarray, *, floor: float = _FLOOR) -> list[float]:
    """MMRD of each eps order separately (last axis = order); NaN for an order that is all zero."""
    r = relative_differences(pred, ref, floor=floor)
    r = r.reshape(-1, r.shape[-1])
    return [float(np.nanmean(col)) if np.any(~np.isnan(col)) else float("nan") for col in r.T]
