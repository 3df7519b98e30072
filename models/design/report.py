"""The report of a detector design study: Pareto plots, best-designs table, fANOVA importances, baselines.

    pareto_<objective>.png   cost vs one objective: every trial (grey), the designs on the Pareto front
                             of all objectives (blue points), the front of this projection (step
                             line), seeded and LLM-proposed trials, the baseline detectors as stars
                             and the cost budget as a vertical line
    importances.png          fANOVA importance of each parameter for cost and each objective
                             (optuna.importance.FanovaImportanceEvaluator, Hutter et al., ICML 2014)
    report.md                the tables and the trade-off paragraph
"""
from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import optuna  # noqa: E402

from hepilot.models.design.detector_loop import DesignStudyResult, record_dominates  # noqa: E402
from hepilot.models.design.objectives import OBJECTIVES  # noqa: E402
from hepilot.models.design.pareto import pareto_mask  # noqa: E402

__all__ = ["parameter_importances", "pareto_plots", "importance_plot", "designs_table", "baselines_table",
           "markdown_report"]

log = logging.getLogger(__name__)


def parameter_importances(study: optuna.Study, objectives: list[str], *, seed: int = 0
                          ) -> dict[str, dict[str, float]]:
    """fANOVA importances per target ('cost' and each objective); empty when too few trials varied."""
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) < 4:
        return {}
    out: dict[str, dict[str, float]] = {}
    for i, name in enumerate(["cost"] + list(objectives)):
        try:
            imp = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=seed),
                target=lambda t, i=i: t.values[i])
        except (RuntimeError, ValueError) as exc:  # e.g. a single distinct value of every parameter
            log.info("no importances for %s: %s", name, exc)
            continue
        out[name] = {k: float(v) for k, v in imp.items()}
    return out


def pareto_plots(result: DesignStudyResult, out_dir: Path) -> dict[str, str]:
    """One PNG per objective: cost (x) vs objective (y)."""
    paths = {}
    spec = result.spec
    for name in spec.objectives:
        fig, ax = plt.subplots(figsize=(6.4, 4.6))
        x = np.array([r.cost for r in result.trials])
        y = np.array([r.objectives[name] for r in result.trials])
        ax.scatter(x, y, s=14, c="0.7", label="trials")
        for src, marker, colour in (("card", "s", "tab:green"), ("llm", "D", "tab:purple")):
            sel = [r for r in result.trials if r.source.startswith(src)]
            if sel:
                ax.scatter([r.cost for r in sel], [r.objectives[name] for r in sel], s=30, marker=marker,
                           facecolors="none", edgecolors=colour, label=f"{src} seeds" if src == "card" else "LLM")
        front = result.front
        if front:
            ax.scatter([r.cost for r in front], [r.objectives[name] for r in front], s=22, color="tab:blue",
                       label="Pareto front (all objectives)")
        feasible = [r for r in result.trials if r.feasible]
        if feasible:  # the front of this projection: cost against this objective alone
            sign = -1.0 if OBJECTIVES[name].direction == "maximize" else 1.0
            pts = np.array([[r.cost, sign * r.objectives[name]] for r in feasible])
            proj = pts[pareto_mask(pts)]
            proj = proj[np.argsort(proj[:, 0])]
            ax.step(proj[:, 0], sign * proj[:, 1], where="post", color="tab:blue", lw=1, alpha=0.7,
                    label="front of this projection")
        for bname, b in result.baselines.items():
            ax.scatter([b.cost], [b.objectives[name]], marker="*", s=160, zorder=5, label=f"{bname} (preset)")
        if spec.cost_budget is not None:
            ax.axvline(spec.cost_budget, color="tab:red", ls="--", lw=1, label="budget")
        unit = OBJECTIVES[name].unit
        ax.set_xlabel("cost [MCHF]")
        ax.set_ylabel(f"{name}" + (f" [{unit}]" if unit else ""))
        ax.set_title(f"{spec.name}: cost vs {name}", fontsize=10)
        ax.legend(fontsize=7, loc="best")
        fig.tight_layout()
        path = out_dir / f"pareto_{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths[f"pareto_{name}"] = str(path)
    return paths


def importance_plot(importances: dict[str, dict[str, float]], out_dir: Path) -> str | None:
    if not importances:
        return None
    targets = list(importances)
    params = sorted({p for v in importances.values() for p in v})
    fig, ax = plt.subplots(figsize=(6.4, 0.5 + 0.45 * len(params) * len(targets) ** 0.5))
    height = 0.8 / len(targets)
    for j, t in enumerate(targets):
        ax.barh(np.arange(len(params)) + j * height, [importances[t].get(p, 0.0) for p in params], height=height,
                label=t)
    ax.set_yticks(np.arange(len(params)) + 0.4 - height / 2)
    ax.set_yticklabels(params, fontsize=8)
    ax.set_xlabel("fANOVA importance")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = out_dir / "importances.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


def designs_table(result: DesignStudyResult, *, limit: int = 10) -> str:
    """Markdown table of the Pareto-optimal designs, cheapest first."""
    spec = result.spec
    names = list(spec.parameters)
    head = ["trial", "source", "cost [MCHF]"] + [f"{o} [{OBJECTIVES[o].unit}]" if OBJECTIVES[o].unit else o
                                                 for o in spec.objectives] + names
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in result.front[:limit]:
        cells = [str(r.number), r.source, f"{r.cost:.1f}"] + [f"{r.objectives[o]:.4g}" for o in spec.objectives]
        lines.append("| " + " | ".join(cells + [f"{r.params[p]:.4g}" for p in names]) + " |")
    return "\n".join(lines)


def baselines_table(result: DesignStudyResult) -> str:
    spec = result.spec
    head = ["baseline", "cost [MCHF]"] + list(spec.objectives) + ["dominated by front trials"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, b in result.baselines.items():
        doms = [str(r.number) for r in result.front if record_dominates(r, b, spec)]
        cells = [name, f"{b.cost:.1f}"] + [f"{b.objectives[o]:.4g}" for o in spec.objectives]
        lines.append("| " + " | ".join(cells + [", ".join(doms[:6]) or "none"]) + " |")
    return "\n".join(lines)


def markdown_report(result: DesignStudyResult, importances: dict[str, dict[str, float]], tradeoffs: str,
                    plots: dict[str, str]) -> str:
    spec = result.spec
    imp_lines = []
    for target, vals in importances.items():
        top = ", ".join(f"{k} {v:.2f}" for k, v in sorted(vals.items(), key=lambda kv: -kv[1]))
        imp_lines.append(f"- {target}: {top}")
    figs = "\n".join(f"![{k}]({Path(v).name})" for k, v in plots.items())
    budget = f"{spec.cost_budget:g} MCHF" if spec.cost_budget is not None else "none"
    return (f"# Detector design study `{result.study_name}`\n\n"
            f"Base detector `{spec.base}`, sampler {spec.sampler}, {len(result.trials)} completed trials "
            f"({result.n_failed} failed), cost budget {budget}, storage `{result.storage}`. Events: "
            f"{spec.events.n_events} e+e- events / {spec.events.n_jets} jets per process (seed {spec.events.seed}); "
            f"{result.trials_per_minute:.1f} trials per minute in this run.\n\n"
            f"## Pareto-optimal designs\n\n{designs_table(result)}\n\n"
            f"## Baseline detectors (presets) against the front\n\n{baselines_table(result)}\n\n"
            f"## Parameter importances (fANOVA)\n\n" + ("\n".join(imp_lines) or "too few trials") + "\n\n"
            f"## Trade-offs\n\n{tradeoffs}\n\n{figs}\n")
