"""Run directories: creation, the append-only trace, results.json, and listing earlier runs.

runs/<run-id>/
    checkpoints.sqlite   LangGraph checkpoints (resume from any step)
    trace.jsonl          one JSON object per event (node, tool call, LLM request), append-only
    results.json         every tool call with arguments, result, checks, timings
    report.md            the human-readable report (+ plots/ with the PNGs it shows)
    run.json             goal, planner, settings hash, versions, created
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

from hepilot.errors import ToolInputError

__all__ = ["RunDir", "new_run", "open_run", "list_runs", "runs_root"]


def runs_root(out: str | Path | None = None) -> Path:
    from hepilot.settings import get_settings

    return Path(out) if out else get_settings().runs_dir


class RunDir:
    """A run's folder and its files."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints.sqlite"

    @property
    def plots(self) -> Path:
        p = self.path / "plots"
        p.mkdir(exist_ok=True)
        return p

    def trace(self, event: dict[str, Any]) -> None:
        """Append one event to trace.jsonl (flushed and fsynced: the trace survives a kill)."""
        event = {"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"), **event}
        with (self.path / "trace.jsonl").open("a") as f:
            f.write(json.dumps(event, default=str) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def write_json(self, name: str, data: Any) -> Path:
        """Write atomically (temp file + rename) so a kill never leaves half a file."""
        target = self.path / name
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, default=str))
        tmp.replace(target)
        return target

    def write_text(self, name: str, text: str) -> Path:
        target = self.path / name
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(text)
        tmp.replace(target)
        return target

    def meta(self) -> dict[str, Any]:
        p = self.path / "run.json"
        return json.loads(p.read_text()) if p.is_file() else {}


def _slug(goal: str) -> str:
    words = re.findall(r"[a-z0-9]+", goal.lower())[:5]
    return "-".join(words)[:40] or "run"


def new_run(goal: str, *, out: str | Path | None = None, meta: dict[str, Any] | None = None) -> RunDir:
    """Create runs/<date>-<slug>-<random>/ ; an unwritable location is a ToolInputError on `--out`."""
    root = runs_root(out)
    run_id = f"{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{_slug(goal)}-{secrets.token_hex(2)}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        path = root / run_id
        path.mkdir()
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ToolInputError("--out", f"cannot create a run directory in {root} ({exc.strerror or exc}).",
                             "choose a writable folder with --out DIR or set HEPILOT_RUNS_DIR") from None
    run = RunDir(path)
    run.write_json("run.json", {"run_id": run_id, "goal": goal,
                                "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                                **(meta or {})})
    return run


def open_run(run: str | Path, *, out: str | Path | None = None) -> RunDir:
    """An existing run by id (under the runs folder) or by path."""
    p = Path(run)
    if not p.is_dir():
        p = runs_root(out) / str(run)
    if not (p / "checkpoints.sqlite").is_file():
        known = [r.run_id for r in list_runs(out)][:5]
        raise ToolInputError("RUN", f"no run {run!r} (looked in {p}).",
                             f"give a run id from `hepilot runs list`, e.g. {', '.join(known) or 'none yet'}")
    return RunDir(p)


def list_runs(out: str | Path | None = None) -> list[RunDir]:
    """Runs under the runs folder, newest first."""
    root = runs_root(out)
    if not root.is_dir():
        return []
    runs = [RunDir(p) for p in root.iterdir() if (p / "run.json").is_file()]
    return sorted(runs, key=lambda r: r.run_id, reverse=True)
