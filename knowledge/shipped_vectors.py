"""Precomputed MiniLM vectors of the shipped cards' chunks, so a fresh index is built in seconds.

`knowledge/corpus/vectors.json` maps sha256(model name + chunk text) to the float32 vector the
shared model produces for that text. A card edited since the file was written simply misses the
cache for its changed chunks, which are then embedded live: the cache can make indexing faster,
never different. Regenerate with `hepilot kb corpus-vectors` after editing cards.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
from importlib import resources
from pathlib import Path

import numpy as np

from hepilot.knowledge.embeddings import EMBEDDING_DIM, MODEL_NAME, embed

__all__ = ["text_key", "embed_with_cache", "corpus_chunk_texts", "write_shipped_vectors", "VECTORS_FILE"]

VECTORS_FILE = "vectors.json"


def text_key(text: str) -> str:
    return hashlib.sha256(f"{MODEL_NAME}\0{text}".encode()).hexdigest()[:32]


@functools.cache
def _shipped() -> dict[str, np.ndarray]:
    entry = resources.files("hepilot.knowledge.corpus") / VECTORS_FILE
    if not entry.is_file():
        return {}
    raw = json.loads(entry.read_text())
    if raw.get("model") != MODEL_NAME or raw.get("dim") != EMBEDDING_DIM:
        return {}
    return {k: np.frombuffer(base64.b64decode(v), dtype="<f4") for k, v in raw["vectors"].items()}


def embed_with_cache(texts: list[str]) -> tuple[np.ndarray, int]:
    """Vectors for texts, from the shipped cache where possible; returns (vectors, number embedded live)."""
    cache = _shipped()
    out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
    missing = []
    for i, text in enumerate(texts):
        vec = cache.get(text_key(text))
        if vec is None:
            missing.append(i)
        else:
            out[i] = vec
    if missing:
        out[missing] = embed([texts[i] for i in missing])
    return out, len(missing)


def corpus_chunk_texts() -> list[str]:
    """The embedding texts of every chunk of every shipped card, as the store indexes them."""
    from hepilot.knowledge.chunking import chunk_blocks, embedding_text
    from hepilot.knowledge.corpus import corpus_files
    from hepilot.knowledge.documents import load_document

    texts = []
    for rel, data in corpus_files():
        doc = load_document(rel, data)
        texts.extend(embedding_text(doc.title, c) for c in chunk_blocks(doc.blocks))
    return texts


def write_shipped_vectors(path: Path | None = None) -> tuple[Path, int]:
    """Embed all shipped chunks with the live model and write the cache file; returns (path, count)."""
    texts = corpus_chunk_texts()
    vectors = embed(texts)
    data = {"model": MODEL_NAME, "dim": EMBEDDING_DIM,
            "vectors": {text_key(t): base64.b64encode(v.astype("<f4").tobytes()).decode() for t, v in
                        zip(texts, vectors)}}
    path = path or Path(str(resources.files("hepilot.knowledge.corpus") / VECTORS_FILE))
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, sort_keys=True))
    tmp.replace(path)
    _shipped.cache_clear()
    return path, len(texts)
