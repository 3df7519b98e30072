"""Physics-informed neural networks for Feynman-integral differential equations (arXiv:2312.02067)."""
from hepilot.models.theory.pinn.baseline import solve_with_ode
from hepilot.models.theory.pinn.expressions import ExpressionError, parse_expression
from hepilot.models.theory.pinn.families import FAMILIES, Family, get_family
from hepilot.models.theory.pinn.metrics import max_relative_difference, mmrd, per_order_mmrd
from hepilot.models.theory.pinn.solver import PRESETS, FeynmanPINN, PINNConfig
from hepilot.models.theory.pinn.system import BoundaryCondition, CanonicalDE, SystemSpecError

__all__ = [
    "BoundaryCondition",
    "CanonicalDE",
    "ExpressionError",
    "FAMILIES",
    "Family",
    "FeynmanPINN",
    "PINNConfig",
    "PRESETS",
    "SystemSpecError",
    "get_family",
    "max_relative_difference",
    "mmrd",
    "parse_expression",
    "per_order_mmrd",
    "solve_with_ode",
]
