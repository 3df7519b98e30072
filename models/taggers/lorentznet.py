"""LorentzNet: a Lorentz-group-equivariant graph network on jet 4-momenta (Gong et al., arXiv:2201.08187).

Nodes are the particles' 4-momenta x_i = (E, px, py, pz) (GeV) plus two beam "particles"
(E = sqrt(2), pz = +-1, mass 1) appended to every jet; node scalars are one-hot(beam, particle) x
mass sqrt|x^2|, through psi(a) = sign(a) ln(|a| + 1). The graph is fully connected (i != j).
Each of the 6 Lorentz group equivariant blocks (LGEB), hidden width 72:

    m_ij = phi_e(h_i, h_j, psi(|x_i - x_j|^2), psi(<x_i, x_j>)) * phi_m(...)     (Minkowski metric)
    x_i <- x_i + c * mean_j (x_i - x_j) phi_x(m_ij)        (c = 0.005 for top tagging; not in the last block)
    h_i <- h_i + phi_h(h_i, sum_j m_ij, scalars_i)

Only Minkowski products enter the scalars, so h (and the output) is invariant and x equivariant
under Lorentz transformations of all nodes; the fixed beam nodes reduce the symmetry to
rotations about and boosts along the beam axis, which is what the paper intends. Readout: mean of
h over the nodes -> Linear 72, ReLU, Dropout 0.2 -> Linear 2 (logits).

Changes: the graph is built per batch from the padding mask (plain torch `index_add_`, no
pyg-lib); the first edge layer's two node projections are computed per node before the gather
(same function, ~2x fewer operations); batch-norm statistics and the mean readout use real nodes only (the reference code
averages over a fixed padded size); inputs are channel-first (N, 4, P) in (px, py, pz, E) like
ParT's. `add_beams=False` gives the fully Lorentz-invariant network. `small()` is a CPU preset
(4 blocks, hidden 32), `tiny()` is for tests.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["LorentzNetConfig", "LorentzNet", "minkowski_dot", "psi"]


@dataclass(frozen=True)
class LorentzNetConfig:
    """LorentzNet hyper-parameters; defaults are the paper's top-tagging network."""

    n_hidden: int = 72
    n_layers: int = 6
    c_weight: float = 0.005
    dropout: float = 0.2
    num_classes: int = 2
    add_beams: bool = True
    beam_mass: float = 1.0
    n_particles: int = 128

    @classmethod
    def small(cls) -> LorentzNetConfig:
        return cls(n_hidden=32, n_layers=4, n_particles=64)

    @classmethod
    def tiny(cls) -> LorentzNetConfig:
        return cls(n_hidden=8, n_layers=2, n_particles=32)

    @classmethod
    def preset(cls, name: str) -> LorentzNetConfig:
        return {"paper": cls, "cpu": cls.small, "ci": cls.tiny}[name]()


