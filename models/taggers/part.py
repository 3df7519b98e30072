"""Particle Transformer (ParT): attention over particles with a pairwise-interaction bias (arXiv:2202.03772).

Huilin Qu, Congqiao Li, Sitian Qian, "Particle Transformer for Jet Tagging", ICML 2022.

Architecture (paper / weaver-core top-tagging defaults, `ParTConfig()`):
    particle embedding: BatchNorm, then 3 x [LayerNorm, Linear, GELU] to widths 128, 512, 128
    pair features of particles i, j (4-vectors, rapidity y):
        ln dR_ij, dR = sqrt(dy^2 + dphi^2);  ln kT = ln(min(pT_i, pT_j) dR);
        ln z = ln(min(pT_i, pT_j) / (pT_i + pT_j));  ln m^2 = ln((p_i + p_j)^2)   (logs clamped at 1e-8)
      embedded by BatchNorm + 4 x [Linear, BatchNorm, GELU] to widths 64, 64, 64, n_heads: one additive
      bias U_ij per head on the attention logits (symmetric: computed for i >= j, mirrored)
    8 particle-attention blocks (NormFormer style: pre/post LayerNorm around attention and the
      4x MLP, per-head scale, residual weights), dropout 0.1, no positional encoding
    2 class-attention blocks (a learned class token attends to all particles), no dropout
    LayerNorm -> Linear 128 -> 2 (logits)
Pair features are computed only for pairs of real particles (weaver-core's sparse path), so their
batch-norm statistics ignore padding. Initialisation follows weaver-core (MoCo-v3 ViT init and
1/sqrt(2 l) rescaling of block l's output projections).

Training-time trimming as in weaver-core (`ParTConfig.train_trim`): random particle order, batch cut to
a random quantile (0.9-1.02) of its jet lengths, so ~10% of the jets lose random particles.

CPU changes: the paper's 128 particles are kept (at 200 the pair tensors need > 16 GB); the
trainer trims each batch to its longest jet. `ParTConfig.small()` is a CPU preset
(64/128/64, pair 32x3, 4 heads, 4+1 blocks); `tiny()` is for tests. `load_weaver_state_dict`
loads weaver-core `ParticleTransformer` weights (pair Conv1d kernels become Linear weights).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ParTConfig", "ParticleTransformer", "pair_features"]

_EPS = 1e-8


@dataclass(frozen=True)
class ParTConfig:
    """ParT hyper-parameters; defaults are the paper's top-tagging network (2.14M parameters)."""

    input_dim: int = 7
    num_classes: int = 2
    embed_dims: tuple[int, ...] = (128, 512, 128)
    pair_embed_dims: tuple[int, ...] = (64, 64, 64)
    num_heads: int = 8
    num_layers: int = 8
    num_cls_layers: int = 2
    ffn_ratio: int = 4
    dropout: float = 0.1
    n_particles: int = 128
    # training-time trimming of weaver-core's SequenceTrimmer: after 5 warm-up steps each training
    # batch keeps its particles in random order and is cut to the q-quantile of its jet lengths,
    # q ~ U(0.9, 1.02), so the longest jets lose random particles (an augmentation); None = off
    train_trim: tuple[float, float] | None = (0.9, 1.02)

    @classmethod
    def small(cls) -> ParTConfig:
        """CPU preset: 274k parameters, ~4x faster to train than the paper's network."""
        return cls(embed_dims=(64, 128, 64), pair_embed_dims=(32, 32, 32), num_heads=4, num_layers=4,
                   num_cls_layers=1)

    @classmethod
    def tiny(cls) -> ParTConfig:
        return cls(embed_dims=(16, 32, 16), pair_embed_dims=(8, 8), num_heads=2, num_layers=1, num_cls_layers=1,
                   n_particles=48)

    @classmethod
    def preset(cls, name: str) -> ParTConfig:
        return {"paper": cls, "cpu": cls.small, "ci": cls.tiny}[name]()


