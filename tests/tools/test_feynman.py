"""solve_feynman_de end to end: a shipped family and a user system through execute(), and bad input."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from hepilot.errors import ToolInputError
from hepilot.tools.base import execute

FAST = {"preset": "ci", "adam_steps": 300, "lbfgs_steps": 100, "n_grid": 41}


def test_bubble_family_round_trip():
    rec = execute("solve_feynman_de", {"family": "bubble", "order": 2, "domain": {"s": [0.5, 2.0]}, **FAST})
    res = rec.result
    assert res.reference == "analytic" and res.masters == ["bubble"] and res.n_grid_points == 41
    assert res.checks_passed, [c.message for c in res.checks]
    assert {c.name for c in res.checks} == {"feynman_de_residual", "feynman_boundary_values",
                                            "feynman_reference_agreement"}
    assert res.mmrd < 1e-5 and len(res.mmrd_per_order) == 3
    data = np.load(res.artifacts["solution"])
    assert data["prediction"].shape == (41, 1, 3)
    # the file holds the same numbers the MMRD was computed from, and the reference is (-s-i0)^(-eps)
    s = data["points"][:, 0]
    assert data["reference"][:, 0, 1] == pytest.approx(-(np.log(s) - 1j * np.pi), rel=1e-12)
    rel = np.abs(data["prediction"] - data["reference"]) / np.abs(data["reference"])
    assert float(rel.mean()) == pytest.approx(res.mmrd, rel=1e-9)
    with open(res.artifacts["csv"]) as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:3] == ["s", "bubble_eps0_re", "bubble_eps0_im"] and len(rows) == 42
    assert res.artifacts["plot"].endswith(".png")
    assert "MMRD" in res.status
    assert execute("solve_feynman_de", {"family": "bubble", "order": 2, "domain": {"s": [0.5, 2.0]}, **FAST}).cached


def test_user_system_is_compared_with_solve_ivp():
    """The bubble typed in by hand: d f/ds = -eps/s f, f(1) = exp(i pi eps)."""
    system = {"variables": ["s"], "matrices": {"s": [["-1/s"]]},
              "boundary": [{"point": {"s": 1.0}, "values": [["1", "I*pi", "-pi^2/2"]]}]}
    res = execute("solve_feynman_de", {"system": system, "order": 2, "domain": {"s": [0.5, 2.0]}, **FAST}).result
    assert res.family is None and res.reference == "numerical (solve_ivp)"
    assert res.checks_passed, [c.message for c in res.checks]
    assert res.mmrd < 1e-5


@pytest.mark.parametrize("args, field, words", [
    ({"family": "boxx"}, "family", "did you mean box"),
    ({"family": "box", "system": {"variables": ["x"], "matrices": {"x": [["0"]]},
                                  "boundary": [{"point": {"x": 0.5}, "values": [["1"]]}]}},
     "<arguments>", "exactly one"),
    ({}, "<arguments>", "exactly one"),
    ({"family": "box", "domain": {"x": [-0.5, 0.5]}}, "domain", "region"),
    ({"family": "box", "domain": {"y": [-0.5, -0.1]}}, "domain", "variables"),
    ({"family": "box", "preset": "huge"}, "preset", ""),
    ({"system": {"variables": ["x"], "matrices": {"x": [["0", "1"]]},
                 "boundary": [{"point": {"x": 0.5}, "values": [["1"]]}]}, "domain": {"x": [0.1, 1]}},
     "system.matrices.x", "square"),
    ({"system": {"variables": ["x"], "matrices": {"x": [["1/z"]]},
                 "boundary": [{"point": {"x": 0.5}, "values": [["1"]]}]}, "domain": {"x": [0.1, 1]}},
     "system.matrices.x[0][0]", "unknown symbol 'z'"),
    ({"system": {"variables": ["x"], "matrices": {"x": [["1/(x"]]},
                 "boundary": [{"point": {"x": 0.5}, "values": [["1"]]}]}, "domain": {"x": [0.1, 1]}},
     "system.matrices.x[0][0]", "cannot parse"),
    ({"system": {"variables": ["x"], "matrices": {"x": [["1/x"]]},
                 "boundary": [{"point": {"x": 0.5}, "values": [["1"]]}]}, "domain": {"x": [-1, 1]}},
     "system.matrices", "singular"),
    ({"system": {"variables": ["x"], "matrices": {"x": [["1/x"]]},
                 "boundary": [{"point": {"x": 0.5}, "values": [["1"]]}]}}, "domain", "required"),
    ({"system": {"variables": ["x"], "matrices": {"x": [["1/x"]]},
                 "boundary": [{"point": {"x": 5.0}, "values": [["1"]]}]}, "domain": {"x": [0.1, 1]}},
     "system.boundary[0].point", "outside"),
])
def test_bad_input_names_the_field(args, field, words):
    with pytest.raises(ToolInputError) as err:
        execute("solve_feynman_de", {**args, "order": 0} if "system" in args else args)
    assert err.value.field == field
    assert words.lower() in str(err.value).lower()


def test_intent_defaults_are_valid_tool_arguments():
    from hepilot.agent.intents import load_intents
    from hepilot.tools.feynman import SolveFeynmanDEInput

    intent = next(i for i in load_intents() if i.name == "feynman_pinn")
    (step,) = intent.steps
    args = {k: intent.slots[v.strip("{}")].default for k, v in step.args.items()}
    assert step.tool == "solve_feynman_de"
    assert SolveFeynmanDEInput.model_validate(args).family == "box"
