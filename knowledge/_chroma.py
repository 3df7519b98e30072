"""Chroma plumbing: the MiniLM embedding function adapter and opening a persistent client."""
from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api.types import EmbeddingFunction
from chromadb.config import Settings as ChromaSettings

from hepilot.knowledge.embeddings import MODEL_NAME, embed

__all__ = ["MiniLMEmbeddingFunction", "open_client"]


class MiniLMEmbeddingFunction(EmbeddingFunction):
    """Chroma embedding function backed by `hepilot.knowledge.embeddings.embed` (shared model)."""

    def __init__(self, *, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002 - chroma's argument name
        return list(embed(list(input), batch_size=self.batch_size))

    @staticmethod
    def name() -> str:
        return "hepilot-minilm-l6-v2"

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_NAME, "batch_size": self.batch_size}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        return MiniLMEmbeddingFunction(batch_size=int(config.get("batch_size", 64)))

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "ip", "l2"]


@functools.cache
def open_client(path: str) -> Any:
    """A chromadb PersistentClient at `path` (one per path and process), telemetry off."""
    Path(path).mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=path, settings=ChromaSettings(anonymized_telemetry=False))
