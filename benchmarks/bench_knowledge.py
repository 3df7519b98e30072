"""Benchmark of the knowledge index: recall@5 of hybrid vs dense-only vs BM25-only retrieval, warm query
latency at ~10k chunks, and ingest throughput. Writes the "knowledge" section of docs/benchmarks.md.

    .venv/bin/python benchmarks/bench_knowledge.py                 # 10k chunks (minutes on a quiet machine)
    .venv/bin/python benchmarks/bench_knowledge.py --n-chunks 2000 # smaller, for a busy machine
    .venv/bin/python benchmarks/bench_knowledge.py --kb /tmp/kb10k # keep the index; a re-run reuses it
                                                                     # (incremental ingest skips every file)

Everything runs in a temporary index folder; the question set is evals/knowledge/questions.yaml
(questions written from the shipped cards, each naming the chunk that answers it). The large
index adds synthetic HEP-like Markdown documents (seeded) as distractors around the real cards.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from _report import write_section  # noqa: E402

from hepilot.knowledge.chunking import chunk_blocks  # noqa: E402
from hepilot.knowledge.documents import load_document  # noqa: E402
from hepilot.knowledge.embeddings import embed  # noqa: E402
from hepilot.knowledge.store import KnowledgeStore  # noqa: E402

MODES = ("hybrid", "dense", "bm25")
_NOUNS = ["calorimeter", "tracker", "muon chamber", "vertex detector", "jet", "b-tagging algorithm", "trigger",
          "silicon sensor", "drift tube", "crystal", "scintillator tile", "photomultiplier", "TPC", "magnet",
          "readout chip", "beam pipe", "luminosity monitor", "neural network", "boosted decision tree",
          "likelihood fit", "systematic uncertainty", "pile-up subtraction", "alignment", "calibration",
          "Monte Carlo sample", "parton shower", "hadronisation model", "unfolding", "background estimate"]
_VERBS = ["was calibrated with", "was studied using", "improves", "degrades", "is limited by", "was validated on",
          "is parametrised as a function of", "depends on", "was optimised for", "was measured in"]
_OBJECTS = ["Z boson decays", "cosmic-ray muons", "test-beam electrons", "minimum-bias events", "top-quark pairs",
            "dijet events", "photon+jet events", "J/psi decays", "simulated showers", "collision data at 13 TeV",
            "the energy scale", "the pseudorapidity", "the transverse momentum", "the pile-up density"]
_EXPERIMENTS = ["ATLAS", "CMS", "LHCb", "ALICE", "Belle II", "CEPC", "FCC-ee", "ILC"]


def _synthetic_docs(folder: Path, n_chunks: int, *, seed: int = 7, sections_per_doc: int = 20) -> list[Path]:
    """Seeded HEP-flavoured Markdown documents, about one chunk per section."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for d in range(int(np.ceil(n_chunks / sections_per_doc))):
        exp = _EXPERIMENTS[d % len(_EXPERIMENTS)]
        lines = [f"---\ntitle: \"{exp} internal note {d}\"\nexperiment: {exp}\nyear: {2010 + d % 15}\n---",
                 f"# {exp} internal note {d}"]
        for s in range(sections_per_doc):
            noun = _NOUNS[rng.integers(len(_NOUNS))]
            lines.append(f"\n## {noun.capitalize()} study {s}")
            sentences = []
            for _ in range(7):
                sentences.append(f"The {_NOUNS[rng.integers(len(_NOUNS))]} {_VERBS[rng.integers(len(_VERBS))]} "
                                 f"{_OBJECTS[rng.integers(len(_OBJECTS))]} with a precision of "
                                 f"{rng.uniform(0.1, 20):.1f} percent at {rng.integers(5, 2000)} GeV.")
            lines.append(" ".join(sentences))
        path = folder / f"note_{d:04d}.md"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def _questions() -> list[dict]:
    return yaml.safe_load((REPO / "evals" / "knowledge" / "questions.yaml").read_text())


def _answers(q: dict) -> list[tuple[str, str]]:
    return [(q["source"], q["section"])] + [(a["source"], a["section"]) for a in q.get("alternatives", [])]


