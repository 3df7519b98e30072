"""Training of the Lagrangian transformer: data preparation, the training loop with checkpoints, export.

    python -m hepilot.models.theory.lagrangian.train data  --out DIR [--n-train 100000]
    python -m hepilot.models.theory.lagrangian.train train --data DIR --out RUN [--preset cpu] [--hours 3]
    python -m hepilot.models.theory.lagrangian.train export --run RUN [--to models/theory/lagrangian/weights]

`train` logs progress (step, loss, target tokens/s, teacher-forced token accuracy on held-out pairs,
time left), writes `RUN/checkpoint.pt` (model, optimizer, step, RNG state, batch order) every
`--checkpoint-minutes` and at the end, and resumes from it when started again with the same RUN.
Set THP_MEM_ALLOC_ENABLE=1 and GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184
before starting (docs/developing.md) and run it with `nice -n 10` on a shared machine.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import random
import time
from dataclasses import asdict
from pathlib import Path

import torch

from hepilot.models.theory.lagrangian.dataset import (
    SamplerConfig,
    block_pairs,
    read_dataset,
    write_block_dataset,
    write_dataset,
)
from hepilot.models.theory.lagrangian.model import WEIGHTS_DIR, LagrangianBartConfig, LagrangianTransformer, build_model
from hepilot.models.theory.lagrangian.tokenizer import build_tokenizer
from hepilot.models.theory.lagrangian.tokens import decode_fields

__all__ = ["prepare_data", "prepare_block_data", "train", "export", "main"]

log = logging.getLogger(__name__)
PRESETS = {"paper": LagrangianBartConfig, "cpu": LagrangianBartConfig.cpu, "block": LagrangianBartConfig.block,
           "small": LagrangianBartConfig.small}


def _write_test_sets(out: Path, *, n_test: int, n_ood: int, seed: int) -> None:
    """test_id.jsonl (1-6 fields, seed + 1) and test_ood.jsonl (7 and 8 fields, seed + 2) in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    write_dataset(out / "test_id.jsonl", n_test, seed=seed + 1, cfg=SamplerConfig())
    ood_cfg = SamplerConfig(min_fields=7, max_fields=8, max_target_tokens=1000)
    write_dataset(out / "test_ood.jsonl", n_ood, seed=seed + 2, cfg=ood_cfg)


def prepare_data(out: Path, *, n_train: int, n_test: int = 500, n_ood: int = 200, seed: int = 0) -> dict:
    """Held-out in-distribution (1-6 fields), out-of-distribution (7 and 8 fields) and training pairs."""
    out = Path(out)
    _write_test_sets(out, n_test=n_test, n_ood=n_ood, seed=seed)
    exclude = {ex["source"] for ex in read_dataset(out / "test_id.jsonl")}
    write_dataset(out / "train.jsonl", n_train, seed=seed + 3, cfg=SamplerConfig(), exclude=exclude)
    return {"train": n_train, "test_id": n_test, "test_ood": n_ood}


def prepare_block_data(out: Path, *, n_contents: int, n_test: int = 500, n_ood: int = 200, seed: int = 0) -> dict:
    """The test contents of `prepare_data` and the block pairs (blocks.py) of `n_contents` random contents
    for training; blocks of two or more fields that occur in any test content are left out of training,
    so every multi-field block of the test is new to the model (one-field blocks are the finite
    alphabet of fields: ~1700 of them, all seen)."""
    out = Path(out)
    _write_test_sets(out, n_test=n_test, n_ood=n_ood, seed=seed)
    test_blocks: dict[str, dict] = {}
    for name in ("test_id.jsonl", "test_ood.jsonl"):
        for ex in read_dataset(out / name):
            for b in block_pairs(decode_fields(ex["source"].split())):
                test_blocks.setdefault(b["source"], b)
    held = [b for b in test_blocks.values() if b["n_fields"] > 1]
    with (out / "heldout_blocks.jsonl").open("w") as fh:
        fh.writelines(json.dumps(b) + "\n" for b in held)
    manifest = write_block_dataset(out / "train_blocks.jsonl", n_contents, seed=seed + 3, cfg=SamplerConfig(),
                                   exclude={b["source"] for b in held})
    return {"test_id": n_test, "test_ood": n_ood, "heldout_blocks": len(held), **manifest}


