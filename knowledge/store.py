"""The knowledge index on disk: incremental ingest, hybrid search (dense + BM25, fused), stats, rebuild.

Layout of `kb_dir`: `chroma/` (Chroma PersistentClient: chunk texts, metadata, MiniLM vectors),
`manifest.json` (documents -> content hash and chunk ids; the commit point), `journal.json`
(present only while a change is in flight) and `.lock` (one writer at a time). See
`hepilot.knowledge.manifest` for how an interrupted ingest is finished or undone on next open.

Search: the query is embedded once and matched against the stored vectors (exact cosine in memory
up to 100k chunks, Chroma's HNSW query beyond), BM25 scores come from the in-memory index, and the
two rankings are fused by reciprocal-rank fusion
(Cormack, Clarke & Buettcher, SIGIR 2009): score(d) = sum over rankings of 1 / (60 + rank(d)).
An experiment or arXiv id named in the query adds a third ranking (the candidates about it), so
"CMS ECAL resolution" prefers the CMS card over the ATLAS one without filtering ATLAS out.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from hepilot.knowledge import corpus as shipped
from hepilot.knowledge._chroma import MiniLMEmbeddingFunction, open_client
from hepilot.knowledge.chunking import CHUNKER_VERSION, chunk_blocks, embedding_text
from hepilot.knowledge.documents import SUPPORTED_SUFFIXES, Document, IngestError, load_document
from hepilot.knowledge.embeddings import EMBEDDING_DIM, MODEL_NAME, embed
from hepilot.knowledge.filters import normalize_filters, to_chroma_where
from hepilot.knowledge.glossary import expand_query, mentioned_entities
from hepilot.knowledge.hits import CORPUS_PREFIX, Hit
from hepilot.knowledge.ingest_report import FileOutcome, IngestReport
from hepilot.knowledge.memory import EXACT_MAX, MemoryIndex
from hepilot.knowledge.manifest import DocEntry, Journal, Manifest, writer_lock
from hepilot.knowledge.shipped_vectors import embed_with_cache

__all__ = ["KnowledgeStore", "DEFAULT_MAX_BYTES", "RRF_K", "SearchMode"]

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50 * 2**20
RRF_K = 60
_PREFIX = "hepilot_kb_"
_BATCH = 1000
SearchMode = Literal["hybrid", "dense", "bm25"]


class KnowledgeStore:
    """One on-disk knowledge index (Chroma + manifest) and its in-memory BM25 side."""

    def __init__(self, kb_dir: str | Path | None = None):
        if kb_dir is None:
            from hepilot.settings import get_settings

            kb_dir = get_settings().kb_dir
        self.kb_dir = Path(kb_dir).expanduser().resolve()
        self.kb_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._mem: MemoryIndex | None = None
        self._stamp: tuple | None = None
        self._manifest = Manifest()
        self._collections: dict[str, Any] = {}
        with writer_lock(self.kb_dir):
            self._recover()

    # ---- paths and handles -------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.kb_dir / "manifest.json"

    @property
    def journal_path(self) -> Path:
        return self.kb_dir / "journal.json"

    def _client(self) -> Any:
        return open_client(str(self.kb_dir / "chroma"))

    def _collection(self, name: str) -> Any:
        col = self._collections.get(name)
        if col is None:
            col = self._collections[name] = self._client().get_or_create_collection(
                name, embedding_function=MiniLMEmbeddingFunction(), configuration={"hnsw": {"space": "cosine"}})
        return col

    def _drop_collection(self, name: str) -> None:
        self._collections.pop(name, None)
        self._client().delete_collection(name)

    def _manifest_stamp(self) -> tuple | None:
        try:
            st = self.manifest_path.stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def manifest(self) -> Manifest:
        """The current manifest (re-read when another process changed it)."""
        with self._lock:
            stamp = self._manifest_stamp()
            if stamp != self._stamp:
                self._manifest = Manifest.load(self.manifest_path)
                self._stamp = stamp
                self._mem = None
            return self._manifest

    # ---- consistency -------------------------------------------------------------------------
    def _recover(self) -> None:
        """Finish or undo a change interrupted by a crash; drop collections no manifest refers to."""
        m = Manifest.load(self.manifest_path)
        journal = Journal.read(self.journal_path)
        client = self._client()
        if journal is not None:
            entry = m.documents.get(journal.source)
            committed = (entry.hash if entry else "") == journal.new_hash  # a removal commits to ""
            keep = set(entry.chunk_ids) if entry else set()
            doomed = (set(journal.old_ids) if committed else set(journal.new_ids)) - keep
            if journal.collection in {c.name for c in client.list_collections()} and doomed:
                self._collection(journal.collection).delete(ids=sorted(doomed))
            log.warning("knowledge index: %s an interrupted ingest of %s", "finished" if committed else "rolled back",
                        journal.source)
            self.journal_path.unlink()
        names = {c.name for c in client.list_collections()}
        if m.collection in names:
            col = self._collection(m.collection)
            if col.count() != m.n_chunks:  # should not happen; repair rather than serve a mixed index
                known = {i for d in m.documents.values() for i in d.chunk_ids}
                stored = set(col.get(include=[])["ids"])
                if stored - known:
                    log.warning("knowledge index: removing %d unreferenced chunks", len(stored - known))
                    col.delete(ids=sorted(stored - known))
                if known - stored:
                    log.error("knowledge index: %d chunks missing from Chroma; run `hepilot kb rebuild`",
                              len(known - stored))
        for col in client.list_collections():
            if col.name.startswith(_PREFIX) and col.name != m.collection:
                log.warning("knowledge index: dropping orphan collection %s (interrupted rebuild)", col.name)
                self._drop_collection(col.name)
        for tmp in self.kb_dir.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)

    # ---- writing -----------------------------------------------------------------------------
    def _index(self, m: Manifest, key: str, digest: str, doc: Document, *, origin: str, path: str, nbytes: int,
               commit: bool = True) -> int:
        """Chunk, embed and store one document; with commit, journal it and save the manifest."""
        chunks = chunk_blocks(doc.blocks)
        if not chunks:
            raise IngestError(f"{key}: no chunks after parsing; check that the file has text.")
        base = {"source": key, "source_type": doc.source_type, "title": doc.title, "origin": origin,
                **{f: doc.meta.get(f) for f in ("arxiv_id", "url", "experiment", "year", "tool")}}
        metas = [{k: v for k, v in {**base, "section": c.section, "page": c.page or 0, "chunk": c.index}.items()
                  if v not in (None, "")} for c in chunks]
        ids = [f"{digest[:16]}-{c.index:04d}" for c in chunks]
        texts = [embedding_text(doc.title, c) for c in chunks]
        vectors = embed_with_cache(texts)[0] if origin == "corpus" else embed(texts)
        old = m.documents.get(key)
        old_ids = old.chunk_ids if old else []
        col = self._collection(m.collection)
        if commit:
            Journal(key, digest, ids, old_ids, m.collection).write(self.journal_path)
        for i in range(0, len(ids), _BATCH):
            col.upsert(ids=ids[i:i + _BATCH], embeddings=vectors[i:i + _BATCH],
                       documents=[c.text for c in chunks[i:i + _BATCH]], metadatas=metas[i:i + _BATCH])
        m.documents[key] = DocEntry(hash=digest, chunk_ids=ids, title=doc.title, source_type=doc.source_type,
                                    origin=origin, path=path, bytes=nbytes)
        if commit:
            m.generation += 1
            m.save(self.manifest_path)  # the commit point
            stale = sorted(set(old_ids) - set(ids))
            if stale:
                col.delete(ids=stale)
            self.journal_path.unlink()
        return len(ids)

    def _ingest_bytes(self, m: Manifest, name: str, data: bytes, *, key: str, origin: str, path: str = "",
                      commit: bool = True) -> FileOutcome:
        digest = hashlib.sha256(data).hexdigest()
        old = m.documents.get(key)
        if old is not None and old.hash == digest:
            return FileOutcome(path or key, "unchanged", len(old.chunk_ids), "unchanged, skipped")
        twin = m.find_hash(digest)
        if twin is not None and twin != key:
            return FileOutcome(path or key, "duplicate", 0, f"same content as {twin}, not added again")
        try:
            doc = load_document(name, data)
            n = self._index(m, key, digest, doc, origin=origin, path=path, nbytes=len(data), commit=commit)
        except IngestError as exc:
            return FileOutcome(path or key, "failed", 0, str(exc))
        except Exception as exc:  # one bad file must not stop the batch; the journal undoes partial writes
            log.exception("ingest of %s failed", name)
            if commit and self.journal_path.exists():
                self._recover()
                m.documents = Manifest.load(self.manifest_path).documents
            return FileOutcome(path or key, "failed", 0, f"{name}: unexpected {type(exc).__name__}: {exc}")
        return FileOutcome(path or key, "replaced" if old else "added", n,
                           f"{n} chunks" + (" (replaced the previous version)" if old else ""))

    @staticmethod
    def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
        """The files an ingest of `paths` visits: folders recursively (supported types, no hidden files)."""
        out: list[Path] = []
        for p in paths:
            p = Path(p).expanduser()
            if p.is_dir():
                out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES
                                  and not any(part.startswith(".") for part in f.relative_to(p).parts)))
            else:
                out.append(p)
        seen: set[Path] = set()
        return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]

    def ingest(self, paths: Iterable[str | Path], *, max_bytes: int = DEFAULT_MAX_BYTES,
               on_file: Callable[[FileOutcome], None] | None = None) -> IngestReport:
        """Add or update files (PDF, Markdown, LaTeX, text; folders recursively). Never raises per file."""
        t0 = time.perf_counter()
        outcomes: list[FileOutcome] = []
        with self._lock, writer_lock(self.kb_dir):
            self._recover()
            m = Manifest.load(self.manifest_path)
            for path in self.expand_paths(paths):
                shown = str(path)
                if not path.is_file():
                    outcome = FileOutcome(shown, "failed", 0, f"{shown}: no such file")
                elif path.stat().st_size > max_bytes:
                    size = path.stat().st_size / 2**20
                    outcome = FileOutcome(shown, "failed", 0, f"{shown}: {size:.3g} MB exceeds the "
                                          f"{max_bytes / 2**20:.3g} MB limit; split it or raise the limit (--max-mb).")
                else:
                    try:
                        data = path.read_bytes()
                    except OSError as exc:
                        outcome = FileOutcome(shown, "failed", 0, f"{shown}: cannot read ({exc.strerror})")
                    else:
                        key = str(path.resolve())
                        outcome = self._ingest_bytes(m, path.name, data, key=key, origin="user", path=key)
                outcomes.append(outcome)
                if on_file:
                    on_file(outcome)
        self.manifest()
        return IngestReport(outcomes, time.perf_counter() - t0)

    def _remove(self, m: Manifest, keys: Iterable[str]) -> int:
        n = 0
        for key in keys:
            entry = m.documents.pop(key, None)
            if entry is None:
                continue
            Journal(key, "", [], entry.chunk_ids, m.collection).write(self.journal_path)
            m.generation += 1
            m.save(self.manifest_path)
            if entry.chunk_ids:
                self._collection(m.collection).delete(ids=entry.chunk_ids)
            self.journal_path.unlink()
            n += 1
        return n

    def remove(self, sources: Iterable[str]) -> int:
        """Remove documents by source key (absolute path or 'corpus:...'); returns how many were removed."""
        with self._lock, writer_lock(self.kb_dir):
            self._recover()
            n = self._remove(Manifest.load(self.manifest_path), sources)
        self.manifest()
        return n

    def sync_corpus(self, *, force: bool = False) -> IngestReport | None:
        """Index the shipped cards if they changed since the last sync (hash); None when up to date."""
        digest = shipped.corpus_hash(extra=f"{MODEL_NAME}/{CHUNKER_VERSION}")
        if not force and self.manifest().corpus_hash == digest:
            return None
        t0 = time.perf_counter()
        with self._lock, writer_lock(self.kb_dir):
            self._recover()
            m = Manifest.load(self.manifest_path)
            if not force and m.corpus_hash == digest:
                return None
            files = shipped.corpus_files()
            if m.chunker != CHUNKER_VERSION or m.embedding != MODEL_NAME:  # same files, other chunks or vectors
                self._remove(m, [k for k in m.documents if k.startswith(CORPUS_PREFIX)])
            outcomes = [self._ingest_bytes(m, rel, data, key=CORPUS_PREFIX + rel, origin="corpus")
                        for rel, data in files]
            for bad in (o for o in outcomes if o.status == "failed"):
                log.error("shipped card not indexed: %s", bad.message)
            gone = [k for k in m.documents if k.startswith(CORPUS_PREFIX) and k[len(CORPUS_PREFIX):] not in dict(files)]
            self._remove(m, gone)
            m.corpus_hash, m.embedding, m.chunker = digest, MODEL_NAME, CHUNKER_VERSION
            m.save(self.manifest_path)
        self.manifest()
        return IngestReport(outcomes, time.perf_counter() - t0)

    def rebuild(self, *, on_file: Callable[[FileOutcome], None] | None = None) -> IngestReport:
        """Re-read, re-chunk and re-embed every document into a fresh collection, then switch atomically."""
        t0 = time.perf_counter()
        outcomes: list[FileOutcome] = []
        with self._lock, writer_lock(self.kb_dir):
            self._recover()
            old = Manifest.load(self.manifest_path)
            number = int(old.collection.rsplit("_", 1)[-1]) + 1 if old.collection[-1].isdigit() else 1
            with_corpus = bool(old.corpus_hash) or any(d.origin == "corpus" for d in old.documents.values())
            new = Manifest(collection=f"{_PREFIX}{number}", generation=old.generation + 1,
                           corpus_hash=shipped.corpus_hash(extra=f"{MODEL_NAME}/{CHUNKER_VERSION}") if with_corpus
                           else "", embedding=MODEL_NAME, chunker=CHUNKER_VERSION)
            for rel, data in shipped.corpus_files() if with_corpus else []:
                outcomes.append(self._ingest_bytes(new, rel, data, key=CORPUS_PREFIX + rel, origin="corpus",
                                                   commit=False))
            for key, entry in sorted(old.documents.items()):
                if entry.origin != "user":
                    continue
                path = Path(entry.path or key)
                if not path.is_file():
                    outcome = FileOutcome(str(path), "removed", 0, f"{path}: file no longer exists, dropped")
                else:
                    outcome = self._ingest_bytes(new, path.name, path.read_bytes(), key=key, origin="user",
                                                 path=str(path), commit=False)
                outcomes.append(outcome)
                if on_file:
                    on_file(outcome)
            new.save(self.manifest_path)  # the switch; a crash before the next line leaves an orphan
            if old.collection in {c.name for c in self._client().list_collections()}:
                self._drop_collection(old.collection)
        self.manifest()
        return IngestReport(outcomes, time.perf_counter() - t0)

    # ---- reading -----------------------------------------------------------------------------
    def _memory(self) -> MemoryIndex:
        with self._lock:
            m = self.manifest()
            if self._mem is None:
                exact = m.n_chunks <= EXACT_MAX
                got = self._collection(m.collection).get(
                    include=["documents", "metadatas", "embeddings"] if exact else ["documents", "metadatas"])
                vectors = (np.asarray(got["embeddings"], dtype=np.float32).reshape(-1, EMBEDDING_DIM) if exact
                           else None)
                self._mem = MemoryIndex(list(got["ids"]), list(got["documents"]),
                                            [dict(x or {}) for x in got["metadatas"]], vectors)
            return self._mem

    def search(self, query: str, *, k: int = 5, filters: dict[str, Any] | None = None,
               mode: SearchMode = "hybrid") -> list[Hit]:
        """The k best chunks for `query` under `filters` (see hepilot.knowledge.filters)."""
        if not query or not query.strip():
            raise ValueError("query is empty; ask a question or give keywords")
        if mode not in ("hybrid", "dense", "bm25"):
            raise ValueError(f"mode must be 'hybrid', 'dense' or 'bm25', got {mode!r}")
        norm = normalize_filters(filters)
        query = expand_query(query)
        lex = self._memory()
        if lex.size == 0:
            return []
        n_cand = min(max(4 * k, 30), lex.size)
        rankings: list[list[tuple[int, float]]] = []
        if mode in ("hybrid", "dense"):
            if lex.vectors is not None:
                rankings.append(lex.dense(embed([query])[0], n_cand, lex.mask(norm)))
            else:
                res = self._collection(self.manifest().collection).query(
                    query_texts=[query], n_results=n_cand, where=to_chroma_where(norm), include=["distances"])
                rankings.append([(lex.position[cid], 1.0 - float(d))
                                 for cid, d in zip(res["ids"][0], res["distances"][0]) if cid in lex.position])
        if mode in ("hybrid", "bm25"):
            rankings.append(lex.search(query, n_cand, lex.mask(norm)))
        if mode == "hybrid":
            fused: dict[int, float] = {}
            for ranking in rankings:
                for rank, (pos, _) in enumerate(ranking, start=1):
                    fused[pos] = fused.get(pos, 0.0) + 1.0 / (RRF_K + rank)
            # An experiment or arXiv id named in the query (and not already a filter) acts as a third
            # ranking: the candidates about it, in their fused order.
            entities = {f: v for f, v in mentioned_entities(query).items() if f not in norm}
            if entities:
                about = [pos for pos, _ in sorted(fused.items(), key=lambda kv: -kv[1])
                         if all(lex.metadatas[pos].get(f) in vals for f, vals in entities.items())]
                for rank, pos in enumerate(about, start=1):
                    fused[pos] += 1.0 / (RRF_K + rank)
            ranked = sorted(fused.items(), key=lambda kv: (-kv[1], lex.ids[kv[0]]))
        else:
            ranked = rankings[0]
        return [Hit.from_chunk(lex.ids[pos], lex.texts[pos], lex.metadatas[pos], score) for pos, score in ranked[:k]]

    def stats(self) -> dict[str, Any]:
        """Counts and consistency of the index."""
        m = self.manifest()
        count = self._collection(m.collection).count()
        by_type: dict[str, int] = {}
        for d in m.documents.values():
            by_type[d.source_type] = by_type.get(d.source_type, 0) + 1
        return {
            "kb_dir": str(self.kb_dir), "collection": m.collection, "generation": m.generation,
            "documents": len(m.documents), "chunks": m.n_chunks, "chunks_in_chroma": count,
            "consistent": count == m.n_chunks and not self.journal_path.exists(),
            "corpus_documents": sum(d.origin == "corpus" for d in m.documents.values()),
            "user_documents": sum(d.origin == "user" for d in m.documents.values()),
            "by_source_type": dict(sorted(by_type.items())), "embedding": m.embedding or MODEL_NAME,
            "outdated": bool(m.chunker) and (m.chunker != CHUNKER_VERSION or m.embedding != MODEL_NAME),
            "size_mb": round(sum(f.stat().st_size for f in self.kb_dir.rglob("*") if f.is_file()) / 2**20, 2),
        }
