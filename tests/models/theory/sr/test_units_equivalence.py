"""Dimensional analysis, constant fitting, Pareto selection and symbolic equivalence up to constants."""

import numpy as np
import pytest
import sympy

from hepilot.models.theory.sr.equivalence import compare_to_expected, round_constant, symbolic_match
from hepilot.models.theory.sr.expression import fit_constants, parametrize
from hepilot.models.theory.sr.pareto import pareto_front, score_expression, select_model
from hepilot.models.theory.sr.parser import make_symbols, parse_expression
from hepilot.models.theory.sr.units import check_dimensions, monomial_exponents, parse_unit

S = make_symbols(["m", "v", "c", "x", "t"], positive=["m", "v", "c", "x", "t"])
UNITS = {S["m"]: "kg", S["v"]: "m/s", S["c"]: "m/s", S["x"]: "m", S["t"]: "s"}


@pytest.mark.parametrize("text, consistent", [
    ("m*c**2/sqrt(1 - v**2/c**2)", True),
    ("0.5*m*v**2", True),            # the fitted constant may carry units
    ("m*(x/t)**2", True),
    ("m*c**2/sqrt(1 - v**2)", False),  # 1 - v^2 adds a number to (m/s)^2
    ("m*v + x", False),
    ("m*c**2*exp(x)", False),        # exp of a length
    ("1.5*x + t", False),            # seconds, the target is joules
])
def test_dimension_flags(text, consistent):
    check = check_dimensions(parse_expression(text, S), UNITS, "J")
    assert check.consistent is consistent, check.message


def test_unit_strings_and_natural_units():
    assert parse_unit("kg m/s^2") == parse_unit("N")
    assert parse_unit("GeV^-2", natural=True) == parse_unit("pb", natural=True)
    with pytest.raises(ValueError, match="furlong"):
        parse_unit("furlong/s")


def test_buckingham_pi_gives_the_energy_monomial():
    dims = [parse_unit(u) for u in ("kg", "m/s", "m/s")]
    part, basis = monomial_exponents(dims, parse_unit("J"))
    assert part is not None and len(basis) == 1
    # the dimensionless group is v/c (up to sign) and m c^2 is one solution
    assert sorted(abs(b) for b in basis[0]) == [0, 1, 1]
    assert sum(part) == 3 and part[0] == 1


def test_fit_constants_recovers_parameters_with_errors():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 400)
    sigma = np.full_like(x, 0.01)
    y = 2.0 * (1 + 0.8 * x ** 2) + rng.normal(0, 0.01, x.size)
    template = parse_expression("c0*(1 + c1*x**2)", S)
    params = sorted(template.free_symbols - {S["x"]}, key=str)
    fit = fit_constants(template, params, [S["x"]], x[:, None], y, sigma=sigma, n_restarts=2)
    pulls = (fit.values - np.array([2.0, 0.8])) / fit.errors
    assert np.all(np.abs(pulls) < 4)  # 4 standard errors: failure probability ~1e-4 per parameter
    assert fit.chi2 / (len(x) - 2) == pytest.approx(1.0, abs=0.25)


def test_round_constant_finds_simple_numbers():
    assert round_constant(0.5000000001) == sympy.Rational(1, 2)
    assert round_constant(1 / (4 * np.pi)) == 1 / (4 * sympy.pi)
    assert round_constant(1 / np.sqrt(2 * np.pi)) == sympy.sqrt(2) / (2 * sympy.sqrt(sympy.pi))
    assert isinstance(round_constant(0.123456789), sympy.Float)


def test_symbolic_match_up_to_constants():
    T = make_symbols(["sigma", "theta"], positive=["sigma", "theta"])
    X = np.random.default_rng(1).uniform(1, 3, (300, 2))
    truth = parse_expression("exp(-(theta/sigma)**2/2)/(sqrt(2*pi)*sigma)", T)
    variables = [T["sigma"], T["theta"]]
    good = parse_expression("0.3989*exp(-0.4999*theta**2/sigma**2)/sigma + 1e-12*theta", T)
    assert symbolic_match(good, truth, variables, X).equivalent
    assert not symbolic_match(parse_expression("0.4*exp(-0.5*theta**2/sigma**2)", T), truth, variables, X).equivalent
    # an extra term that refits to zero is not the same law
    x = make_symbols(["x"])
    grid = np.linspace(-1, 1, 20)[:, None]
    extra = parse_expression("0.0345 + 0.0344*x**2 + 0.001*x", x)
    form = parse_expression("c0*(1 + x**2)", x)
    assert symbolic_match(parse_expression("0.0345 + 0.0344*x**2", x), form, [x["x"]], grid).equivalent
    assert not symbolic_match(extra, form, [x["x"]], grid).equivalent


def test_compare_to_expected_fits_the_form_and_its_deviation():
    x = make_symbols(["x"])
    grid = np.linspace(-0.95, 0.95, 20)
    y = 350.0 * (1 + grid ** 2)
    chosen = parse_expression("349.0*x**2 + 351.0", x)
    cmp = compare_to_expected(chosen, parse_expression("c0*(1 + x**2)", x), [x["x"]], grid[:, None], y,
                              sigma=np.full(20, 3.0), reference={"c0": 355.0}, tolerance=0.02)
    assert cmp.equivalent and cmp.within_tolerance
    assert cmp.fitted["c0"] == pytest.approx(350.0, rel=1e-9)
    assert cmp.deviation["c0"] == pytest.approx(350 / 355 - 1, rel=1e-6)


def test_pareto_front_and_bic_selection():
    x = make_symbols(["x"])
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, (200, 1))
    y = 3 * X[:, 0] ** 2 + rng.normal(0, 0.05, 200)
    cands = [score_expression(parse_expression(t, x), [x["x"]], X, y) for t in
             ("1.0", "3.0*x**2", "2.99*x**2 + 0.004*x**3 + 0.001*x", "0.1*x")]
    front = pareto_front(cands)
    assert [c.complexity for c in front] == sorted(c.complexity for c in front)
    chosen = select_model(front, criterion="bic", var_y=float(np.var(y)))
    assert str(chosen.expr) == "3.0*x**2"
    assert parametrize(chosen.expr)[2].tolist() == [3.0]