def _encode(tok, examples: list[dict], max_src: int, max_tgt: int) -> list[tuple[list[int], list[int]]]:
    out = []
    for ex in examples:
        src = tok(ex["source"])["input_ids"]
        tgt = tok(ex["target"])["input_ids"]
        if len(src) <= max_src and len(tgt) <= max_tgt:
            out.append((src, tgt))
    return out


def _batches(data: list[tuple[list[int], list[int]]], batch_tokens: int, rng: random.Random) -> list[list[int]]:
    """Length-bucketed batches of indices with at most `batch_tokens` padded source + target tokens each."""
    order = sorted(range(len(data)), key=lambda i: (len(data[i][1]) + rng.random() * 8))
    batches, cur, longest = [], [], 0
    for i in order:
        n = len(data[i][0]) + len(data[i][1])
        if cur and max(longest, n) * (len(cur) + 1) > batch_tokens:
            batches.append(cur)
            cur, longest = [], 0
        cur.append(i)
        longest = max(longest, n)
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


def _collate(data, idx: list[int], pad: int) -> dict[str, torch.Tensor]:
    src = [data[i][0] for i in idx]
    tgt = [data[i][1] for i in idx]
    ls, lt = max(map(len, src)), max(map(len, tgt))
    input_ids = torch.full((len(idx), ls), pad)
    target = torch.full((len(idx), lt), pad)
    for k, (s, t) in enumerate(zip(src, tgt)):
        input_ids[k, : len(s)] = torch.tensor(s)
        target[k, : len(t)] = torch.tensor(t)
    labels = target[:, 1:].clone()
    labels[labels == pad] = -100
    return {"input_ids": input_ids, "attention_mask": (input_ids != pad).long(), "decoder_input_ids": target[:, :-1],
            "decoder_attention_mask": (target[:, :-1] != pad).long(), "labels": labels}


@torch.no_grad()
def _token_accuracy(model, data, pad: int, batch_tokens: int) -> float:
    model.eval()
    right = total = 0
    for idx in _batches(data, batch_tokens, random.Random(0)):
        b = _collate(data, idx, pad)
        logits = model(**{k: v for k, v in b.items() if k != "labels"}).logits
        mask = b["labels"] != -100
        right += int(((logits.argmax(-1) == b["labels"]) & mask).sum())
        total += int(mask.sum())
    model.train()
    return right / max(total, 1)


def _lr(step: int, *, peak: float, warmup: int, total: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))


