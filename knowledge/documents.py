"""Document readers: PDF (pypdf), Markdown, LaTeX and plain text -> a titled list of sectioned blocks.

A reader turns raw bytes into a `Document`: title, source type, metadata (arXiv id, URL, year,
experiment, ...) and `Block`s that carry their section path and page. Equations, code and tables
are marked atomic so the chunker never cuts them. Unreadable input raises `IngestError` with a
message that says what is wrong with the file and what to do about it.
"""
from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import yaml

from hepilot.knowledge import _latex

__all__ = ["Block", "Document", "IngestError", "SUPPORTED_SUFFIXES", "load_document", "detect_arxiv_id",
           "canonical_experiment", "EXPERIMENTS"]

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {".pdf": "pdf", ".md": "markdown", ".markdown": "markdown", ".tex": "latex",
                      ".latex": "latex", ".txt": "text", ".text": "text", ".rst": "text"}
EXPERIMENTS = ("ATLAS", "CMS", "LHCb", "ALICE", "CEPC", "BESIII", "JUNO", "Belle II", "FCC-ee", "ILC", "CLIC")
_EXPERIMENT_BY_LOWER = {e.lower(): e for e in EXPERIMENTS}

_ARXIV_NEW = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?!\d)")
_ARXIV_TEXT = re.compile(r"arXiv:\s*(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})", re.I)
_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+([A-Z][^\n]{1,80})$")
_NAMED_HEADINGS = re.compile(r"^(abstract|introduction|conclusions?|summary|outlook|references|bibliography|"
                             r"acknowledge?ments?|appendix(?:\s+[A-Z])?)\.?$", re.I)


class IngestError(ValueError):
    """A file that cannot be ingested; the message names the problem and the fix."""


@dataclass
class Block:
    """A paragraph, equation, code block or table with its place in the document."""

    text: str
    section: str = ""
    page: int | None = None
    atomic: bool = False


@dataclass
class Document:
    """A parsed document ready for chunking."""

    title: str
    source_type: str
    blocks: list[Block]
    meta: dict[str, Any] = field(default_factory=dict)


def canonical_experiment(name: str) -> str:
    """'cms' -> 'CMS'; unknown names are returned stripped."""
    return _EXPERIMENT_BY_LOWER.get(name.strip().lower(), name.strip())


def detect_arxiv_id(name: str, text: str = "") -> str:
    """The arXiv id from a file name (2202.03772v2.pdf) or an 'arXiv:' mention in the text, else ''."""
    m = _ARXIV_NEW.search(PurePath(name).name)
    if m:
        return m.group(1)
    m = _ARXIV_TEXT.search(text[:20000])
    return m.group(1) if m else ""


def _year_from_arxiv(arxiv_id: str) -> int | None:
    m = re.match(r"^(\d{2})\d{2}\.", arxiv_id) or re.search(r"/(\d{2})\d{5}$", arxiv_id)
    if not m:
        return None
    yy = int(m.group(1))
    return 2000 + yy if yy < 90 else 1900 + yy


def _detect_experiment(title: str, text: str) -> str:
    sample = f"{title}\n{text[:4000]}"
    counts = {e: len(re.findall(rf"(?<![\w-]){re.escape(e)}(?![\w-])", sample)) for e in EXPERIMENTS}
    best = max(counts, key=counts.get)
    in_title = re.search(rf"(?<![\w-]){re.escape(best)}(?![\w-])", title)
    return best if counts[best] >= 3 or (in_title and counts[best] >= 1) else ""


def _decode_text(data: bytes, name: str) -> str:
    """UTF-8 (or Latin-1) text; binary content raises IngestError."""
    head = data[:8192]
    if b"\x00" in head:
        raise IngestError(f"{name}: binary content (NUL bytes), not a text file; convert it to text, "
                          "Markdown, LaTeX or PDF first.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    sample = text[:8192]
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in sample)
    if sample and printable / len(sample) < 0.95:
        raise IngestError(f"{name}: {100 * (1 - printable / len(sample)):.0f}% non-printable characters: binary or "
                          "corrupt file, not text; give the original document instead.")
    return text


