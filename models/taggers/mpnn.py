"""Message-passing network on event graphs of reconstructed objects, and its DNN baseline (arXiv:1807.09088).

Abdughani, Ren, Wu, Yang, "Probing stop pair production at the LHC with graph neural networks":
an event is a fully connected graph whose nodes are the reconstructed objects (photons, leptons
with charge, b-jets, light jets, missing ET) with features one-hot(type) + (pT, E, m); the edge
between objects i and j carries their angular distance dR_ij expanded in radial basis functions

    e_ij,k = exp(-gamma (dR_ij - mu_k)^2),   mu_k evenly spaced in [0, rbf_max], gamma = 1 / spacing^2

Nodes are embedded in 30 dimensions and updated for T = 2 rounds of message passing

    m_i = sum_{j != i} W(e_ij) * (A h_j)          (continuous-filter message, W: RBF -> 30, elementwise)
    h_i <- h_i + U([h_i, m_i])                     (U: Linear, ReLU, Linear)

and every node votes v_i = sigmoid(R(h_i)); the event score is the mean vote over the real
nodes. Trained with Adam (lr 1e-3) on the binary cross-entropy. The forward pass returns two
logits (0, logit(mean vote)) so the shared cross-entropy trainer optimises exactly that BCE.
The paper's message and update networks are not fully specified in its text; the SchNet-style
filter and residual update above are this implementation's reading (stated in reports).

`EventDNN` is the baseline on the same inputs: the padded object list (features and eta, phi of
every slot, zero for empty slots) flattened into a fully connected network.
The same MPNN also runs on jet constituents (node types photon/lepton/hadron, coordinates
(deta, dphi)), with `rbf_max` = 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["MPNNConfig", "MPNN", "EventDNNConfig", "EventDNN"]


@dataclass(frozen=True)
class MPNNConfig:
    """MPNN hyper-parameters; defaults follow the paper (30-dim embeddings, T = 2)."""

    node_dim: int = 10
    hidden: int = 30
    n_steps: int = 2
    n_rbf: int = 20
    rbf_max: float = 5.0
    n_particles: int = 16

    @classmethod
    def small(cls, **kw) -> MPNNConfig:
        return cls(**kw)

    @classmethod
    def tiny(cls, **kw) -> MPNNConfig:
        return cls(**{"hidden": 8, "n_rbf": 8, **kw})

    @classmethod
    def preset(cls, name: str, **kw) -> MPNNConfig:
        return {"paper": cls, "cpu": cls.small, "ci": cls.tiny}[name](**kw)


class MPNN(nn.Module):
    """forward(nodes (N,F,P), coords (N,2,P) eta/phi, mask (N,1,P)) -> logits (N, 2)."""

    input_keys = ("nodes", "coords", "mask")

    def __init__(self, config: MPNNConfig | None = None):
        super().__init__()
        self.config = cfg = config or MPNNConfig()
        self.embed = nn.Linear(cfg.node_dim, cfg.hidden)
        self.register_buffer("mu", torch.linspace(0.0, cfg.rbf_max, cfg.n_rbf), persistent=False)
        self.gamma = 1.0 / (cfg.rbf_max / max(cfg.n_rbf - 1, 1)) ** 2
        self.filters = nn.ModuleList(nn.Sequential(nn.Linear(cfg.n_rbf, cfg.hidden), nn.Tanh())
                                     for _ in range(cfg.n_steps))
        self.messages = nn.ModuleList(nn.Linear(cfg.hidden, cfg.hidden, bias=False) for _ in range(cfg.n_steps))
        self.updates = nn.ModuleList(nn.Sequential(nn.Linear(2 * cfg.hidden, cfg.hidden), nn.ReLU(),
                                                   nn.Linear(cfg.hidden, cfg.hidden)) for _ in range(cfg.n_steps))
        self.vote = nn.Sequential(nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 1))

    def edge_basis(self, coords: torch.Tensor) -> torch.Tensor:
        """(N, P, P, n_rbf) radial-basis expansion of dR between all node pairs."""
        eta, phi = coords[:, 0], coords[:, 1]
        deta = eta.unsqueeze(2) - eta.unsqueeze(1)
        dphi = torch.remainder(phi.unsqueeze(2) - phi.unsqueeze(1) + torch.pi, 2 * torch.pi) - torch.pi
        dr = torch.sqrt(deta**2 + dphi**2)
        return torch.exp(-self.gamma * (dr.unsqueeze(-1) - self.mu) ** 2)

    def forward(self, nodes: torch.Tensor, coords: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        real = mask.squeeze(1) > 0  # (N, P)
        n, p = real.shape
        pair = (real.unsqueeze(2) & real.unsqueeze(1) & ~torch.eye(p, dtype=torch.bool, device=real.device))
        rbf = self.edge_basis(coords)  # (N, P, P, K)
        h = self.embed(nodes.transpose(1, 2))  # (N, P, H)
        for filt, msg, upd in zip(self.filters, self.messages, self.updates):
            w = filt(rbf) * pair.unsqueeze(-1)  # (N, P, P, H), zero for padding and i == j
            m = (w * msg(h).unsqueeze(1)).sum(dim=2)  # sum over senders j
            h = h + upd(torch.cat([h, m], dim=-1))
        votes = torch.sigmoid(self.vote(h).squeeze(-1))  # (N, P)
        score = (votes * real).sum(dim=1) / real.sum(dim=1).clamp(min=1)
        score = score.clamp(1e-7, 1 - 1e-7)
        return torch.stack([torch.zeros_like(score), torch.logit(score)], dim=1)


@dataclass(frozen=True)
class EventDNNConfig:
    """Fully connected baseline on the padded object list."""

    node_dim: int = 10
    n_particles: int = 16
    hidden: tuple[int, ...] = (128, 64, 32)
    dropout: float = 0.1

    @classmethod
    def small(cls, **kw) -> EventDNNConfig:
        return cls(**kw)

    @classmethod
    def tiny(cls, **kw) -> EventDNNConfig:
        return cls(**{"hidden": (16, 8), **kw})

    @classmethod
    def preset(cls, name: str, **kw) -> EventDNNConfig:
        return {"paper": cls, "cpu": cls.small, "ci": cls.tiny}[name](**kw)


class EventDNN(nn.Module):
    """forward(nodes (N,F,P), coords (N,2,P), mask (N,1,P)) -> logits (N, 2); slots are used in their order."""

    input_keys = ("nodes", "coords", "mask")

    def __init__(self, config: EventDNNConfig | None = None):
        super().__init__()
        self.config = cfg = config or EventDNNConfig()
        width = (cfg.node_dim + 2) * cfg.n_particles
        layers: list[nn.Module] = []
        for h in cfg.hidden:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(cfg.dropout)]
            width = h
        layers.append(nn.Linear(width, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, nodes: torch.Tensor, coords: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = torch.cat([nodes, coords], dim=1) * mask  # (N, F + 2, P)
        p = self.config.n_particles
        if x.shape[-1] < p:  # batches trimmed to fewer slots: restore the fixed layout
            x = nn.functional.pad(x, (0, p - x.shape[-1]))
        return self.net(x[..., :p].flatten(1))
