"""`hepilot eval`: run evaluation suites, print the scores, save and compare results."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["app"]

app = typer.Typer(help="Physics-correctness evaluation of tools and whole agent runs.", invoke_without_command=True)
console = Console(soft_wrap=True)


@app.callback()
def evaluate(suite: Optional[list[str]] = typer.Option(None, "--suite", help="Suite name (repeatable); default all"),
             planner: str = typer.Option("offline", "--planner", help="offline or llm"),
             jobs: int = typer.Option(1, "--jobs", min=1, help="Agent cases run in parallel processes"),
             fast: bool = typer.Option(False, "--fast", help="The fast subset: plans only, no heavy runs (< 3 min)"),
             as_json: bool = typer.Option(False, "--json", help="Print the results as JSON"),
             compare_to: Optional[Path] = typer.Option(None, "--compare", help="Earlier results JSON to diff against"),
             save: bool = typer.Option(True, "--save/--no-save", help="Write evals/results/<date>-<commit>.json")) -> None:
    """Run the suites and report plan accuracy, answer accuracy, check pass rate, refusals, recall and wall time."""
    from dataclasses import asdict

    from hepilot.errors import HepilotError, ToolInputError
    from hepilot.evals.harness import compare, run_suites, save_results, summarize

    if planner not in ("offline", "llm"):
        console.print("error: invalid argument '--planner': use 'offline' or 'llm'.", style="red")
        raise typer.Exit(2)
    old = None
    if compare_to is not None:
        try:
            old = json.loads(compare_to.read_text())["results"]
        except (OSError, ValueError, KeyError) as exc:
            console.print(str(ToolInputError("--compare", f"cannot read {compare_to} ({exc}).",
                                             "pass a file written by `hepilot eval`")), style="red")
            raise typer.Exit(2)
    try:
        results = run_suites(suite, planner=planner, fast=fast, jobs=jobs)
    except HepilotError as exc:
        console.print(f"error: {exc}", style="red")
        raise typer.Exit(exc.exit_code)
    summary = summarize(results)
    path = save_results(results, summary, planner=planner, fast=fast) if save else None
    changes = compare([asdict(r) for r in results], old) if old is not None else []
    if as_json:
        console.print_json(json.dumps({"summary": summary, "results": [asdict(r) for r in results],
                                       "changes": changes, "saved": str(path) if path else None}))
    else:
        table = Table(title=f"hepilot eval ({planner}{', fast' if fast else ''})")
        for col in ("suite", "cases", "passed", "plan acc.", "answer acc.", "checks", "refusals", "seconds"):
            table.add_column(col)
        rows = {**summary["suites"], "ALL": summary["overall"]}
        for name, s in rows.items():
            fmt = (lambda v: "-" if v is None else f"{v:.2f}")
            table.add_row(name, str(s["cases"]), str(s["passed"]), fmt(s["plan_accuracy"]), fmt(s["answer_accuracy"]),
                          fmt(s["check_pass_rate"]), fmt(s["refusal_correctness"]), f"{s['wall_seconds']:.0f}")
        console.print(table)
        for r in results:
            if not r.passed:
                console.print(f"[red]FAIL[/red] {r.suite}/{r.id}: {'; '.join(r.details)[:300]}")
        for c in changes:
            console.print(f"{c['kind']}: {c['suite']}/{c['id']}")
        if path:
            console.print(f"saved {path}")
    raise typer.Exit(0 if all(r.passed for r in results) and not any(c["kind"] == "regression" for c in changes) else 1)
