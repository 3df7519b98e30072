"""Writes one benchmark's section into docs/benchmarks.md, leaving the other sections as they are.

Each benchmark script owns the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`;
running it replaces that section (or appends it) and stamps the machine and the date.
"""
from __future__ import annotations

import datetime as _dt
import os
import platform
import re
import subprocess
from pathlib import Path

__all__ = ["write_section", "machine_line", "section", "previous_part", "DOC"]

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
_HEADER = "# Benchmarks\n\nMeasured by the scripts in `benchmarks/`; each section is rewritten by its script.\n"


def machine_line() -> str:
    """One line naming the machine, the commit and the date of a measurement."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=DOC.parent.parent, check=False).stdout.strip() or "uncommitted"
    except OSError:
        commit = "unknown"
    tuned = "tuned malloc env" if os.environ.get("GLIBC_TUNABLES") else "default malloc env"
    return (f"_Measured {_dt.date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, commit {commit}, {tuned}._")


def write_section(name: str, markdown: str) -> Path:
    """Replace (or append) the section `name` of docs/benchmarks.md with `markdown`."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text() if DOC.exists() else _HEADER
    block = f"<!-- bench:{name} -->\n{markdown.strip()}\n\n{machine_line()}\n<!-- /bench:{name} -->"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    tmp = DOC.with_suffix(".md.tmp")
    tmp.write_text(text)
    tmp.replace(DOC)
    return DOC


def section(name: str) -> str | None:
    """The text of section `name` now in docs/benchmarks.md (None when there is none)."""
    if not DOC.exists():
        return None
    m = re.search(rf"<!-- bench:{re.escape(name)} -->(.*?)<!-- /bench:{re.escape(name)} -->", DOC.read_text(), re.S)
    return m.group(1) if m else None


def previous_part(name: str, head: str) -> str | None:
    """The part of section `name` now in docs/benchmarks.md that starts with `head` (its text and the table
    after it), stamped with that run's measurement line: a run that skips a part keeps the earlier one."""
    text = section(name)
    if text is None or head not in text:
        return None
    start = text.index(head)
    table = text.find("|---", start)
    table_end = text.find("\n\n", table) if table >= 0 else -1
    if table_end < 0:
        return None
    kept = re.match(r"\s*(_\(kept from [^\n]*\)_)", text[table_end:])  # kept before: its own stamp stays
    stamp = re.search(r"_Measured (.*?)\._", text)
    note = (kept.group(1) if kept else f"_(kept from the earlier run: measured {stamp.group(1)})_" if stamp
            else "_(kept from an earlier run)_")
    return text[start:table_end].rstrip() + "\n\n" + note + "\n"
