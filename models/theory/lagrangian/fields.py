"""Matter fields of a Lagrangian: scalars and Weyl fermions with SU(3) x SU(2) x U(1)_Y charges.

A field is a complex scalar (spin 0), a real scalar (spin 0 in a real representation with Y = 0)
or a Weyl fermion (spin 1/2, helicity -1/2 = left-handed, +1/2 = right-handed), with SU(3) in
{1, 3, 3bar, 8}, SU(2) in {1, 2, 3} and a rational hypercharge Y (Q = T3 + Y). An optional Z2
parity ("odd") forbids terms with an odd number of odd fields (inert doublet, dark matter).

Text grammar of `parse_fields` (one field after another, separated by spaces, commas or ';'):
    NAME(SU3, SU2, Y[, MARKER ...]) [MARKER ...]
    SU3    1 | 3 | 3bar | 3b | -3 | 8          SU2   1 | 2 | 3
    Y      integer, fraction or decimal: 1/6, -1/2, 0, 2, 0.5
    MARKER scalar | complex (complex scalar) | real (real scalar) | fermion | L | left | LH
           (left-handed Weyl fermion) | R | right | RH (right-handed Weyl fermion) | odd (Z2-odd)
A field without a spin marker is a left-handed Weyl fermion. Examples:
    "Q(3,2,1/6) L(1,2,-1/2) H(1,2,1/2) scalar"      "S(1,1,0) real"      "u(3,1,2/3) R"
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Field", "FieldSpecError", "parse_fields", "check_content", "canonical_order", "SU3_REPS", "SU2_REPS"]

SU3_REPS = (1, 3, -3, 8)
SU2_REPS = (1, 2, 3)
_SU3_TEXT = {"1": 1, "3": 3, "3bar": -3, "3b": -3, "-3": -3, "3*": -3, "8": 8}
_MARKERS = {
    "scalar": ("scalar", None), "complex": ("complex", None), "real": ("real", None),
    "fermion": ("fermion", Fraction(-1, 2)), "weyl": ("fermion", Fraction(-1, 2)),
    "l": ("fermion", Fraction(-1, 2)), "left": ("fermion", Fraction(-1, 2)), "lh": ("fermion", Fraction(-1, 2)),
    "r": ("fermion", Fraction(1, 2)), "right": ("fermion", Fraction(1, 2)), "rh": ("fermion", Fraction(1, 2)),
    "odd": ("odd", None),
}
_FIX_FORMAT = "write each field as NAME(SU3,SU2,Y) plus markers, e.g. 'H(1,2,1/2) scalar' or 'u(3,1,2/3) R'"


class FieldSpecError(ValueError):
    """A field specification is invalid: names the field, the problem and the fix."""

    def __init__(self, field: str, problem: str, fix: str):
        self.field, self.problem, self.fix = field, problem, fix
        super().__init__(f"field {field!r}: {problem} Fix: {fix}")


@dataclass(frozen=True)
class Field:
    """One matter field. `helicity` is None for scalars; `real` only for scalars in real representations."""

    name: str
    spin: Fraction
    su3: int = 1
    su2: int = 1
    y: Fraction = Fraction(0)
    helicity: Fraction | None = None
    real: bool = False
    odd: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "spin", Fraction(self.spin))
        object.__setattr__(self, "y", Fraction(self.y))
        if self.helicity is not None:
            object.__setattr__(self, "helicity", Fraction(self.helicity))
        self.check()

    @property
    def is_scalar(self) -> bool:
        return self.spin == 0

    @property
    def is_fermion(self) -> bool:
        return self.spin == Fraction(1, 2)

    @property
    def dimension(self) -> Fraction:
        """Mass dimension: 1 for scalars, 3/2 for fermions."""
        return Fraction(1) if self.is_scalar else Fraction(3, 2)

    def charged_under(self, group: str) -> bool:
        return {"SU3": self.su3 != 1, "SU2": self.su2 != 1, "U1": self.y != 0}[group]

    def check(self) -> None:
        """Raise FieldSpecError if the quantum numbers are not a supported, consistent field."""
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_']*", self.name or ""):
            raise FieldSpecError(str(self.name), "the name must start with a letter and use letters, digits, _ or '.",
                                 "rename it, e.g. 'H', 'Q1', 'phi_2'.")
        if self.spin not in (0, Fraction(1, 2)):
            raise FieldSpecError(self.name, f"spin {self.spin} is not supported (only 0 and 1/2; gauge bosons are "
                                 "implied by covariant derivatives).", "use a scalar or a Weyl fermion.")
        if self.su3 not in SU3_REPS:
            raise FieldSpecError(self.name, f"SU(3) representation {self.su3} is not supported.",
                                 "use 1, 3, 3bar (or -3) or 8.")
        if self.su2 not in SU2_REPS:
            raise FieldSpecError(self.name, f"SU(2) representation {self.su2} is not supported.", "use 1, 2 or 3.")
        if self.is_fermion and self.helicity not in (Fraction(-1, 2), Fraction(1, 2)):
            raise FieldSpecError(self.name, "a Weyl fermion needs helicity -1/2 (left) or +1/2 (right).",
                                 "mark it L or R.")
        if self.is_scalar and self.helicity is not None:
            raise FieldSpecError(self.name, "a scalar has no helicity.", "drop the L/R marker or make it a fermion.")
        if self.real:
            if not self.is_scalar:
                raise FieldSpecError(self.name, "only scalars can be real here (Majorana masses of Weyl fermions "
                                     "are generated automatically).", "drop 'real'.")
            if self.y != 0 or self.su3 not in (1, 8) or self.su2 not in (1, 3):
                raise FieldSpecError(self.name, f"a real scalar needs a real representation and Y = 0, got "
                                     f"({self.su3},{self.su2},{self.y}) (the SU(2) doublet is pseudo-real).",
                                     "drop 'real' (make it a complex scalar) or use SU3 in {1,8}, SU2 in {1,3}, Y=0.")

    def conjugate_reps(self) -> tuple[int, int, Fraction]:
        return (-self.su3 if self.su3 == 3 or self.su3 == -3 else self.su3, self.su2, -self.y)

    def sort_key(self) -> tuple:
        hel = self.helicity if self.helicity is not None else Fraction(0)
        return (self.spin, hel, SU3_REPS.index(self.su3), self.su2, self.y, self.real, self.odd)

    def quantum_numbers(self) -> tuple:
        return self.sort_key()

    def describe(self) -> str:
        su3 = "3bar" if self.su3 == -3 else str(self.su3)
        kind = ("real scalar" if self.real else "scalar") if self.is_scalar else (
            "L" if self.helicity < 0 else "R")
        return f"{self.name}({su3},{self.su2},{self.y}) {kind}" + (" odd" if self.odd else "")


def canonical_order(fields: list[Field] | tuple[Field, ...]) -> tuple[Field, ...]:
    """Fields in the canonical order used by the token grammar: scalars, then LH, then RH fermions,
    then SU(3), SU(2), Y; fields with identical quantum numbers keep their input order."""
    return tuple(sorted(fields, key=Field.sort_key))


_TOKEN_RE = re.compile(r"\s*(?:([A-Za-z][A-Za-z0-9_']*)\s*\(([^)]*)\)|([A-Za-z]+)|([,;]))\s*")


def _parse_y(name: str, text: str) -> Fraction:
    try:
        return Fraction(text.replace(" ", ""))
    except (ValueError, ZeroDivisionError):
        raise FieldSpecError(name, f"hypercharge {text!r} is not a number.",
                             "write Y as an integer, a fraction like 1/6 or -1/2, or a decimal like 0.5.") from None


def _apply_marker(name: str, state: dict, marker: str) -> None:
    key = marker.strip().lower()
    if key not in _MARKERS:
        from hepilot.errors import closest

        near = closest(key, _MARKERS)
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        raise FieldSpecError(name, f"unknown marker {marker!r}{hint}.",
                             "use scalar, complex, real, fermion, L/left/LH, R/right/RH or odd.")
    kind, hel = _MARKERS[key]
    if kind == "odd":
        state["odd"] = True
        return
    pair = {state["kind"], kind}
    compatible = pair <= {"scalar", "real"} or pair <= {"scalar", "complex"} or state["kind"] in (None, kind)
    if not compatible or (hel is not None and state["hel"] not in (None, hel)):
        raise FieldSpecError(name, f"conflicting markers ({state['kind']} and {marker}).",
                             "give one spin marker per field: scalar, real, or L/R for fermions.")
    if state["kind"] in (None, "scalar"):
        state["kind"] = kind
    if hel is not None:
        state["hel"] = hel


def _build(name: str, state: dict) -> Field:
    kind = state["kind"] or "fermion"
    if kind == "fermion":
        hel = state["hel"] if state["hel"] is not None else Fraction(-1, 2)
        return Field(name, Fraction(1, 2), state["su3"], state["su2"], state["y"], hel, False, state["odd"])
    return Field(name, Fraction(0), state["su3"], state["su2"], state["y"], None, kind == "real", state["odd"])


def parse_fields(text: str) -> tuple[Field, ...]:
    """Parse the short text grammar (see the module docstring) into fields, in the order given."""
    entries: list[tuple[str, str, list[str]]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            snippet = text[pos:pos + 20].strip()
            raise FieldSpecError(entries[-1][0] if entries else snippet, f"cannot read {snippet!r}.", _FIX_FORMAT)
        name, inside, word, _sep = m.groups()
        if name is not None:
            entries.append((name, inside, []))
        elif word is not None:
            if not entries:
                raise FieldSpecError(word, "a marker or word comes before any field.", _FIX_FORMAT)
            entries[-1][2].append(word)
        pos = m.end()
    if not entries:
        raise FieldSpecError("<text>", "no field found.", _FIX_FORMAT)
    fields = []
    for name, inside, trailing in entries:
        parts = [p.strip() for p in inside.split(",")]
        if len(parts) < 3:
            raise FieldSpecError(name, f"needs (SU3,SU2,Y), got ({inside}).", _FIX_FORMAT)
        su3_txt, su2_txt, y_txt, *markers = parts
        if su3_txt.lower() not in _SU3_TEXT:
            raise FieldSpecError(name, f"SU(3) representation {su3_txt!r} is not supported.",
                                 "use 1, 3, 3bar (or -3) or 8.")
        if su2_txt not in ("1", "2", "3"):
            raise FieldSpecError(name, f"SU(2) representation {su2_txt!r} is not supported.", "use 1, 2 or 3.")
        state = {"kind": None, "hel": None, "odd": False, "su3": _SU3_TEXT[su3_txt.lower()], "su2": int(su2_txt),
                 "y": _parse_y(name, y_txt)}
        for marker in [*markers, *trailing]:
            _apply_marker(name, state, marker)
        fields.append(_build(name, state))
    check_content(fields)
    return tuple(fields)


def check_content(fields: list[Field] | tuple[Field, ...]) -> None:
    """Names must be unique; raise FieldSpecError naming the repeated field otherwise."""
    seen: set[str] = set()
    for f in fields:
        if f.name in seen:
            raise FieldSpecError(f.name, "the name is used twice.", "give every field its own name (e.g. H1, H2).")
        seen.add(f.name)
