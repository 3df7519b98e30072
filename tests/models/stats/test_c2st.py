"""Classifier two-sample test: calibration under H0, power, balancing, bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from hepilot.models.stats.c2st import (
    C2STConfig,
    ClassifierTwoSampleTest,
    binomial_p_value,
    classifier_two_sample_auc,
)

FAST = C2STConfig(n_trials=0, n_permutations=200, test_fraction=0.4, val_fraction=0.0)


def test_pvalues_are_uniform_under_h0():
    """30 repeats of two samples from one 3D Gaussian: the binomial and permutation p-values are
    U(0,1). KS p > 0.001 each (a calibrated test fails this 0.1% of the time; the binomial law is
    slightly conservative with balanced classes, which a KS test at 30 repeats cannot see)."""
    rng = np.random.default_rng(7)
    pb, pp = [], []
    for r in range(30):
        t = ClassifierTwoSampleTest(config=FAST, seed=r).fit(rng.normal(size=(200, 3)), rng.normal(size=(200, 3)))
        pb.append(t.p_binomial_)
        pp.append(t.p_permutation_)
    assert sps.kstest(pb, "uniform").pvalue > 1e-3
    assert sps.kstest(pp, "uniform").pvalue > 1e-3


def test_detects_a_shifted_sample_with_tuning():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(600, 3)), rng.normal(size=(600, 3)) + [0.5, 0.0, 0.0]
    t = ClassifierTwoSampleTest(config=C2STConfig.small(n_trials=3), seed=0).fit(a, b)
    # a 0.5 sigma shift: optimal AUC = Phi(0.5 / sqrt 2) = 0.638
    assert t.auc_ == pytest.approx(0.638, abs=5 * t.auc_err_)
    assert t.p_binomial_ < 1e-3 and t.p_permutation_ < 0.01
    assert set(t.best_params_) >= {"max_depth", "learning_rate"}


def test_unbalanced_samples_are_balanced_so_chance_is_one_half():
    rng = np.random.default_rng(2)
    t = ClassifierTwoSampleTest(config=FAST, seed=0).fit(rng.normal(size=(1000, 2)), rng.normal(size=(200, 2)))
    assert int(t.test_labels_.sum()) * 2 == len(t.test_labels_) == t.n_test_
    assert t.n_train_ + t.n_test_ == 400


def test_quick_auc_of_identical_samples_is_one_half():
    rng = np.random.default_rng(3)
    auc, err = classifier_two_sample_auc(rng.normal(size=(800, 2)), rng.normal(size=(800, 2)), seed=1)
    assert 0.0 < err < 0.05
    assert abs(auc - 0.5) < 4 * err  # 4 sigma
    auc_mlp, _ = classifier_two_sample_auc(rng.normal(size=(400, 2)), rng.normal(size=(400, 2)) + 2.0, model="mlp")
    assert auc_mlp > 0.9  # 2 sigma separation in each of two features: optimal AUC 0.977


def test_bad_inputs_raise_clear_errors():
    ok = np.zeros((50, 2))
    with pytest.raises(ValueError, match="NaN"):
        classifier_two_sample_auc(np.full((50, 2), np.nan), ok)
    with pytest.raises(ValueError, match="at least 20"):
        classifier_two_sample_auc(ok[:5], ok)
    with pytest.raises(ValueError, match="different numbers of features"):
        classifier_two_sample_auc(ok, np.zeros((50, 3)))
    with pytest.raises(ValueError, match="unknown classifier"):
        ClassifierTwoSampleTest(config=C2STConfig(model="svm")).fit(ok, ok)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="not fitted"):
        ClassifierTwoSampleTest().summary()


def test_binomial_p_value_is_the_exact_tail_of_fair_guessing():
    """P(K >= k), K ~ Binomial(n, 1/2), against exact integer counts sum_{j>=k} C(n, j) / 2^n."""
    assert binomial_p_value(8, 10) == pytest.approx((45 + 10 + 1) / 1024, rel=1e-12)
    assert binomial_p_value(0, 10) == 1.0
    assert binomial_p_value(10, 10) == pytest.approx(2.0**-10, rel=1e-12)
    assert binomial_p_value(50, 100) == pytest.approx(sum(math.comb(100, j) for j in range(50, 101)) / 2**100,
                                                      rel=1e-12)  # = 1/2 + C(100,50)/2^101 = 0.5398
    # 3 sigma above chance on 400 events (230 correct): the normal approximation with continuity correction
    assert binomial_p_value(230, 400) == pytest.approx(sps.norm.sf((229.5 - 200) / 10), rel=0.03)
    with pytest.raises(ValueError, match="between 0 and n_test"):
        binomial_p_value(11, 10)


def test_fitted_test_reports_the_binomial_p_of_its_own_accuracy():
    rng = np.random.default_rng(4)
    t = ClassifierTwoSampleTest(config=FAST, seed=0).fit(rng.normal(size=(300, 2)), rng.normal(size=(300, 2)) + 0.3)
    assert t.n_correct_ == round(t.accuracy_ * t.n_test_)
    assert t.p_binomial_ == pytest.approx(binomial_p_value(t.n_correct_, t.n_test_), rel=1e-12)
