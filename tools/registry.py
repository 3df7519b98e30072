"""The tool registry: imports every tool module once and lists what is available.

Tools register themselves with `@tool` when their module is imported. A module that cannot be
imported (an optional extra not installed, or a defect) is skipped and recorded in `UNAVAILABLE`
with the reason, so one broken area never takes the others down; `hepilot tools list` shows it
and the test suite requires `UNAVAILABLE` to be empty in a full install.
"""
from __future__ import annotations

import importlib
import logging

from hepilot.tools.base import REGISTRY, ToolSpec

__all__ = ["TOOL_MODULES", "UNAVAILABLE", "load_all", "all_tools", "openai_tools"]

log = logging.getLogger(__name__)

# One module per capability area; each defines its tools with @tool.
TOOL_MODULES: tuple[str, ...] = (
    "hepilot.tools.jets",
    "hepilot.tools.bdt",
    "hepilot.tools.knowledge",
    "hepilot.tools.taggers",
    "hepilot.tools.feynman",
    "hepilot.tools.symbolic",
    "hepilot.tools.lagrangian",
    "hepilot.tools.stats",
    "hepilot.tools.fastsim",
    "hepilot.tools.quantum",
    "hepilot.tools.design",
)

UNAVAILABLE: dict[str, str] = {}
_loaded = False


def load_all() -> dict[str, ToolSpec]:
    """Import all tool modules (once) and return the registry."""
    global _loaded
    if not _loaded:
        _loaded = True
        for mod in TOOL_MODULES:
            try:
                importlib.import_module(mod)
            except ModuleNotFoundError as exc:
                UNAVAILABLE[mod] = f"missing dependency {exc.name!r} (install hepilot[all])"
                log.warning("tools in %s unavailable: %s", mod, UNAVAILABLE[mod])
            except Exception as exc:  # a defect in one area must not disable every tool
                UNAVAILABLE[mod] = f"import failed: {type(exc).__name__}: {exc}"
                log.error("tools in %s unavailable: %s", mod, UNAVAILABLE[mod])
    return REGISTRY


def all_tools() -> list[ToolSpec]:
    return sorted(load_all().values(), key=lambda s: (s.category, s.name))


def openai_tools(names: list[str] | None = None) -> list[dict]:
    """OpenAI tool-calling schemas for the given tools (all when None)."""
    specs = all_tools()
    return [s.openai_schema() for s in specs if names is None or s.name in names]
