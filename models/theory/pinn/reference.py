"""Analytic all-order references for the shipped one-loop families (massless bubble and box).

Conventions: D = 4 - 2 eps, integrals normalised by c_Gamma = Gamma(1+eps) Gamma(1-eps)^2 / Gamma(1-2eps),
  Bub(p^2) = c_Gamma (-p^2 - i0)^(-eps) / (eps (1 - 2 eps)).

Bubble family (variable s in units of mu^2, physical region s > 0):
  f = eps (1 - 2 eps) Bub(s) / c_Gamma = (-s - i0)^(-eps),  f^(k) = (-(ln s - i pi))^k / k!.

Box family (variable x = t/s, physical s-channel region s > 0, t < 0, u = -s-t < 0, i.e. -1 < x < 0),
basis normalised by (-s - i0)^eps / c_Gamma:
  f1 = -eps (1-2eps) Bub(s) = -1,  f2 = -eps (1-2eps) Bub(t) = -exp(-eps L),  L = ln(-x) + i pi,
  f3 = eps^2 s t Box(s, t) = 2 [ 2F1(1,-eps;1-eps; 1+1/x) - f2 * 2F1(1,-eps;1-eps; 1+x) ],
the all-order box of Bern, Dixon, Kosower (hep-ph/9306240) written for this region, where
2F1(1,-eps;1-eps;z) = 1 - sum_{k>=1} eps^k Li_k(z) and both arguments 1+x in (0,1), 1+1/x < 0
stay off the branch cut. Expanded: f3 = 4 - 2 eps L - pi^2 eps^2 + O(eps^3), i.e. the Euclidean
4 - 2 eps ln x - pi^2 eps^2 continued with ln x -> ln(-x) + i pi. The tests check that this closed
form satisfies the DE derived by IBP in `ibp.py` at finite eps.
"""
from __future__ import annotations

import math

import mpmath
import numpy as np

__all__ = ["bubble_reference", "box_reference", "box_closed_form"]


def bubble_reference(points: np.ndarray, order: int) -> np.ndarray:
    """(N, 1) values of s > 0 -> (N, 1, order+1) complex coefficients f^(k)(s) of (-s - i0)^(-eps)."""
    s = np.asarray(points, dtype=float).reshape(-1)
    if np.any(s <= 0):
        raise ValueError("the bubble reference is for the physical region s > 0")
    log = -(np.log(s) - 1j * math.pi)
    out = np.stack([log**k / math.factorial(k) for k in range(order + 1)], axis=-1)
    return out[:, None, :]


def _li(k: int, z: mpmath.mpf) -> mpmath.mpf:
    return -mpmath.log(1 - z) if k == 1 else mpmath.polylog(k, z)


def box_reference(points: np.ndarray, order: int, *, dps: int = 20) -> np.ndarray:
    """(N, 1) values of x in (-1, 0) -> (N, 3, order+1) complex coefficients of (f1, f2, f3)."""
    x = np.asarray(points, dtype=float).reshape(-1)
    if np.any((x <= -1) | (x >= 0)):
        raise ValueError("the box reference is for the physical region -1 < x = t/s < 0")
    out = np.zeros((len(x), 3, order + 1), dtype=complex)
    fact = [math.factorial(k) for k in range(order + 1)]
    with mpmath.workdps(dps):
        for n, xv in enumerate(x):
            xm = mpmath.mpf(float(xv))
            big_l = mpmath.log(-xm) + 1j * mpmath.pi
            f2 = [-((-big_l) ** k) / fact[k] for k in range(order + 1)]
            c_inv = [1] + [-_li(k, 1 + 1 / xm) for k in range(1, order + 1)]
            c_dir = [1] + [-_li(k, 1 + xm) for k in range(1, order + 1)]
            for k in range(order + 1):
                f3 = 2 * c_inv[k] - 2 * sum(f2[j] * c_dir[k - j] for j in range(k + 1))
                out[n, :, k] = (-1.0 if k == 0 else 0.0, complex(f2[k]), complex(f3))
    return out


def box_closed_form(x: float | str, eps: float | str, *, dps: int = 30) -> tuple[complex, complex, complex]:
    """(f1, f2, f3) of the box family at finite eps (all orders), from the 2F1 closed form;
    x and eps may be decimal strings to keep more than double precision."""
    with mpmath.workdps(dps):
        xm, e = mpmath.mpf(x), mpmath.mpf(eps)
        f2 = -mpmath.exp(-e * (mpmath.log(-xm) + 1j * mpmath.pi))
        hyp = lambda z: mpmath.hyp2f1(1, -e, 1 - e, z)  # noqa: E731
        f3 = 2 * hyp(1 + 1 / xm) - 2 * f2 * hyp(1 + xm)
        return -1.0 + 0j, complex(f2), complex(f3)
