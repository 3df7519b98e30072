"""Jet-image CNN: the paper's layout and parameter count, and image-level behaviour."""
from __future__ import annotations

import pytest
import torch

from hepilot.models.taggers.cnn import CNNConfig, JetImageCNN
from hepilot.models.taggers.inputs import jet_images


def test_paper_network_has_the_stated_428k_parameters():
    # 3x3 convs 1->16->32->32 (14,048) + dense 3200->128->32->2 (413,922)
    assert sum(p.numel() for p in JetImageCNN(CNNConfig()).parameters()) == 427_970


def test_forward_on_preprocessed_images(synthetic_jets):
    model = JetImageCNN(CNNConfig.tiny()).eval()
    images = torch.from_numpy(jet_images(synthetic_jets[0], size=16))
    with torch.no_grad():
        out = model(images)
    assert out.shape == (64, 2) and torch.isfinite(out).all()


def test_image_size_must_allow_two_poolings():
    with pytest.raises(ValueError, match="divisible by 4"):
        JetImageCNN(CNNConfig(image_size=42))
