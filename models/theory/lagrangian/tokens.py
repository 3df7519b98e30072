"""Token grammar of field contents and Lagrangians (after arXiv:2501.09729), serialiser and parser.

Field content (model input), fields in canonical order, trivial charges omitted as in the paper:
    FIELD F<k> SPIN 0 | SPIN 1 / 2   [SU3 3 | SU3 - 3 | SU3 8]   [SU2 2 | SU2 3]   [U1 <q>]
          [HEL - 1 / 2 | HEL 1 / 2]   [REAL]   [ODD]
    <q> is a signed rational split into characters: "- 1 / 6", "2", "1 0 / 3".
Lagrangian (model output), a flat sequence of terms:
    term   := ("+" | "-") ["i"] object+ [CONTRACTIONS item+] [HC]
    object := F<k> [DAGGER] | DERIVATIVE | SIGMA_BAR | COMMUTATOR_A DERIVATIVE G | COMMUTATOR_B DERIVATIVE G
    item   := (LORENTZ | SU3 | SU2) [FABC | DABC] ID<i> ID<j> [ID<k>]          G := SU3 | SU2 | U1
IDs number the objects of a term by position (ID0 = first object); an ID beyond the objects labels the
internal index joining two gauge tensors. DERIVATIVE acts on the object after it. HC = "+ h.c.".
Kinetic terms have one possible contraction, so the compact style leaves their CONTRACTIONS out and
the parser restores them: (D phi)^dag (D phi) -> LORENTZ ID0 ID2 + gauge ID1 ID3; i psi^dag sigma-bar
D psi -> LORENTZ ID1 ID2, LORENTZ ID0 ID1 ID3 + gauge ID0 ID3; [D,D][D,D] -> LORENTZ ID0 ID2, ID1 ID3.
The "compact" style above refers to fields by input position (F<k>); style="paper" writes every
object as in the paper — FIELD with its (conjugated) quantum numbers, DERIVATIVE with the groups of
the field it acts on, and an explicit ID after each object. `parse_terms` reads both styles.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hepilot.models.theory.lagrangian.fields import Field
from hepilot.models.theory.lagrangian.terms import Item, Obj, Term

__all__ = ["VOCAB", "SPECIAL_TOKENS", "MAX_FIELDS", "TokenSyntaxError", "encode_fields", "decode_fields",
           "term_tokens", "lagrangian_tokens", "split_terms", "parse_term", "parse_terms", "ParsedTerm",
           "rational_tokens"]

MAX_FIELDS = 12
SPECIAL_TOKENS = ("[PAD]", "[SOS]", "[EOS]", "[UNK]")
_WORDS = ("FIELD", "SPIN", "SU3", "SU2", "U1", "HEL", "REAL", "ODD", "DAGGER", "DERIVATIVE", "SIGMA_BAR",
          "COMMUTATOR_A", "COMMUTATOR_B", "CONTRACTIONS", "LORENTZ", "FABC", "DABC", "HC", "i", "+", "-", "/")
VOCAB: tuple[str, ...] = (SPECIAL_TOKENS + _WORDS + tuple(str(d) for d in range(10))
                          + tuple(f"ID{i}" for i in range(10)) + tuple(f"F{k}" for k in range(MAX_FIELDS)))
_ITEM_GROUPS = ("LORENTZ", "SU3", "SU2")


class TokenSyntaxError(ValueError):
    """A token sequence does not follow the grammar; `position` is the offending token's index."""

    def __init__(self, position: int, message: str):
        self.position = position
        super().__init__(f"token {position}: {message}")


def rational_tokens(q: Fraction) -> list[str]:
    q = Fraction(q)
    out = ["-"] if q < 0 else []
    out += list(str(abs(q.numerator)))
    if q.denominator != 1:
        out += ["/", *str(q.denominator)]
    return out


def _qn_tokens(f: Field, dagger: bool = False) -> list[str]:
    su3, su2, y = f.conjugate_reps() if dagger else (f.su3, f.su2, f.y)
    out = ["SPIN", *(["0"] if f.is_scalar else ["1", "/", "2"])]
    if su3 != 1:
        out += ["SU3", *(["-", "3"] if su3 == -3 else [str(su3)])]
    if su2 != 1:
        out += ["SU2", str(su2)]
    if y != 0:
        out += ["U1", *rational_tokens(y)]
    if f.is_fermion:
        out += ["HEL", *rational_tokens(-f.helicity if dagger else f.helicity)]
    if f.real:
        out.append("REAL")
    return out


def encode_fields(fields: tuple[Field, ...]) -> list[str]:
    """The model-input tokens of a field content (already in canonical order)."""
    if len(fields) > MAX_FIELDS:
        raise ValueError(f"at most {MAX_FIELDS} fields can be encoded, got {len(fields)}")
    out: list[str] = []
    for k, f in enumerate(fields):
        out += ["FIELD", f"F{k}", *_qn_tokens(f)] + (["ODD"] if f.odd else [])
    return out


