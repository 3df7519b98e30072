"""The formula whitelist and the validation of user DE systems: every problem names its field."""
from __future__ import annotations

import numpy as np
import pytest
import sympy

from hepilot.models.theory.pinn import CanonicalDE, ExpressionError, SystemSpecError, parse_expression
from hepilot.models.theory.pinn.expressions import evaluate

X = {"x": sympy.Symbol("x", real=True)}


@pytest.mark.parametrize("text, value", [
    ("-2/x + 2/(1+x)", -2 / 0.5 + 2 / 1.5),
    ("x^2 - 3*x**2", -2 * 0.25),
    ("log(x) + sqrt(4) + exp(0)", np.log(0.5) + 3),
    ("2*I*pi", 2j * np.pi),
    ("zeta(3)", 1.2020569031595942),
    ("1e-3*x", 5e-4),
])
def test_allowed_formulas_parse_and_evaluate(text, value):
    expr = parse_expression(text, X)
    assert complex(evaluate(expr, {X["x"]: np.array([0.5])})[0]) == pytest.approx(value, rel=1e-14)


@pytest.mark.parametrize("text, words", [
    ("__import__('os').system('true')", "not allowed"),
    ("x.real", "Attribute"),
    ("(lambda: 1)()", "not allowed"),
    ("open('f')", "unknown function 'open'"),
    ("y + 1", "unknown symbol 'y'"),
    ("xx + 1", "Did you mean x"),
    ("2**1000", "too large"),
    ("x[0]", "Subscript"),
    ("x +", "cannot parse"),
    ("'x'", "only numbers"),
    ("", "empty"),
    ("zeta(x)", "integer >= 2"),
])
def test_everything_else_is_rejected_with_a_reason(text, words):
    with pytest.raises(ExpressionError, match=words):
        parse_expression(text, X)


def _spec(**changes):
    spec = dict(variables=["x"], matrices={"x": [["0", "0"], ["1/x", "-1/x"]]}, order=2,
                boundary=[{"point": {"x": 1.0}, "values": [["1", "0", "0"], ["1", "I*pi", "0"]]}])
    spec.update(changes)
    return spec


@pytest.mark.parametrize("changes, field", [
    ({"matrices": {"x": [["0", "0"], ["1/x"]]}}, "matrices.x"),
    ({"matrices": {"x": [["0", "0"], ["1/y", "0"]]}}, "matrices.x[1][0]"),
    ({"matrices": {"x": [["0", "0"], ["1/x +", "0"]]}}, "matrices.x[1][0]"),
    ({"matrices": {"x": [["0", "I"], ["0", "0"]]}}, "matrices.x[0][1]"),
    ({"matrices": {"x": [["0", "polylog(2, x)"], ["0", "0"]]}}, "matrices.x[0][1]"),
    ({"matrices": {"y": [["0"]]}}, "matrices"),
    ({"variables": ["x", "x"]}, "variables"),
    ({"variables": ["pi"]}, "variables"),
    ({"order": 9}, "order"),
    ({"boundary": []}, "boundary"),
    ({"boundary": [{"point": {"x": 1.0}, "values": [["1", "0", "0"]]}]}, "boundary[0].values"),
    ({"boundary": [{"point": {"x": 1.0}, "values": [["1", "0"], ["1", "0", "0"]]}]}, "boundary[0].values[0]"),
    ({"boundary": [{"point": {"x": 1.0}, "values": [["1", "0", "0"], ["1", "x", "0"]]}]}, "boundary[0].values[1][1]"),
    ({"boundary": [{"point": {"y": 1.0}, "values": [["1", "0", "0"], ["1", "0", "0"]]}]}, "boundary[0].point"),
    ({"masters": ["a"]}, "masters"),
])
def test_bad_systems_raise_naming_the_field(changes, field):
    with pytest.raises(SystemSpecError) as err:
        CanonicalDE.from_strings(**_spec(**changes))
    assert err.value.field == field


def test_good_system_values_and_complex_boundary():
    sys_ = CanonicalDE.from_strings(**_spec())
    assert sys_.n_masters == 2 and sys_.n_orders == 3 and sys_.is_complex
    a = sys_.matrix_values(np.array([[0.5], [2.0]]))
    assert a.shape == (2, 1, 2, 2)
    assert a[:, 0, 1, 0] == pytest.approx([2.0, 0.5])
    assert sys_.boundary[0].values[1, 1] == pytest.approx(1j * np.pi)
    with pytest.raises(SystemSpecError, match="singular"):
        sys_.matrix_values(np.array([[0.0]]))


def test_integrability_of_two_variable_systems():
    ok = CanonicalDE.from_strings(variables=["x", "y"], matrices={"x": [["-1/x"]], "y": [["-1/y"]]}, order=1,
                                  boundary=[{"point": {"x": 2, "y": 2}, "values": [["1", "0"]]}])
    assert ok.check_integrability([(1, 3), (1, 3)]) < 1e-12
    bad = CanonicalDE.from_strings(variables=["x", "y"], matrices={"x": [["y/x"]], "y": [["-1/y"]]}, order=1,
                                   boundary=[{"point": {"x": 2, "y": 2}, "values": [["1", "0"]]}])
    assert bad.check_integrability([(1, 3), (1, 3)]) > 0.1  # d_y (y/x) = 1/x != d_x (-1/y) = 0
