"""Tests of hepilot.models.metrics against analytic ROC curves, sklearn and LorentzNet's buildROC."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from hepilot.models.metrics import (
    accuracy,
    bootstrap_ci,
    evaluate_classifier,
    rejection_at,
    roc_auc,
    roc_curve,
    signal_efficiency_at,
)


def _gaussians(n: int, shift: float, seed: int = 1):
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(n, int), np.zeros(n, int)]
    s = np.r_[rng.normal(shift, 1.0, n), rng.normal(0.0, 1.0, n)]
    return y, s


def test_auc_of_two_gaussians_is_phi_of_shift_over_sqrt2():
    # AUC = P(X_s > X_b) with X_s - X_b ~ N(d, 2): Phi(d / sqrt 2). Hanley-McNeil sigma ~ 0.002 here; 5 sigma.
    y, s = _gaussians(20000, 1.0)
    assert roc_auc(y, s) == pytest.approx(norm.cdf(1.0 / math.sqrt(2.0)), abs=0.01)


def test_rejection_of_two_gaussians_matches_the_analytic_tail():
    # Cut t with P(X_s > t) = 0.3 -> t = d + Phi^-1(0.7); eB = 1 - Phi(t). Binomial error on eB ~ 1.5%; 5 sigma.
    d = 1.5
    y, s = _gaussians(40000, d)
    eb = 1.0 - norm.cdf(d + norm.ppf(0.7))
    assert 1.0 / rejection_at(y, s, 0.3) == pytest.approx(eb, rel=0.08)
    assert signal_efficiency_at(y, s, 0.3) == pytest.approx(0.3, abs=1e-4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_curve_and_auc_equal_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.normal(y * 0.8, 1.0), 1)  # rounding makes many ties
    fpr, tpr, thr = roc_curve(y, s)
    sk_fpr, sk_tpr, sk_thr = sk_roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    np.testing.assert_allclose(thr[1:], sk_thr[1:])
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
def test_rejection_equals_lorentznet_buildroc(seed):
    # LorentzNet ROC.py: fpr, tpr, _ = roc_curve(labels, score); idx = argmin |tpr - eff|; 1 / fpr[idx]
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 3000)
    s = np.round(rng.normal(y * 2.0, 1.0), 2)
    sk_fpr, sk_tpr, _ = sk_roc_curve(y, s)
    for eff in (0.3, 0.5):
        idx = np.argmin(np.abs(sk_tpr - eff))
        assert rejection_at(y, s, eff) == pytest.approx(1.0 / sk_fpr[idx], rel=1e-12)


def test_perfect_separation_gives_infinite_rejection_reported_as_none():
    y = np.r_[np.ones(50, int), np.zeros(50, int)]
    s = np.r_[np.linspace(0.6, 1.0, 50), np.linspace(0.0, 0.4, 50)]
    assert roc_auc(y, s) == 1.0
    assert rejection_at(y, s, 0.3) == math.inf
    m = evaluate_classifier(y, s, n_boot=20)
    assert m.as_dict()["rejection_30"] is None
    assert m.rejection_lower_bound == 50.0
    assert m.accuracy.value == 1.0


def test_accuracy_threshold_and_weights_equal_duplication():
    y = np.array([1, 1, 0, 0, 1])
    s = np.array([0.9, 0.4, 0.2, 0.7, 0.5])
    assert accuracy(y, s) == pytest.approx(3 / 5)
    assert accuracy(y, s, threshold=0.35) == pytest.approx(4 / 5)
    w = np.array([2, 1, 3, 1, 1])
    dup = np.repeat(np.arange(5), w)
    assert accuracy(y, s, sample_weight=w) == pytest.approx(accuracy(y[dup], s[dup]))
    assert roc_auc(y, s, sample_weight=w) == pytest.approx(roc_auc(y[dup], s[dup]))
    assert rejection_at(y, s, 0.5, sample_weight=w) == pytest.approx(rejection_at(y[dup], s[dup], 0.5))


def test_bootstrap_std_of_auc_matches_hanley_mcneil():
    # Hanley & McNeil (1982) variance of the AUC; the bootstrap estimate should agree within ~15%
    # (relative error of a std from 400 replicas is 1/sqrt(2*400) = 3.5%; HM is itself approximate).
    n = 2000
    y, s = _gaussians(n, 1.0, seed=7)
    a = roc_auc(y, s)
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    hm = math.sqrt((a * (1 - a) + (n - 1) * (q1 - a * a) + (n - 1) * (q2 - a * a)) / (n * n))
    ci = bootstrap_ci(roc_auc, y, s, n_boot=400, seed=3)
    assert ci.value == pytest.approx(a)
    assert ci.std == pytest.approx(hm, rel=0.15)
    assert ci.low < a < ci.high
    assert ci.high - ci.low == pytest.approx(2 * 0.994 * hm, rel=0.2)  # 68% interval ~ +-1 sigma


def test_bootstrap_is_deterministic_and_seed_dependent():
    y, s = _gaussians(300, 0.5)
    a = bootstrap_ci(roc_auc, y, s, n_boot=50, seed=11)
    assert a == bootstrap_ci(roc_auc, y, s, n_boot=50, seed=11)
    assert a != bootstrap_ci(roc_auc, y, s, n_boot=50, seed=12)


def test_evaluate_classifier_fields():
    y, s = _gaussians(1000, 2.0)
    m = evaluate_classifier(y, s, n_boot=30, seed=0)
    d = m.as_dict()
    assert d["n_signal"] == 1000 and d["n_background"] == 1000
    assert d["auc"] == pytest.approx(roc_auc(y, s))
    assert d["rejection_30"] == pytest.approx(rejection_at(y, s, 0.3))
    assert set(d) >= {"auc_std", "accuracy", "rejection_50", "rejection_50_std"}
    assert m.extra["signal_eff_30"] == pytest.approx(0.3, abs=2e-3)


@pytest.mark.parametrize(
    ("y", "s", "text"),
    [
        ([0, 1], [0.1], "must match"),
        ([0, 2], [0.1, 0.2], "only 0"),
        ([0, 1], [0.1, float("nan")], "non-finite"),
        ([1, 1], [0.1, 0.2], "both classes"),
        ([], [], "empty"),
    ],
)
def test_bad_input_names_the_problem(y, s, text):
    with pytest.raises(ValueError, match=text):
        roc_auc(y, s)


def test_bad_target_efficiency():
    with pytest.raises(ValueError, match="signal_eff"):
        rejection_at([0, 1], [0.1, 0.9], 1.5)


def test_rejection_text_shows_interval_or_lower_bound():
    from hepilot.models.metrics import Interval

    assert Interval(22.2, 15.4, 31.0, 5.0, 0.68, 100).rejection_text(200) == "22.2 [15.4, 31.0]"
    assert Interval(22.2, 15.4, math.inf, math.inf, 0.68, 100).rejection_text(200) == "22.2 [15.4, > 200]"
    assert Interval(math.inf, 50.0, math.inf, math.inf, 0.68, 100).rejection_text(200) == "> 200"


def test_paired_auc_difference_is_narrower_than_separate_intervals_and_unbiased():
    # scores x ~ N(y, 1) and x + N(0, 0.3^2): AUC = Phi(1 / sqrt(2)) and Phi(1 / sqrt(2 * 1.09));
    # the analytic difference (0.0068) must lie within 3 paired standard deviations
    from scipy.stats import norm

    from hepilot.models.metrics import bootstrap_ci, paired_difference, roc_auc

    rng = np.random.default_rng(7)
    y = np.repeat([0, 1], 4000)
    a = y + rng.standard_normal(y.size)
    b = a + 0.3 * rng.standard_normal(y.size)
    d = paired_difference(roc_auc, y, a, b, n_boot=300, seed=1)
    assert d.value == pytest.approx(roc_auc(y, a) - roc_auc(y, b), abs=1e-12)
    expected = norm.cdf(1 / np.sqrt(2)) - norm.cdf(1 / np.sqrt(2 * 1.09))
    assert abs(d.value - expected) < 3 * d.std
    separate = np.hypot(bootstrap_ci(roc_auc, y, a, n_boot=300).std, bootstrap_ci(roc_auc, y, b, n_boot=300).std)
    assert d.std < 0.5 * separate
    same = paired_difference(roc_auc, y, a, a, n_boot=20)
    assert same.value == 0.0 and same.std == 0.0
