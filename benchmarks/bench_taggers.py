"""Tagger benchmark: hepilot vs weaver-core (ParticleNet, ParT) side by side, and the full tagger table.

Part 1 trains hepilot's ParticleNet and ParT with hepilot's loop, and weaver-core's reference
implementations with weaver-core's own trainer (`pip install --no-deps weaver-core numba
llvmlite`; see _weaver_reference.py), on the same jets, split, preset, epochs, batch size,
optimiser (ranger) and schedule (flat+decay), one after the other in one run. It reports per
architecture the AUC difference (goal |dAUC| < 0.005) and the training / inference throughput
ratios hepilot / weaver-core (goal >= 1), and checks that hepilot's network computes the same
function as weaver-core's when given weaver-core's weights.

Part 2 trains every tagger (BDT, CNN, ParticleNet, LorentzNet, ParT, MPNN on constituents) on the
same split and compares the AUC ranking with the published Top Tagging Reference Dataset table
(ParticleNet 0.9858 / 1615, LorentzNet 0.9868 / 2195, ParT 0.9858 / 1602: AUC / 1/eB at eS = 0.3).

Usage (the sample is generated once and cached under --cache; export the malloc settings of the Makefile first):
    .venv/bin/python benchmarks/bench_taggers.py --n-jets 20000 --seed 2 --epochs 10 --skip-weaver
    .venv/bin/python benchmarks/bench_taggers.py --n-jets 5000 --epochs 12 --skip-table --section taggers-weaver
    .venv/bin/python benchmarks/bench_taggers.py --events 10000 --seed 5     (MPNN vs DNN on event objects)
Small validation run: --n-jets 600 --epochs 2. Writes section "taggers" (or --section) of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from hepilot.models.events.generation import JetGenConfig, generate_jet_sample
from hepilot.models.taggers.architectures import ARCHITECTURES, jet_inputs
from hepilot.models.taggers.experiment import load_tagger_data, run_bdt, run_neural, split_for
from hepilot.models.metrics import evaluate_classifier, paired_difference, roc_auc
from hepilot.models.taggers.train import set_threads
from hepilot.tools.executor import LocalExecutor

log = logging.getLogger("bench_taggers")

PUBLISHED = {"particlenet": (0.9858, 1615), "lorentznet": (0.9868, 2195), "part": (0.9858, 1602)}


class _WeaverParticleNet(nn.Module):
    """weaver-core's ParticleNet behind hepilot's model interface (for the same-weights check)."""

    input_keys = ("points", "features", "mask")

    def __init__(self, cfg):
        super().__init__()
        from weaver.nn.model.ParticleNet import ParticleNet

        self.mod = ParticleNet(cfg.input_dims, cfg.num_classes, conv_params=[(k, c) for k, c in cfg.conv_params],
                               fc_params=list(cfg.fc_params), use_fusion=False)

    def forward(self, points, features, mask):
        return self.mod(points, features, mask)


class _WeaverParT(nn.Module):
    """weaver-core's ParticleTransformer behind hepilot's model interface (for the same-weights check)."""

    input_keys = ("features", "vectors", "mask")

    def __init__(self, cfg):
        super().__init__()
        from weaver.nn.model.ParticleTransformer import ParticleTransformer

        self.mod = ParticleTransformer(
            input_dim=cfg.input_dim, num_classes=cfg.num_classes, pair_input_dim=4, use_pre_activation_pair=False,
            embed_dims=list(cfg.embed_dims), pair_embed_dims=list(cfg.pair_embed_dims), num_heads=cfg.num_heads,
            num_layers=cfg.num_layers, num_cls_layers=cfg.num_cls_layers,
            cls_block_params={"dropout": 0, "attn_dropout": 0, "activation_dropout": 0}, fc_params=[])

    def forward(self, features, vectors, mask):
        return self.mod(features, v=vectors, mask=mask)


_WEAVER = {"particlenet": _WeaverParticleNet, "part": _WeaverParT}
_RUNS: dict = {}  # name -> TaggerRun, shared by both parts (same split, preset and budget)


def _sample(args) -> Path:
    if args.sample:
        return Path(args.sample)
    path = Path(args.cache) / f"jets_top_qcd_{args.n_jets}_seed{args.seed}" / "jets.root"
    if not path.is_file():
        log.info("generating %d top + %d qcd jets into %s", args.n_jets, args.n_jets, path.parent)
        t0 = time.perf_counter()
        generate_jet_sample(JetGenConfig(n_jets=args.n_jets, seed=args.seed), path,
                            map_fn=LocalExecutor(args.workers).map)
        log.info("generated in %.0f s", time.perf_counter() - t0)
    return path


def _same_function(name: str, cfg, arrays) -> float:
    """Max |d softmax| between hepilot's network carrying weaver's weights and weaver's network (eval mode)."""
    ref = _WEAVER[name](cfg).eval()
    ours = ARCHITECTURES[name].model_cls(cfg).eval()
    ours.load_weaver_state_dict(ref.mod.state_dict())
    probe = {k: torch.from_numpy(v[:64]) for k, v in arrays.items()}
    with torch.no_grad():
        a = torch.softmax(ours(*[probe[k] for k in ours.input_keys]), 1)
        b = torch.softmax(ref(*[probe[k] for k in ref.input_keys]), 1)
    return float((a - b).abs().max())