def pair_features(vi: torch.Tensor, vj: torch.Tensor) -> torch.Tensor:
    """(M, 4) [ln kT, ln z, ln dR, ln m^2] of particle pairs; vi, vj: (M, 4) as (px, py, pz, E)."""
    def pt_y_phi(v):
        pt = torch.sqrt((v[:, 0] ** 2 + v[:, 1] ** 2).clamp(min=_EPS))
        y = 0.5 * torch.log1p(2 * v[:, 2] / (v[:, 3] - v[:, 2]).clamp(min=1e-20))
        return pt, y, torch.atan2(v[:, 1], v[:, 0])

    pti, yi, phii = pt_y_phi(vi)
    ptj, yj, phij = pt_y_phi(vj)
    dphi = (phii - phij + math.pi) % (2 * math.pi) - math.pi
    delta = torch.sqrt((yi - yj) ** 2 + dphi**2)
    ptmin = torch.minimum(pti, ptj)
    s = vi + vj
    m2 = s[:, 3] ** 2 - (s[:, :3] ** 2).sum(dim=1)
    return torch.stack([torch.log((ptmin * delta).clamp(min=_EPS)),
                        torch.log((ptmin / (pti + ptj).clamp(min=_EPS)).clamp(min=_EPS)),
                        torch.log(delta.clamp(min=_EPS)),
                        torch.log(m2.clamp(min=_EPS))], dim=1)


class _Embed(nn.Module):
    def __init__(self, input_dim: int, dims: tuple[int, ...]):
        super().__init__()
        self.input_bn = nn.BatchNorm1d(input_dim)
        layers: list[nn.Module] = []
        for dim in dims:
            layers += [nn.LayerNorm(input_dim), nn.Linear(input_dim, dim), nn.GELU()]
            input_dim = dim
        self.embed = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, P) -> (N, P, E)
        return self.embed(self.input_bn(x).transpose(1, 2))


