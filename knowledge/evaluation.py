"""Scoring retrieval against the question set (evals/knowledge/questions.yaml): shared by evals and benchmarks.

A question is answered at rank r when the r-th hit comes from the question's `source` and its
section path contains the question's `section` (or one of its `alternatives`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["load_questions", "answer_rank", "question_hit", "QUESTIONS"]

QUESTIONS = Path(__file__).resolve().parent.parent / "evals" / "knowledge" / "questions.yaml"


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    return yaml.safe_load(Path(path).read_text())


def _answers(q: dict[str, Any]) -> list[tuple[str, str]]:
    return [(q["source"], q["section"])] + [(a["source"], a["section"]) for a in q.get("alternatives", [])]


def answer_rank(q: dict[str, Any], hits) -> int | None:
    """1-based rank of the first hit that answers `q`, or None."""
    for i, h in enumerate(hits, 1):
        if any(h.source == s and sec in h.section for s, sec in _answers(q)):
            return i
    return None


def question_hit(q: dict[str, Any], *, k: int = 5, mode: str = "hybrid", store=None) -> int | None:
    """Rank of the answering chunk among the top k hits of the index (None when absent)."""
    from hepilot.knowledge.retrieval import get_store

    store = store or get_store()
    return answer_rank(q, store.search(q["question"], k=k, mode=mode))
