"""The `hepilot` command line: run, resume, chat, batch, runs, tools; mounts kb, eval, design and serve.

Exit codes: 0 success, 2 invalid input (the message names the field and the fix), 1 execution or
physics-check failure.
"""
from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from hepilot.errors import HepilotError

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="hepilot: an LLM-agent research assistant for high-energy physics.")
tools_app = typer.Typer(no_args_is_help=True, help="List, inspect and call tools directly.")
runs_app = typer.Typer(no_args_is_help=True, help="Earlier runs.")
app.add_typer(tools_app, name="tools")
app.add_typer(runs_app, name="runs")

out_console = Console(soft_wrap=True)  # never wrap: messages must stay greppable
err = Console(stderr=True, soft_wrap=True)


def _fail(exc: HepilotError) -> None:
    err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
    raise typer.Exit(exc.exit_code)


_DASK_HELP = "Dask scheduler tcp://HOST:PORT for chunked work (default HEPILOT_DASK; local pool when unset)"
_BATCH_DASK_HELP = "Dask scheduler tcp://HOST:PORT: goals run on its workers (default HEPILOT_DASK; else in turn)"


@contextlib.contextmanager
def _dask_executor(address: str | None) -> Iterator[object | None]:
    """A DaskExecutor for `--dask ADDRESS` (closed afterwards), None without an address."""
    if not address:
        yield None
        return
    from hepilot.tools.executor import get_executor

    executor = get_executor(dask=address)
    try:
        yield executor
    finally:
        executor.close()


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress (INFO) to stderr")) -> None:
    from rich.logging import RichHandler

    level = logging.INFO if verbose else logging.WARNING
    handler = RichHandler(console=err, show_path=False)
    handler.setLevel(level)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler])


def _print_outcome(run, state: dict, as_json: bool) -> int:
    from hepilot.agent.report import exit_code

    code = exit_code(state)
    if as_json:
        out_console.print_json(json.dumps({"run_id": run.run_id, "status": state.get("status"),
                                           "answer": state.get("answer"), "report": str(run.path / "report.md"),
                                           "steps": [{"step": r["step"], "tool": r["tool"], "error": r.get("error"),
                                                      "status": (r.get("result") or {}).get("status")}
                                                     for r in state.get("records", [])]}, default=str))
        return code
    for r in [r for r in state.get("records", []) if r.get("turn") == state.get("turn", 0)]:
        res = r.get("result") or {}
        mark = "[red]x[/red]" if r.get("error") or any(not c["passed"] for c in res.get("checks", [])) else "[green]ok[/green]"
        out_console.print(f"{mark} {r['step']} {r['tool']}: {r.get('error') or res.get('status', '')}", highlight=False)
    if state.get("answer"):
        out_console.print(state["answer"], highlight=False, markup=False)
    colour = "green" if code == 0 else "red"
    out_console.print(f"[{colour}]{state.get('status')}[/{colour}] — report: {run.path / 'report.md'}", highlight=False)
    return code


def _approval_loop(session, state: dict) -> dict:
    """Ask the user to accept, edit or reject a paused plan (interactive terminals)."""
    while True:
        req = session.pending_interrupt()
        if req is None:
            return state
        table = Table(title="plan awaiting approval")
        for col in ("step", "tool", "arguments"):
            table.add_column(col)
        for s in req["pending"]:
            table.add_row(s["id"], s["tool"], json.dumps(s.get("args", {}), default=str))
        out_console.print(table)
        if not sys.stdin.isatty():
            out_console.print(f"paused for approval: hepilot resume {session.run.run_id} --accept | --reject | "
                              f"--edit '{{\"STEP\": {{\"arg\": value}}}}'")
            return state
        choice = typer.prompt("accept, edit or reject?", default="accept")
        if choice.startswith("r"):
            decision = {"action": "reject"}
        elif choice.startswith("e"):
            decision = {"action": "edit", "args": json.loads(typer.prompt('edits as JSON {"step": {"arg": value}}'))}
        else:
            decision = {"action": "accept"}
        state = session.resume(decision)


