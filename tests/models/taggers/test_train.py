"""The shared training loop: learning, schedules, Ranger, early stopping, resume after interruption."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from hepilot.models.taggers.train import Ranger, TrainConfig, predict, train_model


class _Linear(nn.Module):
    """Logistic regression on the mean of the real particles' features (masked)."""

    input_keys = ("features", "mask")

    def __init__(self, dim=3, dead=False):
        super().__init__()
        self.lin = nn.Linear(dim, 2)
        self.drop = nn.Dropout(0.2)
        self.dead = dead

    def forward(self, features, mask):
        x = (features * mask).sum(-1) / mask.sum(-1).clamp(min=1)
        out = self.lin(self.drop(x))
        return out * 0.0 + torch.tensor([0.0, 0.3]) if self.dead else out


def _data(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = 12
    counts = rng.integers(3, p + 1, n)
    mask = (np.arange(p)[None, :] < counts[:, None]).astype(np.float32)[:, None, :]
    feats = (rng.normal(size=(n, 3, p)) + 1.5 * y[:, None, None] * np.array([1.0, 0.0, 0.0])[None, :, None])
    return {"features": (feats * mask).astype(np.float32), "mask": mask}, y


def test_learns_a_separable_problem():
    # class means differ by 1.5 per particle in feature 0: the optimal AUC is ~0.99; require > 0.95
    (tr, ytr), (va, yva) = _data(600, 1), _data(300, 2)
    model = _Linear()
    res = train_model(model, tr, ytr, va, yva, config=TrainConfig(epochs=6, batch_size=32, lr=0.05, schedule="none"))
    assert res.history[-1]["val_auc"] > 0.95
    p = predict(model, va)
    assert p.shape == (300,) and np.all((p > 0) & (p < 1))


def test_flat_then_decay_schedule_ends_at_one_percent():
    (tr, ytr), (va, yva) = _data(64, 1), _data(32, 2)
    res = train_model(_Linear(), tr, ytr, va, yva, config=TrainConfig(epochs=10, batch_size=32, lr=0.1, patience=None))
    lrs = [r["lr"] for r in res.history]
    assert lrs[:7] == pytest.approx([0.1] * 7)  # weaver-core: flat for 70% of the epochs
    assert lrs[-1] == pytest.approx(0.1 * 0.01, rel=1e-9)  # 3 geometric decay epochs end at 1% of the start
    assert lrs[7] / lrs[8] == pytest.approx(lrs[8] / lrs[9])


def test_early_stopping_restores_the_best_epoch():
    (tr, ytr), (va, yva) = _data(64, 1), _data(32, 2)
    res = train_model(_Linear(dead=True), tr, ytr, va, yva, config=TrainConfig(epochs=10, batch_size=32, patience=2))
    assert res.stopped_early and len(res.history) == 3 and res.best_epoch == 0


def test_ranger_is_radam_with_lookahead():
    torch.manual_seed(0)
    w0 = torch.randn(5)

    def run(opt_cls, steps, **kw):
        w = nn.Parameter(w0.clone())
        opt = opt_cls([w], lr=0.1, **kw)
        for _ in range(steps):
            opt.zero_grad()
            ((w - 3.0) ** 2).sum().backward()
            opt.step()
        return w.detach()

    fast = run(torch.optim.RAdam, 6, betas=(0.95, 0.999), eps=1e-5)
    # after k = 6 fast steps the weights move to slow + 0.5 (fast - slow), slow = w0
    assert torch.allclose(run(Ranger, 6), w0 + 0.5 * (fast - w0), atol=1e-6)
    assert torch.allclose(run(Ranger, 5), run(torch.optim.RAdam, 5, betas=(0.95, 0.999), eps=1e-5), atol=1e-6)


def test_interrupted_training_resumes_to_the_same_weights(tmp_path):
    (tr, ytr), (va, yva) = _data(200, 1), _data(64, 2)
    cfg = TrainConfig(epochs=4, batch_size=32, lr=0.05, optimizer="ranger", patience=None)
    torch.manual_seed(5)
    straight = _Linear()
    init = {k: v.clone() for k, v in straight.state_dict().items()}
    train_model(straight, tr, ytr, va, yva, config=cfg)

    def stop_after_epoch_1(ev):
        if ev["kind"] == "epoch" and ev["epoch"] == 1:
            raise KeyboardInterrupt

    first = _Linear()
    first.load_state_dict(init)
    with pytest.raises(KeyboardInterrupt):
        train_model(first, tr, ytr, va, yva, config=cfg, checkpoint_dir=tmp_path, callback=stop_after_epoch_1)
    resumed = _Linear()
    resumed.load_state_dict(init)
    res = train_model(resumed, tr, ytr, va, yva, config=cfg, checkpoint_dir=tmp_path)
    assert res.resumed_from == 2 and len(res.history) == 4
    for k, v in straight.state_dict().items():
        assert torch.allclose(v, resumed.state_dict()[k], atol=1e-6), k


def test_missing_inputs_are_named():
    (tr, ytr), (va, yva) = _data(64, 1), _data(32, 2)
    del tr["mask"]
    with pytest.raises(ValueError, match="mask"):
        train_model(_Linear(), tr, ytr, va, yva, config=TrainConfig(epochs=1))


def test_length_grouped_batches_cover_each_jet_once_and_reduce_padding():
    from hepilot.models.taggers.train import _epoch_batches

    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 128, 4096)
    cfg = TrainConfig(batch_size=32, group_by_length=True)
    grouped = _epoch_batches(4096, lengths, cfg, epoch=3)
    plain = _epoch_batches(4096, lengths, TrainConfig(batch_size=32), epoch=3)  # the default: random batches
    assert sorted(np.concatenate(grouped).tolist()) == list(range(4096))  # 4096 = 128 full batches
    assert grouped[0].tolist() != _epoch_batches(4096, lengths, cfg, epoch=4)[0].tolist()  # reshuffled per epoch

    def padded(batches):  # slots a batch trimmed to its longest jet still carries
        return sum(len(b) * lengths[b].max() for b in batches)

    # random batches of 32 from U(5, 127) pad to ~124; length-sorted pools of 1024 pad to within ~4 of each jet
    assert padded(grouped) < 0.6 * padded(plain)


