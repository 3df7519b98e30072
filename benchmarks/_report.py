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

__all__ = ["write_section", "machine_line", "DOC"]

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
