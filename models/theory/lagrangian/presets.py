"""Named field contents (the Standard Model and textbook extensions) and reading them from plain text.

One generation of the SM with right-handed singlets: Q(3,2,1/6) L, u(3,1,2/3) R, d(3,1,-1/3) R,
L(1,2,-1/2) L, e(1,1,-1) R, H(1,2,1/2) scalar; N(1,1,0) R is a right-handed neutrino.
Extensions: real singlet S, complex singlet S, inert doublet H2 (Z2-odd), second Higgs doublet,
vector-like top partner T (L + R), complex triplet Delta(1,3,1) (type-II seesaw), real triplet,
colour-octet scalar, scalar leptoquark.

`fields_from_text` reads a request such as "write the Lagrangian for the SM plus a real singlet",
"what terms are allowed for Q L H" (SM symbols) or explicit specs "Q(3,2,1/6) H(1,2,1/2) scalar".
"""
from __future__ import annotations

import difflib
import re

from hepilot.models.theory.lagrangian.fields import Field, FieldSpecError, parse_fields

__all__ = ["SM_FIELDS", "EXTENSIONS", "fields_from_text", "sm"]

SM_FIELDS: dict[str, str] = {
    "Q": "Q(3,2,1/6) L", "u": "u(3,1,2/3) R", "d": "d(3,1,-1/3) R", "L": "L(1,2,-1/2) L", "e": "e(1,1,-1) R",
    "H": "H(1,2,1/2) scalar", "N": "N(1,1,0) R",
}
_SM_ORDER = ("Q", "u", "d", "L", "e", "H")

# phrase (regex) -> extra fields; the first matching phrases win. Named models of the Higgs sector bring
# the Higgs doublet H with them (the inert doublet model is H + H2, the type-II seesaw H + L + Delta).
_H = "H(1,2,1/2) scalar"
EXTENSIONS: dict[str, str] = {
    r"inert (higgs )?doublet": f"{_H} H2(1,2,1/2) scalar odd",
    r"(two[- ]higgs[- ]doublets?|2hdm|second (higgs )?doublet)": f"{_H} H2(1,2,1/2) scalar",
    r"complex (scalar )?singlet|cxsm": "S(1,1,0) complex",
    r"real (scalar )?singlet|xsm|scalar singlet": "S(1,1,0) real",
    r"vector[- ]like (top|quark)s?|vlq|top partner": "TL(3,1,2/3) L TR(3,1,2/3) R",
    r"type[- ]ii seesaw": f"{_H} L(1,2,-1/2) L Delta(1,3,1) scalar",
    r"complex (scalar )?triplet": "Delta(1,3,1) scalar",
    r"real (scalar )?triplet": "Sigma(1,3,0) real",
    r"type[- ]i seesaw|right[- ]handed neutrinos?|sterile neutrinos?": "N(1,1,0) R",
    r"(colou?r[- ])?octet scalar|scalar octet": "G8(8,1,0) real",
    r"leptoquark": "S1(3,1,-1/3) scalar",
}
# "the (SM) Higgs doublet" names H alone; "SM" / "Standard Model" not followed by "Higgs" names all its fields
_HIGGS_RE = re.compile(r"\bhiggs( doublet| field| boson)?\b", re.I)
_MARKER_WORDS = ("scalar", "complex", "real", "fermion", "weyl", "left", "right", "odd")
_SM_RE = re.compile(r"\b(standard model|sm)\b(?!('s)?\s+higgs)", re.I)
_SPEC_RE = re.compile(r"[A-Za-z][A-Za-z0-9_']*\s*\([^)]*\)(\s+(scalar|complex|real|fermion|weyl|left|right|lh|rh|l|r|"
                      r"odd)\b(?!\s*\())*", re.I)


def sm(*names: str) -> tuple[Field, ...]:
    """SM fields by symbol (all of one generation when no names are given)."""
    return parse_fields(" ".join(SM_FIELDS[n] for n in (names or _SM_ORDER)))


def fields_from_text(text: str) -> tuple[Field, ...]:
    """Field content named in a request: explicit specs, SM symbols, 'SM' and extension phrases."""
    matches = list(_SPEC_RE.finditer(text))
    if matches:
        leftover = _SPEC_RE.sub(" ", text)
        if not leftover.strip(" ,;\n\t"):
            return parse_fields(text)
        for m in matches:
            nxt = re.match(r"\s*([A-Za-z]+)", text[m.end():])
            if nxt and difflib.get_close_matches(nxt.group(1).lower(), _MARKER_WORDS, n=1, cutoff=0.75):
                parse_fields(m.group(0) + " " + nxt.group(1))  # raises the unknown-marker error
        return parse_fields(" ".join(m.group(0) for m in matches))
    chosen: list[str] = []
    lowered = text.lower()
    extensions: list[str] = []
    for pattern, extra in EXTENSIONS.items():
        if re.search(pattern, lowered):
            extensions.append(extra)
            lowered = re.sub(pattern, " ", lowered)
    if _SM_RE.search(lowered):
        chosen += [SM_FIELDS[n] for n in _SM_ORDER]
    if _HIGGS_RE.search(lowered):
        chosen.append(SM_FIELDS["H"])
    chosen += extensions
    chosen += [SM_FIELDS[s] for s in re.findall(r"(?<![A-Za-z0-9_(])([QLHudeN])(?![A-Za-z0-9_(])", text)]
    by_name: dict[str, str] = {}
    for group in chosen:
        for m in _SPEC_RE.finditer(group):
            by_name.setdefault(m.group(0).split("(")[0], m.group(0))
    chosen = list(by_name.values())
    if not chosen:
        raise FieldSpecError("<text>", f"no field content found in {text[:60]!r}.",
                             "give fields as NAME(SU3,SU2,Y) plus markers, e.g. 'H(1,2,1/2) scalar S(1,1,0) real', "
                             "SM symbols (Q u d L e H N) or a named model (SM, inert doublet, real singlet, ...).")
    return parse_fields(" ".join(chosen))
