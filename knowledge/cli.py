"""`hepilot kb`: ingest documents, search with citations, show stats, rebuild the knowledge index."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ["app"]

app = typer.Typer(help="The knowledge index: ingest papers, search with citations, stats, rebuild.",
                  no_args_is_help=True, add_completion=False)

KbOption = Annotated[Optional[Path], typer.Option("--kb", help="Index folder (default: settings.kb_dir, HEPILOT_KB)")]


def _store(kb: Path | None):
    from hepilot.knowledge.retrieval import get_store

    return get_store(kb)


def _echo_outcome(outcome) -> None:
    colour = {"failed": typer.colors.RED, "added": typer.colors.GREEN, "replaced": typer.colors.GREEN}.get(
        outcome.status)
    typer.secho(f"{outcome.status:>9}  {outcome.path}: {outcome.message}", fg=colour, err=outcome.status == "failed")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="PDF, Markdown, LaTeX or text files, or folders")],
    max_mb: Annotated[float, typer.Option("--max-mb", min=0.001, help="Skip files larger than this")] = 50.0,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    kb: KbOption = None,
) -> None:
    """Add or update documents: changed files replace their chunks, unchanged ones are skipped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from hepilot.knowledge.store import KnowledgeStore

    store = _store(kb)
    n_files = len(KnowledgeStore.expand_paths(paths))
    with Progress(TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True,
                  disable=json_out) as bar:
        task = bar.add_task("ingest", total=n_files)

        def on_file(outcome) -> None:
            bar.advance(task)
            if not json_out:
                _echo_outcome(outcome)

        report = store.ingest(paths, max_bytes=int(max_mb * 2**20), on_file=on_file)
    if json_out:
        typer.echo(json.dumps(report.to_dict(), indent=1))
    else:
        typer.echo(report.summary())
    if report.failed:
        raise typer.Exit(1)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="A question or keywords")],
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Number of passages")] = 5,
    json_out: Annotated[bool, typer.Option("--json", help="Print hits as JSON")] = False,
    source_type: Annotated[Optional[str], typer.Option(
        help="method_card, detector_card, reference_card, pdf, markdown, latex or text")] = None,
    experiment: Annotated[Optional[str], typer.Option(help="ATLAS, CMS, LHCb, CEPC, BESIII, JUNO, ...")] = None,
    arxiv_id: Annotated[Optional[str], typer.Option(help="Only this arXiv id, e.g. 1902.08570")] = None,
    year_min: Annotated[Optional[int], typer.Option(help="Only documents from this year on")] = None,
    year_max: Annotated[Optional[int], typer.Option(help="Only documents up to this year")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, dense or bm25")] = "hybrid",
    kb: KbOption = None,
) -> None:
    """Search the index; every passage comes with its citation."""
    filters: dict = {"source_type": source_type, "experiment": experiment, "arxiv_id": arxiv_id}
    years = {op: v for op, v in (("$gte", year_min), ("$lte", year_max)) if v is not None}
    if years:
        filters["year"] = years
    try:
        hits = _store(kb).search(query, k=k, filters={f: v for f, v in filters.items() if v is not None},
                                 mode=mode)  # type: ignore[arg-type]
    except ValueError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    if json_out:
        typer.echo(json.dumps([h.to_dict() for h in hits], indent=1))
        return
    if not hits:
        typer.echo("no passages found")
    for i, hit in enumerate(hits, start=1):
        typer.secho(f"[{i}] {hit.citation}  (score {hit.score:.4f})", bold=True)
        typer.echo("    " + hit.text.replace("\n", "\n    "))


@app.command()
def stats(
    json_out: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
    kb: KbOption = None,
) -> None:
    """Documents, chunks, source types and the consistency of the index."""
    info = _store(kb).stats()
    if json_out:
        typer.echo(json.dumps(info, indent=1))
        return
    for key, value in info.items():
        typer.echo(f"{key:>18}: {value}")
    if not info["consistent"]:
        raise typer.Exit(1)


@app.command()
def rebuild(kb: KbOption = None) -> None:
    """Re-read, re-chunk and re-embed every document into a fresh collection (atomic switch)."""
    report = _store(kb).rebuild(on_file=_echo_outcome)
    typer.echo(report.summary())
    if report.failed:
        raise typer.Exit(1)


@app.command("corpus-vectors")
def corpus_vectors() -> None:
    """(maintainers) Re-embed the shipped cards and rewrite knowledge/corpus/vectors.json."""
    from hepilot.knowledge.shipped_vectors import write_shipped_vectors

    path, n = write_shipped_vectors()
    typer.echo(f"wrote {n} vectors to {path}")
