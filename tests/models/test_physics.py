"""Kinematics against analytic values."""
import math

import numpy as np
import pytest

from hepilot.models import physics


def test_eta_phi_pt_of_known_vector():
    # p = (1, 1, sqrt(2)) has pt = sqrt(2), theta = 45 deg, eta = -ln tan(pi/8)
    px, py, pz = 1.0, 1.0, math.sqrt(2.0)
    assert physics.pt(px, py) == pytest.approx(math.sqrt(2.0), rel=1e-12)
    assert physics.eta(px, py, pz) == pytest.approx(-math.log(math.tan(math.pi / 8)), rel=1e-12)
    assert physics.phi(px, py) == pytest.approx(math.pi / 4, rel=1e-12)
    assert physics.cos_theta(px, py, pz) == pytest.approx(math.cos(math.pi / 4), rel=1e-12)


def test_delta_phi_wraps_across_pi():
    assert physics.delta_phi(3.1, -3.1) == pytest.approx(3.1 + 3.1 - 2 * math.pi, abs=1e-12)
    assert physics.delta_r(0.0, 3.1, 0.0, -3.1) == pytest.approx(2 * math.pi - 6.2, abs=1e-12)


def test_mass_and_rest_frame_boost():
    rng = np.random.default_rng(0)
    m, pt_, eta_, phi_ = 172.5, rng.uniform(10, 1000, 50), rng.uniform(-3, 3, 50), rng.uniform(-3, 3, 50)
    e, px, py, pz = physics.p4_from_pt_eta_phi_m(pt_, eta_, phi_, m)
    assert physics.mass(e, px, py, pz) == pytest.approx(np.full(50, m), rel=1e-9)
    er, pxr, pyr, pzr = physics.boost_to_rest_frame(e, px, py, pz, e, px, py, pz)
    assert er == pytest.approx(np.full(50, m), rel=1e-9)
    assert np.abs(np.stack([pxr, pyr, pzr])).max() < 1e-6 * m


def test_rapidity_equals_eta_for_massless():
    e, px, py, pz = physics.p4_from_pt_eta_phi_m(50.0, 1.3, 0.2, 0.0)
    assert physics.rapidity(e, pz) == pytest.approx(1.3, rel=1e-12)
