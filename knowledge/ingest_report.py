"""What an ingest did, file by file: `FileOutcome` and `IngestReport`."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["FileOutcome", "IngestReport", "Status"]

Status = Literal["added", "replaced", "unchanged", "duplicate", "failed", "removed"]


@dataclass
class FileOutcome:
    """One file: what happened to it, how many chunks it has now, and a message a person can act on."""

    path: str
    status: Status
    n_chunks: int = 0
    message: str = ""


@dataclass
class IngestReport:
    """All files of one ingest (or rebuild) and the wall time."""

    outcomes: list[FileOutcome]
    seconds: float

    def count(self, status: Status) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def n_chunks_added(self) -> int:
        return sum(o.n_chunks for o in self.outcomes if o.status in ("added", "replaced"))

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("added", "replaced", "unchanged", "duplicate", "failed", "removed")
                 if self.count(s)]
        return (f"{', '.join(parts) or 'nothing to do'}; {self.n_chunks_added} chunks written "
                f"in {self.seconds:.1f} s")

    def to_dict(self) -> dict[str, Any]:
        return {"outcomes": [asdict(o) for o in self.outcomes], "seconds": self.seconds, "summary": self.summary()}