def weaver_side_by_side(data, split, args) -> str:
    from _weaver_reference import run_weaver

    rows = ["| architecture | implementation | AUC | 1/eB at eS=0.3 [68% CI] | train jets/s | inference jets/s | wall s |",
            "|---|---|---|---|---|---|---|"]
    summary = ["| architecture | dAUC hepilot - weaver | train ratio | inference ratio | same weights: max d(prob) |",
               "|---|---|---|---|---|"]
    for name in ("particlenet", "part"):
        arch = ARCHITECTURES[name]
        cfg = arch.config(args.preset)
        diff = _same_function(name, cfg, jet_inputs(name, data.sample.select(np.arange(len(data)) < 64), cfg))
        recipe = arch.train_config()
        t0 = time.perf_counter()
        ours = _RUNS[name] = run_neural(name, data, split, preset=args.preset, epochs=args.epochs, seed=args.seed,
                                        threads=args.threads, train_overrides={"patience": None})
        ours_wall = time.perf_counter() - t0
        ref = run_weaver(name, cfg, data, split, workdir=Path(args.cache) / f"weaver_{name}_{args.preset}",
                         epochs=args.epochs, batch_size=recipe.batch_size, lr=recipe.lr, threads=torch.get_num_threads())
        ref_m = evaluate_classifier(ref["y"], ref["score"], signal_effs=(0.3,), n_boot=200, seed=args.seed)
        for impl, m, tr, inf, wall in (("hepilot", ours.metrics, ours.train_per_s, ours.inference_per_s, ours_wall),
                                       ("weaver-core", ref_m, ref["train_per_s"], ref["inference_per_s"],
                                        ref["wall_seconds"])):
            rows.append(f"| {name} | {impl} | {m.auc.value:.4f} +- {m.auc.std:.4f} | "
                        f"{m.rejection[0.3].rejection_text(m.n_background)} | {tr:.0f} | {inf:.0f} | {wall:.0f} |")
        if np.array_equal(ref["y"], ours.y_test):  # weaver predicts the test file in its order: pair the jets
            d = paired_difference(roc_auc, ours.y_test, ours.scores, ref["score"], n_boot=200, seed=args.seed)
            d_auc, d_text = d.value, f"paired bootstrap sigma {d.std:.4f}"
        else:
            d_auc = ours.metrics.auc.value - ref_m.auc.value
            d_text = f"unpaired sigma {np.hypot(ours.metrics.auc.std, ref_m.auc.std):.4f}"
        summary.append(f"| {name} | {d_auc:+.4f} (goal within 0.005; {d_text}) | "
                       f"{ours.train_per_s / ref['train_per_s']:.2f} | {ours.inference_per_s / ref['inference_per_s']:.2f} "
                       f"| {diff:.1e} |")
        log.info("%s: dAUC %+.4f, train ratio %.2f, inference ratio %.2f", name, d_auc,
                 ours.train_per_s / ref["train_per_s"], ours.inference_per_s / ref["inference_per_s"])
    return "\n".join(summary) + "\n\n" + "\n".join(rows)


def _run_tagger(name: str, data, split, args, threads: int | None):
    """Train and test one tagger of the table on `split` (no early stopping: the best validation epoch is kept)."""
    if name == "bdt":
        return run_bdt(data, split, seed=args.seed)
    return run_neural(name, data, split, preset=args.preset, epochs=args.epochs, seed=args.seed, threads=threads,
                      train_overrides={"patience": None})