@app.command()
def run(goal: str = typer.Argument(..., help="What to do, in plain language"),
        approve: bool = typer.Option(False, "--approve", help="Show the plan and wait for approval before acting"),
        out: Optional[Path] = typer.Option(None, "--out", help="Folder for run directories (default ./runs)"),
        planner: Optional[str] = typer.Option(None, "--planner", help="offline or llm (default: llm if an endpoint is set)"),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON summary"),
        dask: Optional[str] = typer.Option(None, "--dask", help=_DASK_HELP)) -> None:
    """Plan and run one goal; writes runs/<run-id>/report.md."""
    from hepilot.agent.session import Session, run_goal

    if planner not in (None, "offline", "llm"):
        _fail(_input_error("--planner", planner))
    try:
        with _dask_executor(dask) as executor:
            r, state = run_goal(goal, out=out, planner=planner, approve=approve, show_progress=sys.stderr.isatty(),
                                executor=executor)
            if approve:
                state = _approval_loop(Session(r, approve=True, show_progress=sys.stderr.isatty(), executor=executor),
                                       state)
    except HepilotError as exc:
        _fail(exc)
    raise typer.Exit(_print_outcome(r, state, as_json))


def _input_error(field: str, value) -> HepilotError:
    from hepilot.errors import ToolInputError

    return ToolInputError(field, f"unknown value {value!r}.", "use 'offline' or 'llm'")


@app.command()
def resume(run_id: str = typer.Argument(..., help="Run id (from `hepilot runs list`) or run folder"),
           accept: bool = typer.Option(False, "--accept", help="Accept a plan waiting for approval"),
           reject: bool = typer.Option(False, "--reject", help="Reject a plan waiting for approval"),
           edit: Optional[str] = typer.Option(None, "--edit", help='Edit arguments: {"step": {"arg": value}}'),
           out: Optional[Path] = typer.Option(None, "--out", help="Folder holding the run directories"),
           as_json: bool = typer.Option(False, "--json", help="Print a JSON summary"),
           dask: Optional[str] = typer.Option(None, "--dask", help=_DASK_HELP)) -> None:
    """Continue a killed or paused run from its last checkpoint; finished steps are not recomputed."""
    from hepilot.agent.session import resume_run
    from hepilot.errors import ToolInputError

    decision = None
    if reject:
        decision = {"action": "reject"}
    elif edit:
        try:
            decision = {"action": "edit", "args": json.loads(edit)}
        except json.JSONDecodeError as exc:
            _fail(ToolInputError("--edit", f"not valid JSON ({exc}).", 'pass {"step": {"arg": value}}'))
    elif accept:
        decision = {"action": "accept"}
    try:
        with _dask_executor(dask) as executor:
            r, state = resume_run(run_id, out=out, decision=decision, show_progress=sys.stderr.isatty(),
                                  executor=executor)
    except HepilotError as exc:
        _fail(exc)
    raise typer.Exit(_print_outcome(r, state, as_json))


@app.command()
def chat(out: Optional[Path] = typer.Option(None, "--out", help="Folder for the conversation's run directory"),
         planner: Optional[str] = typer.Option(None, "--planner", help="offline or llm")) -> None:
    """A conversation on one thread: each line is a goal; follow-ups reuse earlier results. 'exit' ends it."""
    from hepilot.agent.runs import new_run
    from hepilot.agent.session import Session
    from hepilot.settings import get_settings

    chosen = planner or get_settings().effective_planner
    try:
        session = Session(new_run("chat", out=out, meta={"planner": chosen, "chat": True}), planner=chosen,
                          show_progress=sys.stderr.isatty())
    except HepilotError as exc:
        _fail(exc)
    out_console.print(f"hepilot chat — run {session.run.run_id}; type a goal, 'exit' to stop.")
    for line in sys.stdin if not sys.stdin.isatty() else iter(lambda: typer.prompt("you", default="exit"), None):
        goal = line.strip()
        if goal.lower() in ("exit", "quit", ":q"):
            break
        if not goal:
            continue
        state = session.ask(goal)
        _print_outcome(session.run, state, False)


@app.command()
def batch(goals_file: Path = typer.Argument(..., help="YAML: a list of goals (strings or {id, goal})"),
          out: Optional[Path] = typer.Option(None, "--out", help="Folder for run directories"),
          as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON"),
          dask: Optional[str] = typer.Option(None, "--dask", help=_BATCH_DASK_HELP)) -> None:
    """Run many goals, each in its own run (failures isolated); re-running resumes where it stopped."""
    from hepilot.agent.batch import load_goals, run_batch
    from hepilot.settings import get_settings

    try:
        goals = load_goals(goals_file)
        with _dask_executor(dask or get_settings().dask) as executor:
            summary = run_batch(goals, goals_file=goals_file, out=out, executor=executor)
    except HepilotError as exc:
        _fail(exc)
    if as_json:
        out_console.print_json(json.dumps(summary, default=str))
    else:
        table = Table(title=f"batch {goals_file.name}")
        for col in ("id", "status", "run", "summary"):
            table.add_column(col)
        for row in summary["goals"]:
            table.add_row(row["id"], row["status"], row.get("run_id") or "-", (row.get("summary") or "")[:80])
        out_console.print(table)
    raise typer.Exit(0 if all(g["status"] == "done" for g in summary["goals"]) else 1)