def train(data_dir: Path, run: Path, *, preset: str = "cpu", epochs: float = 3.0, hours: float | None = None,
          batch_tokens: int = 8192, lr: float = 1e-3, warmup: int = 400, seed: int = 0,
          checkpoint_minutes: float = 15.0, threads: int | None = None, log_every: int = 50,
          blocks: bool = False, repeat_nonempty: int = 1, repeat_single: int = 1, init: Path | None = None) -> Path:
    """Train (or resume) a run; returns the run folder. Stops after `epochs` or `hours`, whichever first.
    `blocks`: train on the block pairs of `prepare_block_data` instead of whole contents;
    `repeat_nonempty`: each multi-field block with terms appears this many times per epoch (~92% of
    distinct blocks are empty, against ~75% of the blocks of a content); `repeat_single`: each one-field
    block (~1700, every content has them, targets up to ~600 tokens, so few batches per epoch) this many.
    `init`: start a new run from the weights of another run's checkpoint (fine-tuning; fresh optimiser)."""
    run = Path(run)
    run.mkdir(parents=True, exist_ok=True)
    if threads:
        torch.set_num_threads(threads)
    config = PRESETS[preset]()
    tok = build_tokenizer()
    pad = tok.pad_token_id
    train_file, held_file = (("train_blocks.jsonl", "heldout_blocks.jsonl") if blocks
                             else ("train.jsonl", "test_id.jsonl"))
    train_data = _encode(tok, read_dataset(Path(data_dir) / train_file), config.max_source_tokens,
                         config.max_target_tokens)
    if blocks:
        n_fields = [ex[0].count(tok.convert_tokens_to_ids("FIELD")) for ex in train_data]
        single = [ex for ex, n in zip(train_data, n_fields) if n == 1]
        train_data += [ex for ex, n in zip(train_data, n_fields) if n > 1 and len(ex[1]) > 2] * (repeat_nonempty - 1)
        train_data += single * (repeat_single - 1)
    held = _encode(tok, read_dataset(Path(data_dir) / held_file)[: 2000 if blocks else 200], config.max_source_tokens,
                   config.max_target_tokens)
    model = build_model(config, seed=seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    steps_per_epoch = len(_batches(train_data, batch_tokens, random.Random(seed)))
    total = int(steps_per_epoch * epochs)
    state = {"step": 0, "epoch": 0, "pos": 0, "history": [], "seconds": 0.0}
    ckpt = run / "checkpoint.pt"
    if ckpt.exists():
        saved = torch.load(ckpt, weights_only=False)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        state = saved["state"]
        torch.set_rng_state(saved["torch_rng"])
        log.info("resumed %s at step %d (epoch %d)", run, state["step"], state["epoch"])
    elif init is not None:
        model.load_state_dict(torch.load(Path(init) / "checkpoint.pt", weights_only=False)["model"])
        log.info("initialised from %s", init)
    n_params = sum(p.numel() for p in model.parameters())
    log.info("model %.2fM parameters, %d training pairs, %d steps/epoch, %d steps planned", n_params / 1e6,
             len(train_data), steps_per_epoch, total)
    meta = {"preset": preset, "config": asdict(config), "n_params": n_params, "n_train": len(train_data),
            "blocks": blocks, "repeat_nonempty": repeat_nonempty, "repeat_single": repeat_single,
            "init": str(init) if init else None,
            "batch_tokens": batch_tokens, "lr": lr, "epochs": epochs, "seed": seed}
    (run / "run.json").write_text(json.dumps(meta, indent=1))

    def save() -> None:
        tmp = ckpt.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state,
                    "torch_rng": torch.get_rng_state(), "meta": meta}, tmp)
        tmp.replace(ckpt)

    model.train()
    t_start, t_ckpt = time.monotonic(), time.monotonic()
    seconds0, step0 = state["seconds"], state["step"]
    tokens_since, t_log = 0, time.monotonic()
    stop = False
    while state["step"] < total and not stop:
        batches = _batches(train_data, batch_tokens, random.Random(seed * 1000 + state["epoch"]))
        while state["pos"] < len(batches):
            b = _collate(train_data, batches[state["pos"]], pad)
            for group in opt.param_groups:
                group["lr"] = _lr(state["step"], peak=lr, warmup=warmup, total=total)
            loss = model(**b).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            state["step"] += 1
            state["pos"] += 1
            tokens_since += int((b["labels"] != -100).sum())
            state["seconds"] = seconds0 + time.monotonic() - t_start
            if state["step"] % log_every == 0:
                rate = tokens_since / (time.monotonic() - t_log)
                per_step = (time.monotonic() - t_start) / max(1, state["step"] - step0)
                log.info("step %d/%d epoch %d loss %.4f lr %.2e %.0f tok/s elapsed %.2fh left %.2fh", state["step"],
                         total, state["epoch"], loss.item(), opt.param_groups[0]["lr"], rate,
                         state["seconds"] / 3600, (total - state["step"]) * per_step / 3600)
                state["history"].append({"step": state["step"], "loss": round(loss.item(), 5),
                                         "hours": round(state["seconds"] / 3600, 4)})
                tokens_since, t_log = 0, time.monotonic()
            if time.monotonic() - t_ckpt > checkpoint_minutes * 60:
                acc = _token_accuracy(model, held, pad, batch_tokens)
                state["history"].append({"step": state["step"], "heldout_token_accuracy": round(acc, 5)})
                log.info("step %d: held-out token accuracy %.4f; checkpoint saved", state["step"], acc)
                save()
                t_ckpt = time.monotonic()
            if state["step"] >= total or (hours is not None and state["seconds"] > hours * 3600):
                stop = True
                break
        if not stop:
            state["epoch"] += 1
            state["pos"] = 0
    acc = _token_accuracy(model, held, pad, batch_tokens)
    state["history"].append({"step": state["step"], "heldout_token_accuracy": round(acc, 5)})
    log.info("finished at step %d (%.2fh): held-out token accuracy %.4f", state["step"], state["seconds"] / 3600, acc)
    save()
    return run


