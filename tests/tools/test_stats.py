"""nplm_test and two_sample_test through the tool interface: round trips, calibration rules, bad input."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hepilot.errors import ToolInputError
from hepilot.tools.base import call_tool, execute


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("stats")
    rng = np.random.default_rng(0)
    np.savez(d / "ref.npz", x=rng.exponential(size=2000), y=rng.normal(size=2000))
    np.savez(d / "wide.npz", x=rng.exponential(2.0, size=600), y=rng.normal(size=600))
    np.savez(d / "same.npz", x=rng.exponential(size=100), y=rng.normal(size=100))
    bump = np.r_[rng.exponential(size=100), rng.normal(3.0, 0.1, size=25)]
    np.savez(d / "bump.npz", x=bump, y=rng.normal(size=len(bump)))
    return d


def test_nplm_round_trip_reports_a_calibrated_z_and_reuses_the_calibration(files):
    args = dict(reference=str(files / "ref.npz"), features=["x"], n_toys=50, max_iter=25, seed=1, restarts=1)
    same = call_tool("nplm_test", data=str(files / "same.npz"), **args)
    assert same.dof == 13 and same.n_data == 100 and same.calibration["n_toys"] == 50
    assert same.p_value is not None and same.p_method in ("chi2", "empirical")
    assert not same.calibration_cached
    assert {c.name for c in same.checks} == {"nplm_calibration_verified", "nplm_null_follows_chi2"}
    assert next(c for c in same.checks if c.name == "nplm_calibration_verified").passed
    for art in same.artifacts.values():
        assert Path(art).is_file()
    bump = call_tool("nplm_test", data=str(files / "bump.npz"), **{**args, "n_expected": 100.0})
    # 25 events at x = 3 where the reference expects ~5: beyond every null toy
    assert bump.t > max(np.load(bump.artifacts["arrays"])["t_null"])
    assert bump.z > 2.0
    again = call_tool("nplm_test", data=str(files / "bump.npz"), **{**args, "n_expected": 100.0, "max_data": 120})
    assert again.calibration_cached  # same reference, expected yield and network: toys reused


def test_nplm_without_toys_reports_no_z(files):
    r = call_tool("nplm_test", reference=str(files / "ref.npz"), data=str(files / "same.npz"), features=["x", "y"],
                  n_toys=0, max_iter=30, hidden=[3], restarts=2)
    assert r.p_value is None and r.z is None and r.dof == 13
    assert "uncalibrated" in r.status
    assert all(c.passed for c in r.checks if c.name == "nplm_calibration_verified")


def test_nplm_with_too_few_toys_refuses_a_z_even_for_a_large_t(files):
    """10 null toys (< 50): the bump that gives Z > 2 with 50 toys gets no p-value and no Z."""
    r = call_tool("nplm_test", reference=str(files / "ref.npz"), data=str(files / "bump.npz"), features=["x"],
                  n_toys=10, max_iter=25, restarts=1, n_expected=100.0)
    assert r.calibration["n_toys"] == 10 and not r.calibration["calibrated"]
    assert r.p_value is None and r.z is None and r.p_method is None
    assert "uncalibrated" in r.status and "n_toys >= 50" in r.status


@pytest.mark.parametrize("args, field, text", [
    ({"features": ["xx"]}, "features", "Did you mean x"),
    ({"reference": "/nonexistent/ref.npz"}, "reference", "no file"),
    ({"features": ["x", "x"]}, "<arguments>", "duplicates"),
    ({"hidden": [0]}, "<arguments>", "between 1 and 64"),
    ({"n_toys": -1}, "n_toys", ">= 0"),
    ({"max_reference": 150}, "reference", "much larger"),
])
def test_nplm_bad_input(files, args, field, text):
    base = {"reference": str(files / "ref.npz"), "data": str(files / "same.npz"), "features": ["x"], "n_toys": 0}
    with pytest.raises(ToolInputError) as e:
        execute("nplm_test", {**base, **args})
    assert e.value.field == field
    assert text in str(e.value)


def test_two_sample_test_round_trip(files):
    r = call_tool("two_sample_test", sample_a=str(files / "ref.npz"), sample_b=str(files / "wide.npz"),
                  features=["x", "y"], n_trials=2, n_permutations=200)
    assert r.n_test_a == r.n_test_b == 180 and r.checks_passed
    # Exp(1) vs Exp(2): the optimal AUC is P(X_B > X_A) = 2/3; sigma ~0.03 on 360 test events
    assert r.auc > 0.58 and not r.compatible and r.p_binomial < 0.01
    assert 0 < r.p_permutation <= 1 and Path(r.artifacts["scores_plot"]).is_file()


@pytest.mark.parametrize("args, field, text", [
    ({"val_fraction": 0.0}, "<arguments>", "validation split"),
    ({"test_fraction": 0.6, "val_fraction": 0.4}, "<arguments>", "too little for training"),
    ({"classifier": "svm"}, "classifier", "xgboost"),
    ({"sample_b": "/nonexistent.csv"}, "sample_b", "no file"),
])
def test_two_sample_test_bad_input(files, args, field, text):
    base = {"sample_a": str(files / "ref.npz"), "sample_b": str(files / "same.npz"), "features": ["x"]}
    with pytest.raises(ToolInputError) as e:
        execute("two_sample_test", {**base, **args})
    assert e.value.field == field
    assert text in str(e.value)
