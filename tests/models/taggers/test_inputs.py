"""Input building: the weaver "kin" features against hand-computed values, padding, and jet images."""
from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepilot.models import physics
from hepilot.models.events.samples import JetSample
from hepilot.models.taggers.inputs import KIN_FEATURES, jet_images, particle_arrays


def _one_jet(pts, etas, phis, *, jet_eta=0.5, jet_phi=0.3):
    e, px, py, pz = physics.p4_from_pt_eta_phi_m(np.asarray(pts, float), np.asarray(etas, float),
                                                 np.asarray(phis, float), 0.0)
    particles = ak.Array([{"px": px.tolist(), "py": py.tolist(), "pz": pz.tolist(), "e": e.tolist(),
                           "pid": [22] * len(pts), "charge": [0.0] * len(pts)}])
    particles = ak.zip({k: particles[k] for k in ("px", "py", "pz", "e", "pid", "charge")})
    jets = ak.zip({"label": [0], "jet_pt": [sum(pts)], "jet_eta": [jet_eta], "jet_phi": [jet_phi], "jet_mass": [0.0],
                   "jet_e": [float(e.sum())], "truth_matched": [True], "event": [0], "chunk": [0]})
    return JetSample(jets, particles, {"processes": ["a"]})


def test_kin_features_match_weaver_formulas():
    # particle 0 sits on the jet axis (dR = 0); particle 1 is displaced by (0.1, -0.2), jet at negative eta
    sample = _one_jet([100.0, 20.0], [-0.5, -0.6], [0.3, 0.1], jet_eta=-0.5, jet_phi=0.3)
    a = particle_arrays(sample, n_particles=4)
    f = dict(zip(KIN_FEATURES, a.features[0, :, :2]))
    jet_pt, jet_e = 120.0, float(ak.to_numpy(sample.jets.jet_e)[0])
    e0 = 100.0 * np.cosh(-0.5)
    assert f["part_pt_log"][0] == pytest.approx((np.log(100.0) - 1.7) * 0.7, rel=1e-5)
    assert f["part_e_log"][0] == pytest.approx((np.log(e0) - 2.0) * 0.7, rel=1e-5)
    assert f["part_logptrel"][1] == pytest.approx((np.log(20.0 / jet_pt) + 4.7) * 0.7, rel=1e-5)
    assert f["part_logerel"][0] == pytest.approx((np.log(e0 / jet_e) + 4.7) * 0.7, rel=1e-5)
    assert f["part_deltaR"][0] == pytest.approx(-0.8, abs=1e-5)  # (0 - 0.2) * 4
    assert f["part_deltaR"][1] == pytest.approx((np.hypot(0.1, 0.2) - 0.2) * 4.0, abs=1e-5)
    # deta is multiplied by sign(jet eta) = -1: (-0.6 - -0.5) * -1 = +0.1
    assert f["part_deta"][1] == pytest.approx(0.1, abs=1e-5)
    assert f["part_dphi"][1] == pytest.approx(-0.2, abs=1e-5)
    np.testing.assert_allclose(a.points[0, :, 1], [0.1, -0.2], atol=1e-5)
    np.testing.assert_allclose(a.vectors[0, 3, 0], e0, rtol=1e-5)


def test_wrap_padding_repeats_particles_with_zero_mask_and_truncation_keeps_hardest():
    sample = _one_jet([50.0, 30.0, 10.0], [0.5, 0.6, 0.4], [0.3, 0.35, 0.2])
    a = particle_arrays(sample, n_particles=7)
    np.testing.assert_array_equal(a.mask[0, 0], [1, 1, 1, 0, 0, 0, 0])
    np.testing.assert_allclose(a.features[0, :, 3:6], a.features[0, :, 0:3])  # wrap: slots 3-5 repeat 0-2
    c = particle_arrays(sample, n_particles=7, pad_mode="constant")
    assert np.all(c.features[0, :, 3:] == 0)
    t = particle_arrays(sample, n_particles=2)
    np.testing.assert_allclose(t.vectors[0], a.vectors[0, :, :2])
    assert t.mask.sum() == 2


def test_scaled_features_are_clipped():
    sample = _one_jet([1e-9, 100.0], [0.5, 0.5], [0.3, 0.31])
    a = particle_arrays(sample, n_particles=2)
    assert a.features[0, 0, 0] == pytest.approx(-5.0)  # ln(1e-9) - 1.7 -> far below -5 before the clip


def test_jet_image_is_centred_rotated_flipped_and_normalised(synthetic_jets):
    sample, _ = synthetic_jets
    img = jet_images(sample, size=40)
    assert img.shape == (64, 1, 40, 40)
    inside = img.sum(axis=(1, 2, 3))
    assert np.all(inside <= 1 + 1e-5) and np.median(inside) > 0.9
    # a two-prong jet: the prongs lie along a diagonal before preprocessing; after it, along dphi (axis 3)
    two = _one_jet([60.0, 40.0], [0.5 + 0.2, 0.5 - 0.2], [0.3 + 0.2, 0.3 - 0.2])
    im = jet_images(two, size=40)[0, 0]
    rows, cols = np.nonzero(im)
    assert len(set(rows)) == 1 and len(cols) == 2  # same deta bin: the axis is vertical
    hard = np.unravel_index(np.argmax(im), im.shape)
    assert hard[1] >= 20  # the harder prong is flipped to positive dphi
    centroid = (np.arange(40) + 0.5 - 20) @ im.sum(axis=0) * (1.6 / 40)
    assert centroid == pytest.approx(0.0, abs=0.04 + 1e-9)  # pT centroid within one pixel of the centre


def test_bad_options_raise():
    sample = _one_jet([50.0], [0.5], [0.3])
    with pytest.raises(ValueError, match="n_particles"):
        particle_arrays(sample, n_particles=0)
    with pytest.raises(ValueError, match="pad_mode"):
        particle_arrays(sample, pad_mode="edge")