def export(run: Path, to: Path = WEIGHTS_DIR) -> Path:
    """Write the run's model as safetensors + tokenizer + config into `to` (the shipped weights folder)."""
    saved = torch.load(Path(run) / "checkpoint.pt", weights_only=False)
    meta = saved["meta"]
    est = LagrangianTransformer(config=LagrangianBartConfig(**meta["config"]))
    est.model_ = build_model(est.config)
    est.model_.load_state_dict(saved["model"])
    est.tokenizer_ = build_tokenizer()
    extra = {"training": {**{k: v for k, v in meta.items() if k != "config"}, "steps": saved["state"]["step"],
                          "hours": round(saved["state"]["seconds"] / 3600, 3),
                          "history": saved["state"]["history"][-40:]}}
    return est.save(to, extra=extra)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("data")
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--n-train", type=int, default=100_000)
    d.add_argument("--n-test", type=int, default=500)
    d.add_argument("--n-ood", type=int, default=200)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--blocks", type=int, default=None, metavar="N_CONTENTS",
                   help="write block pairs of this many random contents (for train --blocks)")
    t = sub.add_parser("train")
    t.add_argument("--data", type=Path, required=True)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    t.add_argument("--epochs", type=float, default=3.0)
    t.add_argument("--hours", type=float, default=None)
    t.add_argument("--batch-tokens", type=int, default=8192)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--threads", type=int, default=None)
    t.add_argument("--checkpoint-minutes", type=float, default=15.0)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--blocks", action="store_true", help="train on train_blocks.jsonl (data --blocks)")
    t.add_argument("--repeat-nonempty", type=int, default=1, help="multi-field block pairs with terms per epoch")
    t.add_argument("--repeat-single", type=int, default=1, help="one-field block pairs per epoch (--blocks)")
    t.add_argument("--init", type=Path, default=None, help="start from this run's checkpoint (fine-tuning)")
    e = sub.add_parser("export")
    e.add_argument("--run", type=Path, required=True)
    e.add_argument("--to", type=Path, default=WEIGHTS_DIR)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.cmd == "data" and args.blocks:
        print(json.dumps(prepare_block_data(args.out, n_contents=args.blocks, n_test=args.n_test, n_ood=args.n_ood,
                                            seed=args.seed)))
    elif args.cmd == "data":
        print(json.dumps(prepare_data(args.out, n_train=args.n_train, n_test=args.n_test, n_ood=args.n_ood,
                                      seed=args.seed)))
    elif args.cmd == "train":
        train(args.data, args.out, preset=args.preset, epochs=args.epochs, hours=args.hours,
              batch_tokens=args.batch_tokens, lr=args.lr, threads=args.threads,
              checkpoint_minutes=args.checkpoint_minutes, seed=args.seed, blocks=args.blocks,
              repeat_nonempty=args.repeat_nonempty, repeat_single=args.repeat_single, init=args.init)
    else:
        print(export(args.run, args.to))


if __name__ == "__main__":
    main()
