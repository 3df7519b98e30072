"""`hepilot kb` through typer's CliRunner: ingest, search --json, stats, rebuild, and exit codes."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from hepilot.knowledge.cli import app

runner = CliRunner()

NOTE = """---
experiment: LHCb
year: 2015
---
# RICH note

## Particle identification
The ring-imaging Cherenkov detectors separate kaons from pions between 2 and 100 GeV.
"""


def test_ingest_search_stats_rebuild(tmp_path):
    kb = tmp_path / "kb"
    note = tmp_path / "rich.md"
    note.write_text(NOTE)
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\x00\x01\x02" * 100)

    result = runner.invoke(app, ["ingest", str(note), "--kb", str(kb)])
    assert result.exit_code == 0, result.output
    assert "added" in result.output and "rich.md" in result.output

    result = runner.invoke(app, ["ingest", str(note), str(junk), "--kb", str(kb)])
    assert result.exit_code == 1  # one file failed; the other was still processed
    assert "unchanged" in result.output and "binary" in result.output

    result = runner.invoke(app, ["search", "kaon pion separation Cherenkov", "--k", "3", "--json", "--kb", str(kb),
                                 "--experiment", "lhcb"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits and hits[0]["title"] == "RICH note" and hits[0]["experiment"] == "LHCb"
    assert hits[0]["citation"].startswith("RICH note, § Particle identification")

    result = runner.invoke(app, ["search", "kaon", "--kb", str(kb), "--mode", "fuzzy"])
    assert result.exit_code == 2 and "mode must be" in result.output

    result = runner.invoke(app, ["stats", "--json", "--kb", str(kb)])
    info = json.loads(result.output)
    assert info["consistent"] and info["user_documents"] == 1 and info["corpus_documents"] >= 20

    result = runner.invoke(app, ["rebuild", "--kb", str(kb)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["stats", "--kb", str(kb)]).exit_code == 0


def test_no_arguments_shows_help():
    result = runner.invoke(app, [])
    assert "ingest" in result.output and "search" in result.output and "rebuild" in result.output
