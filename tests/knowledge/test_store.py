"""Incremental ingest: add, skip unchanged, replace changed, refuse duplicates and bad files, filters."""
from __future__ import annotations

import pytest

from hepilot.knowledge.store import KnowledgeStore

from .conftest import write_pdf

CALO = """# Calorimeter note

## Energy resolution
The prototype calorimeter has a stochastic term of 12 percent and a constant term of 0.8 percent.

## Granularity
Cells are 5 by 5 millimetres, read out by silicon pads.
"""
TRACKER = """# Tracker note

## Momentum resolution
The drift chamber reaches a momentum resolution of 0.4 percent at 1 GeV in a 1 tesla field.
"""


@pytest.fixture
def store(kb_dir):
    return KnowledgeStore(kb_dir)


def _chroma_ids(store: KnowledgeStore) -> set[str]:
    return set(store._collection(store.manifest().collection).get(include=[])["ids"])


def test_add_skip_replace_and_duplicate(store, tmp_path):
    calo, tracker = tmp_path / "calo.md", tmp_path / "tracker.md"
    calo.write_text(CALO)
    tracker.write_text(TRACKER)
    report = store.ingest([calo, tracker])
    assert [o.status for o in report.outcomes] == ["added", "added"] and not report.failed
    first_ids = set(store.manifest().documents[str(calo.resolve())].chunk_ids)
    assert _chroma_ids(store) == {i for d in store.manifest().documents.values() for i in d.chunk_ids}

    again = store.ingest([calo, tracker])
    assert [o.status for o in again.outcomes] == ["unchanged", "unchanged"] and again.n_chunks_added == 0

    calo.write_text(CALO.replace("12 percent", "15 percent") + "\n## Timing\nHits are timed to 50 picoseconds.\n")
    replaced = store.ingest([calo])
    assert replaced.outcomes[0].status == "replaced"
    new_ids = set(store.manifest().documents[str(calo.resolve())].chunk_ids)
    assert not new_ids & first_ids and not first_ids & _chroma_ids(store)  # old chunks are gone
    hit = store.search("calorimeter stochastic term", k=1)[0]
    assert "15 percent" in hit.text and "12 percent" not in hit.text

    copy = tmp_path / "copy_of_tracker.md"
    copy.write_text(TRACKER)
    dup = store.ingest([copy])
    assert dup.outcomes[0].status == "duplicate" and str(tracker.resolve()) in dup.outcomes[0].message
    stats = store.stats()
    assert stats["documents"] == 2 and stats["consistent"] and stats["chunks"] == stats["chunks_in_chroma"]


def test_bad_files_are_reported_and_the_batch_goes_on(store, tmp_path):
    good = tmp_path / "good.md"
    good.write_text(TRACKER)
    corrupt = tmp_path / "corrupt.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 300)
    empty_pdf = write_pdf(tmp_path / "empty.pdf", [[]])
    junk = tmp_path / "junk.txt"
    junk.write_bytes(bytes(range(256)) * 10)
    huge = tmp_path / "huge.txt"
    huge.write_text("word " * 2000)
    paper = write_pdf(tmp_path / "1902.08570.pdf", [["1 Introduction", "Particle clouds for jet tagging."]])
    report = store.ingest([corrupt, good, empty_pdf, junk, tmp_path / "missing.md", huge, paper], max_bytes=5000)
    status = {o.path.rsplit("/", 1)[-1]: o for o in report.outcomes}
    assert status["good.md"].status == "added" and status["1902.08570.pdf"].status == "added"
    assert "corrupt PDF" in status["corrupt.pdf"].message
    assert "no extractable text" in status["empty.pdf"].message
    assert "binary" in status["junk.txt"].message
    assert "no such file" in status["missing.md"].message
    assert "0.00954 MB exceeds the 0.00477 MB limit" in status["huge.txt"].message
    assert len(report.failed) == 5
    assert store.stats()["consistent"] and store.stats()["documents"] == 2


