"""The stats/quantum checks fail exactly when a Z lacks calibration or a kernel is not a Gram matrix."""
from __future__ import annotations

from types import SimpleNamespace

from hepilot.evals.checks.stats import (
    c2st_test_split_balanced,
    nplm_calibration_verified,
    nplm_null_follows_chi2,
    quantum_kernel_valid,
)


def _nplm(z, method, n_toys, ks, verified):
    cal = {"n_toys": n_toys, "min_toys": 50, "ks_pvalue": ks, "alpha_ks": 0.01, "chi2_verified": verified,
           "mean_t": 13.0, "tail_pvalue": 0.5 if verified else 1e-6, "max_t": 30.0}
    return SimpleNamespace(z=z, p_method=method, calibration=cal, dof=13)


def test_a_z_needs_enough_toys_and_a_verified_chi2_law():
    assert nplm_calibration_verified(None, _nplm(3.1, "chi2", 100, 0.4, True)).passed
    assert nplm_calibration_verified(None, _nplm(2.0, "empirical", 100, 1e-5, False)).passed
    assert not nplm_calibration_verified(None, _nplm(3.1, "empirical", 10, 0.4, False)).passed
    assert not nplm_calibration_verified(None, _nplm(3.1, "chi2", 100, 1e-5, False)).passed
    assert nplm_calibration_verified(None, _nplm(None, None, 0, float("nan"), False)).passed


def test_null_toys_must_follow_chi2():
    assert nplm_null_follows_chi2(None, _nplm(1.0, "chi2", 100, 0.3, True))[0].passed
    assert not nplm_null_follows_chi2(None, _nplm(1.0, "empirical", 100, 0.3, False))[0].passed  # tail outlier
    bad = nplm_null_follows_chi2(None, _nplm(1.0, "empirical", 100, 1e-4, False))[0]
    assert not bad.passed and "tune_clipping" in bad.message
    assert nplm_null_follows_chi2(None, _nplm(None, None, 0, float("nan"), False)) == []


def test_c2st_split_must_be_balanced():
    assert c2st_test_split_balanced(None, SimpleNamespace(n_test_a=50, n_test_b=50)).passed
    assert not c2st_test_split_balanced(None, SimpleNamespace(n_test_a=50, n_test_b=49)).passed


def test_kernel_must_have_unit_diagonal_and_no_negative_eigenvalues():
    good = SimpleNamespace(kernel_checks={"n": 10, "shots": None, "max_diag_deviation": 0.0, "min_eigenvalue": 1e-3})
    assert quantum_kernel_valid(None, good)[0].passed
    diag = SimpleNamespace(kernel_checks={"n": 10, "shots": None, "max_diag_deviation": 1e-3, "min_eigenvalue": 0.1})
    assert not quantum_kernel_valid(None, diag)[0].passed
    neg = SimpleNamespace(kernel_checks={"n": 10, "shots": 1000, "max_diag_deviation": 0.0, "min_eigenvalue": -2.0})
    assert not quantum_kernel_valid(None, neg)[0].passed
    noisy = SimpleNamespace(kernel_checks={"n": 10, "shots": 1000, "max_diag_deviation": 0.02, "min_eigenvalue": -0.01})
    assert quantum_kernel_valid(None, noisy)[0].passed  # within 5 sigma of 1000-shot noise