class _Reader:
    def __init__(self, toks: list[str], offset: int = 0):
        self.toks, self.pos, self.offset = toks, 0, offset

    def peek(self, k: int = 0) -> str | None:
        return self.toks[self.pos + k] if self.pos + k < len(self.toks) else None

    def take(self, expected: str | tuple[str, ...] | None = None) -> str:
        tok = self.peek()
        if tok is None:
            self.fail(f"unexpected end, expected {expected or 'a token'}")
        if expected is not None and tok not in ((expected,) if isinstance(expected, str) else expected):
            self.fail(f"expected {expected}, got {tok!r}")
        self.pos += 1
        return tok

    def fail(self, message: str):
        raise TokenSyntaxError(self.offset + self.pos, message)

    def rational(self) -> Fraction:
        sign = -1 if self.peek() == "-" and self.take() else 1
        num = self._digits()
        den = 1
        if self.peek() == "/":
            self.take()
            den = self._digits()
            if den == 0:
                self.fail("zero denominator")
        return sign * Fraction(num, den)

    def _digits(self) -> int:
        digits = ""
        while self.peek() is not None and self.peek().isdigit():
            digits += self.take()
        if not digits:
            self.fail(f"expected a digit, got {self.peek()!r}")
        return int(digits)


def _read_qn(r: _Reader) -> dict:
    r.take("SPIN")
    spin = r.rational()
    qn = {"spin": spin, "su3": 1, "su2": 1, "y": Fraction(0), "hel": None, "real": False, "odd": False}
    if r.peek() == "SU3":
        r.take()
        qn["su3"] = -3 if r.peek() == "-" and r.take() and r.take("3") else int(r.take(("3", "8")))
    if r.peek() == "SU2":
        r.take()
        qn["su2"] = int(r.take(("2", "3")))
    if r.peek() == "U1":
        r.take()
        qn["y"] = r.rational()
    if r.peek() == "HEL":
        r.take()
        qn["hel"] = r.rational()
    if r.peek() == "REAL":
        r.take()
        qn["real"] = True
    return qn


def decode_fields(tokens: list[str]) -> tuple[Field, ...]:
    """Inverse of encode_fields (names become F0, F1, ...)."""
    r = _Reader([t for t in tokens if t not in SPECIAL_TOKENS])
    fields = []
    while r.peek() is not None:
        r.take("FIELD")
        name = r.take()
        qn = _read_qn(r)
        if r.peek() == "ODD":
            r.take()
            qn["odd"] = True
        fields.append(Field(name, qn["spin"], qn["su3"], qn["su2"], qn["y"], qn["hel"], qn["real"], qn["odd"]))
    return tuple(fields)


def term_tokens(term: Term, fields: tuple[Field, ...], *, style: str = "compact") -> list[str]:
    """Tokens of one term (style 'compact' or 'paper')."""
    out = [term.sign] + (["i"] if term.imag else [])
    for pos, o in enumerate(term.objects):
        if o.kind == "field":
            out += ([f"F{o.field}"] if style == "compact" else ["FIELD", *_qn_tokens(fields[o.field], o.dagger)])
            out += ["DAGGER"] if o.dagger else []
        elif o.kind == "derivative":
            out.append("DERIVATIVE")
            if style == "paper" and pos + 1 < len(term.objects) and term.objects[pos + 1].kind == "field":
                f = fields[term.objects[pos + 1].field]
                out += [g for g in ("SU3", "SU2", "U1") if f.charged_under(g)]
        elif o.kind == "sigma_bar":
            out.append("SIGMA_BAR")
        else:
            out += ["COMMUTATOR_A" if o.kind == "comm_a" else "COMMUTATOR_B", "DERIVATIVE", o.group]
        if style == "paper":
            out.append(f"ID{pos}")
    if term.items and not (style == "compact" and _template_items(term.objects, fields) == term.items):
        out.append("CONTRACTIONS")
        for it in term.items:
            out += [it.group, *([it.variant] if it.variant else []), *(f"ID{i}" for i in it.ids)]
    if term.hc:
        out.append("HC")
    return out


def _template_items(objects: tuple[Obj, ...], fields: tuple[Field, ...]) -> tuple[Item, ...] | None:
    """The contractions a kinetic-shaped term always has (None for other shapes or unknown fields)."""
    kinds = [o.kind for o in objects]
    if kinds == ["derivative", "field", "derivative", "field"]:
        lorentz, pair = (Item("LORENTZ", (0, 2)),), (1, 3)
    elif kinds == ["field", "sigma_bar", "derivative", "field"]:
        lorentz, pair = (Item("LORENTZ", (0, 1, 3)), Item("LORENTZ", (1, 2))), (0, 3)
    elif kinds == ["comm_a", "comm_b", "comm_a", "comm_b"]:
        return (Item("LORENTZ", (0, 2)), Item("LORENTZ", (1, 3)))
    else:
        return None
    f = objects[pair[1]].field
    if not 0 <= f < len(fields):
        return None
    return lorentz + tuple(Item(g, pair) for g in ("SU3", "SU2") if fields[f].charged_under(g))


def lagrangian_tokens(terms, fields: tuple[Field, ...], *, style: str = "compact") -> list[str]:
    out: list[str] = []
    for t in terms:
        out += term_tokens(t, fields, style=style)
    return out


