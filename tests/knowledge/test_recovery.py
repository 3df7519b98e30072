"""An ingest killed (SIGKILL) or interrupted mid-way leaves an index that recovers on next open."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from hepilot.knowledge.store import KnowledgeStore

# The child ingests for real and SIGKILLs itself once the third file's chunks are in Chroma but
# before that file's manifest commit: the recovery on next open must remove those chunks.
CHILD = textwrap.dedent("""
    import os, signal, sys
    import hepilot.knowledge.manifest as manifest
    from hepilot.knowledge.store import KnowledgeStore

    kb, *files = sys.argv[1:]
    store = KnowledgeStore(kb)
    saves = {"n": 0}
    original = manifest.Manifest.save

    def dying_save(self, path):
        saves["n"] += 1
        if saves["n"] == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        original(self, path)

    manifest.Manifest.save = dying_save
    store.ingest(files)
    print("not killed")
""")


def _notes(folder, n):
    folder.mkdir()
    paths = []
    for i in range(n):
        p = folder / f"note{i}.md"
        p.write_text(f"# Note {i}\n\n## Body\nThis is version one of note {i} about detector number {i}.\n")
        paths.append(p)
    return paths


def test_killed_ingest_rolls_back_the_uncommitted_file(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    files = _notes(tmp_path / "notes", 5)
    kb = tmp_path / "kb"
    proc = subprocess.run([sys.executable, str(script), str(kb), *map(str, files)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == -9, f"child was not killed: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr[-2000:]}"
    assert (kb / "journal.json").exists()  # the kill really happened mid-change

    store = KnowledgeStore(kb)
    assert not store.journal_path.exists()
    stats = store.stats()
    assert stats["documents"] == 2 and stats["consistent"], stats
    report = store.ingest(files)  # the interrupted batch simply runs again
    assert [o.status for o in report.outcomes] == ["unchanged", "unchanged", "added", "added", "added"]
    assert store.stats()["consistent"] and store.stats()["documents"] == 5


def test_interrupt_after_commit_is_finished_on_next_open(tmp_path, monkeypatch):
    import hepilot.knowledge.manifest as manifest

    files = _notes(tmp_path / "notes", 2)
    kb = tmp_path / "kb"
    KnowledgeStore(kb).ingest(files)
    files[0].write_text(files[0].read_text().replace("version one", "version two"))
    original = manifest.Manifest.save

    def interrupted_save(self, path):
        original(self, path)
        raise KeyboardInterrupt  # Ctrl-C right after the commit point, before the old chunks go

    monkeypatch.setattr(manifest.Manifest, "save", interrupted_save)
    store = KnowledgeStore(kb)
    try:
        store.ingest(files)
    except KeyboardInterrupt:
        pass
    monkeypatch.setattr(manifest.Manifest, "save", original)
    assert (kb / "journal.json").exists()
    old_and_new = len(store._collection(store.manifest().collection).get(include=[])["ids"])
    assert old_and_new == 3  # both versions of note0 are in Chroma until recovery

    reopened = KnowledgeStore(kb)
    stats = reopened.stats()
    assert stats["documents"] == 2 and stats["consistent"] and stats["chunks_in_chroma"] == 2, stats
    hits = reopened.search("version of note 0 about detector number 0", k=5)
    texts = [h.text for h in hits if h.source == str(files[0].resolve())]
    assert texts and all("version two" in t for t in texts)


def test_interrupted_removal_and_stray_chunks_are_cleaned_on_open(tmp_path, monkeypatch):
    import numpy as np

    import hepilot.knowledge.manifest as manifest

    files = _notes(tmp_path / "notes", 2)
    kb = tmp_path / "kb"
    store = KnowledgeStore(kb)
    store.ingest(files)
    original = manifest.Manifest.save

    def interrupted_save(self, path):
        original(self, path)
        raise KeyboardInterrupt  # the removal is committed, its chunks not yet deleted

    monkeypatch.setattr(manifest.Manifest, "save", interrupted_save)
    try:
        store.remove([str(files[0].resolve())])
    except KeyboardInterrupt:
        pass
    monkeypatch.setattr(manifest.Manifest, "save", original)
    col = store._collection(store.manifest().collection)
    col.upsert(ids=["stray-0000"], embeddings=[np.full(384, 384 ** -0.5, dtype=np.float32)], documents=["stray"],
               metadatas=[{"source": "nowhere"}])
    assert col.count() == 3

    reopened = KnowledgeStore(kb)
    stats = reopened.stats()
    assert stats["documents"] == 1 and stats["chunks_in_chroma"] == 1 and stats["consistent"], stats