@runs_app.command("list")
def runs_list(out: Optional[Path] = typer.Option(None, "--out", help="Folder holding the run directories"),
              as_json: bool = typer.Option(False, "--json")) -> None:
    """Earlier runs, newest first, with their goal and status."""
    from hepilot.agent.runs import list_runs

    rows = []
    for r in list_runs(out):
        res = r.path / "results.json"
        status = json.loads(res.read_text()).get("status") if res.is_file() else "unfinished"
        rows.append({"run_id": r.run_id, "goal": r.meta().get("goal", ""), "status": status})
    if as_json:
        out_console.print_json(json.dumps(rows))
        return
    table = Table()
    for col in ("run", "status", "goal"):
        table.add_column(col)
    for row in rows:
        table.add_row(row["run_id"], row["status"], row["goal"][:70])
    out_console.print(table)


@tools_app.command("list")
def tools_list(as_json: bool = typer.Option(False, "--json", help="JSON with each tool's schema")) -> None:
    """All registered tools (and tool areas unavailable for missing extras)."""
    from hepilot.tools.registry import UNAVAILABLE, all_tools

    specs = all_tools()
    if as_json:
        out_console.print_json(json.dumps([{"name": s.name, "category": s.category, "description": s.description,
                                            "input_schema": s.input_schema()} for s in specs]))
        return
    table = Table()
    for col in ("tool", "area", "what it does"):
        table.add_column(col)
    for s in specs:
        table.add_row(s.name, s.category, s.summary)
    out_console.print(table)
    for mod, why in UNAVAILABLE.items():
        err.print(f"unavailable: {mod}: {why}")


@tools_app.command("show")
def tools_show(name: str) -> None:
    """A tool's description and its JSON Schema (what an LLM sees)."""
    from hepilot.tools.base import get_tool

    try:
        spec = get_tool(name)
    except HepilotError as exc:
        _fail(exc)
    out_console.print(f"[bold]{spec.name}[/bold] ({spec.category})\n\n{spec.description}\n")
    out_console.print_json(json.dumps(spec.input_schema()))


@tools_app.command("call")
def tools_call(name: str, args_json: str = typer.Option("{}", "--json", help="Arguments as a JSON object"),
               no_cache: bool = typer.Option(False, "--no-cache", help="Recompute even if a cached result exists"),
               dask: Optional[str] = typer.Option(None, "--dask", help=_DASK_HELP)) -> None:
    """Call one tool and print its result as JSON on stdout (exit 0 ok, 2 invalid input, 1 failure)."""
    from hepilot.agent.llm import client_from_settings
    from hepilot.errors import ToolInputError
    from hepilot.settings import get_settings
    from hepilot.tools.base import ToolContext, execute

    try:
        args = json.loads(args_json)
    except json.JSONDecodeError as exc:
        _fail(ToolInputError("--json", f"not valid JSON ({exc.msg} at position {exc.pos}).",
                             "pass one JSON object, e.g. --json '{\"n_jets\": 100}'", tool=name))
    s = get_settings()
    try:
        with _dask_executor(dask) as executor:
            ctx = ToolContext(cache_dir=s.cache_dir, use_cache=s.use_cache and not no_cache,
                              show_progress=sys.stderr.isatty(), executor=executor, llm=client_from_settings())
            rec = execute(name, args, ctx=ctx)
    except HepilotError as exc:
        _fail(exc)
    sys.stdout.write(rec.result.model_dump_json(indent=1) + "\n")
    failed = [c for c in rec.result.checks if not c.passed]
    if failed:
        err.print(f"physics checks failed: {', '.join(f'{c.name} ({c.message})' for c in failed)}", highlight=False)
        raise typer.Exit(1)


def _mount_optional() -> None:
    """Sub-commands owned by other areas; each is mounted when its module is installed."""
    import importlib

    for module, name, help_text in (("hepilot.knowledge.cli", "kb", "The knowledge index: ingest, search, stats."),
                                    ("hepilot.evals.cli", "eval", "Physics-correctness evaluation suites."),
                                    ("hepilot.agent.design_cli", "design", "Detector and analysis design loops."),
                                    ("hepilot.agent.serve", "serve", "Serve the tools (MCP).")):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue
            raise
        sub = getattr(mod, "app", None)
        if isinstance(sub, typer.Typer):
            app.add_typer(sub, name=name, help=help_text)


def main() -> None:
    _mount_optional()
    app()
