"""The Feynman-integral families shipped with an analytic reference: their DE, domain and boundary points.

- bubble: one-loop massless bubble in s (units of mu^2), f = (-s - i0)^(-eps), d f/ds = -eps/s f;
  physical region s > 0, where every f^(k) is complex.
- box: one-loop massless box, canonical basis (-eps(1-2eps) Bub(s), -eps(1-2eps) Bub(t), eps^2 s t Box)
  times (-s - i0)^eps / c_Gamma in x = t/s; d f/dx = eps (A0/x + A1/(1+x)) f with A0, A1 derived
  by IBP in ibp.py. Physical s-channel region s > 0, t < 0, u < 0, i.e. -1 < x < 0, where the
  coefficients are complex and never vanish, so relative differences are well defined (in the
  Euclidean region x > 0 the box's eps^1 term -2 ln x crosses zero at x = 1). Two boundary points,
  as in arXiv:2312.02067's one-loop box.
Boundary values come from the analytic references in reference.py (the paper takes them from an
independent evaluation too); the references also give the MMRD.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hepilot.models.theory.pinn.reference import box_reference, bubble_reference
from hepilot.models.theory.pinn.system import CanonicalDE

__all__ = ["Family", "FAMILIES", "get_family"]


@dataclass(frozen=True)
class Family:
    """A shipped family: its canonical DE as text, a reference, and the default set-up."""

    name: str
    description: str
    variables: tuple[str, ...]
    masters: tuple[str, ...]
    matrices: dict[str, list[list[str]]]
    order: int  # default highest eps order
    domain: tuple[tuple[float, float], ...]
    boundary_points: tuple[tuple[float, ...], ...]
    reference: Callable[[np.ndarray, int], np.ndarray]  # (N, d), order -> (N, n, order+1)
    region: str
    citation: str

    def system(self, order: int | None = None, boundary_points: tuple[tuple[float, ...], ...] | None = None,
               ) -> CanonicalDE:
        """The family's DE to `order` with boundary values from the reference at the boundary points."""
        order = self.order if order is None else order
        points = boundary_points or self.boundary_points
        values = self.reference(np.array(points, dtype=float), order)
        boundary = [{"point": dict(zip(self.variables, p)),
                     "values": [[f"{float(v.real)!r} + {float(v.imag)!r}*I" for v in row] for row in vals]}
                    for p, vals in zip(points, values)]
        return CanonicalDE.from_strings(variables=self.variables, matrices=self.matrices, order=order,
                                        boundary=boundary, masters=self.masters)


FAMILIES: dict[str, Family] = {
    "bubble": Family(
        name="bubble",
        description="one-loop massless bubble, f = (-s-i0)^(-eps), analytic to all orders",
        variables=("s",), masters=("bubble",),
        matrices={"s": [["-1/s"]]},
        order=4, domain=((0.1, 2.0),), boundary_points=((1.0,),),
        reference=bubble_reference,
        region="physical s > 0 (units of mu^2), -s-i0 prescription",
        citation="analytic: Bub = c_Gamma (-s)^(-eps) / (eps (1-2eps))",
    ),
    "box": Family(
        name="box",
        description="one-loop massless box, canonical basis (bubble s, bubble t, eps^2 s t Box) in x = t/s",
        variables=("x",), masters=("bubble_s", "bubble_t", "box"),
        matrices={"x": [["0", "0", "0"],
                        ["0", "-1/x", "0"],
                        ["2/(1+x)", "-2/x + 2/(1+x)", "-1/x + 1/(1+x)"]]},
        order=4, domain=((-0.9, -0.1),), boundary_points=((-0.75,), (-0.25,)),
        reference=box_reference,
        region="physical s-channel s > 0, t < 0, u < 0 (-1 < x < 0), normalised by c_Gamma (-s-i0)^eps",
        citation="DE derived by IBP (ibp.py); all-order result Bern, Dixon, Kosower hep-ph/9306240",
    ),
}


def get_family(name: str) -> Family:
    """The shipped family called `name` (KeyError listing the valid names otherwise)."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown family {name!r}; shipped: {', '.join(FAMILIES)}") from None
