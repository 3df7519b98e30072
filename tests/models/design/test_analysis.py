"""Expected significance and the analysis ladder on a sample with a known optimum."""
import numpy as np
import pytest

from hepilot.models.design.analysis import AnalysisData, asimov_significance, optimise_cuts, run_ladder


def test_asimov_limits_and_systematics():
    # s << b: Z -> s / sqrt(b); exact value for s = 10, b = 100: sqrt(2 (110 ln 1.1 - 10)) = 0.9836
    assert asimov_significance(10, 100) == pytest.approx(np.sqrt(2 * (110 * np.log(1.1) - 10)), rel=1e-12)
    assert asimov_significance(1, 1e6) == pytest.approx(1e-3, rel=1e-3)
    # a vanishing systematic gives back the simple formula; a large one kills the sensitivity
    assert asimov_significance(50, 400, sigma_b=1e-6) == pytest.approx(asimov_significance(50, 400), rel=1e-6)
    assert asimov_significance(50, 400, sigma_b=40) < 0.5 * asimov_significance(50, 400)
    # s / sqrt(b + sigma_b^2) is the small-s limit with a systematic
    assert asimov_significance(5, 1e4, sigma_b=100) == pytest.approx(5 / np.sqrt(1e4 + 100**2), rel=0.01)
    assert asimov_significance(0, 10) == 0.0


def _window_data(seed=0, n=40000):
    """Signal: a Gaussian peak at 125 (sigma 2); background: flat in 100-150. Weights: 500 signal, 50000 bkg."""
    rng = np.random.default_rng(seed)
    ns, nb = n // 4, n - n // 4
    x = np.r_[rng.normal(125, 2, ns), rng.uniform(100, 150, nb)]
    y = np.r_[np.ones(ns), np.zeros(nb)]
    w = np.r_[np.full(ns, 500 / ns), np.full(nb, 50000 / nb)]
    return AnalysisData(x[:, None], y, w, ["m"])


def test_cut_optimisation_finds_the_analytic_window():
    # for a Gaussian on a flat background and s << b, Z ~ s/sqrt(b) is maximal for a symmetric window of
    # half-width 1.40 sigma: Z = 500 erf(1.40/sqrt 2) / sqrt(50000 x 5.6 / 50) = 5.42
    data = _window_data()
    cuts, z = optimise_cuts(data, np.arange(len(data.y)), scale=1.0, n_trials=150, seed=1)
    lo, hi = cuts["m"]
    assert (hi - lo) / 2 == pytest.approx(1.40 * 2, rel=0.15)
    assert (lo + hi) / 2 == pytest.approx(125.0, abs=0.5)
    assert z == pytest.approx(asimov_significance(500 * 0.8385, 50000 * 5.6 / 50), rel=0.05)


def test_ladder_on_correlated_features_bdt_beats_rectangular_cuts():
    # signal and background differ only along x1 - x2 (a rotated direction): rectangular cuts on x1 and x2
    # cannot follow it, a BDT can; both are scored on the same held-out 40%
    rng = np.random.default_rng(3)
    n = 6000
    base = rng.normal(0, 3, (2 * n, 1))
    diff = np.r_[rng.normal(1.2, 0.5, n), rng.normal(-1.2, 0.5, n)][:, None] / 2
    X = np.hstack([base + diff, base - diff])
    y = np.r_[np.ones(n), np.zeros(n)]
    w = np.r_[np.full(n, 100 / n), np.full(n, 10000 / n)]
    rungs, (train, val, test) = run_ladder(AnalysisData(X, y, w, ["x1", "x2"]), methods=("cuts", "bdt"), n_trials=80,
                                           seed=0)
    z = {r.method: r.z for r in rungs}
    assert set(np.r_[train, val]).isdisjoint(test)
    assert z["bdt"] > 1.3 * z["cuts"]
    for r in rungs:  # every Z is the Asimov value of its own s and b
        assert r.z == pytest.approx(asimov_significance(r.s, r.b), rel=1e-9)


def test_analysis_data_validation():
    with pytest.raises(ValueError, match="both signal"):
        AnalysisData(np.zeros((3, 1)), np.ones(3), np.ones(3), ["a"])
    with pytest.raises(ValueError, match="weights"):
        AnalysisData(np.zeros((2, 1)), np.array([0, 1]), np.array([1.0, -1.0]), ["a"])
