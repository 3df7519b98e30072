"""The agent-facing retrieval API: `retrieve(query, k, filters)` over the default on-disk index.

The index lives at `settings.kb_dir` (HEPILOT_KB). On first use in a process the shipped corpus
is indexed into it (and re-indexed whenever the shipped cards change: their hash is stored in
the manifest), so `retrieve` works on a fresh machine without any set-up step.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from hepilot.knowledge.hits import Hit
from hepilot.knowledge.store import KnowledgeStore, SearchMode

__all__ = ["retrieve", "get_store", "reset_stores"]

_STORES: dict[Path, KnowledgeStore] = {}
_GUARD = threading.Lock()


def get_store(kb_dir: str | Path | None = None, *, sync_corpus: bool = True) -> KnowledgeStore:
    """The process-wide store for `kb_dir` (default: settings.kb_dir), with the shipped corpus synced."""
    if kb_dir is None:
        from hepilot.settings import get_settings

        kb_dir = get_settings().kb_dir
    key = Path(kb_dir).expanduser().resolve()
    with _GUARD:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = KnowledgeStore(key)
            if sync_corpus:
                store.sync_corpus()
    return store


def reset_stores() -> None:
    """Forget the per-process stores (tests that switch HEPILOT_KB call this)."""
    with _GUARD:
        _STORES.clear()


def retrieve(query: str, k: int = 5, filters: dict[str, Any] | None = None, *, mode: SearchMode = "hybrid",
             kb_dir: str | Path | None = None) -> list[Hit]:
    """The k passages that best answer `query`, each citable (`hit.citation`).

    filters: {"source_type": "detector_card", "experiment": "CMS", "year": {"$gte": 2019},
    "arxiv_id": "1902.08570", "tool": "train_tagger"} (see hepilot.knowledge.filters).
    mode: "hybrid" (dense + BM25, reciprocal-rank fusion; the default), "dense" or "bm25".
    """
    if not 1 <= k <= 100:
        raise ValueError(f"k must be between 1 and 100, got {k}")
    return get_store(kb_dir).search(query, k=k, filters=filters, mode=mode)
