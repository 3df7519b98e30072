"""The shipped corpus: method cards, detector cards (Markdown + machine-readable YAML) and reference cards.

Cards are Markdown with YAML front matter (title, source_type, arxiv_id/url, year, experiment,
tool, references). `corpus_files()` lists the Markdown cards that are indexed; `corpus_hash()`
fingerprints them so an index re-syncs when a card changes.
"""
from __future__ import annotations

import hashlib
from importlib import resources

__all__ = ["corpus_files", "corpus_hash", "CARD_FOLDERS"]

CARD_FOLDERS = ("methods", "detectors", "physics")


def corpus_files() -> list[tuple[str, bytes]]:
    """(relative path, bytes) of every shipped Markdown card, sorted by path."""
    root = resources.files(__name__)
    out: list[tuple[str, bytes]] = []
    for folder in CARD_FOLDERS:
        sub = root / folder
        if not sub.is_dir():
            continue
        for entry in sub.iterdir():
            if entry.name.endswith(".md") and not entry.name.startswith(("_", ".")):
                out.append((f"{folder}/{entry.name}", entry.read_bytes()))
    return sorted(out)


def corpus_hash(*, extra: str = "") -> str:
    """SHA-256 over the cards' paths and contents (plus `extra`, e.g. the embedding and chunker versions)."""
    h = hashlib.sha256(extra.encode())
    for rel, data in corpus_files():
        h.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()
