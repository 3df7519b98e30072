"""The catalogue of neural taggers: name -> model, config presets, input builder and training recipe.

Each entry knows how to build its network for a preset ("paper", "cpu", "ci"), which arrays it
reads, and the optimiser/schedule its paper trains with (adapted where stated):

    particlenet  ranger lr 1e-2, flat+decay   (ParT repository's TopLandscape recipe; batch 128 on CPU)
    part         ranger lr 1e-3, wd 0.01, flat+decay   (same recipe)
    lorentznet   AdamW lr 1e-3, wd 0.01, warm-up + cosine restarts   (LorentzNet top_tagging.py)
    cnn          Adam lr 1e-3, no schedule
    mpnn, dnn    Adam lr 1e-3 (arXiv:1807.09088), no schedule
Jet architectures read a JetSample (`jet_inputs`); "mpnn" also runs on jet constituents, and
"mpnn"/"dnn" read event-object samples (`hepilot.models.events.event_objects`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from torch import nn

from hepilot.models.events.samples import JetSample
from hepilot.models.taggers.cnn import CNNConfig, JetImageCNN
from hepilot.models.taggers.inputs import PARTICLE_TYPES, jet_images, particle_arrays
from hepilot.models.taggers.lorentznet import LorentzNet, LorentzNetConfig
from hepilot.models.taggers.mpnn import MPNN, EventDNN, EventDNNConfig, MPNNConfig
from hepilot.models.taggers.part import ParTConfig, ParticleTransformer
from hepilot.models.taggers.particlenet import ParticleNet, ParticleNetConfig
from hepilot.models.taggers.train import TrainConfig

__all__ = ["Architecture", "ARCHITECTURES", "PRESETS", "jet_inputs", "constituent_graph"]

PRESETS = ("paper", "cpu", "ci")


@dataclass(frozen=True)
class Architecture:
    name: str
    paper: str
    description: str
    model_cls: type[nn.Module]
    config_cls: type
    levels: tuple[str, ...]  # "jet" and/or "event"
    train_recipe: dict[str, Any] = field(default_factory=dict)
    jet_overrides: dict[str, Any] = field(default_factory=dict)  # config changes when run on jet constituents

    def config(self, preset: str, **overrides: Any):
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {PRESETS}, got {preset!r}")
        cfg = self.config_cls.preset(preset)
        known = {k: v for k, v in overrides.items() if k in cfg.__dataclass_fields__}
        return replace(cfg, **known) if known else cfg

    def build(self, preset: str, **overrides: Any) -> nn.Module:
        return self.model_cls(self.config(preset, **overrides))

    def train_config(self, **changes: Any) -> TrainConfig:
        return TrainConfig(**{**self.train_recipe, **changes})


ARCHITECTURES: dict[str, Architecture] = {
    "cnn": Architecture("cnn", "arXiv:2203.14569", "40x40 jet-image CNN", JetImageCNN, CNNConfig, ("jet",),
                        {"optimizer": "adam", "lr": 1e-3, "schedule": "none", "batch_size": 128}),
    "particlenet": Architecture("particlenet", "arXiv:1902.08570", "EdgeConv point-cloud network (k=16)", ParticleNet,
                                ParticleNetConfig, ("jet",),
                                {"optimizer": "ranger", "lr": 1e-2, "schedule": "flat+decay", "batch_size": 128}),
    "lorentznet": Architecture("lorentznet", "arXiv:2201.08187", "Lorentz-equivariant graph network", LorentzNet,
                               LorentzNetConfig, ("jet",),
                               {"optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.01, "schedule": "warmup+cosine",
                                "warmup_epochs": 1, "batch_size": 64}),
    "part": Architecture("part", "arXiv:2202.03772", "Particle Transformer with pairwise attention bias",
                         ParticleTransformer, ParTConfig, ("jet",),
                         {"optimizer": "ranger", "lr": 1e-3, "weight_decay": 0.01, "schedule": "flat+decay",
                          "batch_size": 128}),
    "mpnn": Architecture("mpnn", "arXiv:1807.09088", "message passing on object/particle graphs with dR RBF edges",
                         MPNN, MPNNConfig, ("event", "jet"),
                         {"optimizer": "adam", "lr": 1e-3, "schedule": "none", "batch_size": 128},
                         {"node_dim": len(PARTICLE_TYPES) + 4, "rbf_max": 1.0, "n_particles": 64}),
    "dnn": Architecture("dnn", "arXiv:1807.09088", "fully connected baseline on the event objects", EventDNN,
                        EventDNNConfig, ("event",),
                        {"optimizer": "adam", "lr": 1e-3, "schedule": "none", "batch_size": 128}),
}


def constituent_graph(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """MPNN inputs on jet constituents: one-hot particle type + the 4 log-momentum features; (deta, dphi)."""
    types = arrays["types"].astype(np.int64)
    onehot = np.eye(len(PARTICLE_TYPES), dtype=np.float32)[types].transpose(0, 2, 1) * arrays["mask"]
    return {"nodes": np.concatenate([onehot, arrays["features"][:, :4]], axis=1), "coords": arrays["points"],
            "mask": arrays["mask"]}


_JET_BUILDERS: dict[str, Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]] = {
    "particlenet": lambda a: {k: a[k] for k in ("points", "features", "mask")},
    "part": lambda a: {k: a[k] for k in ("features", "vectors", "mask")},
    "lorentznet": lambda a: {k: a[k] for k in ("vectors", "mask")},
    "mpnn": constituent_graph,
}


def jet_inputs(architecture: str, sample: JetSample, config: Any) -> dict[str, np.ndarray]:
    """The arrays `architecture` (built with `config`) reads, for every jet of `sample`."""
    if architecture == "cnn":
        return {"images": jet_images(sample, size=config.image_size)}
    if architecture not in _JET_BUILDERS:
        raise ValueError(f"{architecture!r} does not run on jets; jet taggers are {sorted(_JET_BUILDERS) + ['cnn']}")
    return _JET_BUILDERS[architecture](particle_arrays(sample, n_particles=config.n_particles).as_dict())