def split_terms(tokens: list[str]) -> list[tuple[int, list[str]]]:
    """Cut a Lagrangian into (offset, term tokens) at every sign that is not part of a quantum number
    (a sign inside quantum numbers is followed by a digit, a term's sign by i or an object)."""
    toks = [t for t in tokens if t not in SPECIAL_TOKENS]
    out: list[tuple[int, list[str]]] = []
    for k, t in enumerate(toks):
        if t in ("+", "-") and not (k + 1 < len(toks) and toks[k + 1].isdigit()):
            out.append((k, [t]))
        elif out:
            out[-1][1].append(t)
        else:
            out.append((k, [t]))
    return out


def _match_field(r: _Reader, qn: dict, dagger: bool, fields: tuple[Field, ...]) -> int:
    """The first field whose (conjugated, with DAGGER) quantum numbers are `qn`."""
    for k, f in enumerate(fields):
        su3, su2, y = f.conjugate_reps() if dagger else (f.su3, f.su2, f.y)
        hel = None if f.helicity is None else (-f.helicity if dagger else f.helicity)
        if (qn["spin"], qn["su3"], qn["su2"], qn["y"], qn["hel"], qn["real"]) == (f.spin, su3, su2, y, hel, f.real):
            return k
    r.fail(f"FIELD{' ... DAGGER' if dagger else ''} with quantum numbers that match no field of the content")


def parse_term(tokens: list[str], fields: tuple[Field, ...], *, offset: int = 0) -> Term:
    """Parse one term (either style). Raises TokenSyntaxError; physics is checked by the validator."""
    r = _Reader(tokens, offset)
    sign = r.take(("+", "-"))
    imag = r.peek() == "i" and bool(r.take())
    objects: list[Obj] = []
    labels: dict[str, int] = {}
    while r.peek() not in (None, "CONTRACTIONS", "HC"):
        tok = r.take()
        if tok.startswith("F") and tok[1:].isdigit():
            obj = Obj("field", int(tok[1:]), r.peek() == "DAGGER" and bool(r.take()))
        elif tok == "FIELD":
            qn = _read_qn(r)
            dagger = r.peek() == "DAGGER" and bool(r.take())
            obj = Obj("field", _match_field(r, qn, dagger, fields), dagger)
        elif tok == "DERIVATIVE":
            while r.peek() in ("SU3", "SU2", "U1"):
                r.take()
            obj = Obj("derivative")
        elif tok == "SIGMA_BAR":
            obj = Obj("sigma_bar")
        elif tok in ("COMMUTATOR_A", "COMMUTATOR_B"):
            r.take("DERIVATIVE")
            obj = Obj("comm_a" if tok == "COMMUTATOR_A" else "comm_b", group=r.take(("SU3", "SU2", "U1")))
        else:
            r.fail(f"expected an object (F<k>, FIELD, DERIVATIVE, SIGMA_BAR, COMMUTATOR_A/B), got {tok!r}")
        if r.peek() is not None and r.peek().startswith("ID"):
            label = r.take()
            if label in labels:
                r.fail(f"{label} labels two objects")
            labels[label] = len(objects)
        objects.append(obj)
    if not objects:
        r.fail("a term needs at least one object")
    if labels and len(labels) != len(objects):
        r.fail("either every object carries an ID or none does")
    items: list[Item] = []
    if r.peek() == "CONTRACTIONS":
        r.take()
        internal: dict[str, int] = {}
        while r.peek() in _ITEM_GROUPS:
            group = r.take()
            variant = r.take() if r.peek() in ("FABC", "DABC") else ""
            ids = []
            while r.peek() is not None and r.peek().startswith("ID"):
                ids.append(_resolve(r.take(), labels, internal, len(objects)))
            if len(ids) < 2:
                r.fail(f"a {group} contraction needs at least two IDs")
            items.append(Item(group, tuple(sorted(ids)), variant))
        if not items:
            r.fail("CONTRACTIONS must be followed by LORENTZ, SU3 or SU2 items")
    elif not labels:
        items = list(_template_items(tuple(objects), fields) or ())
    hc = r.peek() == "HC" and bool(r.take())
    if r.peek() is not None:
        r.fail(f"unexpected {r.peek()!r} after the end of the term")
    return Term(tuple(objects), tuple(sorted(items, key=Item.sort_key)), sign, imag, hc)


def _resolve(label: str, labels: dict[str, int], internal: dict[str, int], n: int) -> int:
    if labels:
        if label in labels:
            return labels[label]
        return internal.setdefault(label, n + len(internal))
    return int(label[2:])


@dataclass
class ParsedTerm:
    offset: int
    tokens: list[str]
    term: Term | None
    error: str | None


def parse_terms(tokens: list[str], fields: tuple[Field, ...]) -> list[ParsedTerm]:
    """Split and parse every term; a syntax error is kept on its term, the others still parse."""
    out = []
    for offset, toks in split_terms(tokens):
        try:
            out.append(ParsedTerm(offset, toks, parse_term(toks, fields, offset=offset), None))
        except TokenSyntaxError as exc:
            out.append(ParsedTerm(offset, toks, None, str(exc)))
    return out
