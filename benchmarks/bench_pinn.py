"""PINN (arXiv:2312.02067) vs a conventional ODE solver on the same Feynman-integral DEs: accuracy and time.

For each family (one-loop massless bubble and box, analytic references to all orders) the PINN is
trained with a preset and evaluated on random test points of the domain; scipy's solve_ivp
(DOP853, rtol 1e-12) integrates the same canonical DE from the same first boundary point to the
same test points. Reported side by side: MMRD and max relative difference against the analytic
result, training / solving time (wall and CPU), and inference time per point, for the PINN preset,
the same training without the exact output-layer solve (the paper's recipe alone) and untrained
features with the solve (how much the training matters).

    .venv/bin/python benchmarks/bench_pinn.py [--preset cpu] [--families bubble box] [--n-test 1000]
                                              [--with-paper] [--no-write]

Writes section "pinn" of docs/benchmarks.md (unless --no-write). The 1-minute load average at the
start and end is recorded: on a shared machine wall times are inflated, CPU times much less so.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import replace

import numpy as np

from hepilot.models.theory.pinn import (
    FAMILIES,
    FeynmanPINN,
    PINNConfig,
    max_relative_difference,
    mmrd,
    per_order_mmrd,
    solve_with_ode,
)

sys.path.insert(0, os.path.dirname(__file__))
from _report import write_section  # noqa: E402

log = logging.getLogger("bench_pinn")

PAPER = {"box": "2.2e-5 (GPU, 16 min, 2 boundary points)"}


def _timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def variants(preset: str, with_paper: bool) -> list[tuple[str, PINNConfig]]:
    """The PINN configurations compared: the preset, its ablations, optionally the paper preset."""
    cfg = PINNConfig.preset(preset)
    out = [(f"PINN `{preset}` (Adam + L-BFGS + exact output layer)", cfg),
           (f"PINN `{preset}` without the output-layer solve (paper recipe)", replace(cfg, solve_head=False)),
           ("untrained GELU features + exact output layer (ablation)",
            replace(cfg, adam_steps=0, lbfgs_steps=0))]
    if with_paper and preset != "paper":
        out.append(("PINN `paper` preset (Adam + L-BFGS, longer, no output-layer solve)", PINNConfig.preset("paper")))
    return out


def run_family(name: str, configs: list[tuple[str, PINNConfig]], *, n_test: int, seed: int) -> list[dict]:
    fam = FAMILIES[name]
    system = fam.system()
    rng = np.random.default_rng(seed + 1)
    lo, hi = np.array(fam.domain).T
    pts = lo + (hi - lo) * rng.random((n_test, len(lo)))
    ref = fam.reference(pts, system.order)
    rows = []
    for label, cfg in configs:
        model, wall, cpu = _timed(lambda cfg=cfg: FeynmanPINN(config=cfg, seed=seed).fit(system, fam.domain))
        model.predict(pts[:10])  # warm-up
        pred, _, inf_cpu = min((_timed(lambda model=model: model.predict(pts)) for _ in range(3)), key=lambda t: t[2])
        rows.append({"family": name, "method": label, "pinn": True, "mmrd": mmrd(pred, ref),
                     "max": max_relative_difference(pred, ref), "per_order": per_order_mmrd(pred, ref),
                     "wall": wall, "cpu": cpu, "per_point": inf_cpu / n_test})
    ode, wall, cpu = _timed(lambda: solve_with_ode(system, pts))
    rows.append({"family": name, "method": "solve_ivp (DOP853, rtol 1e-12)", "pinn": False, "mmrd": mmrd(ode, ref),
                 "max": max_relative_difference(ode, ref), "per_order": per_order_mmrd(ode, ref), "wall": wall,
                 "cpu": cpu, "per_point": cpu / n_test})
    for r in rows:
        log.info("%s %-60s MMRD %.2e max %.2e  %.1f s wall %.1f s cpu", name, r["method"], r["mmrd"], r["max"],
                 r["wall"], r["cpu"])
    return rows


def to_markdown(rows: list[dict], cfg: PINNConfig, preset: str, n_test: int, loads: tuple[float, float]) -> str:
    families = list(dict.fromkeys(r["family"] for r in rows))
    lines = [
        "## PINN for Feynman-integral DEs (arXiv:2312.02067) vs solve_ivp",
        "",
        f"PINN preset `{preset}`: GELU MLP {list(cfg.hidden)}, Adam {cfg.adam_steps} steps (batch "
        f"{cfg.batch_size}, fresh uniform points) + L-BFGS up to {cfg.lbfgs_steps} iterations on "
        f"{cfg.n_collocation} Sobol points, float64, {cfg.threads} thread, separate networks for Re and Im; "
        "then (our addition) the linear output layer is set to the exact least-squares minimiser of the same loss. "
        f"Test: {n_test} uniform random points per family, all masters and eps orders 0..4 with a non-zero "
        "reference; MMRD = mean |f - f_ref| / |f_ref| with complex magnitudes, reference = analytic all-order "
        "result. Domains: "
        + "; ".join(f"{f} {FAMILIES[f].variables[0]} in {list(FAMILIES[f].domain[0])} with "
                    f"{len(FAMILIES[f].boundary_points)} boundary point(s)" for f in families)
        + ". The baseline integrates the same DE from the first boundary point.",
        "",
        "| family | method | MMRD | max rel. diff | time to solution (wall / CPU) | CPU per point |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['family']} | {r['method']} | {r['mmrd']:.2e} | {r['max']:.2e} | "
                     f"{r['wall']:.0f} s / {r['cpu']:.0f} s | {r['per_point'] * 1e6:.2g} us |")
    lines.append("")
    for fam in families:
        pinn = next(r for r in rows if r["family"] == fam and r["pinn"])
        ode = next(r for r in rows if r["family"] == fam and not r["pinn"])
        lines.append(f"- {fam}: PINN / solve_ivp: MMRD x{pinn['mmrd'] / max(ode['mmrd'], 1e-300):.2g}, time to "
                     f"solution x{pinn['cpu'] / max(ode['cpu'], 1e-9):.2g} (CPU), evaluation per point once "
                     f"trained x{pinn['per_point'] / ode['per_point']:.2g}; PINN MMRD per eps order "
                     + ", ".join(f"{m:.1e}" for m in pinn["per_order"])
                     + (f"; paper: MMRD {PAPER[fam]}" if fam in PAPER else "") + ".")
    lines.append(f"- Load average (1 min) at start / end: {loads[0]:.1f} / {loads[1]:.1f} on {os.cpu_count()} "
                 "cores: a shared machine inflates wall times; CPU times are the fairer measure. solve_ivp "
                 "'per point' is its whole solve divided by the number of points (it has no trained model); "
                 "PINN per point is the best of 3 evaluations of all test points.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="cpu", choices=["ci", "cpu", "paper"])
    ap.add_argument("--families", nargs="+", default=["bubble", "box"], choices=sorted(FAMILIES))
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--with-paper", action="store_true", help="also run the longer `paper` preset")
    ap.add_argument("--no-write", action="store_true", help="print the table, leave docs/benchmarks.md alone")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cfg = PINNConfig.preset(args.preset)
    start_load = os.getloadavg()[0]
    configs = variants(args.preset, args.with_paper)
    rows = [r for fam in args.families for r in run_family(fam, configs, n_test=args.n_test, seed=args.seed)]
    text = to_markdown(rows, cfg, args.preset, args.n_test, (start_load, os.getloadavg()[0]))
    print(text)
    if not args.no_write:
        write_section("pinn", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