def _parse_front_matter(text: str, name: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---"):
        return {}, text
    end = text.find("\n---", 3)
    if end < 0:
        return {}, text
    try:
        meta = yaml.safe_load(text[3:end]) or {}
    except yaml.YAMLError as exc:
        raise IngestError(f"{name}: invalid YAML front matter ({exc.__class__.__name__}); fix the block between "
                          "the '---' lines.") from None
    if not isinstance(meta, dict):
        raise IngestError(f"{name}: front matter must be a mapping of key: value lines.")
    return meta, text[end + 4:].lstrip("\n")


def _parse_markdown(text: str) -> tuple[str, list[Block]]:
    """Blocks from Markdown: headings set the section path; fences, $$ math and tables stay whole."""
    blocks: list[Block] = []
    title = ""
    stack: list[tuple[int, str]] = []
    para: list[str] = []
    lines = text.splitlines()

    def section() -> str:
        return " > ".join(h for _, h in stack)

    def flush() -> None:
        if para:
            # Wrapped prose becomes one line; list items keep their own lines.
            joined = "".join(("\n" if re.match(r"\s*([-*+]|\d+[.)])\s", ln) else " ") + ln.strip() for ln in para)
            if joined.strip():
                blocks.append(Block(joined.strip(), section()))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        fence = re.match(r"^(`{3,}|~{3,})", stripped)
        if fence or stripped.startswith("$$") or stripped.startswith("\\begin{"):
            flush()
            if fence:
                close = lambda s, f=fence.group(1): s.strip().startswith(f)  # noqa: E731
            elif stripped.startswith("$$"):
                close = lambda s: s.rstrip().endswith("$$")  # noqa: E731
            else:
                env = re.match(r"\\begin\{([^}]+)\}", stripped).group(1)
                close = lambda s, e=env: f"\\end{{{e}}}" in s  # noqa: E731
            body = [line]
            single = (stripped.startswith("$$") and len(stripped) > 2 and stripped.endswith("$$")) or (
                stripped.startswith("\\begin{") and close(stripped))
            i += 1
            while not single and i < len(lines):
                body.append(lines[i])
                i += 1
                if close(body[-1]):
                    break
            blocks.append(Block("\n".join(body).strip(), section(), atomic=True))
            continue
        heading = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if heading:
            flush()
            level, name = len(heading.group(1)), heading.group(2).strip()
            if level == 1 and not title:
                title = name
            else:
                while stack and stack[-1][0] >= level:
                    stack.pop()
                stack.append((level, name))
        elif stripped.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(lines[i].rstrip())
                i += 1
            blocks.append(Block("\n".join(rows), section(), atomic=True))
            continue
        elif not stripped:
            flush()
        else:
            para.append(line.rstrip())
        i += 1
    flush()
    return title, blocks


def _parse_plain(text: str) -> tuple[str, list[Block]]:
    """Blocks from plain text: paragraphs at blank lines, numbered or underlined lines as headings."""
    blocks: list[Block] = []
    sect = ""
    paras = re.split(r"\n\s*\n", text)
    title = ""
    for para in paras:
        lines = [ln.rstrip() for ln in para.strip().splitlines()]
        if not lines:
            continue
        if len(lines) >= 2 and re.fullmatch(r"[=\-~]{3,}", lines[1].strip()):
            sect = lines[0].strip()
            lines = lines[2:]
        elif _HEADING.match(lines[0].strip()) or _NAMED_HEADINGS.match(lines[0].strip()):
            sect = lines[0].strip()
            lines = lines[1:]
        if not title and not blocks and len(lines) == 1 and len(lines[0]) < 150:
            title = lines[0].strip()
            continue
        body = "\n".join(lines).strip()
        if body:
            blocks.append(Block(body, sect))
    return title, blocks


def _parse_pdf(data: bytes, name: str) -> tuple[str, list[Block], dict[str, Any]]:
    """Blocks per page and section from a PDF's text layer (pypdf)."""
    from pypdf import PdfReader

    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise IngestError(f"{name}: not a PDF (no %PDF header): the file is corrupt or mis-named; "
                          "re-download it or give it the right extension.")
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)
    try:
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise IngestError(f"{name}: encrypted PDF; save an unencrypted copy and ingest that.")
            pages = list(reader.pages)
        except IngestError:
            raise
        except Exception as exc:  # pypdf raises many types for broken files
            raise IngestError(f"{name}: corrupt PDF ({type(exc).__name__}: {exc}); re-download it or export "
                              "it again.") from None
        if not pages:
            raise IngestError(f"{name}: the PDF has no pages; nothing to index.")
        texts: list[str] = []
        for number, page in enumerate(pages, start=1):
            try:
                texts.append(page.extract_text() or "")
            except Exception as exc:  # one broken page must not lose the others
                log.warning("%s: page %d unreadable (%s), skipped", name, number, exc)
                texts.append("")
        meta_title = ""
        try:
            meta_title = ((reader.metadata or {}).get("/Title") or "").strip()
        except Exception:  # broken info dictionaries are common and harmless
            meta_title = ""
    finally:
        pypdf_log.setLevel(level)
    if not any(t.strip() for t in texts):
        raise IngestError(f"{name}: no extractable text in {len(pages)} page(s) (a scanned image?); run OCR "
                          "first or ingest a text/LaTeX version.")
    first_lines = [ln.strip() for ln in texts[0].splitlines() if ln.strip()] or [""]
    title = meta_title if meta_title and not re.match(r"(?i)untitled|microsoft word", meta_title) else first_lines[0]
    blocks: list[Block] = []
    sect = ""
    for number, text in enumerate(texts, start=1):
        text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)  # re-join words hyphenated at line ends
        buf: list[str] = []
        for line in text.splitlines():
            s = line.strip()
            if (_HEADING.match(s) and not s.endswith(".") and len(s) < 90) or _NAMED_HEADINGS.match(s):
                if buf:
                    blocks.append(Block(" ".join(buf), sect, number))
                    buf = []
                sect = s
            elif s:
                buf.append(s)
        if buf:
            blocks.append(Block(" ".join(buf), sect, number))
    return title[:300], blocks, {"n_pages": len(pages), "full_text": "\n".join(texts)}


