"""ParticleNet: dynamic-graph CNN on a jet's particle cloud (Qu & Gouskos, arXiv:1902.08570).

Architecture (paper / weaver-core defaults for top tagging, `ParticleNetConfig()`):
    features -> BatchNorm
    3 EdgeConv blocks, k = 16 nearest neighbours, channels (64,64,64), (128,128,128), (256,256,256);
      block 1 finds neighbours in (deta, dphi), later blocks in the previous block's features;
      edge feature e_ij = (x_i, x_j - x_i) -> 3 x [Linear, BatchNorm, ReLU] -> mean over the k edges,
      plus a shortcut Linear+BatchNorm of x_i, then ReLU
    global average over the real particles -> Linear 256, ReLU, Dropout 0.1 -> Linear 2 (logits)

Changes for CPU (same function, different arithmetic): kNN is `torch.cdist` + `topk` (pyg-lib is
not installable here); tensors are channel-last so every edge layer is one GEMM; and the first edge
layer W [x_i, x_j - x_i] is evaluated as (W1 - W2) x_i + W2 x_j on the particles before the
gather, instead of on P*k edges. Padded particles are moved 1e9 away before the kNN (as in
weaver-core) and zeroed after every block. `ParticleNetConfig.small()` is ParticleNet-Lite
(k = 7, (32,32,32), (64,64,64), fc 128); `tiny()` is for tests. `load_weaver_state_dict` loads
weights of weaver-core's `ParticleNet` (Conv 1x1 kernels become Linear weights).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["ParticleNetConfig", "ParticleNet", "EdgeConvBlock", "knn"]

_FAR = 1e9


@dataclass(frozen=True)
class ParticleNetConfig:
    """ParticleNet hyper-parameters; defaults are the paper's top-tagging network."""

    input_dims: int = 7
    num_classes: int = 2
    conv_params: tuple[tuple[int, tuple[int, ...]], ...] = (
        (16, (64, 64, 64)), (16, (128, 128, 128)), (16, (256, 256, 256)))
    fc_params: tuple[tuple[int, float], ...] = ((256, 0.1),)
    use_fts_bn: bool = True
    use_counts: bool = True
    n_particles: int = 128

    @classmethod
    def small(cls) -> ParticleNetConfig:
        """ParticleNet-Lite (k = 7): ~26k parameters, ~15x faster to train on a CPU."""
        return cls(conv_params=((7, (32, 32, 32)), (7, (64, 64, 64))), fc_params=((128, 0.1),))

    @classmethod
    def tiny(cls) -> ParticleNetConfig:
        return cls(conv_params=((4, (8, 8, 8)), (4, (16, 16, 16))), fc_params=((16, 0.1),), n_particles=48)

    @classmethod
    def preset(cls, name: str) -> ParticleNetConfig:
        return {"paper": cls, "cpu": cls.small, "ci": cls.tiny}[name]()


def knn(points: torch.Tensor, k: int) -> torch.Tensor:
    """(batch, P, k) indices of the k nearest other points. points: (batch, P, C)."""
    dist = torch.cdist(points, points)  # (batch, P, P)
    return dist.topk(k + 1, dim=-1, largest=False, sorted=True).indices[:, :, 1:]


