"""LorentzNet: invariance of the output under Lorentz transformations of the inputs."""
from __future__ import annotations

import math

import pytest
import torch

from hepilot.models.taggers.inputs import particle_arrays
from hepilot.models.taggers.lorentznet import LorentzNet, LorentzNetConfig, minkowski_dot


def _boost_matrix(beta: torch.Tensor) -> torch.Tensor:
    """4x4 boost acting on (px, py, pz, E) columns, velocity beta (3,)."""
    b2 = float(beta @ beta)
    g = 1.0 / math.sqrt(1.0 - b2)
    m = torch.eye(4, dtype=torch.float64)
    m[:3, :3] += (g - 1.0) * torch.outer(beta, beta) / b2
    m[:3, 3] = g * beta
    m[3, :3] = g * beta
    m[3, 3] = g
    return m


def _rotation_z(angle: float) -> torch.Tensor:
    m = torch.eye(4, dtype=torch.float64)
    c, s = math.cos(angle), math.sin(angle)
    m[0, 0], m[0, 1], m[1, 0], m[1, 1] = c, -s, s, c
    return m


def _inputs(sample):
    a = particle_arrays(sample, n_particles=32)
    return torch.from_numpy(a.vectors).double(), torch.from_numpy(a.mask).double()


def test_boost_matrix_preserves_the_metric():
    lam = _boost_matrix(torch.tensor([0.3, -0.5, 0.6], dtype=torch.float64))
    p = torch.tensor([1.0, 2.0, 3.0, 10.0], dtype=torch.float64)
    q = torch.tensor([-4.0, 0.5, 1.0, 7.0], dtype=torch.float64)
    lp, lq = (lam @ p)[[3, 0, 1, 2]], (lam @ q)[[3, 0, 1, 2]]  # minkowski_dot takes (E, px, py, pz)
    assert float(minkowski_dot(lp, lq)) == pytest.approx(float(minkowski_dot(p[[3, 0, 1, 2]], q[[3, 0, 1, 2]])),
                                                         abs=1e-9)
    assert float(minkowski_dot(p[[3, 0, 1, 2]], q[[3, 0, 1, 2]])) == pytest.approx(70.0 + 4.0 - 1.0 - 3.0)


def test_output_invariant_under_a_random_boost_without_beams(synthetic_jets):
    # beta = 0.8 in a random direction (gamma 1.67): every Minkowski product is unchanged, so is the output
    model = LorentzNet(LorentzNetConfig(n_hidden=8, n_layers=3, add_beams=False)).double().eval()
    vec, mask = (t[:16] for t in _inputs(synthetic_jets[0]))
    direction = torch.nn.functional.normalize(torch.randn(3, dtype=torch.float64), dim=0)
    boosted = torch.einsum("ij,njp->nip", _boost_matrix(0.8 * direction), vec)
    with torch.no_grad():
        ref, out = model(vec, mask), model(boosted, mask)
    assert torch.allclose(out, ref, rtol=1e-6, atol=1e-8)
    assert not torch.allclose(boosted, vec)


def test_beams_keep_rotations_about_the_beam_axis_and_break_transverse_boosts(synthetic_jets):
    model = LorentzNet(LorentzNetConfig(n_hidden=8, n_layers=3)).double().eval()
    vec, mask = (t[:16] for t in _inputs(synthetic_jets[0]))
    rotated = torch.einsum("ij,njp->nip", _rotation_z(1.1), vec)
    boosted = torch.einsum("ij,njp->nip", _boost_matrix(torch.tensor([0.8, 0.0, 0.0], dtype=torch.float64)), vec)
    with torch.no_grad():
        ref = model(vec, mask)
        assert torch.allclose(model(rotated, mask), ref, rtol=1e-6, atol=1e-8)
        assert (model(boosted, mask) - ref).abs().max() > 1e-4  # the beams see the transverse boost


def test_paper_configuration_builds_and_padding_does_not_matter(synthetic_jets):
    model = LorentzNet(LorentzNetConfig()).eval()
    assert (model.config.n_hidden, model.config.n_layers, model.config.c_weight) == (72, 6, 0.005)
    vec, mask = (t.float() for t in _inputs(synthetic_jets[0]))
    with torch.no_grad():
        ref = model(vec[:4], mask[:4])
        padded = model(torch.nn.functional.pad(vec[:4], (0, 5)), torch.nn.functional.pad(mask[:4], (0, 5)))
    assert torch.allclose(ref, padded, atol=1e-5)


def test_factorised_edge_layer_equals_the_paper_formula():
    # phi_e(cat[h_i, h_j, psi(|x_i - x_j|^2), psi(<x_i, x_j>)]) evaluated directly on the edges
    from hepilot.models.taggers.lorentznet import LGEB, psi

    torch.manual_seed(1)
    block = LGEB(6, 2, 0.005, last_layer=False).double().eval()
    h, x, s = torch.randn(5, 6).double(), torch.randn(5, 4).double() * 10, torch.randn(5, 2).double()
    src, dst = torch.tensor([0, 0, 1, 2, 3, 4, 4]), torch.tensor([1, 2, 0, 3, 4, 0, 1])
    degree = torch.bincount(src, minlength=5).clamp(min=1).double().unsqueeze(1)
    diff = x[src] - x[dst]
    m = block.phi_e(torch.cat([h[src], h[dst], psi(minkowski_dot(diff, diff)).unsqueeze(1),
                               psi(minkowski_dot(x[src], x[dst])).unsqueeze(1)], dim=1))
    m = m * block.phi_m(m)
    agg = torch.zeros(5, 6, dtype=torch.float64).index_add_(0, src, m)
    h_ref = h + block.phi_h(torch.cat([h, agg, s], dim=1))
    x_ref = x + 0.005 * torch.zeros(5, 4, dtype=torch.float64).index_add_(0, src, diff * block.phi_x(m)) / degree
    with torch.no_grad():
        h_new, x_new = block(h, x, s, src, dst, degree)
    assert torch.allclose(h_new, h_ref.detach(), atol=1e-12) and torch.allclose(x_new, x_ref.detach(), atol=1e-12)
