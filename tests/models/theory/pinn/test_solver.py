"""Short PINN trainings that must reach stated accuracies against analytic solutions."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hepilot.models.theory.pinn import (
    FAMILIES,
    CanonicalDE,
    FeynmanPINN,
    PINNConfig,
    max_relative_difference,
    mmrd,
    per_order_mmrd,
)


@pytest.fixture(scope="module")
def bubble_fit():
    fam = FAMILIES["bubble"]
    system = fam.system(order=2)
    model = FeynmanPINN(config=PINNConfig.preset("ci"), seed=0).fit(system, [(0.5, 2.0)])
    return fam, system, model


def test_bubble_pinn_reaches_stated_accuracy(bubble_fit):
    """ci preset (2x16 GELU, 400 Adam + 100 L-BFGS steps per part, then the exact output layer) on
    s in [0.5, 2] to eps^2: MMRD <= 1e-6 and every coefficient within 1e-5 (measured 2e-9 / 1e-8)."""
    fam, system, model = bubble_fit
    s = np.linspace(0.5, 2.0, 101)[:, None]
    pred, ref = model.predict(s), fam.reference(s, 2)
    assert pred.shape == (101, 1, 3)
    assert mmrd(pred, ref) < 1e-6
    assert max_relative_difference(pred, ref) < 1e-5
    assert all(m < 1e-6 for m in per_order_mmrd(pred, ref))
    assert set(model.networks_) == {"re", "im"}  # complex boundary values -> two networks


def test_bubble_pinn_residual_and_boundary(bubble_fit):
    _, system, model = bubble_fit
    s = np.linspace(0.5, 2.0, 101)[:, None]
    res = model.residual(s)
    assert res.shape == (101, 1, 1, 3)
    assert np.sqrt(np.mean(np.abs(res) ** 2)) < 1e-5
    assert model.boundary_error() < 1e-6


def test_paper_training_alone_reaches_percent_per_mille():
    """Adam + L-BFGS without the output-layer solve (the paper's recipe, ci size): MMRD < 2e-3
    (measured 3e-4), while the same network untrained misses by O(1)."""
    fam = FAMILIES["bubble"]
    s = np.linspace(0.5, 2.0, 51)[:, None]
    ref = fam.reference(s, 2)
    trained = FeynmanPINN(config=PINNConfig.preset("ci", solve_head=False), seed=0).fit(fam.system(order=2),
                                                                                       [(0.5, 2.0)])
    assert mmrd(trained.predict(s), ref) < 2e-3
    untrained = FeynmanPINN(config=PINNConfig.preset("ci", adam_steps=0, lbfgs_steps=0, solve_head=False), seed=0)
    untrained.fit(fam.system(order=2), [(0.5, 2.0)])
    assert mmrd(untrained.predict(s), ref) > 0.1


def test_two_variable_system():
    """f = (x y / 4)^(-eps) from d f/dx = -eps/x f, d f/dy = -eps/y f, boundary at (2, 2), real."""
    system = CanonicalDE.from_strings(variables=["x", "y"], matrices={"x": [["-1/x"]], "y": [["-1/y"]]},
                                      order=2, boundary=[{"point": {"x": 2, "y": 2}, "values": [["1", "0", "0"]]}])
    cfg = PINNConfig.preset("ci", adam_steps=300, lbfgs_steps=100)
    model = FeynmanPINN(config=cfg, seed=1).fit(system, [(2.0, 4.0), (2.0, 4.0)])
    assert set(model.networks_) == {"re"}
    rng = np.random.default_rng(3)
    pts = 2 + 2 * rng.random((200, 2))
    log = -np.log(pts[:, 0] * pts[:, 1] / 4)
    exact = np.stack([log**k / math.factorial(k) for k in range(3)], axis=-1)[:, None, :]
    pred = model.predict(pts)
    good = np.abs(exact) > 0.05  # the eps^1, eps^2 terms vanish at the boundary point itself
    assert np.max(np.abs(pred - exact)) < 1e-2  # measured 8e-4
    assert np.mean(np.abs(pred - exact)[good] / np.abs(exact)[good]) < 1e-2  # measured 5e-4


def test_predict_before_fit_and_bad_domain():
    with pytest.raises(RuntimeError, match="not fitted"):
        FeynmanPINN().predict(np.zeros((1, 1)))
    system = FAMILIES["bubble"].system(order=1)
    with pytest.raises(ValueError, match="inside the domain"):
        FeynmanPINN(config=PINNConfig.preset("ci")).fit(system, [(1.5, 2.0)])
    with pytest.raises(ValueError, match="low < high"):
        FeynmanPINN(config=PINNConfig.preset("ci")).fit(system, [(2.0, 0.5)])


def test_metrics_definition():
    ref = np.array([[1.0, 2j, 0.0]])
    pred = np.array([[1.1, 2j * 0.9, 5.0]])
    assert mmrd(pred, ref) == pytest.approx((0.1 + 0.1) / 2)  # the zero reference entry is left out
    assert max_relative_difference(pred, ref) == pytest.approx(0.1)