def test_checkpoint_of_a_different_network_is_ignored(tmp_path):
    (tr, ytr), (va, yva) = _data(64, 1), _data(32, 2)
    cfg = TrainConfig(epochs=2, batch_size=32, patience=None)
    train_model(_Linear(), tr, ytr, va, yva, config=cfg, checkpoint_dir=tmp_path)

    class _Wider(_Linear):
        def __init__(self):
            super().__init__()
            self.extra = nn.Linear(3, 3)

    res = train_model(_Wider(), tr, ytr, va, yva, config=cfg, checkpoint_dir=tmp_path)
    assert res.resumed_from is None and len(res.history) == 2


def test_ranger_weight_decay_is_decoupled_and_spares_biases():
    # weaver-core's Ranger shrinks weights by (1 - lr wd) per step; an L2 term in the gradient would
    # instead feed the momentum. With a zero loss gradient only the decay acts: 5 steps (before the
    # first lookahead sync at k = 6) give w0 (1 - lr wd)^5 exactly, and biases do not decay.
    from hepilot.models.taggers.train import _optimizer

    torch.manual_seed(0)
    lin = nn.Linear(4, 3)
    w0, b0 = lin.weight.detach().clone(), lin.bias.detach().clone()
    opt = _optimizer(lin, TrainConfig(optimizer="ranger", lr=0.1, weight_decay=0.2))
    for _ in range(5):
        opt.zero_grad()
        (0.0 * lin(torch.ones(1, 4)).sum()).backward()
        opt.step()
    assert torch.allclose(lin.weight, w0 * (1 - 0.1 * 0.2) ** 5, rtol=1e-6)
    assert torch.equal(lin.bias, b0)
