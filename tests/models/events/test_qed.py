"""e+e- -> gamma* -> mu+mu- from Pythia: cross section, angular shape, units, bad input."""
import math

import numpy as np
import pytest
from scipy import stats

from hepilot.models.events.qed import (HBARC2_GEV2_MB, angular_distribution, born_coefficient, born_cross_section,
                                       fit_shape, generate_dimuon)


@pytest.fixture(scope="module")
def sample():
    return generate_dimuon(n_events=20_000, sqrt_s=10.0, seed=11)


def test_cross_section_is_the_born_value_with_the_generators_alpha(sample):
    # Pythia runs alpha_em to Q^2 = s: 1/131.12 at 10 GeV (PYTHIA.md)
    assert 1 / sample.alpha_em == pytest.approx(131.12, abs=0.05)
    assert sample.sigma("pb") == pytest.approx(born_cross_section(sample.alpha_em, sample.s, "pb"), rel=1e-3)
    assert sample.sigma("pb") == pytest.approx(4 * math.pi * sample.alpha_em ** 2 / (3 * 100.0) * HBARC2_GEV2_MB * 1e9,
                                               rel=1e-3)


def test_angular_shape_is_one_plus_cos2(sample):
    dist = angular_distribution(sample, n_bins=20)
    fit = fit_shape(dist)
    # 20k events: b is measured to ~0.045; require b = 1 within 3 standard errors (99.7% confidence)
    assert abs(fit.b - 1.0) < 3 * fit.b_err and fit.b_err < 0.06
    assert abs(fit.a - born_coefficient(sample.alpha_em, sample.s, "pb")) < 3 * fit.a_err
    assert stats.chi2.sf(fit.chi2, fit.ndf) > 1e-3


def test_no_forward_backward_asymmetry_with_photon_exchange(sample):
    c = sample.cos_theta
    afb = (np.sum(c > 0) - np.sum(c < 0)) / len(c)
    assert abs(afb) < 3 / math.sqrt(len(c))  # binomial error 1/sqrt(N); 99.7% confidence
    assert np.all(np.abs(c) <= 1) and np.mean(np.abs(c) > 0.98) > 0.01  # no hidden pT cut near the beam


@pytest.mark.parametrize("n_bins", [10, 200])
def test_distribution_integrates_to_sigma_in_both_units(sample, n_bins):
    pb = angular_distribution(sample, n_bins=n_bins, unit="pb")
    gev = angular_distribution(sample, n_bins=n_bins, unit="GeV^-2")
    width = np.diff(pb.edges)
    assert np.sum(pb.dsigma * width) == pytest.approx(sample.sigma("pb"), rel=1e-12)
    assert np.allclose(pb.dsigma / gev.dsigma, HBARC2_GEV2_MB * 1e9)
    assert pb.counts.sum() == 20_000 and len(pb.centers) == n_bins


def test_fixed_alpha_uses_alpha0():
    s = generate_dimuon(n_events=1000, seed=3, alpha_em_running=False)
    assert 1 / s.alpha_em == pytest.approx(137.036, rel=1e-4)
    assert s.sigma("pb") == pytest.approx(born_cross_section(s.alpha_em, s.s), rel=1e-3)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_events": 0}, "n_events"),
    ({"n_events": 10, "sqrt_s": 91.2}, "sqrt_s"),
    ({"n_events": 10, "seed": 0}, "seed"),
])
def test_bad_settings_are_rejected_before_generation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_dimuon(**kwargs)
