"""The conventional numerical solution of the same canonical DE (scipy solve_ivp), baseline and reference.

From the first boundary point x_b the system is integrated along straight lines to every target
point at once: with x(lam) = x_b + lam (x - x_b), lam in [0, 1],

    d f^(k)/d lam = sum_i (x_i - x_b,i) A_i(x(lam)) f^(k-1),      f^(0) constant,

a linear ODE in lam for all targets together (complex state, DOP853, rtol 1e-12 by default). The
domain is a box, hence convex, so the lines never leave it. With one variable the DE is instead
integrated once in each direction from x_b, with the targets as output times (the usual way).
It needs the boundary values at one point only, like the PINN with a single boundary point.
"""
from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from hepilot.models.theory.pinn.system import CanonicalDE

__all__ = ["solve_with_ode"]


def solve_with_ode(system: CanonicalDE, points: np.ndarray, *, rtol: float = 1e-12, atol: float = 1e-14,
                   method: str = "DOP853") -> np.ndarray:
    """f^(k) at the points (N, d) -> (N, n_masters, K+1) complex, from the first boundary condition."""
    points = np.atleast_2d(np.asarray(points, dtype=float)).reshape(-1, system.n_vars)
    start = np.asarray(system.boundary[0].point, dtype=float)
    f0 = system.boundary[0].values  # (n, K+1)
    n, k1, n_pts = system.n_masters, system.n_orders, len(points)
    delta = points - start  # (N, d)

    if system.n_vars == 1:
        return _solve_1d(system, points[:, 0], rtol=rtol, atol=atol, method=method)

    def rhs(lam: float, y: np.ndarray) -> np.ndarray:
        f = y.reshape(n_pts, n, k1)
        a = system.matrix_values(start + lam * delta)  # (N, d, n, n)
        a_dir = np.einsum("nd,ndab->nab", delta, a)
        out = np.zeros_like(f)
        out[:, :, 1:] = np.einsum("nab,nbk->nak", a_dir, f[:, :, :-1])
        return out.reshape(-1)

    y0 = np.broadcast_to(f0, (n_pts, n, k1)).astype(complex).reshape(-1)
    sol = solve_ivp(rhs, (0.0, 1.0), y0, method=method, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol.y[:, -1].reshape(n_pts, n, k1)


def _solve_1d(system: CanonicalDE, x: np.ndarray, *, rtol: float, atol: float, method: str) -> np.ndarray:
    start = system.boundary[0].point[0]
    f0 = system.boundary[0].values.astype(complex)
    n, k1 = system.n_masters, system.n_orders
    out = np.empty((len(x), n, k1), dtype=complex)

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        f = y.reshape(n, k1)
        a = system.matrix_values(np.array([[t]]))[0, 0]
        out_f = np.zeros_like(f)
        out_f[:, 1:] = a @ f[:, :-1]
        return out_f.reshape(-1)

    out[x == start] = f0
    for side in (x > start, x < start):
        if not side.any():
            continue
        order = np.argsort(np.abs(x[side] - start))
        targets = x[side][order]
        sol = solve_ivp(rhs, (start, targets[-1]), f0.reshape(-1), method=method, t_eval=targets, rtol=rtol,
                        atol=atol)
        if not sol.success:
            raise RuntimeError(f"solve_ivp failed: {sol.message}")
        idx = np.flatnonzero(side)[order]
        out[idx] = sol.y.T.reshape(-1, n, k1)
    return out
