"""The box DE derived by IBP, and the analytic references checked against it before any training."""
from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy

from hepilot.models.theory.pinn import FAMILIES, solve_with_ode
from hepilot.models.theory.pinn.ibp import box_t_derivative, derive_massless_box_de
from hepilot.models.theory.pinn.reference import box_closed_form, box_reference, bubble_reference


@pytest.fixture(scope="module")
def derived():
    return derive_massless_box_de()


def test_ibp_derivation_gives_the_shipped_box_matrices(derived):
    a0, a1 = derived
    x = sympy.Symbol("x", real=True)
    shipped = FAMILIES["box"].system(order=1).matrices[0]
    assert sympy.simplify(shipped - (a0 / x + a1 / (1 + x))) == sympy.zeros(3, 3)
    # the letters are x and 1+x; residues as in the canonical box literature (Henn, arXiv:1412.2296)
    assert a0 == sympy.Matrix([[0, 0, 0], [0, -1, 0], [0, -2, -1]])
    assert a1 == sympy.Matrix([[0, 0, 0], [0, 0, 0], [2, 2, 1]])


def test_ibp_box_derivative_in_d_dimensions():
    d, s, t = sympy.symbols("d s t")
    deriv = box_t_derivative()[(1, 1, 1, 1)]
    # d Box/dt = (d-6)s - 2t over 2t(s+t) Box + 2(d-3)/(t^2 (s+t)) Bub(t) - 2(d-3)/(s t (s+t)) Bub(s)
    assert sympy.simplify(deriv[(1, 1, 1, 1)] - ((d - 6) * s - 2 * t) / (2 * t * (s + t))) == 0
    assert sympy.simplify(deriv[(0, 1, 0, 1)] - 2 * (d - 3) / (t**2 * (s + t))) == 0
    assert sympy.simplify(deriv[(1, 0, 1, 0)] + 2 * (d - 3) / (s * t * (s + t))) == 0


def test_known_box_expansion_satisfies_the_derived_de_symbolically(derived):
    """4 - 2 eps L - pi^2 eps^2 with L = ln(-x) + i pi (the Euclidean 4 - 2 eps ln x - pi^2 eps^2
    continued to -1 < x < 0), f1 = -1, f2 = -exp(-eps L) obey d f^(k)/dx = A f^(k-1) for k = 1, 2."""
    a0, a1 = derived
    x = sympy.Symbol("x", negative=True)
    big_l = sympy.log(-x) + sympy.I * sympy.pi
    a = a0 / x + a1 / (1 + x)
    f = [sympy.Matrix([-1, -1, 4]), sympy.Matrix([0, big_l, -2 * big_l]),
         sympy.Matrix([0, -big_l**2 / 2, -sympy.pi**2])]
    for k in (1, 2):
        assert sympy.simplify(f[k].diff(x) - a * f[k - 1]) == sympy.zeros(3, 1)
    # regularity at u = 0 (x = -1): the (1+x) pole must not act, 2 f1 + 2 f2 + f3 = 0 there
    for k in range(3):
        assert sympy.simplify((2 * f[k][0] + 2 * f[k][1] + f[k][2]).subs(x, -1)) == 0


@pytest.mark.parametrize("x0", [-0.8, -0.35, -0.1])
@pytest.mark.parametrize("eps", [0.3, -0.17])
def test_all_order_closed_form_satisfies_the_de_at_finite_eps(derived, x0, eps):
    a0, a1 = (np.array(m, dtype=float) for m in derived)
    f = np.array(box_closed_form(x0, eps))
    h = mpmath.mpf("1e-4")
    with mpmath.workdps(40):  # five-point stencil: truncation ~h^4, far below the tolerance
        vals = {j: np.array(box_closed_form(str(mpmath.mpf(x0) + j * h), eps, dps=40)) for j in (-2, -1, 1, 2)}
    df = (-vals[2] + 8 * vals[1] - 8 * vals[-1] + vals[-2]) / (12 * float(h))
    rhs = eps * (a0 / x0 + a1 / (1 + x0)) @ f
    assert np.allclose(df, rhs, rtol=1e-9, atol=1e-12)


def test_reference_expansion_matches_closed_form_and_known_orders():
    x = np.array([[-0.6], [-0.2]])
    ref = box_reference(x, 6)
    big_l = np.log(-x[:, 0]) + 1j * np.pi
    assert ref[:, 2, 0] == pytest.approx(4.0, abs=1e-14)
    assert ref[:, 2, 1] == pytest.approx(-2 * big_l, rel=1e-14)
    assert ref[:, 2, 2] == pytest.approx(-np.pi**2 * np.ones(2), rel=1e-14)
    eps = 2e-3
    for n, xv in enumerate(x[:, 0]):
        series = sum(ref[n, :, k] * eps**k for k in range(7))
        assert series == pytest.approx(np.array(box_closed_form(xv, eps)), rel=1e-15, abs=1e-15)


def test_ode_solution_of_the_derived_de_reproduces_the_references():
    """Boundary values at one point + the DE give the analytic result everywhere (to solve_ivp precision)."""
    for name in ("bubble", "box"):
        fam = FAMILIES[name]
        lo, hi = fam.domain[0]
        x = np.linspace(lo, hi, 17)[:, None]
        got = solve_with_ode(fam.system(order=4), x)
        assert got == pytest.approx(fam.reference(x, 4), rel=1e-10, abs=1e-12)


def test_bubble_reference_is_the_expansion_of_minus_s_to_minus_eps():
    s = np.array([[0.3], [1.7]])
    eps = 1e-2
    series = bubble_reference(s, 8)[:, 0, :] @ (eps ** np.arange(9))
    exact = np.exp(-eps * (np.log(s[:, 0]) - 1j * np.pi))
    assert series == pytest.approx(exact, rel=1e-15)
