"""A fully connected GELU network that returns its outputs and their input derivatives in one pass.

arXiv:2312.02067 (Calisto, Moodie, Zoia) approximates the eps-expansion coefficients of all master
integrals with fully connected networks of GELU activations, whose smooth second derivative keeps
the autodiff DE residual well behaved. The DE loss needs d(outputs)/d(inputs); instead of one
backward pass per output (autograd.grad) the tangents are propagated forward with the values:

    z = W h + b,   dz = W dh;   h' = gelu(z),   dh' = gelu'(z) dz,   gelu'(z) = Phi(z) + z phi(z)

which costs about one extra forward pass per input variable and stays differentiable in the
weights for Adam and L-BFGS. Inputs are mapped affinely from the domain box onto [-1, 1].
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["GeluMLP"]

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GeluMLP(nn.Module):
    """x (N, d) in `domain` -> (values (N, n_out), jacobian (N, d, n_out)); exact GELU (erf form)."""

    def __init__(self, n_in: int, n_out: int, hidden: Sequence[int], domain: Sequence[tuple[float, float]]):
        super().__init__()
        lo = torch.tensor([a for a, _ in domain], dtype=torch.float64)
        hi = torch.tensor([b for _, b in domain], dtype=torch.float64)
        if lo.numel() != n_in or torch.any(hi <= lo):
            raise ValueError("domain needs one (low, high) pair with low < high per input variable")
        self.register_buffer("center", (hi + lo) / 2)
        self.register_buffer("half_width", (hi - lo) / 2)
        dims = [n_in, *hidden, n_out]
        self.layers = nn.ModuleList(nn.Linear(a, b, dtype=torch.float64) for a, b in zip(dims[:-1], dims[1:]))

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Last hidden layer and its input derivatives: (N, width), (N, d, width)."""
        h = (x - self.center) / self.half_width  # (N, d)
        n, d_in = h.shape
        dh = torch.diag_embed(1.0 / self.half_width).expand(n, d_in, d_in)  # (N, d, d): d h / d x
        for layer in self.layers[:-1]:
            z = layer(h)  # (N, width)
            dz = dh @ layer.weight.T  # (N, d, width)
            cdf = 0.5 * (1.0 + torch.erf(z / _SQRT2))
            pdf = torch.exp(-0.5 * z * z) * _INV_SQRT_2PI
            h, dh = z * cdf, (cdf + z * pdf).unsqueeze(1) * dz
        return h, dh

    @property
    def head(self) -> nn.Linear:
        """The linear output layer (the DE residual is linear in its weights)."""
        return self.layers[-1]

    def values(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs only (no derivatives), for fast evaluation once trained: (N, d) -> (N, n_out)."""
        h = (x - self.center) / self.half_width
        for layer in self.layers[:-1]:
            z = layer(h)
            h = z * 0.5 * (1.0 + torch.erf(z / _SQRT2))
        return self.head(h)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, dh = self.features(x)
        return self.head(h), dh @ self.head.weight.T
