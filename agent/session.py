"""Running the agent: one goal (`run`), resuming a killed or paused run, and multi-turn chat threads.

Each run has its own folder and SQLite checkpointer; the LangGraph thread id is the run id, so
`resume(run_id)` in a new process continues from the last finished step (tool results already
computed come from the content-addressed cache). A chat is one run folder whose thread gets a
new goal per turn; records and slot memory carry over, so follow-ups reuse earlier results.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hepilot.agent.graph import build_graph
from hepilot.agent.nodes import Runtime
from hepilot.agent.runs import RunDir, new_run, open_run
from hepilot.agent.state import TURN_KEYS
from hepilot.tools.base import ToolContext

__all__ = ["Session", "run_goal", "resume_run"]

log = logging.getLogger(__name__)


class Session:
    """An agent thread bound to one run folder (a single goal or a chat)."""

    def __init__(self, run: RunDir, *, planner: str | None = None, approve: bool = False, show_progress: bool = False,
                 executor: Any = None):
        from hepilot.agent.llm import client_from_settings
        from hepilot.settings import get_settings

        s = get_settings()
        self.run = run
        self.planner = planner or run.meta().get("planner") or s.effective_planner
        self.approve = approve
        llm = client_from_settings(trace=run.trace) if (self.planner == "llm" or s.llm_configured) else None
        if self.planner == "llm" and llm is None:
            from hepilot.errors import ToolInputError

            raise ToolInputError("--planner", "the LLM planner needs an endpoint.",
                                 "set OPENAI_BASE_URL (and OPENAI_API_KEY if the endpoint needs one), or use --planner offline")
        self.runtime = Runtime(run=run, tool_context=ToolContext(cache_dir=s.cache_dir, use_cache=s.use_cache,
                                                                  show_progress=show_progress, llm=llm,
                                                                  executor=executor),
                               llm=llm, max_replans=s.max_replans, max_turns=s.max_turns)
        self.config = {"configurable": {"thread_id": run.run_id}, "recursion_limit": 200}

    @contextlib.contextmanager
    def _graph(self) -> Iterator[Any]:
        from langgraph.checkpoint.sqlite import SqliteSaver

        with SqliteSaver.from_conn_string(str(self.run.checkpoints)) as saver:
            yield build_graph(self.runtime, checkpointer=saver)

    def state(self) -> dict[str, Any]:
        with self._graph() as g:
            return dict(g.get_state(self.config).values)

    def pending_interrupt(self) -> dict[str, Any] | None:
        """The approval request the run is paused at, if any."""
        with self._graph() as g:
            snap = g.get_state(self.config)
            for task in snap.tasks:
                for intr in task.interrupts:
                    return intr.value
        return None

    def ask(self, goal: str) -> dict[str, Any]:
        """Run one turn with a new goal on this thread; returns the final (or paused) state."""
        prev = self.state() if self.run.checkpoints.is_file() else {}
        turn = (prev.get("turn", -1) + 1) if prev else 0
        inp = {**TURN_KEYS, "goal": goal, "turn": turn, "run_id": self.run.run_id, "run_dir": str(self.run.path),
               "planner": self.planner, "approve": self.approve, "records": prev.get("records", []),
               "memory": prev.get("memory", {}), "messages": prev.get("messages", [])}
        with self._graph() as g:
            g.invoke(inp, self.config)
            return dict(g.get_state(self.config).values)

    def resume(self, decision: dict[str, Any] | None = None) -> dict[str, Any]:
        """Continue from the last checkpoint (after a kill), or answer a pending approval."""
        from langgraph.types import Command

        with self._graph() as g:
            snap = g.get_state(self.config)
            if not snap.next:
                return dict(snap.values)
            waiting = any(t.interrupts for t in snap.tasks)
            g.invoke(Command(resume=decision or {"action": "accept"}) if waiting else None, self.config)
            return dict(g.get_state(self.config).values)


def run_goal(goal: str, *, out: str | Path | None = None, planner: str | None = None, approve: bool = False,
             show_progress: bool = False, executor: Any = None) -> tuple[RunDir, dict[str, Any]]:
    """Create a run folder and run one goal; returns (run, final or paused state)."""
    from hepilot.settings import get_settings, settings_hash

    s = get_settings()
    chosen = planner or s.effective_planner
    run = new_run(goal, out=out, meta={"planner": chosen, "settings_hash": settings_hash(),
                                       "model": s.model if chosen == "llm" else None})
    session = Session(run, planner=chosen, approve=approve, show_progress=show_progress, executor=executor)
    return run, session.ask(goal)


def resume_run(run_id: str, *, out: str | Path | None = None, decision: dict[str, Any] | None = None,
               show_progress: bool = False, executor: Any = None) -> tuple[RunDir, dict[str, Any]]:
    run = open_run(run_id, out=out)
    session = Session(run, show_progress=show_progress, executor=executor)
    return run, session.resume(decision)
