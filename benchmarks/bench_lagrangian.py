"""Benchmark: the Lagrangian transformer against the exact generator (-> docs/benchmarks.md "lagrangian").

Held-out field contents are drawn with the training sampler's test seeds (models/theory/lagrangian/
train.py: in distribution = 1-6 fields, seed 1, the contents the training set excluded — for the shipped
model 495 of the first 500 are its test set and the other 5 are absent from its training set;
out of distribution = 7-8 fields, seed 2). For every content the shipped model decodes with beam search
(`--beams`, and greedy side by side on the in-distribution set) and the exact validator scores
    exact      canonical term sequence equal to the generator's (block model: the completed checked blocks)
    checked    (block model) exact with each block's checked beam, before completion by the model's next terms
    F1         term-level precision/recall after canonicalisation
    S          the paper's score (N_correct - N_extra) / N_true (arXiv:2501.09729)
    top beams  (block model) exact when every block takes its top beam, without the physics checks
    valid      every term of the first candidate passes the physics checks (valid+complete: and it is complete)
    any beam   some beam is valid and complete (what the tool returns without falling back)
plus the decode time per Lagrangian next to the exact generator's time for the same content (ratio).

    THP_MEM_ALLOC_ENABLE=1 GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184 \\
        nice -n 10 .venv/bin/python benchmarks/bench_lagrangian.py --n-id 500 --n-ood 200 --beams 8 --no-greedy --jobs 2
"""
from __future__ import annotations

import argparse
import functools
import json
import logging
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

from hepilot.models.theory.lagrangian.dataset import SamplerConfig, make_pairs  # noqa: E402
from hepilot.models.theory.lagrangian.generator import _generate  # noqa: E402
from hepilot.models.theory.lagrangian.model import WEIGHTS_DIR, LagrangianTransformer  # noqa: E402
from hepilot.models.theory.lagrangian.score import score_verdict  # noqa: E402
from hepilot.models.theory.lagrangian.tokens import decode_fields, lagrangian_tokens  # noqa: E402
from hepilot.models.theory.lagrangian.validator import validate  # noqa: E402

log = logging.getLogger("bench_lagrangian")


def contents(split: str, n: int) -> list[tuple]:
    if split == "id":
        pairs = make_pairs(n, seed=1, cfg=SamplerConfig())
    else:
        pairs = make_pairs(n, seed=2, cfg=SamplerConfig(min_fields=7, max_fields=8, max_target_tokens=1000))
    return [decode_fields(p["source"].split()) for p in pairs]


def evaluate(weights: Path, fields_list: list[tuple], beams: int, *, jobs: int = 1, threads: int = 1) -> dict:
    """Summary over the contents, decoded by `jobs` processes (interleaved shards, one model each)."""
    shards = [(weights, fields_list[j::jobs], beams, threads) for j in range(jobs)]
    if jobs == 1:
        return summarise(_rows(*shards[0]))
    import multiprocessing
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        return summarise([r for rows in pool.starmap(_rows, shards) for r in rows])


def _rows(weights: Path, fields_list: list[tuple], beams: int, threads: int) -> list[dict]:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")  # a spawned worker's progress too
    torch.set_num_threads(threads)
    model = _load(weights)
    rows = []
    for k, fields in enumerate(fields_list):
        t0 = time.perf_counter()
        _generate.cache_clear()
        reference = _generate(fields)
        t_gen = time.perf_counter() - t0
        # the tool's decoding budget: a beam much longer than the true Lagrangian cannot validate
        budget = 2 * len(lagrangian_tokens(reference.terms, reference.fields)) + 16
        t0 = time.perf_counter()
        if model.blocks:  # the three answers side by side; predict() returns them deduplicated, completed first
            cands = model.block_candidates(reference.fields, num_beams=beams, max_new_tokens=budget)
            outs = [cands["completed"], cands["checked"], cands["top"]]
        else:
            outs = model.predict(reference.fields, num_beams=beams, max_new_tokens=budget)
        t_dec = time.perf_counter() - t0
        verdicts = [validate(reference.fields, o, reference=reference) for o in outs]
        s = score_verdict(verdicts[0])
        checked, raw = (verdicts[1], verdicts[2]) if model.blocks else (verdicts[0], verdicts[0])
        rows.append({"n_fields": len(fields), "exact": s.exact, "exact_checked": checked.exact,
                     "exact_top": raw.exact, "f1": s.f1,
                     "S": s.paper_score,
                     "top_valid": verdicts[0].valid, "valid": verdicts[0].accepted,
                     "any": any(v.accepted for v in verdicts), "t_dec": t_dec, "t_gen": t_gen,
                     "n_tokens": len(outs[0])})
        if (k + 1) % 10 == 0:
            log.info("beams=%d: %d/%d contents, exact so far %.3f", beams, k + 1, len(fields_list),
                     statistics.mean(r["exact"] for r in rows))
    return rows


@functools.cache
def _load(weights: Path) -> LagrangianTransformer:
    return LagrangianTransformer.load(weights)


def summarise(rows: list[dict]) -> dict:
    mean = lambda key: statistics.mean(float(r[key]) for r in rows)  # noqa: E731
    by_n: dict[int, list[dict]] = {}
    for r in rows:
        by_n.setdefault(r["n_fields"], []).append(r)
    return {"n": len(rows), "exact": mean("exact"), "exact_checked": mean("exact_checked"),
            "exact_top": mean("exact_top"), "f1": mean("f1"),
            "S": mean("S"), "top_valid": mean("top_valid"),
            "valid": mean("valid"),
            "any": mean("any"), "t_dec": statistics.median(r["t_dec"] for r in rows),
            "t_gen": statistics.median(r["t_gen"] for r in rows),
            "by_n": {n: statistics.mean(float(r["exact"]) for r in rs) for n, rs in sorted(by_n.items())}}


