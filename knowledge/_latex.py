"""LaTeX source -> title and sectioned blocks; equation environments are kept whole (atomic)."""
from __future__ import annotations

import re

__all__ = ["parse_latex"]

_EQ_ENVS = ("equation", "equation*", "align", "align*", "eqnarray", "eqnarray*", "gather", "gather*",
            "multline", "multline*", "displaymath", "split")
_LEVELS = {"part": 0, "chapter": 0, "section": 1, "subsection": 2, "subsubsection": 3, "paragraph": 4}
_TOKEN = re.compile(
    r"\\(?P<cmd>part|chapter|section|subsection|subsubsection|paragraph)\*?\s*(?:\[[^\]]*\])?\s*\{"
    r"|\\begin\{(?P<env>" + "|".join(re.escape(e) for e in _EQ_ENVS) + r")\}"
    r"|\\begin\{(?P<skip>figure\*?|table\*?|thebibliography)\}"
    r"|\\begin\{abstract\}|\\end\{abstract\}"
    r"|\\\[|\$\$"
)


def _braced(text: str, start: int) -> tuple[str, int]:
    """The content of the brace group opening just before `start`, and the index after it."""
    depth, i = 1, start
    while i < len(text) and depth:
        if text[i] == "\\":
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[start:i - 1], i


def _clean(text: str) -> str:
    text = re.sub(r"\\(label|vspace|hspace)\*?\{[^}]*\}", "", text)
    text = re.sub(r"~?\\(cite[pt]?|citep|citet)\{[^}]*\}", " [cite]", text)
    text = re.sub(r"~?\\(eq)?ref\{[^}]*\}", " [ref]", text)
    text = re.sub(r"\\(textbf|textit|emph|texttt|textrm|mathrm)\{([^{}]*)\}", r"\2", text)
    text = re.sub(r"\\(maketitle|noindent|newpage|clearpage|centering|medskip|bigskip|smallskip)\b", "", text)
    text = re.sub(r"[ \t]+", " ", text)
    return text.strip()


def _strip_comments(text: str) -> str:
    return "\n".join(re.sub(r"(?<!\\)%.*$", "", line) for line in text.splitlines())


def parse_latex(source: str) -> tuple[str, list]:
    """(title, blocks) of a LaTeX document; sections from \\section..., equations atomic."""
    from hepilot.knowledge.documents import Block

    text = _strip_comments(source)
    title = ""
    m = re.search(r"\\title\s*(?:\[[^\]]*\])?\s*\{", text)
    if m:
        title = _clean(_braced(text, m.end())[0].replace("\\\\", " "))
    begin = text.find("\\begin{document}")
    if begin >= 0:
        text = text[begin + len("\\begin{document}"):]
    end = text.find("\\end{document}")
    if end >= 0:
        text = text[:end]
    blocks: list[Block] = []
    stack: list[tuple[int, str]] = []
    in_abstract = False

    def section() -> str:
        return "Abstract" if in_abstract else " > ".join(name for _, name in stack)

    def add_text(chunk: str) -> None:
        for para in re.split(r"\n\s*\n", chunk):
            cleaned = _clean(para.replace("\n", " "))
            if cleaned:
                blocks.append(Block(cleaned, section()))

    pos = 0
    while True:
        m = _TOKEN.search(text, pos)
        if m is None:
            add_text(text[pos:])
            break
        add_text(text[pos:m.start()])
        tok = m.group(0)
        if m.group("cmd"):
            name, pos = _braced(text, m.end())
            level = _LEVELS[m.group("cmd")]
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, _clean(name)))
            in_abstract = False
        elif m.group("env"):
            close = f"\\end{{{m.group('env')}}}"
            stop = text.find(close, m.end())
            stop = len(text) if stop < 0 else stop + len(close)
            blocks.append(Block(text[m.start():stop].strip(), section(), atomic=True))
            pos = stop
        elif m.group("skip"):
            close = f"\\end{{{m.group('skip')}}}"
            stop = text.find(close, m.end())
            stop = len(text) if stop < 0 else stop + len(close)
            caption = re.search(r"\\caption\s*\{", text[m.end():stop])
            if caption:
                add_text("Caption: " + _braced(text, m.end() + caption.end())[0])
            pos = stop
        elif tok == "\\begin{abstract}":
            in_abstract, pos = True, m.end()
        elif tok == "\\end{abstract}":
            in_abstract, pos = False, m.end()
        else:
            close = "\\]" if tok == "\\[" else "$$"
            stop = text.find(close, m.end())
            stop = len(text) if stop < 0 else stop + len(close)
            blocks.append(Block(text[m.start():stop].strip(), section(), atomic=True))
            pos = stop
    return title, blocks
