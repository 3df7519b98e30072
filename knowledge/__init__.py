"""hepilot.knowledge: a retrieval index over HEP papers and detector knowledge, with citations.

    from hepilot.knowledge import retrieve, format_hits_for_prompt, Hit
    hits = retrieve("ParticleNet EdgeConv architecture", k=5, filters={"source_type": "method_card"})
    prompt_block = format_hits_for_prompt(hits)      # quoted, delimited DATA with citations

The index (Chroma + BM25, fused by reciprocal rank) lives at settings.kb_dir (HEPILOT_KB); the
shipped corpus (method, detector and reference cards) is indexed into it on first use. Add
papers with `hepilot kb ingest PATH...`. Detector numbers for simulations:
`hepilot.knowledge.detectors.load_detector_card(name)`. Shared embeddings for other modules:
`hepilot.knowledge.embeddings.embed(texts)`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["retrieve", "format_hits_for_prompt", "Hit", "get_store", "KnowledgeStore", "load_detector_card"]

_EXPORTS = {
    "retrieve": "hepilot.knowledge.retrieval",
    "get_store": "hepilot.knowledge.retrieval",
    "format_hits_for_prompt": "hepilot.knowledge.prompting",
    "Hit": "hepilot.knowledge.hits",
    "KnowledgeStore": "hepilot.knowledge.store",
    "load_detector_card": "hepilot.knowledge.detectors",
}

if TYPE_CHECKING:
    from hepilot.knowledge.detectors import load_detector_card
    from hepilot.knowledge.hits import Hit
    from hepilot.knowledge.prompting import format_hits_for_prompt
    from hepilot.knowledge.retrieval import get_store, retrieve
    from hepilot.knowledge.store import KnowledgeStore


def __getattr__(name: str) -> Any:
    # Lazy: importing hepilot.knowledge must not pull in chromadb/torch until retrieval is used.
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'hepilot.knowledge' has no attribute {name!r}")
