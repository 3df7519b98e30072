"""The index manifest, the write-ahead journal and the writer lock that keep the index consistent.

The manifest (`manifest.json`) is the single source of truth of which documents are in the
index, with which content hash and which chunk ids, and which Chroma collection holds them. It
is only ever replaced atomically (write temp file, fsync, rename), so that rename is the commit
point of every change. A change to the Chroma collection is announced first in `journal.json`
(the ids about to be added and removed); if a process dies mid-change, the next writer reads
the journal and finishes or undoes it depending on whether the manifest committed it.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DocEntry", "Manifest", "Journal", "writer_lock", "atomic_write_json", "FORMAT"]

FORMAT = "hepilot-kb/1"


def atomic_write_json(path: Path, data: Any) -> None:
    """Write JSON so that readers see either the old or the new file, never a partial one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@dataclass
class DocEntry:
    """One indexed document."""

    hash: str
    chunk_ids: list[str]
    title: str
    source_type: str
    origin: str  # "corpus" (shipped card) or "user" (ingested file)
    path: str = ""
    bytes: int = 0


@dataclass
class Manifest:
    """What the index holds; see the module docstring."""

    collection: str = "hepilot_kb_1"
    generation: int = 0
    corpus_hash: str = ""
    embedding: str = ""
    chunker: str = ""
    documents: dict[str, DocEntry] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise RuntimeError(f"knowledge index manifest {path} is unreadable ({exc}); run `hepilot kb rebuild` "
                               "or delete the index folder to start over") from None
        docs = {k: DocEntry(**v) for k, v in raw.pop("documents", {}).items()}
        raw.pop("format", None)
        return cls(documents=docs, **raw)

    def save(self, path: Path) -> None:
        data = asdict(self)
        data["format"] = FORMAT
        atomic_write_json(path, data)

    def find_hash(self, digest: str) -> str | None:
        """The source key of a document with this content hash, if any."""
        return next((key for key, d in self.documents.items() if d.hash == digest), None)

    @property
    def n_chunks(self) -> int:
        return sum(len(d.chunk_ids) for d in self.documents.values())


@dataclass
class Journal:
    """An announced change: add `new_ids`, then commit the manifest, then delete `old_ids`."""

    source: str
    new_hash: str
    new_ids: list[str]
    old_ids: list[str]
    collection: str

    def write(self, path: Path) -> None:
        atomic_write_json(path, asdict(self))

    @classmethod
    def read(cls, path: Path) -> Journal | None:
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, TypeError):
            # A torn journal means the crash happened before any Chroma write was announced.
            return None


@contextlib.contextmanager
def writer_lock(folder: Path) -> Iterator[None]:
    """Exclusive lock held by whoever changes the index (other writers wait)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
