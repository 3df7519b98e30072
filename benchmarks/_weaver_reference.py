"""Runs weaver-core's own trainer (`weaver.train`) as the reference for bench_taggers.py.

The split made by hepilot is written to train/val/test ROOT files; a weaver data configuration
rebuilds the "kin" inputs of the ParT repository's top_kin.yaml from the 4-vectors (so the
inputs come from weaver's own preprocessing, not from hepilot's), a network file wraps
weaver-core's ParticleNet or ParticleTransformer with the preset's hyper-parameters, and
`python -c "from weaver.train import main; main()"` trains with ranger + flat+decay for the same
epochs and batch size, then predicts the test file. Throughputs are weaver's own log lines
("avg. speed ... entries/s"): training (data loading included) and test inference.
"""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import awkward as ak
import numpy as np

__all__ = ["run_weaver"]

_DATA_CONFIG = """\
selection:
new_variables:
   part_mask: ak.ones_like(part_px)
   part_pt: np.hypot(part_px, part_py)
   part_eta: np.arcsinh(part_pz / part_pt)
   part_phi: np.arctan2(part_py, part_px)
   part_deta: (part_eta - jet_eta) * np.where(jet_eta >= 0, 1, -1)
   part_dphi: (part_phi - jet_phi + math.pi) % (2 * math.pi) - math.pi
   part_pt_log: np.log(part_pt)
   part_e_log: np.log(part_energy)
   part_logptrel: np.log(part_pt / jet_pt)
   part_logerel: np.log(part_energy / jet_energy)
   part_deltaR: np.hypot(part_deta, part_dphi)
   jet_isTop: is_top
   jet_isQCD: 1 - is_top
preprocess:
   method: manual
   data_fraction: 0.5
inputs:
   pf_points:
      length: {n}
      pad_mode: wrap
      vars:
         - [part_deta, null]
         - [part_dphi, null]
   pf_features:
      length: {n}
      pad_mode: wrap
      vars:
         - [part_pt_log, 1.7, 0.7]
         - [part_e_log, 2.0, 0.7]
         - [part_logptrel, -4.7, 0.7]
         - [part_logerel, -4.7, 0.7]
         - [part_deltaR, 0.2, 4.0]
         - [part_deta, null]
         - [part_dphi, null]
   pf_vectors:
      length: {n}
      pad_mode: wrap
      vars:
         - [part_px, null]
         - [part_py, null]
         - [part_pz, null]
         - [part_energy, null]
   pf_mask:
      length: {n}
      pad_mode: constant
      vars:
         - [part_mask, null]
labels:
   type: simple
   value: [jet_isTop, jet_isQCD]
observers:
   - jet_pt
"""

_NETWORK = """\
import torch
from weaver.nn.model.{module} import {cls}


class Wrapper(torch.nn.Module):
    def __init__(self, **kwargs):
        super().__init__()
        self.mod = {cls}(**kwargs)

    @torch.jit.ignore
    def no_weight_decay(self):
        return {{'mod.cls_token'}}

    def forward(self, points, features, lorentz_vectors, mask):
        return {call}


def get_model(data_config, **kwargs):
    model = Wrapper(**{kwargs})
    info = {{'input_names': list(data_config.input_names),
            'input_shapes': {{k: ((1,) + s[1:]) for k, s in data_config.input_shapes.items()}},
            'output_names': ['softmax'], 'dynamic_axes': {{}}}}
    return model, info


def get_loss(data_config, **kwargs):
    return torch.nn.CrossEntropyLoss()
"""


def _network(name: str, cfg) -> str:
    if name == "particlenet":
        kw = dict(input_dims=cfg.input_dims, num_classes=2, conv_params=[(k, tuple(c)) for k, c in cfg.conv_params],
                  fc_params=list(cfg.fc_params), use_fusion=False)
        return _NETWORK.format(module="ParticleNet", cls="ParticleNet", call="self.mod(points, features, mask)",
                               kwargs=repr(kw))
    kw = dict(input_dim=cfg.input_dim, num_classes=2, pair_input_dim=4, use_pre_activation_pair=False,
              embed_dims=list(cfg.embed_dims), pair_embed_dims=list(cfg.pair_embed_dims), num_heads=cfg.num_heads,
              num_layers=cfg.num_layers, num_cls_layers=cfg.num_cls_layers,
              cls_block_params={"dropout": 0, "attn_dropout": 0, "activation_dropout": 0}, fc_params=[])
    return _NETWORK.format(module="ParticleTransformer", cls="ParticleTransformer",
                           call="self.mod(features, v=lorentz_vectors, mask=mask)", kwargs=repr(kw))