def minkowski_dot(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """<p, q> = p0 q0 - p . q over the last axis (E, px, py, pz)."""
    pq = p * q
    return 2 * pq[..., 0] - pq.sum(dim=-1)


def psi(a: torch.Tensor) -> torch.Tensor:
    """sign(a) ln(|a| + 1): compresses Minkowski products spanning many orders of magnitude."""
    return torch.sign(a) * torch.log1p(torch.abs(a))


def _segment_sum(data: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
    return data.new_zeros(n, data.shape[1]).index_add_(0, index, data)


class LGEB(nn.Module):
    """One Lorentz group equivariant block."""

    def __init__(self, n_hidden: int, n_scalar: int, c_weight: float, last_layer: bool):
        super().__init__()
        self.c_weight = c_weight
        self.phi_e = nn.Sequential(nn.Linear(2 * n_hidden + 2, n_hidden, bias=False), nn.BatchNorm1d(n_hidden),
                                   nn.ReLU(), nn.Linear(n_hidden, n_hidden), nn.ReLU())
        self.phi_h = nn.Sequential(nn.Linear(2 * n_hidden + n_scalar, n_hidden), nn.BatchNorm1d(n_hidden), nn.ReLU(),
                                   nn.Linear(n_hidden, n_hidden))
        self.phi_m = nn.Sequential(nn.Linear(n_hidden, 1), nn.Sigmoid())
        self.phi_x = None
        if not last_layer:
            out = nn.Linear(n_hidden, 1, bias=False)
            nn.init.xavier_uniform_(out.weight, gain=0.001)  # x starts almost unchanged
            self.phi_x = nn.Sequential(nn.Linear(n_hidden, n_hidden), nn.ReLU(), out)

    def forward(self, h, x, scalars, src, dst, degree):
        # h: (nodes, H), x: (nodes, 4), scalars: (nodes, S), src/dst: (edges,) with messages dst -> src,
        # degree: (nodes, 1) number of edges of every node
        x_diff = x[src] - x[dst]
        norms = psi(minkowski_dot(x_diff, x_diff)).unsqueeze(1)
        dots = psi(minkowski_dot(x[src], x[dst])).unsqueeze(1)
        # first edge layer W [h_i, h_j, norm, dot] = (W_i h)_i + (W_j h)_j + w_n norm + w_d dot: the two
        # projections run on the nodes, not on the ~P^2 edges
        w = self.phi_e[0].weight
        nh = h.shape[1]
        proj = h @ torch.cat([w[:, :nh], w[:, nh:2 * nh]], dim=0).t()  # (nodes, 2H)
        a, b = proj.split(w.shape[0], dim=1)
        m = a[src] + b[dst] + norms * w[:, 2 * nh] + dots * w[:, 2 * nh + 1]
        m = self.phi_e[1:](m)
        m = m * self.phi_m(m)
        n = h.shape[0]
        if self.phi_x is not None:
            trans = torch.clamp(x_diff * self.phi_x(m), -100.0, 100.0)
            x = x + self.c_weight * _segment_sum(trans, src, n) / degree
        h = h + self.phi_h(torch.cat([h, _segment_sum(m, src, n), scalars], dim=1))
        return h, x


class LorentzNet(nn.Module):
    """LorentzNet tagger. forward(vectors (N,4,P) px,py,pz,E in GeV, mask (N,1,P)) -> logits (N, classes)."""

    input_keys = ("vectors", "mask")

    def __init__(self, config: LorentzNetConfig | None = None):
        super().__init__()
        self.config = cfg = config or LorentzNetConfig()
        n_scalar = 2
        self.embedding = nn.Linear(n_scalar, cfg.n_hidden)
        self.lgebs = nn.ModuleList(LGEB(cfg.n_hidden, n_scalar, cfg.c_weight, last_layer=i == cfg.n_layers - 1)
                                   for i in range(cfg.n_layers))
        self.graph_dec = nn.Sequential(nn.Linear(cfg.n_hidden, cfg.n_hidden), nn.ReLU(), nn.Dropout(cfg.dropout),
                                       nn.Linear(cfg.n_hidden, cfg.num_classes))

    def _graph(self, vectors: torch.Tensor, mask: torch.Tensor):
        p4 = vectors[:, [3, 0, 1, 2], :].transpose(1, 2)  # (N, P, 4) as (E, px, py, pz)
        real = mask.squeeze(1) > 0  # (N, P)
        n = p4.shape[0]
        is_beam = torch.zeros_like(real)
        if self.config.add_beams:
            e = math.sqrt(1.0 + self.config.beam_mass**2)
            beams = p4.new_tensor([[e, 0.0, 0.0, 1.0], [e, 0.0, 0.0, -1.0]]).expand(n, 2, 4)
            p4 = torch.cat([beams, p4], dim=1)
            real = torch.cat([real.new_ones(n, 2), real], dim=1)
            is_beam = torch.cat([real.new_ones(n, 2), is_beam], dim=1)
        batch, pos = torch.nonzero(real, as_tuple=True)  # packed real nodes, in (jet, position) order
        node_id = torch.full(real.shape, -1, dtype=torch.long, device=p4.device)
        node_id[batch, pos] = torch.arange(batch.numel(), device=p4.device)
        pair = real.unsqueeze(2) & real.unsqueeze(1) & ~torch.eye(real.shape[1], dtype=torch.bool, device=p4.device)
        b, i, j = torch.nonzero(pair, as_tuple=True)
        x = p4[batch, pos]
        mass = torch.sqrt(minkowski_dot(x, x).abs())
        beam = is_beam[batch, pos]
        scalars = psi(torch.stack([torch.where(beam, 0.0, mass), torch.where(beam, mass, 0.0)], dim=1))
        return x, scalars, node_id[b, i], node_id[b, j], batch, n

    def forward(self, vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x, scalars, src, dst, batch, n = self._graph(vectors, mask)
        h = self.embedding(scalars)
        degree = _segment_sum(torch.ones_like(x[src, :1]), src, x.shape[0]).clamp(min=1)
        for lgeb in self.lgebs:
            h, x = lgeb(h, x, scalars, src, dst, degree)
        counts = _segment_sum(torch.ones_like(h[:, :1]), batch, n).clamp(min=1)
        return self.graph_dec(_segment_sum(h, batch, n) / counts)
