"""MPNN and its DNN baseline: radial-basis edges, permutation invariance, vote averaging."""
from __future__ import annotations

import math

import torch

from hepilot.models.taggers.mpnn import MPNN, EventDNN, EventDNNConfig, MPNNConfig


def _graph(n=8, p=6, dim=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    nodes = torch.randn(n, dim, p, generator=g)
    coords = torch.stack([torch.randn(n, p, generator=g), torch.rand(n, p, generator=g) * 6 - 3], dim=1)
    counts = torch.randint(2, p + 1, (n,), generator=g)
    mask = (torch.arange(p)[None, :] < counts[:, None]).float().unsqueeze(1)
    return nodes * mask, coords * mask, mask


def test_rbf_peaks_at_the_pair_distance():
    model = MPNN(MPNNConfig(n_rbf=21, rbf_max=5.0))
    coords = torch.tensor([[[0.0, 1.2], [3.1, -3.1]]])  # dphi wraps: |3.1 - (-3.1)| -> 2 pi - 6.2
    rbf = model.edge_basis(coords)[0, 0, 1]
    dr = math.hypot(1.2, 2 * math.pi - 6.2)
    assert model.mu[int(rbf.argmax())].item() == round(dr / 0.25) * 0.25
    assert rbf.max().item() > 0.5


def test_mpnn_is_invariant_under_node_permutation_and_outputs_a_mean_vote():
    model = MPNN(MPNNConfig()).eval()
    nodes, coords, mask = _graph()
    perm = torch.tensor([2, 0, 1, 3, 4, 5])
    mask_p = mask.clone()
    mask_p[:] = 1.0  # all slots real so any permutation keeps the real set
    with torch.no_grad():
        ref = model(nodes, coords, mask_p)
        out = model(nodes[..., perm], coords[..., perm], mask_p[..., perm])
        p = torch.softmax(ref, dim=1)[:, 1]
    assert torch.allclose(ref, out, atol=1e-5)
    assert ((p > 0) & (p < 1)).all()


def test_padding_slots_do_not_change_the_mpnn_output():
    model = MPNN(MPNNConfig()).eval()
    nodes, coords, mask = _graph()
    with torch.no_grad():
        ref = model(nodes, coords, mask)
        junk = model(nodes + (1 - mask) * 7.0, coords + (1 - mask) * 0.3, mask)
    assert torch.allclose(ref, junk, atol=1e-5)


def test_dnn_uses_a_fixed_slot_layout():
    model = EventDNN(EventDNNConfig(n_particles=6)).eval()
    nodes, coords, mask = _graph()
    with torch.no_grad():
        full = model(nodes, coords, mask)
        trimmed = model(nodes[..., :4], coords[..., :4], mask[..., :4])
    assert full.shape == (8, 2)
    keep = mask[:, 0, 4:].sum(dim=1) == 0  # events whose objects all fit in 4 slots
    assert keep.any()
    assert torch.allclose(full[keep], trimmed[keep], atol=1e-5)