class _PairEmbed(nn.Module):
    def __init__(self, dims: tuple[int, ...]):
        super().__init__()
        layers: list[nn.Module] = [nn.BatchNorm1d(4)]
        width = 4
        for dim in dims:
            layers += [nn.Linear(width, dim), nn.BatchNorm1d(dim), nn.GELU()]
            width = dim
        self.embed = nn.Sequential(*layers)
        self.out_dim = width

    def forward(self, v: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        # v: (N, 4, P), real: (N, P) bool -> (N, heads, P, P) attention bias
        n, _, p = v.shape
        tri = torch.ones(p, p, dtype=torch.bool, device=v.device).tril()
        b, i, j = torch.nonzero((real.unsqueeze(2) & real.unsqueeze(1)) & tri, as_tuple=True)
        vt = v.transpose(1, 2)
        elements = self.embed(pair_features(vt[b, i], vt[b, j]))  # (M, heads)
        y = v.new_zeros(n, p, p, self.out_dim)
        y[b, i, j] = elements
        y[b, j, i] = elements
        return y.permute(0, 3, 1, 2)


class _Attention(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.in_proj = nn.Linear(dim, 3 * dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, q_in: torch.Tensor, kv_in: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        n, tq, d = q_in.shape
        tk, h = kv_in.shape[1], self.heads
        w, b = self.in_proj.weight, self.in_proj.bias
        q = F.linear(q_in, w[:d], b[:d]).view(n, tq, h, -1).transpose(1, 2)
        k, v = F.linear(kv_in, w[d:], b[d:]).view(n, tk, 2, h, -1).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias,
                                             dropout_p=self.dropout if self.training else 0.0)
        return self.out_proj(out.transpose(1, 2).reshape(n, tq, d))


class _Block(nn.Module):
    """NormFormer-style transformer block of ParT (particle attention, or class attention if x_cls)."""

    def __init__(self, dim: int, heads: int, ffn_ratio: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.pre_attn_norm = nn.LayerNorm(dim)
        self.attn = _Attention(dim, heads, dropout)
        self.post_attn_norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.pre_fc_norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, dim * ffn_ratio)
        self.act = nn.GELU()
        self.act_dropout = nn.Dropout(dropout)
        self.post_fc_norm = nn.LayerNorm(dim * ffn_ratio)
        self.fc2 = nn.Linear(dim * ffn_ratio, dim)
        self.c_attn = nn.Parameter(torch.ones(heads))
        self.w_resid = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor, bias: torch.Tensor, x_cls: torch.Tensor | None = None) -> torch.Tensor:
        if x_cls is None:
            residual = x
            u = self.pre_attn_norm(x)
            x = self.attn(u, u, bias)
        else:
            residual = x_cls
            u = self.pre_attn_norm(torch.cat([x_cls, x], dim=1))
            x = self.attn(x_cls, u, bias)  # the query is the un-normalised class token, as in CaiT/ParT
        n, t, d = x.shape
        x = (x.view(n, t, self.heads, -1) * self.c_attn.view(1, 1, -1, 1)).reshape(n, t, d)
        x = self.dropout(self.post_attn_norm(x)) + residual
        residual = x
        x = self.post_fc_norm(self.act_dropout(self.act(self.fc1(self.pre_fc_norm(x)))))
        return self.dropout(self.fc2(x)) + self.w_resid * residual


class ParticleTransformer(nn.Module):
    """ParT tagger. forward(features (N,C,P), vectors (N,4,P) px,py,pz,E, mask (N,1,P)) -> logits (N, classes)."""

    input_keys = ("features", "vectors", "mask")

    def __init__(self, config: ParTConfig | None = None):
        super().__init__()
        self.config = cfg = config or ParTConfig()
        dim = cfg.embed_dims[-1]
        self.embed = _Embed(cfg.input_dim, cfg.embed_dims)
        self.pair_embed = _PairEmbed((*cfg.pair_embed_dims, cfg.num_heads))
        self.blocks = nn.ModuleList(_Block(dim, cfg.num_heads, cfg.ffn_ratio, cfg.dropout) for _ in range(cfg.num_layers))
        self.cls_blocks = nn.ModuleList(_Block(dim, cfg.num_heads, cfg.ffn_ratio, 0.0)
                                        for _ in range(cfg.num_cls_layers))
        self.norm = nn.LayerNorm(dim)
        self.fc = nn.Sequential(nn.Linear(dim, cfg.num_classes))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self._trim_steps = 0  # training batches seen (the trimmer starts after 5, as weaver-core's)
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        for name, module in self.named_modules():
            if isinstance(module, nn.Linear):
                if name.endswith("in_proj"):  # q, k, v treated as three matrices
                    val = math.sqrt(6.0 / float(module.weight.shape[0] // 3 + module.weight.shape[1]))
                    nn.init.uniform_(module.weight, -val, val)
                else:
                    nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
        with torch.no_grad():
            for layer_id, block in enumerate(self.blocks, start=1):
                block.attn.out_proj.weight.div_(math.sqrt(2.0 * layer_id))
                block.fc2.weight.div_(math.sqrt(2.0 * layer_id))

    def _trim(self, features, vectors, mask):
        """weaver-core's SequenceTrimmer in training mode (see ParTConfig.train_trim)."""
        self._trim_steps += 1
        if self._trim_steps <= 5:
            return features, vectors, mask
        lo, hi = self.config.train_trim
        q = min(1.0, lo + (hi - lo) * float(torch.rand(())))
        real = mask > 0  # (N, 1, P)
        maxlen = max(int(torch.quantile(real.sum(dim=-1).to(features.dtype), q)), 1)
        perm = torch.rand(real.shape, dtype=features.dtype).masked_fill(~real, -1).argsort(dim=-1, descending=True)
        features, vectors, mask = (torch.gather(t, -1, perm.expand_as(t)) for t in (features, vectors, mask))
        return features[..., :maxlen], vectors[..., :maxlen], mask[..., :maxlen]

    def forward(self, features: torch.Tensor, vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.training and self.config.train_trim is not None:
            features, vectors, mask = self._trim(features, vectors, mask)
        real = mask.squeeze(1) > 0  # (N, P)
        x = self.embed(features).masked_fill(~real.unsqueeze(-1), 0.0)  # (N, P, E)
        key_pad = torch.zeros_like(real, dtype=x.dtype).masked_fill(~real, float("-inf"))  # (N, P)
        bias = self.pair_embed(vectors, real) + key_pad[:, None, None, :]  # (N, heads, P, P)
        for block in self.blocks:
            x = block(x, bias)
        cls_pad = F.pad(key_pad, (1, 0))[:, None, None, :]  # the class token is never masked
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        for block in self.cls_blocks:
            cls = block(x, cls_pad, x_cls=cls)
        return self.fc(self.norm(cls.squeeze(1)))

    def load_weaver_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Load weights of weaver-core's ParticleTransformer (1x1 conv kernels of the pair embedding squeezed)."""
        own = self.state_dict()
        mapped = {}
        for key, value in state.items():
            key = key.removeprefix("mod.")
            if key in own:
                mapped[key] = value.reshape(own[key].shape)
        missing = sorted(set(own) - set(mapped))
        if missing:
            raise ValueError(f"weaver state dict lacks {missing[:5]}; it is not a matching ParticleTransformer")
        self.load_state_dict(mapped)
