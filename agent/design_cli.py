"""`hepilot design SPEC.yaml`: run a detector (kind: detector) or analysis (kind: analysis) design spec.

The command goes through the tool layer (optimise_detector / optimise_analysis) so the run is
validated, cached and checked like any tool call; an LLM endpoint, when configured
(OPENAI_BASE_URL / OPENAI_API_KEY), proposes designs between optimiser rounds. Rerunning a
detector spec resumes its Optuna study. Exit codes: 0 ok, 2 invalid spec, 1 failure or failed check.
Mounted by agent/cli.py as `hepilot design`.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

__all__ = ["app"]

app = typer.Typer(add_completion=False, invoke_without_command=True,
                  help="Run a design spec: detector optimisation (Optuna) or analysis optimisation.")


@app.callback()
def design(spec: Path = typer.Argument(..., help="YAML design spec (kind: detector or analysis)"),
           trials: Optional[int] = typer.Option(None, help="Override the trial budget of a detector spec"),
           storage: Optional[str] = typer.Option(None, help="Optuna RDB URL (default: SQLite in the hepilot cache)"),
           workers: Optional[int] = typer.Option(None, help="Local worker processes (default: settings)"),
           no_cache: bool = typer.Option(False, "--no-cache", help="Recompute even if the same call finished"),
           as_json: bool = typer.Option(False, "--json", help="Print the whole result as JSON")) -> None:
    """Run SPEC; print the status line, the Pareto front (detector) or the ladder (analysis) and the report."""
    import yaml
    from rich.console import Console

    from hepilot.agent.llm import client_from_settings
    from hepilot.errors import HepilotError, ToolInputError
    from hepilot.settings import get_settings
    from hepilot.tools.base import ToolContext, execute
    from hepilot.tools.executor import get_executor

    out, err = Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)
    try:
        data = yaml.safe_load(spec.read_text()) if spec.is_file() else None
        if not isinstance(data, dict):
            raise ToolInputError("SPEC", f"{spec} is not a YAML mapping file.", "pass a spec such as "
                                 "models/design/examples/cepc_tracker_ecal.yaml")
        s = get_settings()
        ctx = ToolContext(cache_dir=s.cache_dir, use_cache=s.use_cache and not no_cache,
                          show_progress=sys.stderr.isatty(), llm=client_from_settings(),
                          executor=get_executor(workers))
        if data.get("kind", "detector") == "analysis":
            args = {k: v for k, v in data.items() if k not in ("kind", "name")}
            rec = execute("optimise_analysis", args, ctx=ctx)
        else:
            args = {"spec": str(spec), **{k: v for k, v in (("trials", trials), ("storage", storage)) if v is not None}}
            rec = execute("optimise_detector", args, ctx=ctx)
    except (HepilotError, OSError, yaml.YAMLError) as exc:
        code = exc.exit_code if isinstance(exc, HepilotError) else 2
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(code) from None
    result = rec.result
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=1) + "\n")
    else:
        out.print(result.status, highlight=False, markup=False)
        if hasattr(result, "report"):
            out.print(f"report: {result.report}", highlight=False)
        else:
            out.print(json.dumps(result.rungs, indent=1, default=str), highlight=False)
    failed = [c for c in result.checks if not c.passed]
    if failed:
        err.print(f"physics checks failed: {', '.join(f'{c.name} ({c.message})' for c in failed)}", highlight=False)
        raise typer.Exit(1)