def test_folder_ingest_filters_and_remove(store, tmp_path):
    docs = tmp_path / "docs"
    (docs / ".hidden").mkdir(parents=True)
    (docs / "cms_note.md").write_text("---\nexperiment: CMS\nyear: 2012\n---\n# CMS note\n\n## Muons\n"
                                      "Muon momentum resolution is 1 to 6 percent below 100 GeV.\n")
    (docs / "atlas_note.md").write_text("---\nexperiment: ATLAS\nyear: 2016\n---\n# ATLAS note\n\n## Muons\n"
                                        "Muon momentum resolution is 2.3 percent for Z decays.\n")
    (docs / ".hidden" / "secret.md").write_text("# hidden\n\nnot indexed\n")
    (docs / "image.png").write_bytes(b"\x89PNG")
    report = store.ingest([docs])
    assert sorted(o.path.rsplit("/", 1)[-1] for o in report.outcomes) == ["atlas_note.md", "cms_note.md"]

    hits = store.search("muon momentum resolution", k=5, filters={"experiment": "cms"})
    assert hits and {h.experiment for h in hits} == {"CMS"}
    assert {h.experiment for h in store.search("muon resolution", filters={"year": {"$gte": 2015}})} == {"ATLAS"}
    assert store.search("muon resolution", filters={"year": {"$lt": 2000}}) == []
    assert {h.title for h in store.search("muon", filters={"experiment": ["ATLAS", "CMS"]})} == {"ATLAS note",
                                                                                                 "CMS note"}
    with pytest.raises(ValueError, match="unknown filter field 'experimnt'.*Did you mean experiment"):
        store.search("muon", filters={"experimnt": "CMS"})

    assert store.remove([str((docs / "cms_note.md").resolve())]) == 1
    assert {h.title for h in store.search("muon momentum resolution", k=5)} == {"ATLAS note"}
    assert store.stats()["consistent"]


def test_rebuild_switches_collection_and_drops_missing_files(store, tmp_path):
    keep, gone = tmp_path / "keep.md", tmp_path / "gone.md"
    keep.write_text(CALO)
    gone.write_text(TRACKER)
    store.ingest([keep, gone])
    old_collection = store.manifest().collection
    gone.unlink()
    report = store.rebuild()
    assert {o.status for o in report.outcomes} == {"added", "removed"}
    m = store.manifest()
    assert m.collection != old_collection and list(m.documents) == [str(keep.resolve())]
    names = {c.name for c in store._client().list_collections()}
    assert m.collection in names and old_collection not in names
    assert store.stats()["consistent"] and store.search("stochastic term", k=1)[0].title == "Calorimeter note"


def test_chroma_hnsw_path_agrees_with_exact_search(store, tmp_path, monkeypatch):
    import hepilot.knowledge.store as store_module

    for name, text in (("calo.md", CALO), ("tracker.md", TRACKER)):
        (tmp_path / name).write_text(text)
    store.ingest([tmp_path / "calo.md", tmp_path / "tracker.md"])
    query = "momentum resolution of the drift chamber"
    exact = store.search(query, k=3, mode="dense")
    assert store._memory().vectors is not None
    monkeypatch.setattr(store_module, "EXACT_MAX", 0)  # as if the index were too large for memory
    store._mem = None
    approx = store.search(query, k=3, mode="dense")
    assert store._memory().vectors is None
    assert [h.chunk_id for h in approx] == [h.chunk_id for h in exact]
    assert [h.score for h in approx] == pytest.approx([h.score for h in exact], abs=1e-4)
    filtered = store.search(query, k=3, mode="dense", filters={"source": str((tmp_path / "calo.md").resolve())})
    assert filtered and {h.title for h in filtered} == {"Calorimeter note"}


def test_an_index_chunked_by_an_older_chunker_re_chunks_the_shipped_cards(store):
    """Same card files, other chunker: the file hashes match, but every card must be chunked again."""
    from hepilot.knowledge.manifest import Manifest

    first = store.sync_corpus()
    n_chunks = store.manifest().n_chunks
    assert first is not None and n_chunks > 0 and store.sync_corpus() is None  # up to date: nothing to do
    m = Manifest.load(store.manifest_path)
    m.chunker, m.corpus_hash = "0", "old"  # as written by an earlier release
    m.save(store.manifest_path)
    again = store.sync_corpus()
    assert {o.status for o in again.outcomes} == {"added"}, {o.status for o in again.outcomes}
    assert store.manifest().n_chunks == n_chunks
    assert _chroma_ids(store) == {c for d in store.manifest().documents.values() for c in d.chunk_ids}
