"""The symbolic-regression and QED checks pass on good results and fail on bad ones."""
from types import SimpleNamespace as NS

from hepilot.evals.checks.theory import (qed_angular_shape, qed_total_cross_section, sr_dimensional_consistency,
                                         sr_expected_form, sr_fit_quality)


def _chosen(**kw):
    base = dict(expression="c0*(x**2 + 1)", chi2=None, ndf=None, r2=0.99, dimensionally_consistent=None,
                dimension_note=None)
    return NS(**{**base, **kw})


def test_fit_quality_with_and_without_errors():
    assert sr_fit_quality(None, NS(chosen=_chosen(chi2=18.0, ndf=18))).passed
    assert not sr_fit_quality(None, NS(chosen=_chosen(chi2=90.0, ndf=18))).passed  # 5 sigma limit is 2.67
    assert sr_fit_quality(None, NS(chosen=_chosen(r2=0.95))).passed
    assert not sr_fit_quality(None, NS(chosen=_chosen(r2=0.5))).passed


def test_expected_form_and_constants():
    good = NS(expression="c0*(x**2 + 1)", equivalent=True, reason="sympy", deviation={"c0": 0.01},
              fitted={"c0": 101.0}, errors={"c0": 1.0}, reference={"c0": 100.0}, tolerance=0.02)
    out = sr_expected_form(None, NS(chosen=_chosen(), expected=good))
    assert [c.passed for c in out] == [True, True]
    bad = NS(**{**vars(good), "equivalent": False, "deviation": {"c0": 0.05}})
    assert [c.passed for c in sr_expected_form(None, NS(chosen=_chosen(), expected=bad))] == [False, False]
    assert sr_expected_form(None, NS(chosen=_chosen(), expected=None)) == []


def test_dimensional_consistency_only_with_units():
    assert sr_dimensional_consistency(None, NS(chosen=_chosen())) == []
    out = sr_dimensional_consistency(None, NS(chosen=_chosen(dimensionally_consistent=False, dimension_note="x")))
    assert not out[0].passed


def test_qed_checks():
    ok = NS(sigma_pb=948.65, sigma_expected_pb=948.646, alpha_em=1 / 131.12, b_fit=1.03, b_fit_err=0.045,
            shape_chi2=18.0, shape_ndf=18)
    assert qed_total_cross_section(None, ok).passed and qed_angular_shape(None, ok).passed
    assert not qed_total_cross_section(None, NS(**{**vars(ok), "sigma_pb": 1035.9})).passed  # the alpha(0) value
    assert not qed_angular_shape(None, NS(**{**vars(ok), "b_fit": 0.8})).passed  # 4.4 sigma
    assert not qed_angular_shape(None, NS(**{**vars(ok), "shape_chi2": 60.0})).passed  # p = 2e-6
