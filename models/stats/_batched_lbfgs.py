"""Projected L-BFGS on a box, vectorised over many independent problems (one per toy) in torch.

Minimises B independent objectives f_b(theta_b), theta_b in [-c, c]^P, at once: every problem keeps
its own curvature memory, its own backtracking (Armijo) line search and its own convergence flag, so
the result is the same as B separate runs while each objective evaluation is one batched call.
Bounds are handled as in projected quasi-Newton methods (Bertsekas 1982): coordinates at a bound
whose gradient points outwards are frozen for the step, the step is projected back onto the box.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

__all__ = ["BoxLBFGSResult", "minimize_box_lbfgs"]

# fg(theta (b, P), idx (b,)) -> (values (b,), gradients (b, P)) for the problems listed in idx
ValueAndGrad = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class BoxLBFGSResult:
    theta: torch.Tensor       # (B, P) minimisers
    value: torch.Tensor       # (B,) objective values at theta
    n_iter: torch.Tensor      # (B,) iterations each problem used
    converged: torch.Tensor   # (B,) bool: stopped by a tolerance, not by max_iter


def _direction(g: torch.Tensor, s_mem: torch.Tensor, y_mem: torch.Tensor, rho: torch.Tensor,
               gamma: torch.Tensor) -> torch.Tensor:
    """Two-loop recursion: -H g for each problem; memory slots with rho = 0 are empty (no effect)."""
    q = g.clone()
    m = s_mem.shape[1]
    alphas = []
    for i in range(m - 1, -1, -1):  # newest pair is the last slot
        a = rho[:, i] * (s_mem[:, i] * q).sum(-1)
        q -= a[:, None] * y_mem[:, i]
        alphas.append(a)
    r = gamma[:, None] * q
    for i, a in zip(range(m), reversed(alphas)):
        b = rho[:, i] * (y_mem[:, i] * r).sum(-1)
        r += (a - b)[:, None] * s_mem[:, i]
    return -r


def minimize_box_lbfgs(fg: ValueAndGrad, theta0: torch.Tensor, bound: float, *, max_iter: int = 2000,
                       history: int = 10, ftol: float = 1e-10, gtol: float = 1e-7,
                       max_backtracks: int = 40) -> BoxLBFGSResult:
    """Minimise B independent box-constrained objectives with projected L-BFGS.

    Stops problem b when its projected gradient max-norm is below gtol * (1 + |f_b|), or its
    relative decrease (f_old - f_new) / max(|f_new|, 1) is below ftol for 3 consecutive steps,
    or when no step length satisfies the Armijo condition (a numerical minimum).
    """
    theta = theta0.detach().clamp(-bound, bound).clone()
    n_prob, n_par = theta.shape
    all_idx = torch.arange(n_prob)
    value, grad = fg(theta, all_idx)
    s_mem = torch.zeros(n_prob, history, n_par, dtype=theta.dtype)
    y_mem = torch.zeros_like(s_mem)
    rho = torch.zeros(n_prob, history, dtype=theta.dtype)
    small_steps = torch.zeros(n_prob, dtype=torch.long)
    n_iter = torch.zeros(n_prob, dtype=torch.long)
    active = torch.ones(n_prob, dtype=torch.bool)
    converged = torch.zeros(n_prob, dtype=torch.bool)
    eps = 1e-12 * max(bound, 1.0)
    for _ in range(max_iter):
        idx = all_idx[active]
        if len(idx) == 0:
            break
        th, g, f0 = theta[idx], grad[idx], value[idx]
        pg = (th - g).clamp(-bound, bound) - th
        done = pg.abs().amax(-1) <= gtol * (1 + f0.abs())
        outward = ((th <= -bound + eps) & (g > 0)) | ((th >= bound - eps) & (g < 0))
        g_free = g.masked_fill(outward, 0.0)
        sy_last = (s_mem[idx, -1] * y_mem[idx, -1]).sum(-1)
        yy_last = (y_mem[idx, -1] ** 2).sum(-1)
        gamma = torch.where(rho[idx, -1] > 0, sy_last / yy_last.clamp_min(1e-300),
                            1.0 / g_free.abs().amax(-1).clamp_min(1e-12))
        d = _direction(g_free, s_mem[idx], y_mem[idx], rho[idx], gamma).masked_fill(outward, 0.0)
        not_descent = (g * d).sum(-1) >= 0
        if not_descent.any():  # stale curvature: restart this problem from steepest descent
            d[not_descent] = -g_free[not_descent] / g_free[not_descent].abs().amax(-1, keepdim=True).clamp_min(1e-12)
            rho[idx[not_descent]] = 0.0
        step = torch.ones(len(idx), dtype=theta.dtype)
        searching = ~done
        new_th, new_f, new_g = th.clone(), f0.clone(), g.clone()
        for _ls in range(max_backtracks):
            if not searching.any():
                break
            sub = searching.nonzero().squeeze(-1)
            trial = (th[sub] + step[sub, None] * d[sub]).clamp(-bound, bound)
            f_t, g_t = fg(trial, idx[sub])
            ok = f_t <= f0[sub] + 1e-4 * (g[sub] * (trial - th[sub])).sum(-1)
            acc = sub[ok]
            new_th[acc], new_f[acc], new_g[acc] = trial[ok], f_t[ok], g_t[ok]
            searching[acc] = False
            step[sub[~ok]] *= 0.5
        stalled = searching  # no acceptable step: a numerical minimum
        moved = ~done & ~stalled
        s = new_th - th
        y = new_g - g
        sy = (s * y).sum(-1)
        good = moved & (sy > 1e-10 * (y * y).sum(-1).sqrt() * (s * s).sum(-1).sqrt())
        gi = idx[good]
        if len(gi):
            s_mem[gi] = torch.roll(s_mem[gi], -1, dims=1)
            y_mem[gi] = torch.roll(y_mem[gi], -1, dims=1)
            rho[gi] = torch.roll(rho[gi], -1, dims=1)
            s_mem[gi, -1], y_mem[gi, -1], rho[gi, -1] = s[good], y[good], 1.0 / sy[good]
        rel = (f0 - new_f) / new_f.abs().clamp_min(1.0)
        small = moved & (rel <= ftol)
        small_steps[idx] = torch.where(small, small_steps[idx] + 1, torch.zeros_like(small_steps[idx]))
        theta[idx], value[idx], grad[idx] = new_th, new_f, new_g
        n_iter[idx] += moved.long()
        finished = done | stalled | (small_steps[idx] >= 3)
        converged[idx[finished]] = True
        active[idx[finished]] = False
    return BoxLBFGSResult(theta=theta, value=value, n_iter=n_iter, converged=converged)
