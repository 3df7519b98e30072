"""ParticleNet: parameter count of the paper network, permutation/padding invariance, weaver-core equivalence."""
from __future__ import annotations

import pytest
import torch

from hepilot.models.taggers.inputs import particle_arrays
from hepilot.models.taggers.particlenet import ParticleNet, ParticleNetConfig, knn


def _inputs(sample, n=40):
    a = particle_arrays(sample, n_particles=n)
    return [torch.from_numpy(x) for x in (a.points, a.features, a.mask)]


def test_paper_and_lite_parameter_counts():
    # weaver-core ParticleNet(7, 2, conv_params=paper, fc_params=[(256, 0.1)], use_fusion=False): 366,160
    assert sum(p.numel() for p in ParticleNet(ParticleNetConfig()).parameters()) == 366_160
    assert sum(p.numel() for p in ParticleNet(ParticleNetConfig.small()).parameters()) == 26_416


def test_knn_finds_nearest_points_excluding_self():
    pts = torch.tensor([[[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [0.4, 0.0]]])
    assert knn(pts, 2)[0].tolist() == [[3, 1], [3, 0], [1, 3], [0, 1]]


def test_output_invariant_under_particle_permutation_and_extra_padding(synthetic_jets):
    sample, _ = synthetic_jets
    model = ParticleNet(ParticleNetConfig.tiny()).eval()
    pts, fts, mask = _inputs(sample)
    with torch.no_grad():
        ref = model(pts, fts, mask)
        n_real = int(mask[0].sum())
        perm = torch.arange(pts.shape[-1])
        perm[:n_real] = torch.randperm(n_real)  # shuffle the real particles of jet 0 only
        out = model(pts[..., perm], fts[..., perm], mask[..., perm])
        padded = model(*[torch.nn.functional.pad(t, (0, 10)) for t in (pts, fts, mask)])
    assert torch.allclose(out[0], ref[0], atol=1e-5)
    assert torch.allclose(padded, ref, atol=1e-5)
    assert ref.shape == (64, 2)


def test_matches_weaver_core_implementation(synthetic_jets):
    weaver = pytest.importorskip("weaver.nn.model.ParticleNet")
    cfg = ParticleNetConfig.tiny()
    ref = weaver.ParticleNet(7, 2, conv_params=[(k, c) for k, c in cfg.conv_params], fc_params=list(cfg.fc_params),
                             use_fusion=False, trim=False).eval()
    ours = ParticleNet(cfg).eval()
    ours.load_weaver_state_dict(ref.state_dict())
    inputs = _inputs(synthetic_jets[0])
    with torch.no_grad():
        assert torch.allclose(ours(*inputs), ref(*inputs), atol=1e-5)
