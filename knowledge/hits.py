"""`Hit`: one retrieved passage with everything needed to cite it."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import PurePath
from typing import Any

__all__ = ["Hit", "CORPUS_PREFIX"]

CORPUS_PREFIX = "corpus:"  # source keys of the shipped cards, e.g. "corpus:methods/particlenet.md"


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk. `score` is the fused RRF score (hybrid), cosine similarity (dense) or BM25."""

    text: str
    score: float
    source: str
    title: str
    section: str = ""
    page: int | None = None
    arxiv_id: str = ""
    url: str = ""
    chunk_id: str = ""
    source_type: str = ""
    experiment: str = ""
    year: int | None = None

    @property
    def source_label(self) -> str:
        """'hepilot corpus: methods/particlenet.md' for shipped cards, the file name otherwise."""
        if self.source.startswith(CORPUS_PREFIX):
            return "hepilot corpus: " + self.source[len(CORPUS_PREFIX):]
        return PurePath(self.source).name

    @property
    def citation(self) -> str:
        """One line: title, section, page, arXiv id or URL, and the source file."""
        parts = [self.title or self.source_label]
        if self.section:
            parts.append(f"§ {self.section}")
        if self.page:
            parts.append(f"p. {self.page}")
        ref = f"arXiv:{self.arxiv_id}" if self.arxiv_id else self.url
        text = ", ".join(parts) + (f" [{ref}]" if ref else "")
        return f"{text} ({self.source_label})"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "citation": self.citation}

    @classmethod
    def from_chunk(cls, chunk_id: str, text: str, meta: dict[str, Any], score: float) -> Hit:
        page = meta.get("page")
        return cls(text=text, score=float(score), source=str(meta.get("source", "")), title=str(meta.get("title", "")),
                   section=str(meta.get("section", "")), page=int(page) if page else None,
                   arxiv_id=str(meta.get("arxiv_id", "")), url=str(meta.get("url", "")), chunk_id=chunk_id,
                   source_type=str(meta.get("source_type", "")), experiment=str(meta.get("experiment", "")),
                   year=int(meta["year"]) if meta.get("year") else None)
