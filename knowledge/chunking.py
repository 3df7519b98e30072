"""Chunking: pack a document's blocks into retrieval chunks that respect sections and equations.

Rules: a chunk never spans two sections; atomic blocks (equations, code, tables) are never cut
(a table too long for one chunk is split between rows with its header repeated); long prose is
split between sentences, never inside inline math `$...$`; an equation that starts a new chunk
carries the sentence that introduced it, so the chunk still says what the equation is. Every
chunk keeps the section path and the page where it starts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from hepilot.knowledge.documents import Block

__all__ = ["Chunk", "chunk_blocks", "embedding_text", "CHUNKER_VERSION", "MAX_CHARS"]

CHUNKER_VERSION = "2"  # bump whenever chunk boundaries change: indexes re-chunk the shipped cards
MAX_CHARS = 1100  # ~250 word pieces: MiniLM reads 256, longer text would be truncated silently
_MIN_CHARS = 250
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[\\$0-9])")


@dataclass
class Chunk:
    """A retrieval unit: text plus where it came from."""

    text: str
    section: str
    page: int | None
    index: int = 0


def _sentences(text: str) -> list[str]:
    """Split prose into sentences without cutting inline math."""
    masked, spans = [], []
    for i, part in enumerate(re.split(r"(\$[^$]+\$)", text)):
        if i % 2:
            spans.append(part)
            masked.append(f"\x00{len(spans) - 1}\x00")
        else:
            masked.append(part)
    pieces = _SENTENCE_END.split("".join(masked))
    return [re.sub(r"\x00(\d+)\x00", lambda m: spans[int(m.group(1))], p) for p in pieces if p.strip()]


def _split_long(block: Block, max_chars: int) -> list[str]:
    """Pieces of one block, each <= max_chars where the block's structure allows it."""
    text = block.text
    if len(text) <= max_chars:
        return [text]
    if block.atomic:
        lines = text.splitlines()
        if not lines[0].lstrip().startswith("|"):
            return [text]  # an equation or code block stays whole even when long
        header, rows = lines[:2], lines[2:]
        pieces, cur = [], list(header)
        for row in rows:
            if len("\n".join([*cur, row])) > max_chars and len(cur) > len(header):
                pieces.append("\n".join(cur))
                cur = list(header)
            cur.append(row)
        pieces.append("\n".join(cur))
        return pieces
    pieces, cur = [], ""
    for sentence in _sentences(text):
        while len(sentence) > max_chars:  # a run-on "sentence" (e.g. PDF text without stops)
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            if cur:
                pieces.append(cur)
                cur = ""
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if cur and len(cur) + 1 + len(sentence) > max_chars:
            pieces.append(cur)
            cur = sentence
        else:
            cur = f"{cur} {sentence}".strip()
    if cur:
        pieces.append(cur)
    return pieces


def chunk_blocks(blocks: list[Block], *, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """Pack blocks into chunks of at most ~max_chars, one section at a time."""
    chunks: list[Chunk] = []
    cur: list[str] = []
    cur_section: str | None = None
    cur_page: int | None = None

    def flush() -> None:
        if cur:
            chunks.append(Chunk("\n\n".join(cur).strip(), cur_section or "", cur_page))
            cur.clear()

    for block in blocks:
        if block.section != cur_section:
            flush()
            cur_section, cur_page = block.section, block.page
        for piece in _split_long(block, max_chars):
            size = sum(len(p) + 2 for p in cur)
            if cur and size + len(piece) > max_chars:
                lead = ""
                if block.atomic and not cur[-1].lstrip().startswith(("$$", "\\begin", "|", "```")):
                    sentences = _sentences(cur[-1])
                    lead = sentences[-1] if sentences and len(sentences[-1]) < max_chars // 3 else ""
                flush()
                cur_page = block.page if block.page is not None else cur_page
                if lead:
                    cur.append(lead)
            if not cur:
                cur_page = block.page if block.page is not None else cur_page
            cur.append(piece)
    flush()
    merged: list[Chunk] = []
    for chunk in chunks:  # fold a short tail into its predecessor in the same section
        prev = merged[-1] if merged else None
        if (prev and prev.section == chunk.section and len(chunk.text) < _MIN_CHARS
                and len(prev.text) + len(chunk.text) <= max_chars * 1.25):
            prev.text = f"{prev.text}\n\n{chunk.text}"
        else:
            merged.append(chunk)
    for i, chunk in enumerate(merged):
        chunk.index = i
    return merged


def embedding_text(title: str, chunk: Chunk) -> str:
    """What is embedded for a chunk: its document title and section give the passage its context."""
    return f"{title}. {chunk.section}.\n{chunk.text}"
