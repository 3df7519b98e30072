"""Readers and chunking: sections, equations, pages and metadata survive; bad input is refused clearly."""
from __future__ import annotations

import pytest

from hepilot.knowledge.chunking import MAX_CHARS, chunk_blocks
from hepilot.knowledge.documents import IngestError, detect_arxiv_id, load_document

from .conftest import write_pdf

LONG = " ".join(f"Sentence number {i} talks about calorimeter response and shower containment." for i in range(60))


def test_markdown_sections_front_matter_and_atomic_equation():
    eq = "$$\n" + " + ".join(f"a_{{{i}}} x^{{{i}}}" for i in range(150)) + "\n$$"  # longer than a chunk
    text = f"""---
title: "A card"
source_type: method_card
arxiv_id: "1902.08570"
experiment: cms
tool: train_tagger
---
# Ignored H1 title

## Architecture
Intro paragraph mentioning arXiv:2202.03772 as a reference.

### Layers
{LONG}

{eq}

## Results
| model | AUC |
|---|---|
| A | 0.98 |
"""
    doc = load_document("card.md", text.encode())
    assert doc.title == "A card" and doc.source_type == "method_card"
    assert doc.meta["arxiv_id"] == "1902.08570"  # front matter wins over ids mentioned in the text
    assert doc.meta["experiment"] == "CMS" and doc.meta["tool"] == "train_tagger" and doc.meta["year"] == 2019
    chunks = chunk_blocks(doc.blocks)
    sections = {c.section for c in chunks}
    assert sections == {"Architecture", "Architecture > Layers", "Results"}
    eq_chunks = [c for c in chunks if "$$" in c.text]
    assert len(eq_chunks) == 1 and eq.strip() in eq_chunks[0].text  # never cut, even above MAX_CHARS
    assert len(eq.strip()) > MAX_CHARS
    assert eq_chunks[0].text.index("$$") > 0  # carries the sentence that introduced it
    prose = [c for c in chunks if c.section == "Architecture > Layers" and "$$" not in c.text]
    assert len(prose) >= 3 and all(len(c.text) <= MAX_CHARS for c in prose)
    assert all(c.text.rstrip().endswith(".") for c in prose)  # cut between sentences
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_table_split_repeats_header_and_inline_math_not_cut():
    rows = "\n".join(f"| row {i} | {i * 0.5:.1f} GeV | some description of the entry number {i} |" for i in range(80))
    text = f"## Table\n| name | value | note |\n|---|---|---|\n{rows}\n\n## Math\n" + " ".join(
        f"The bound is $x_{i} < {i}. Really$ and it holds. Next {i}." for i in range(80))
    chunks = chunk_blocks(load_document("t.md", text.encode()).blocks)
    table = [c for c in chunks if c.section == "Table"]
    assert len(table) >= 2 and all(c.text.startswith("| name | value | note |\n|---|") for c in table)
    math = [c for c in chunks if c.section == "Math"]
    assert len(math) >= 2 and all(c.text.count("$") % 2 == 0 for c in math)


def test_latex_title_abstract_sections_and_equations():
    tex = r"""\documentclass{article}
\title{Learning Things \\ with Networks}
\begin{document}
\maketitle
\begin{abstract}We learn things.\end{abstract}
\section{Introduction}
Text about jets % a comment that must vanish
with a citation~\cite{ref1}.
\begin{equation}
  L = \sum_i (y_i - f(x_i))^2 \label{eq:loss}
\end{equation}
\subsection{Details}
More text.
\begin{figure}\includegraphics{a.png}\caption{A ROC curve.}\end{figure}
\end{document}
"""
    doc = load_document("2202.03772v2.tex", tex.encode())
    assert doc.title == "Learning Things with Networks"
    assert doc.meta["arxiv_id"] == "2202.03772" and doc.meta["year"] == 2022
    by_section = {}
    for b in doc.blocks:
        by_section.setdefault(b.section, []).append(b)
    assert by_section["Abstract"][0].text == "We learn things."
    intro = by_section["Introduction"]
    assert "comment" not in " ".join(b.text for b in intro)
    eq = [b for b in intro if b.atomic]
    assert len(eq) == 1 and eq[0].text.startswith("\\begin{equation}") and eq[0].text.endswith("\\end{equation}")
    assert any("Caption: A ROC curve." in b.text for b in by_section["Introduction > Details"])


def test_pdf_pages_sections_and_title(tmp_path):
    pdf = write_pdf(tmp_path / "paper.pdf", [
        ["A Study of Top Tagging", "arXiv:1902.08570", "1 Introduction", "Jets are collimated sprays of particles."],
        ["2 Method", "We train a graph network on particle clouds.", "It uses EdgeConv blocks."],
    ], title="A Study of Top Tagging")
    doc = load_document(pdf.name, pdf.read_bytes())
    assert doc.title == "A Study of Top Tagging" and doc.source_type == "pdf"
    assert doc.meta["arxiv_id"] == "1902.08570" and doc.meta["n_pages"] == 2
    chunks = chunk_blocks(doc.blocks)
    method = [c for c in chunks if c.section == "2 Method"]
    assert method and method[0].page == 2 and "EdgeConv" in method[0].text
    assert any(c.section == "1 Introduction" and c.page == 1 for c in chunks)


@pytest.mark.parametrize("name, data, fragment", [
    ("broken.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 20, "corrupt PDF"),
    ("fake.pdf", b"<html>not a pdf</html>", "not a PDF"),
    ("junk.txt", bytes(range(256)) * 40, "binary"),
    ("empty.md", b"   \n\n", "empty"),
    ("slides.pptx", b"PK\x03\x04 zip", "unsupported file type '.pptx'"),
    ("bad.md", b"---\ntitle: [unclosed\n---\nbody", "invalid YAML front matter"),
])
def test_bad_input_gives_a_clear_message(name, data, fragment):
    with pytest.raises(IngestError, match=None) as err:
        load_document(name, data)
    assert fragment in str(err.value) and name in str(err.value)


def test_pdf_without_text_layer_is_refused(tmp_path):
    pdf = write_pdf(tmp_path / "scan.pdf", [[], []])
    with pytest.raises(IngestError, match="no extractable text in 2 page"):
        load_document(pdf.name, pdf.read_bytes())


def test_arxiv_id_detection():
    assert detect_arxiv_id("2510.08317v1.pdf") == "2510.08317"
    assert detect_arxiv_id("paper.pdf", "see arXiv:hep-ex/0509008 for details") == "hep-ex/0509008"
    assert detect_arxiv_id("notes.txt", "version 1.2.3 of 2024") == ""
