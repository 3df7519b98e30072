"""Particle Transformer: pair features against analytic kinematics, invariances, weaver-core equivalence."""
from __future__ import annotations

import math

import pytest
import torch

from hepilot.models.taggers.inputs import particle_arrays
from hepilot.models.taggers.part import ParTConfig, ParticleTransformer, pair_features


def _p4(pt, y, phi, m=0.0):
    mt = math.hypot(pt, m)
    return torch.tensor([[pt * math.cos(phi), pt * math.sin(phi), mt * math.sinh(y), mt * math.cosh(y)]],
                        dtype=torch.float64)


def test_pair_features_equal_analytic_values():
    # massless: m^2 = 2 pT1 pT2 (cosh dy - cos dphi); dR in rapidity; kT = min pT * dR; z = min pT / sum
    a, b = _p4(50.0, 0.3, 0.1), _p4(20.0, -0.1, 0.4)
    dr = math.hypot(0.4, 0.3)
    m2 = 2 * 50 * 20 * (math.cosh(0.4) - math.cos(0.3))
    got = pair_features(a, b)[0].tolist()
    assert got == pytest.approx([math.log(20 * dr), math.log(20 / 70), math.log(dr), math.log(m2)], rel=1e-9)
    assert pair_features(b, a)[0].tolist() == pytest.approx(got, rel=1e-12)  # symmetric in i, j


def test_paper_parameter_count():
    assert sum(p.numel() for p in ParticleTransformer(ParTConfig()).parameters()) == 2_141_134
    assert sum(p.numel() for p in ParticleTransformer(ParTConfig.small()).parameters()) == 273_894


def _inputs(sample, n=40):
    a = particle_arrays(sample, n_particles=n)
    return [torch.from_numpy(x) for x in (a.features, a.vectors, a.mask)]


def test_permutation_and_padding_invariance(synthetic_jets):
    model = ParticleTransformer(ParTConfig.tiny()).eval()
    fts, vec, mask = _inputs(synthetic_jets[0])
    with torch.no_grad():
        ref = model(fts, vec, mask)
        n_real = int(mask[3].sum())
        perm = torch.arange(fts.shape[-1])
        perm[:n_real] = torch.randperm(n_real)
        out = model(fts[..., perm], vec[..., perm], mask[..., perm])
        padded = model(*[torch.nn.functional.pad(t, (0, 7)) for t in (fts, vec, mask)])
    assert torch.allclose(out[3], ref[3], atol=1e-5)
    assert torch.allclose(padded, ref, atol=1e-5)


def test_matches_weaver_core_implementation(synthetic_jets):
    weaver = pytest.importorskip("weaver.nn.model.ParticleTransformer")
    cfg = ParTConfig.tiny()
    ref = weaver.ParticleTransformer(
        input_dim=7, num_classes=2, pair_input_dim=4, use_pre_activation_pair=False, embed_dims=list(cfg.embed_dims),
        pair_embed_dims=list(cfg.pair_embed_dims), num_heads=cfg.num_heads, num_layers=cfg.num_layers,
        num_cls_layers=cfg.num_cls_layers, cls_block_params={"dropout": 0, "attn_dropout": 0, "activation_dropout": 0},
        fc_params=[], trim=False).eval()
    ours = ParticleTransformer(cfg).eval()
    ours.load_weaver_state_dict(ref.state_dict())
    inputs = _inputs(synthetic_jets[0])
    with torch.no_grad():
        assert torch.allclose(ours(*inputs), ref(*inputs), atol=1e-5)


def test_training_trimmer_keeps_random_real_particles(synthetic_jets):
    # weaver-core's SequenceTrimmer: after 5 warm-up batches, the batch is cut to a quantile q in
    # [0.9, 1] of its jet lengths; each jet keeps min(n_real, maxlen) of its own real particles.
    model = ParticleTransformer(ParTConfig.tiny()).train()
    features, vectors, mask = _inputs(synthetic_jets[0], n=48)
    n_real = mask.sum(dim=(1, 2))
    for _ in range(5):  # warm-up: untouched
        assert model._trim(features, vectors, mask)[2].shape == mask.shape
    torch.manual_seed(3)
    f2, v2, m2 = model._trim(features, vectors, mask)
    maxlen = m2.shape[-1]
    assert torch.quantile(n_real, 0.9) - 1 <= maxlen <= n_real.max()
    assert torch.equal(m2.sum(dim=(1, 2)), n_real.clamp(max=maxlen))
    # the kept energies are a subset of the jet's own real particles
    for jet in range(len(mask)):
        kept = set(v2[jet, 3][m2[jet, 0] > 0].tolist())
        assert kept <= set(vectors[jet, 3][mask[jet, 0] > 0].tolist())
