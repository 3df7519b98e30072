"""Jet-image CNN: a small convolutional network on 40x40 (deta, dphi) pT images (arXiv:2203.14569).

The images (built by `hepilot.models.taggers.inputs.jet_images`) are centred on the pT centroid,
rotated so the principal axis is vertical, flipped so the harder half is at positive
coordinates, and normalised to unit total pT. Network (`CNNConfig()`):

    conv 3x3 16 -> LeakyReLU(0.01) -> max-pool 2
    conv 3x3 32 -> LeakyReLU(0.01) -> max-pool 2
    conv 3x3 32 -> LeakyReLU(0.01)
    flatten (32 x 10 x 10) -> dense 128 -> LeakyReLU -> dense 32 -> LeakyReLU -> dense 2 (softmax in the loss)

428k parameters. The paper's network already trains at thousands of jets/s on a CPU, so the CPU
preset only halves the widths; the kernel size (3x3, 'same' padding) and the pooling placement are
the reading that reproduces the stated parameter count.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["CNNConfig", "JetImageCNN"]


@dataclass(frozen=True)
class CNNConfig:
    """Jet-image CNN hyper-parameters; defaults are the paper's."""

    image_size: int = 40
    channels: tuple[int, int, int] = (16, 32, 32)
    dense: tuple[int, ...] = (128, 32)
    kernel: int = 3
    negative_slope: float = 0.01
    num_classes: int = 2

    @classmethod
    def small(cls) -> CNNConfig:
        return cls(channels=(8, 16, 16), dense=(64, 32))

    @classmethod
    def tiny(cls) -> CNNConfig:
        return cls(image_size=16, channels=(4, 8, 8), dense=(16, 8))

    @classmethod
    def preset(cls, name: str) -> CNNConfig:
        return {"paper": cls, "cpu": cls.small, "ci": cls.tiny}[name]()


class JetImageCNN(nn.Module):
    """forward(images (N, 1, S, S)) -> logits (N, classes)."""

    input_keys = ("images",)

    def __init__(self, config: CNNConfig | None = None):
        super().__init__()
        self.config = cfg = config or CNNConfig()
        if cfg.image_size % 4:
            raise ValueError(f"image_size must be divisible by 4 (two 2x2 poolings), got {cfg.image_size}")
        act = nn.LeakyReLU(cfg.negative_slope)
        c1, c2, c3 = cfg.channels
        pad = cfg.kernel // 2
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, cfg.kernel, padding=pad), act, nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, cfg.kernel, padding=pad), act, nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, cfg.kernel, padding=pad), act,
        )
        layers: list[nn.Module] = [nn.Flatten()]
        width = c3 * (cfg.image_size // 4) ** 2
        for d in cfg.dense:
            layers += [nn.Linear(width, d), act]
            width = d
        layers.append(nn.Linear(width, cfg.num_classes))
        self.head = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))