def _write_split(path: Path, sample, y: np.ndarray, idx: np.ndarray) -> None:
    import uproot

    jets, parts = sample.jets[idx], sample.particles[idx]
    data = {"is_top": y[idx].astype(np.int32),
            **{k: ak.to_numpy(jets[src]).astype(np.float32) for k, src in
               (("jet_pt", "jet_pt"), ("jet_eta", "jet_eta"), ("jet_phi", "jet_phi"), ("jet_energy", "jet_e"))},
            "part": ak.zip({"px": parts.px, "py": parts.py, "pz": parts.pz, "energy": parts.e})}
    with uproot.recreate(path) as f:
        f.mktree("Events", {k: (v.type if isinstance(v, ak.Array) else v.dtype) for k, v in data.items()},
                 counter_name=lambda c: f"n_{c}", field_name=lambda outer, inner: f"{outer}_{inner}")
        f["Events"].extend(data)


def run_weaver(name: str, cfg, data, split, *, workdir: Path, epochs: int, batch_size: int, lr: float,
               threads: int) -> dict:
    """Train/test weaver-core's `name` ('particlenet' or 'part'); return test labels/scores and throughputs."""
    workdir.mkdir(parents=True, exist_ok=True)
    files = {}
    for part, idx in zip(("train", "val", "test"), split[:3], strict=True):
        files[part] = workdir / f"{part}.root"
        _write_split(files[part], data.sample, data.y, idx)
    (workdir / "data.yaml").write_text(_DATA_CONFIG.format(n=cfg.n_particles))
    (workdir / "network.py").write_text(_network(name, cfg))
    n_train, n_val = len(split[0]), len(split[1])
    cmd = [sys.executable, "-c", "from weaver.train import main; main()",
           "--data-train", str(files["train"]), "--data-val", str(files["val"]), "--data-test", str(files["test"]),
           "--data-config", str(workdir / "data.yaml"), "--network-config", str(workdir / "network.py"),
           "--model-prefix", str(workdir / "model" / "net"), "--num-workers", "0", "--fetch-step", "1", "--in-memory",
           "--batch-size", str(batch_size), "--steps-per-epoch", str(n_train // batch_size),
           "--steps-per-epoch-val", str(math.ceil(n_val / batch_size)), "--num-epochs", str(epochs), "--gpus", "",
           "--start-lr", str(lr), "--optimizer", "ranger", "--lr-scheduler", "flat+decay",
           "--predict-output", str(workdir / "pred.root"), "--log", str(workdir / "weaver.log")]
    if name == "part":
        cmd += ["--optimizer-option", "weight_decay", "0.01"]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    log_text = (workdir / "weaver.log").read_text() if (workdir / "weaver.log").is_file() else proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(f"weaver failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    found = re.findall(r"Processed (\d+) entries in total \(avg\. speed ([\d.]+) entries/s\)", log_text)
    entries, speeds = [int(n) for n, _ in found], [float(s) for _, s in found]
    import uproot

    with uproot.open(workdir / "pred.root") as f:
        pred = f["Events"].arrays(["jet_isTop", "score_jet_isTop"], library="np")
    # per epoch: training then validation; the last entry is the test prediction
    return {"y": pred["jet_isTop"].astype(np.int64), "score": pred["score_jet_isTop"].astype(np.float64),
            # all training entries over all training seconds, as hepilot's train_jets_per_s
            "train_per_s": (sum(entries[0:2 * epochs:2]) / sum(n / s for n, s in zip(entries[0:2 * epochs:2],
                                                                                      speeds[0:2 * epochs:2], strict=True))
                            if speeds else float("nan")),
            "inference_per_s": speeds[-1] if speeds else float("nan"), "wall_seconds": wall}