def recall_at(store: KnowledgeStore, questions: list[dict], k: int = 5) -> dict[str, dict[str, float]]:
    """recall@k and MRR@k per mode; a hit = source matches and section path contains the given section."""
    out = {}
    for mode in MODES:
        found, rr = 0, 0.0
        for q in questions:
            hits = store.search(q["question"], k=k, mode=mode)
            ranks = [i for i, h in enumerate(hits, 1)
                     if any(h.source == s and sec in h.section for s, sec in _answers(q))]
            found += bool(ranks)
            rr += 1.0 / ranks[0] if ranks else 0.0
        out[mode] = {"recall": found / len(questions), "mrr": rr / len(questions)}
    return out


def latency(store: KnowledgeStore, queries: list[str], *, repeats: int = 2, filters: dict | None = None) -> dict:
    """Warm per-query latency (ms) per mode, plus the parts of a hybrid query."""
    for q in queries[:10]:
        store.search(q, mode="hybrid")
    out: dict[str, dict[str, float]] = {}
    for mode in MODES:
        times = []
        for _ in range(repeats):
            for q in queries:
                t0 = time.perf_counter()
                store.search(q, k=5, mode=mode, filters=filters)
                times.append(time.perf_counter() - t0)
        out[mode] = {"p50": 1e3 * statistics.median(times), "p95": 1e3 * float(np.percentile(times, 95))}
    mem = store._memory()
    col = store._collection(store.manifest().collection)
    parts = {"embed": [], "vector": [], "hnsw": [], "bm25": []}
    for q in queries:
        t0 = time.perf_counter()
        vec = embed([q])[0]
        t1 = time.perf_counter()
        mem.dense(vec, 30)
        t2 = time.perf_counter()
        col.query(query_embeddings=[vec], n_results=30, include=["distances"])
        t3 = time.perf_counter()
        mem.search(q, 30)
        t4 = time.perf_counter()
        for key, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            parts[key].append(dt)
    out["parts_p50"] = {k: 1e3 * statistics.median(v) for k, v in parts.items()}
    return out


