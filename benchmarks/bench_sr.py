"""Symbolic-regression benchmark on the AI Feynman equations: exact recovery and time at equal wall time.

Methods, side by side on the same samples and the same wall-time budget per equation:
    pyoperon        plain Operon GP (ML_NOTES.md settings)
    gplearn         gplearn GP
    guided          GuidedSymbolicSearch with the offline proposer (pyoperon as its GP)
    guided+llm      the same plus the LLM proposer, when an endpoint is configured (OPENAI_BASE_URL)
All use the same unary functions (default exp, log, sqrt, square, sin, cos: the Feynman set needs
trig and log). Data: n points sampled uniformly in the published ranges, without and with 1% noise
(SRBench convention: Gaussian, std = 0.01 RMS(y)). Exact recovery: the chosen expression equals
the true formula up to its constants (models/theory/sr/equivalence.py: constants refitted on
clean points, rounded, sympy simplifies the ratio or difference to a constant).

    python benchmarks/bench_sr.py --n-equations 30 --time 30            # the full comparison
    python benchmarks/bench_sr.py --equations I.6.2 I.10.7 --time 10 --no-write
"""
from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path


from hepilot.models.theory.sr.aifeynman import EQUATIONS, get_equation, sample_equation
from hepilot.models.theory.sr.equivalence import symbolic_match
from hepilot.models.theory.sr.guided import GuidedSymbolicSearch
from hepilot.models.theory.sr.regressor import SymbolicRegressor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

log = logging.getLogger("bench_sr")
FUNCTIONS = ["exp", "log", "sqrt", "square", "sin", "cos"]


def _llm_proposer():
    from hepilot.agent.llm import client_from_settings
    from hepilot.models.theory.sr.llm_proposer import SYSTEM_PROMPT, LLMProposer

    client = client_from_settings()
    if client is None:
        return None
    return LLMProposer(lambda p: client.complete(p, system=SYSTEM_PROMPT, temperature=0.7))


def make_estimator(method: str, budget: float, seed: int, functions: list[str]):
    if method in ("pyoperon", "gplearn"):
        return SymbolicRegressor(backend=method, time_limit=budget, seed=seed, backend_options={"functions": functions})
    from hepilot.models.theory.sr.proposers import OfflineProposer

    proposers = [OfflineProposer()]
    if method == "guided+llm":
        proposers.append(_llm_proposer())
    return GuidedSymbolicSearch(proposers=proposers, time_limit=budget, n_rounds=max(2, min(4, int(budget // 5))),
                                seed=seed, gp_options={"functions": functions})


def run_one(eq, method: str, *, budget: float, noise: float, n_points: int, seed: int, functions: list[str]) -> dict:
    X, y = sample_equation(eq, n_points, noise=noise, seed=seed)
    X_test, _ = sample_equation(eq, 400, seed=seed + 1000)
    est = make_estimator(method, budget, seed, functions)
    t0 = time.perf_counter()
    try:
        est.fit(X, y, variable_names=eq.variables)
    except Exception as exc:  # a crashing method counts as not recovered, with the reason recorded
        return {"equation": eq.name, "method": method, "noise": noise, "recovered": False, "numeric": False,
                "seconds": time.perf_counter() - t0, "expression": "", "note": f"{type(exc).__name__}: {exc}"}
    seconds = time.perf_counter() - t0
    truth = eq.truth(est.problem_.symbol_map)
    match = symbolic_match(est.model_.expr, truth, est.problem_.symbols, X_test)
    return {"equation": eq.name, "method": method, "noise": noise, "recovered": match.equivalent,
            "numeric": match.rel_rms < 1e-6, "seconds": seconds, "expression": str(est.model_.expr)[:200],
            "note": match.reason[:120]}


def summarise(rows: list[dict], methods: list[str], noises: list[float], n_eq: int, args) -> str:
    lines = ["## Symbolic regression: AI Feynman exact recovery at equal wall time", "",
             f"{n_eq} equations (the first {n_eq} of the AI Feynman list unless named), {args.n_points} points in "
             f"the published ranges, budget {args.time:g} s per equation and method (wall time, everything "
             f"included), functions {', '.join(args.functions)}, seed {args.seed}. Recovered = symbolic "
             "equivalence up to constants (constants refitted on clean points, sympy)."
             + (f" {args.note}" if args.note else ""), "",
             "| method | noise | recovered | numerically exact | median s | recovered vs pyoperon |",
             "|---|---|---|---|---|---|"]
    for noise in noises:
        base = sum(r["recovered"] for r in rows if r["method"] == "pyoperon" and r["noise"] == noise)
        for m in methods:
            sel = [r for r in rows if r["method"] == m and r["noise"] == noise]
            if not sel:
                continue
            rec = sum(r["recovered"] for r in sel)
            num = sum(r["numeric"] for r in sel)
            ratio = f"{rec / base:.2f}x" if base else ("n/a" if m == "pyoperon" else f"{rec} vs 0")
            lines.append(f"| {m} | {noise:.0%} | {rec}/{len(sel)} | {num}/{len(sel)} | "
                         f"{statistics.median(r['seconds'] for r in sel):.1f} | {ratio} |")
    lines += ["", "Per equation (R = recovered, n = numerically exact only, . = neither):", "",
              "| equation | " + " | ".join(f"{m} {n:.0%}" for n in noises for m in methods) + " |",
              "|---|" + "---|" * (len(methods) * len(noises))]
    for name in dict.fromkeys(r["equation"] for r in rows):
        cells = []
        for n in noises:
            for m in methods:
                r = next((r for r in rows if r["equation"] == name and r["method"] == m and r["noise"] == n), None)
                cells.append("" if r is None else "R" if r["recovered"] else "n" if r["numeric"] else ".")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-equations", type=int, default=30, help="first N equations of the AI Feynman list")
    p.add_argument("--equations", nargs="*", help="explicit equation names (overrides --n-equations)")
    p.add_argument("--time", type=float, default=30.0, help="wall-time budget per equation and method, s")
    p.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.01])
    p.add_argument("--methods", nargs="+", default=["pyoperon", "gplearn", "guided"])
    p.add_argument("--n-points", type=int, default=500)
    p.add_argument("--functions", nargs="+", default=FUNCTIONS)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("bench_sr_results.jsonl"), help="per-run records (JSON lines)")
    p.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    p.add_argument("--note", default="", help="sentence appended to the description (e.g. how busy the machine was)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    eqs = [get_equation(n) for n in args.equations] if args.equations else list(EQUATIONS[: args.n_equations])
    methods = list(args.methods)
    if "guided+llm" in methods and _llm_proposer() is None:
        print("no LLM endpoint configured (OPENAI_BASE_URL): skipping guided+llm", file=sys.stderr)
        methods.remove("guided+llm")
    rows = []
    with args.out.open("w") as out:
        for eq in eqs:
            for noise in args.noise:
                for m in methods:
                    row = run_one(eq, m, budget=args.time, noise=noise, n_points=args.n_points, seed=args.seed,
                                  functions=args.functions)
                    rows.append(row)
                    out.write(json.dumps(row) + "\n")
                    out.flush()
                    print(f"{eq.name:10s} {noise:4.0%} {m:10s} {'R' if row['recovered'] else '.'} "
                          f"{row['seconds']:6.1f}s {row['expression'][:70]}", flush=True)
    md = summarise(rows, methods, args.noise, len(eqs), args)
    print(md)
    if not args.no_write:
        write_section("symbolic_regression", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
