"""The retrieval question set stays true to the shipped corpus: every question has a chunk that answers it."""
from __future__ import annotations

from pathlib import Path

import yaml

from hepilot.knowledge.chunking import chunk_blocks
from hepilot.knowledge.corpus import corpus_files
from hepilot.knowledge.documents import load_document
from hepilot.knowledge.hits import CORPUS_PREFIX

QUESTION_FILE = Path(__file__).resolve().parents[2] / "evals" / "knowledge" / "questions.yaml"


def test_every_question_names_a_chunk_containing_its_answer():
    chunks = {}
    for rel, data in corpus_files():
        doc = load_document(rel, data)
        chunks[CORPUS_PREFIX + rel] = chunk_blocks(doc.blocks)
    questions = yaml.safe_load(QUESTION_FILE.read_text())
    assert len(questions) >= 60 and len({q["id"] for q in questions}) == len(questions)
    covered = set()
    for q in questions:
        for target in [q] + q.get("alternatives", []):
            matching = [c for c in chunks[target["source"]] if target["section"] in c.section]
            assert matching, (q["id"], target)
        answering = [c for c in chunks[q["source"]] if q["section"] in c.section and q["answer"] in c.text]
        assert answering, f"{q['id']}: no chunk of {q['source']} § {q['section']!r} contains {q['answer']!r}"
        covered.add(q["source"])
    assert len(covered) >= 25  # the set spans (almost) every card, not a few easy ones