def _mode(model: LagrangianTransformer) -> str:
    if not model.blocks:
        return "The model decodes each whole content."
    return ("The model writes the Lagrangian block by block (models/theory/lagrangian/blocks.py: every sub-content "
            "of <= 4 fields that can carry a dimension <= 4 operator, decoded in one batch; the union of the "
            "blocks' terms, put in canonical order, is the Lagrangian — an identity of the exact generator, "
            "tested). Every multi-field block of these test contents was left out of training, so the model has "
            "seen none of them; one-field blocks (the ~1700 possible fields) were all trained on, and the shipped "
            "one-field companion model (weights/single) writes them. The first candidate takes, for each block, the "
            "beam with the most terms among those whose terms all pass the validator's physics checks (invariance, "
            "hermiticity, dimension, independence; not completeness, which needs the generator) and contain every "
            "field of the block; then, at each term boundary of that beam, the model is asked for one more term "
            "(one per beam) and each that passes the same checks with the terms kept is added — it must raise "
            "the rank of the block's span, which the validator measures exactly, so it is an independent "
            "invariant of the block (exact = this completed candidate; exact, checked = before completion).")


def _companion(model: LagrangianTransformer) -> str:
    single = getattr(model, "single_", None)
    if single is None:
        return ""
    t = single.meta_.get("training", {})
    return (f"; one-field companion: {t.get('n_params', 0) / 1e6:.2f}M parameters, {t.get('n_train', '?')} one-field "
            f"blocks, {t.get('steps', '?')} steps ({t.get('hours', '?')} h)")


def row(name: str, s: dict) -> str:
    return (f"| {name} | {s['n']} | {s['exact']:.3f} | {s['exact_checked']:.3f} | {s['exact_top']:.3f} | {s['f1']:.3f} | {s['S']:.3f} | "
            f"{s['top_valid']:.3f} | "
            f"{s['valid']:.3f} | {s['any']:.3f} | {s['t_dec']:.2f} | {s['t_gen'] * 1e3:.0f} | "
            f"{s['t_dec'] / s['t_gen']:.0f}x |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", type=Path, default=WEIGHTS_DIR)
    p.add_argument("--n-id", type=int, default=100)
    p.add_argument("--n-ood", type=int, default=40)
    p.add_argument("--beams", type=int, default=4)
    p.add_argument("--threads", type=int, default=1, help="torch threads per process")
    p.add_argument("--jobs", type=int, default=1, help="decoding processes (each loads the model)")
    p.add_argument("--no-greedy", action="store_true", help="skip the greedy side-by-side run")
    p.add_argument("--json", type=Path, default=None, help="also write the summaries as JSON here")
    p.add_argument("--no-write", action="store_true", help="print the section instead of updating the docs")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    model = _load(args.weights)
    train = model.meta_.get("training", {})
    id_fields, ood_fields = contents("id", args.n_id), contents("ood", args.n_ood)
    run = functools.partial(evaluate, args.weights, jobs=args.jobs, threads=args.threads)
    results = {f"in distribution (1-6 fields), beam {args.beams}": run(id_fields, args.beams)}
    if not args.no_greedy:
        results["in distribution (1-6 fields), greedy"] = run(id_fields, 1)
    results[f"out of distribution (7-8 fields), beam {args.beams}"] = run(ood_fields, args.beams)
    if args.json:
        args.json.write_text(json.dumps({"training": train, "results": results}, indent=1, default=str))
    lines = [
        "## Lagrangian transformer (issue 7)\n",
        "Lagrangian transformer (BART, arXiv:2501.09729; CPU preset) vs the exact generator on held-out field "
        f"contents. {_mode(model)} exact = canonical term sequence equal to the generator's; F1 = term-level; "
        "S = the paper's score (N_correct - N_extra)/N_true; valid = every term of the first candidate passes the physics checks; "
        "valid+complete = it is also complete; any beam = some candidate is valid and complete, i.e. the "
        "tool returns the model's answer without falling back to the generator; exact, top beams = exact match "
        "when every block takes its top beam, without the physics checks. Times are medians per "
        "Lagrangian (decode with beam search, capped at twice the true length, vs the exact generator, cache "
        "cleared).",
        "",
        f"Model: {train.get('n_params', 0) / 1e6:.2f}M parameters, {train.get('n_train', '?')} training pairs, "
        f"{train.get('steps', '?')} steps ({train.get('hours', '?')} h on a shared 2-core CPU)"
        f"{_companion(model)}. "
        "Goal (issue 7): exact >= 0.95 in distribution (the paper reports S > 0.92 with 357M parameters).",
        "",
        "| set | n | exact | exact, checked | exact, top beams | F1 | S | valid | valid+complete | any beam | decode s "
        "| generator ms | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *(row(name, s) for name, s in results.items()),
        "",
        "Exact match by number of fields: " + "; ".join(
            f"{name.split(',')[0]}: " + ", ".join(f"{n}: {v:.2f}" for n, v in s["by_n"].items())
            for name, s in results.items() if "greedy" not in name),
        "",
        f"Measured with {args.jobs} decoding process(es) of {args.threads} torch thread(s) each (other jobs may "
        "have run): times are upper bounds.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("lagrangian", text)


if __name__ == "__main__":
    main()