def _train_one(name: str, sample: str, args):
    """One tagger of the table in a worker process (one torch thread): the same data and split as the parent."""
    set_threads(1)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s [{name}] %(name)s %(message)s")
    data = load_tagger_data(sample, signal="top")
    return _run_tagger(name, data, split_for(data, seed=args.seed), args, threads=1)


# slowest first, so that --jobs 2 keeps both workers busy
_COST_ORDER = ("lorentznet", "part", "mpnn", "particlenet", "cnn", "bdt")


def full_table(data, split, args) -> str:
    todo = [n for n in args.architectures if n not in _RUNS]  # ParticleNet and ParT runs of part 1 are reused
    if args.jobs > 1 and len(todo) > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        todo.sort(key=lambda n: _COST_ORDER.index(n) if n in _COST_ORDER else -1)
        log.info("training %s in %d processes of one thread each", ", ".join(todo), args.jobs)
        with ProcessPoolExecutor(args.jobs, mp_context=mp.get_context("spawn")) as pool:
            futures = {n: pool.submit(_train_one, n, str(_sample(args)), args) for n in todo}
            _RUNS.update({n: f.result() for n, f in futures.items()})
    for name in todo:
        if name not in _RUNS:
            log.info("training %s", name)
            _RUNS[name] = _run_tagger(name, data, split, args, threads=args.threads)
    runs = [_RUNS[n] for n in args.architectures]
    lines = ["| tagger | parameters | AUC | 1/eB at eS=0.3 [68% CI] | train s | train jets/s | inference jets/s | published AUC / 1/eB |",
             "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        rej_text = r.metrics.rejection[0.3].rejection_text(r.metrics.n_background)
        pub = PUBLISHED.get(r.name)
        lines.append(f"| {r.name} | {r.n_params:,} | {r.metrics.auc.value:.4f} +- {r.metrics.auc.std:.4f} | {rej_text} | "
                     f"{r.train_seconds:.0f} | {r.train_per_s:.0f} | {r.inference_per_s:.0f} | "
                     f"{f'{pub[0]} / {pub[1]}' if pub else '-'} |")
    bdt = next((r for r in runs if r.name == "bdt"), None)
    if bdt is not None:
        below = [r.name for r in runs if r is not bdt and r.metrics.auc.value < bdt.metrics.auc.value - 0.01]
        lines += ["", f"Physics check 'neural AUC >= BDT AUC - 0.01' ({bdt.metrics.auc.value - 0.01:.4f}): "
                      + (f"fails for {', '.join(below)}." if below else "passes for every neural tagger.")]
    ranked = sorted(runs, key=lambda r: -r.metrics.auc.value)
    trio = [r.name for r in ranked if r.name in PUBLISHED]
    lines += ["", f"Ranking by AUC here: {' > '.join(r.name for r in ranked)}. Published trio (Top Tagging Reference "
                  f"Dataset, 1.2M training jets): lorentznet 0.9868 > particlenet 0.9858 = part 0.9858; here: "
                  f"{' > '.join(trio) or '-'}. The published AUC differences (0.001) are far below the bootstrap "
                  "uncertainty of a small test set, so only a large run can test the order."]
    return "\n".join(lines)


def events_section(args) -> str:
    """MPNN vs the DNN on event objects (ttH(bb) vs ttbar, arXiv:1807.09088's claim), paired on one test set."""
    from hepilot.tools.base import call_tool

    gen = call_tool("generate_event_objects", n_events=args.events, seed=args.seed)
    data = load_tagger_data(gen.path, signal="tth_bb")
    split = split_for(data, seed=args.seed)
    runs = {a: run_neural(a, data, split, preset=args.preset, epochs=args.events_epochs, seed=args.seed,
                          threads=args.threads) for a in ("mpnn", "dnn")}
    d = paired_difference(roc_auc, runs["mpnn"].y_test, runs["mpnn"].scores, runs["dnn"].scores, n_boot=300,
                          seed=args.seed)
    n_tr, n_va, n_te = (len(x) for x in split[:3])
    lines = [f"## Event-level tagging: MPNN vs DNN\n\nttH(H -> bb) vs ttbar at 13 TeV, ATLAS-like response, "
             f"{args.events} selected events per process (mean b-tags {gen.mean_btags['tth_bb']:.2f} vs "
             f"{gen.mean_btags['ttbar']:.2f}), split {n_tr} / {n_va} / {n_te} (seed {args.seed}); preset "
             f"`{args.preset}`, at most {args.events_epochs} epochs with early stopping on the validation loss.",
             "", "| model | parameters | AUC | best epoch | train s |", "|---|---|---|---|---|"]
    for a, r in runs.items():
        lines.append(f"| {a} | {r.n_params:,} | {r.metrics.auc.value:.4f} +- {r.metrics.auc.std:.4f} | "
                     f"{r.config['best_epoch']} | {r.train_seconds:.0f} |")
    verdict = "beats" if d.low > 0 else ("does not beat" if d.high < 0 else "is level with")
    lines += ["", f"MPNN - DNN: dAUC {d.value:+.4f} +- {d.std:.4f} (paired bootstrap, 68% interval "
                  f"[{d.low:+.4f}, {d.high:+.4f}]): the MPNN {verdict} the DNN on the same inputs (the paper "
                  "claims it beats it)."]
    return "\n".join(lines)


def tagger_sections(args) -> str:
    """The weaver-core side by side and/or the full table on one jet sample."""
    data = load_tagger_data(_sample(args), signal="top")
    split = split_for(data, seed=args.seed)
    n_tr, n_va, n_te = (len(s) for s in split[:3])
    n_sig = int(data.y.sum())
    t0 = time.perf_counter()
    parts = [f"## Jet taggers\n\nTop vs QCD, 14 TeV, anti-kT R = 0.8, 550 < pT < 650 GeV, |eta| < 2, ATLAS-like "
             f"response; {n_sig} top + {len(data) - n_sig} QCD jets split {n_tr} / {n_va} / {n_te} (train / validation / "
             f"test, seed {args.seed}); preset `{args.preset}`, {args.epochs} epochs, the papers' optimisers; "
             f"{torch.get_num_threads() if args.jobs == 1 else f'{args.jobs} processes of 1'} torch thread(s); no early stopping (best validation epoch kept); load average at "
             f"start {os.getloadavg()[0]:.1f}. BDT times include computing its substructure features."]
    if not args.skip_weaver:
        parts.append("### hepilot vs weaver-core (same jets, split, preset, epochs, batch size, optimiser and schedule)\n\n" +
                     weaver_side_by_side(data, split, args))
    if not args.skip_table:
        parts.append("### All taggers on the same split\n\n" + full_table(data, split, args))
    parts.append(f"Wall time {time.perf_counter() - t0:.0f} s; load average at end {os.getloadavg()[0]:.1f} "
                 "(a load above the core count means other jobs shared the CPU: throughputs are lower bounds, "
                 "ratios measured side by side are the meaningful numbers).")
    return "\n\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-jets", type=int, default=600, help="jets per process to generate (top and qcd)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--preset", default="cpu", choices=["ci", "cpu", "paper"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2, help="generation processes")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    ap.add_argument("--jobs", type=int, default=1, help="train the table's taggers in this many processes of one "
                    "torch thread each (2 on 2 cores: two 1-thread trainings outrun one 2-thread training)")
    ap.add_argument("--sample", default=None, help="use this jets.root (top + qcd) instead of generating one")
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/hepilot/bench"))
    ap.add_argument("--architectures", nargs="+", default=["bdt", "cnn", "particlenet", "lorentznet", "part", "mpnn"])
    ap.add_argument("--skip-weaver", action="store_true")
    ap.add_argument("--events", type=int, default=0, help="only the event-level MPNN vs DNN comparison on this many "
                    "ttH(bb) and ttbar events each (writes section taggers-events)")
    ap.add_argument("--events-epochs", type=int, default=20)
    ap.add_argument("--skip-table", action="store_true")
    ap.add_argument("--no-write", action="store_true", help="print instead of updating docs/benchmarks.md")
    ap.add_argument("--section", default="taggers", help="docs/benchmarks.md section to write (e.g. taggers-weaver "
                    "for a --skip-table run on another sample)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    set_threads(args.threads)
    text = events_section(args) if args.events else tagger_sections(args)
    print(text)
    if not args.no_write:
        from hepilot.benchmarks._report import write_section

        write_section("taggers-events" if args.events else args.section, text)


if __name__ == "__main__":
    main()
