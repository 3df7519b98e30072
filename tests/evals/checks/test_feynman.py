"""The PINN physics checks pass and fail on the numbers they are given."""
from __future__ import annotations

from types import SimpleNamespace

from hepilot.evals.checks.feynman import feynman_boundary_values, feynman_de_residual, feynman_reference_agreement


def _result(**kw):
    base = dict(residual_rms=1e-4, boundary_max_rel_diff=1e-5, mmrd=2e-5, max_rel_diff=3e-4, reference="analytic",
                n_grid_points=201, tolerances={"residual": 1e-3, "boundary": 1e-3, "mmrd": 1e-4})
    base.update(kw)
    return SimpleNamespace(**base)


def test_checks_pass_within_tolerance():
    res = _result()
    for chk in (feynman_de_residual, feynman_boundary_values, feynman_reference_agreement):
        out = chk(None, res)
        assert out.passed, out.message


def test_checks_fail_outside_tolerance():
    assert not feynman_de_residual(None, _result(residual_rms=2e-3)).passed
    assert not feynman_boundary_values(None, _result(boundary_max_rel_diff=0.1)).passed
    failed = feynman_reference_agreement(None, _result(mmrd=5e-4))
    assert not failed.passed and "MMRD 5.00e-04" in failed.message


def test_reference_check_without_reference_says_so():
    out = feynman_reference_agreement(None, _result(mmrd=None, max_rel_diff=None, reference="none"))
    assert out.passed and "no reference" in out.message