def load_document(name: str, data: bytes) -> Document:
    """Parse `data` (the bytes of the file called `name`) into a Document; IngestError if unusable."""
    suffix = PurePath(name).suffix.lower()
    kind = SUPPORTED_SUFFIXES.get(suffix)
    if kind is None:
        raise IngestError(f"{name}: unsupported file type '{suffix or '(none)'}'; supported: "
                          f"{', '.join(sorted(SUPPORTED_SUFFIXES))}.")
    if not data.strip():
        raise IngestError(f"{name}: the file is empty; nothing to index.")
    meta: dict[str, Any] = {}
    front = False
    if kind == "pdf":
        title, blocks, extra = _parse_pdf(data, name)
        full = extra.pop("full_text")
        meta.update(extra)
    else:
        text = _decode_text(data, name)
        if kind == "markdown":
            meta, text = _parse_front_matter(text, name)
            front = bool(meta)
            title, blocks = _parse_markdown(text)
            refs = meta.pop("references", None)
            if isinstance(refs, list) and refs:  # cited works become searchable text of their own
                blocks.append(Block("\n".join(f"- {r}" for r in refs), "References"))
        elif kind == "latex":
            title, blocks = _latex.parse_latex(text)
        else:
            title, blocks = _parse_plain(text)
        full = text
    blocks = [b for b in blocks if b.text.strip()]
    if not blocks:
        raise IngestError(f"{name}: no text found after parsing; check that the file has content.")
    title = str(meta.pop("title", "") or title or PurePath(name).stem).strip()
    # A card's front matter is authoritative: an arXiv id merely mentioned in its text is a reference.
    arxiv_id = str(meta.pop("arxiv_id", "") or detect_arxiv_id(name, "" if front else full)).strip()
    experiment = meta.pop("experiment", None)
    experiment = canonical_experiment(str(experiment)) if experiment else _detect_experiment(title, full)
    year = meta.pop("year", None) or _year_from_arxiv(arxiv_id)
    source_type = str(meta.pop("source_type", "") or kind)
    out = {k: v for k, v in meta.items() if v not in (None, "", [])}
    out.update({"arxiv_id": arxiv_id, "experiment": experiment, "year": int(year) if year else None})
    return Document(title=title, source_type=source_type, blocks=blocks, meta=out)