class EdgeConvBlock(nn.Module):
    """One EdgeConv block: kNN graph, edge MLP on (x_i, x_j - x_i), mean over neighbours, shortcut."""

    def __init__(self, k: int, in_feat: int, out_feats: tuple[int, ...]):
        super().__init__()
        self.k = k
        self.in_feat = in_feat
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()
        for i, out in enumerate(out_feats):
            self.convs.append(nn.Linear(2 * in_feat if i == 0 else out_feats[i - 1], out, bias=False))
            self.bns.append(nn.BatchNorm1d(out))
        self.act = nn.ReLU()
        if in_feat == out_feats[-1]:
            self.sc, self.sc_bn = None, None
        else:
            self.sc = nn.Linear(in_feat, out_feats[-1], bias=False)
            self.sc_bn = nn.BatchNorm1d(out_feats[-1])

    def forward(self, points: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        # points: (N, P, Cp), features: (N, P, C) -> (N, P, C_out)
        n, p, c = features.shape
        k = self.k
        idx = knn(points, k)  # (N, P, k)
        w = self.convs[0].weight  # (C0, 2C): acts on [x_i, x_j - x_i]
        w_i, w_j = w[:, :c], w[:, c:]
        # one GEMM for both projections: [(W1 - W2) x, W2 x]
        proj = features @ torch.cat([w_i - w_j, w_j], dim=0).t()  # (N, P, 2 C0)
        a, b = proj.split(w.shape[0], dim=-1)
        flat_idx = (idx + torch.arange(n, device=idx.device).view(n, 1, 1) * p).reshape(-1)
        x = a.unsqueeze(2) + b.reshape(n * p, -1)[flat_idx].view(n, p, k, -1)  # (N, P, k, C0)
        x = self.act(self.bns[0](x.reshape(n * p * k, -1)))
        for conv, bn in zip(self.convs[1:], self.bns[1:]):
            x = self.act(bn(conv(x)))
        fts = x.view(n, p, k, -1).mean(dim=2)  # (N, P, C_out)
        sc = features if self.sc is None else self.sc_bn(self.sc(features).reshape(n * p, -1)).view(n, p, -1)
        return self.act(sc + fts)


class ParticleNet(nn.Module):
    """ParticleNet jet tagger. forward(points (N,2,P), features (N,C,P), mask (N,1,P)) -> logits (N, classes)."""

    input_keys = ("points", "features", "mask")

    def __init__(self, config: ParticleNetConfig | None = None):
        super().__init__()
        self.config = cfg = config or ParticleNetConfig()
        self.bn_fts = nn.BatchNorm1d(cfg.input_dims) if cfg.use_fts_bn else None
        self.edge_convs = nn.ModuleList()
        in_feat = cfg.input_dims
        for k, channels in cfg.conv_params:
            self.edge_convs.append(EdgeConvBlock(k, in_feat, tuple(channels)))
            in_feat = channels[-1]
        layers: list[nn.Module] = []
        for width, drop in cfg.fc_params:
            layers.append(nn.Sequential(nn.Linear(in_feat, width), nn.ReLU(), nn.Dropout(drop)))
            in_feat = width
        layers.append(nn.Linear(in_feat, cfg.num_classes))
        self.fc = nn.Sequential(*layers)

    def forward(self, points: torch.Tensor, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        short = max(k for k, _ in self.config.conv_params) + 1 - mask.shape[-1]
        if short > 0:  # kNN needs k + 1 points: pad with masked particles
            points, features, mask = (nn.functional.pad(t, (0, short)) for t in (points, features, mask))
        real = mask.transpose(1, 2) > 0  # (N, P, 1)
        pad = ~real
        fts = features.transpose(1, 2)  # (N, P, C)
        n, p, c = fts.shape
        if self.bn_fts is not None:
            fts = self.bn_fts(fts.reshape(n * p, c)).view(n, p, c)
        fts = fts.masked_fill(pad, 0.0)
        pts = points.transpose(1, 2)
        for i, conv in enumerate(self.edge_convs):
            coords = (pts if i == 0 else fts).masked_fill(pad, _FAR)
            fts = conv(coords, fts).masked_fill(pad, 0.0)
        if self.config.use_counts:
            pooled = fts.sum(dim=1) / real.sum(dim=1).clamp(min=1)
        else:
            pooled = fts.mean(dim=1)
        return self.fc(pooled)

    def load_weaver_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Load weights of weaver-core's ParticleNet (same layer names; 1x1 conv kernels squeezed)."""
        own = self.state_dict()
        mapped = {}
        for key, value in state.items():
            key = key.removeprefix("mod.")
            if key not in own:
                continue
            mapped[key] = value.reshape(own[key].shape) if value.dim() > own[key].dim() else value
        missing = sorted(set(own) - set(mapped))
        if missing:
            raise ValueError(f"weaver state dict lacks {missing[:5]}; it is not a matching ParticleNet")
        self.load_state_dict(mapped)