def _count_chunks(paths: list[Path]) -> int:
    return sum(len(chunk_blocks(load_document(p.name, p.read_bytes()).blocks)) for p in paths)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-chunks", type=int, default=10_000, help="Size of the large index (synthetic + cards)")
    ap.add_argument("--repeats", type=int, default=2, help="Passes over the question set for latency")
    ap.add_argument("--no-write", action="store_true", help="Print only; do not update docs/benchmarks.md")
    ap.add_argument("--kb", type=Path, default=None, help="Keep the index here (reused by the next run)")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    questions = _questions()
    queries = [q["question"] for q in questions]
    with tempfile.TemporaryDirectory(prefix="hepilot-bench-kb-") as scratch:
        tmp = args.kb or Path(scratch)
        embed(["warm up the model"])
        cards = KnowledgeStore(Path(scratch) / "kb_cards")  # the shipped cards alone, always fresh
        t0 = time.perf_counter()
        corpus_report = cards.sync_corpus()
        t_corpus = time.perf_counter() - t0
        n_cards = cards.stats()["chunks"]
        small = recall_at(cards, questions)
        lat_small = latency(cards, queries, repeats=args.repeats)
        print(f"corpus: {n_cards} chunks indexed in {t_corpus:.1f} s; recall@5 {small}")

        store = KnowledgeStore(tmp / "kb_large")
        store.sync_corpus()

        docs = _synthetic_docs(tmp / "docs", max(args.n_chunks - n_cards, 0))
        n_syn = _count_chunks(docs)
        size_mb = sum(p.stat().st_size for p in docs) / 2**20
        t0 = time.perf_counter()
        report = store.ingest(docs)
        t_ingest = time.perf_counter() - t0
        assert not report.failed, report.failed[:3]
        n_new = report.n_chunks_added
        stats_file = tmp / "ingest_stats.json"
        if n_new:
            stats_file.write_text(json.dumps({"chunks": n_new, "mb": size_mb, "seconds": t_ingest, "load": load,
                                              "date": time.strftime("%Y-%m-%d"), "niced": os.nice(0) > 0}))
        built = json.loads(stats_file.read_text()) if stats_file.exists() else None
        stats = store.stats()
        print(f"ingest: {n_new} new chunks ({size_mb:.1f} MB of documents) in {t_ingest:.1f} s")
        t0 = time.perf_counter()
        store._mem = None  # time the first query after a change (in-memory side rebuilt)
        store.search("first query after ingest", k=5)
        t_first = time.perf_counter() - t0
        large = recall_at(store, questions)
        lat_large = latency(store, queries, repeats=args.repeats)
        lat_filtered = latency(store, queries[:40], repeats=1, filters={"experiment": "CMS"})
        print(f"{stats['chunks']} chunks: recall@5 {large}; latency {lat_large}")

    rows = "\n".join(
        f"| {mode} | {small[mode]['recall']:.3f} | {small[mode]['mrr']:.3f} | {large[mode]['recall']:.3f} | "
        f"{large[mode]['mrr']:.3f} | {lat_small[mode]['p50']:.1f} | {lat_large[mode]['p50']:.1f} | "
        f"{lat_large[mode]['p95']:.1f} | {lat_filtered[mode]['p50']:.1f} |" for mode in MODES)
    parts = lat_large["parts_p50"]
    n = stats["chunks"]
    header = (f"| mode | recall@5 (cards) | MRR@5 (cards) | recall@5 ({n}) | MRR@5 ({n}) | p50 ms (cards) | "
              f"p50 ms ({n}) | p95 ms ({n}) | p50 ms filtered |")
    if built:
        rate = built["chunks"] / built["seconds"]
        ingest_line = (f"Ingest throughput (MiniLM on CPU, batch 64; measured {built['date']} while building this "
                       f"index{', niced' if built['niced'] else ''}, load {built['load']:.1f}): "
                       f"{built['chunks']} chunks / {built['mb']:.1f} MB in {built['seconds']:.0f} s = {rate:.1f} "
                       f"chunks/s ({built['mb'] / built['seconds'] * 60:.2f} MB/min).")
        if not n_new:
            ingest_line += f" Re-checking the {len(docs)} unchanged files in this run: {t_ingest:.1f} s."
    else:
        ingest_line = "Ingest throughput: not measured (nothing new was ingested)."
    ratio_dense = large["hybrid"]["recall"] / max(large["dense"]["recall"], 1e-9)
    ratio_bm25 = large["hybrid"]["recall"] / max(large["bm25"]["recall"], 1e-9)
    md = f"""## Knowledge index (retrieval)

Question set: {len(questions)} questions written from the shipped cards (evals/knowledge/questions.yaml),
each naming the chunk that answers it; a hit = that chunk in the top 5. Large index: the {n_cards}
card chunks plus {n_syn} synthetic HEP-like distractor chunks ({stats['chunks']} total). Latency:
warm, single query, k = 5, {args.repeats} passes over the questions; filtered = experiment filter.

{header}
|---|---|---|---|---|---|---|---|---|
{rows}

Recall ratios at {stats['chunks']} chunks: hybrid/dense {ratio_dense:.3f}, hybrid/BM25 {ratio_bm25:.3f}.
Parts of a hybrid query at {stats['chunks']} chunks (p50): query embedding {parts['embed']:.1f} ms,
exact dense search {parts['vector']:.2f} ms (Chroma's HNSW query would take {parts['hnsw']:.2f} ms),
BM25 {parts['bm25']:.2f} ms; the rest is fusion and hit assembly. First query after an ingest (rebuilds the in-memory BM25 side): {1e3 * t_first:.0f} ms.

{ingest_line} Shipped corpus ({n_cards} chunks, precomputed vectors): {t_corpus:.1f} s for
{corpus_report.count('added') if corpus_report else 0} new cards.
Load average at start: {load:.1f} on {os.cpu_count()} cores (other jobs were running: timings are
upper bounds; re-run on a quiet machine).
"""
    print(md)
    if not args.no_write:
        print("wrote", write_section("knowledge", md))


if __name__ == "__main__":
    main()
