"""Slot filling for the offline planner: numbers, energies, ranges, processes, particles, paths from text.

Rules (each extractor returns None when the goal does not state the slot):
    count         "5000", "5k", "50 000", "50,000", "1e5", "two thousand", "a million", optionally
                  followed within three words by a noun (jets, events, ...; `options` overrides)
    energy        value + unit -> GeV: "14 TeV" -> 14000.0; `pattern` (regex, one group) picks which
    energy_range  "between 550 and 650 GeV", "550-650 GeV", "from 550 to 650 GeV", "pT > 500 GeV"
                  -> [lo, hi] in GeV (hi None for an open range); the order is kept as written so
                  an inverted range reaches validation and is reported, never silently swapped
    process(es)   catalogue names and synonyms, in order of appearance
    particle      names ("muon", "top quark", "Higgs") or PDG ids -> PDG id, via `particle`
    choice(s)     `options` value -> synonyms; the first (all) mentioned
    int / float   the group of `pattern`
    path          file paths (absolute, ./relative, or with a data-file extension)
    flag          True when one of `options` appears
    text          the goal itself
"""
from __future__ import annotations

import re
from typing import Any

from hepilot.agent.intents import SlotSpec

__all__ = ["extract_slot", "parse_count", "parse_energy", "find_energies", "find_counts", "UNITS_GEV"]

UNITS_GEV = {"ev": 1e-9, "kev": 1e-6, "mev": 1e-3, "gev": 1.0, "tev": 1e3}
_NUM = r"(?:\d+(?:[.,]\d+)*(?:\s\d{3})*(?:\.\d+)?(?:e[+-]?\d+)?)"
_MULT = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "mio": 1e6}
_WORD_NUMBERS = {
    "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "hundred": 100, "a hundred": 100,
}
_DEFAULT_NOUNS = ("jets", "jet", "events", "event", "samples", "sample", "toys", "toy", "trials", "trial", "points",
                  "collisions", "entries", "fields")
_ENERGY_RE = re.compile(rf"({_NUM})\s*(tev|gev|mev|kev|ev)\b", re.I)
_WORD_COUNT_RE = re.compile(
    r"\b((?:a|one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|a hundred|hundred)"
    r"(?:\s+hundred)?)\s+(thousand|million)\b", re.I)
_PATH_RE = re.compile(r"(?:(?<=\s)|^)((?:/|\./|~/)[^\s,;'\"]+|[^\s,;'\"]+\.(?:root|csv|parquet|npz|yaml|yml|json|pdf|md|tex|txt))",
                      re.I)


def _to_float(text: str) -> float:
    t = text.strip().replace(" ", "")
    if t.count(",") and not t.count("."):
        # "50,000" is a thousands separator; "1,5" (decimal comma) is rare in English goals
        t = t.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", t) else t.replace(",", ".")
    else:
        t = t.replace(",", "")
    return float(t)


def parse_count(text: str) -> int | None:
    """A count written as digits, with k/M multipliers, scientific notation or words."""
    t = text.strip().lower()
    m = re.fullmatch(rf"({_NUM})\s*(k|m|thousand|million|mio)?", t)
    if m:
        return int(round(_to_float(m.group(1)) * _MULT.get(m.group(2) or "", 1)))
    m = _WORD_COUNT_RE.fullmatch(t)
    if m:
        words = m.group(1).split()
        base = 1
        for w in words:
            base = base * 100 if w == "hundred" and base > 1 else _WORD_NUMBERS.get(w, base)
        return int(base * _MULT[m.group(2).lower()])
    return None


def parse_energy(text: str) -> float | None:
    """'14 TeV' -> 14000.0 (GeV)."""
    m = _ENERGY_RE.fullmatch(text.strip())
    return _to_float(m.group(1)) * UNITS_GEV[m.group(2).lower()] if m else None


def find_energies(goal: str) -> list[tuple[int, float]]:
    """(position, value in GeV) of every energy in the goal."""
    return [(m.start(), _to_float(m.group(1)) * UNITS_GEV[m.group(2).lower()]) for m in _ENERGY_RE.finditer(goal)]


def find_counts(goal: str, nouns: tuple[str, ...] = _DEFAULT_NOUNS) -> list[int]:
    """Counts that quantify one of `nouns` ("5000 top jets", "5k events", "two thousand jets")."""
    noun_re = "|".join(re.escape(n) for n in nouns)
    pattern = re.compile(
        rf"(?<![\w.])({_NUM}\s*(?:k|m|thousand|million|mio)?|{_WORD_COUNT_RE.pattern})\s+(?:[\w+\-/]+\s+){{0,3}}?(?:{noun_re})\b",
        re.I)
    out = []
    for m in pattern.finditer(goal):
        tail = goal[m.end(1):m.end(1) + 5].lower()
        if re.match(r"\s*(tev|gev|mev|%|percent)", tail):
            continue
        n = parse_count(m.group(1))
        if n is not None:
            out.append(n)
    return out


def _energy_range(goal: str) -> list[float | None] | None:
    unit = r"\s*(tev|gev|mev)?"
    pats = [
        rf"between\s+({_NUM}){unit}\s+and\s+({_NUM}){unit}",
        rf"from\s+({_NUM}){unit}\s+to\s+({_NUM}){unit}",
        rf"({_NUM}){unit}\s*(?:-|–|to|\.\.)\s*({_NUM}){unit}",
    ]
    for pat in pats:
        for m in re.finditer(pat, goal, re.I):
            lo, u1, hi, u2 = m.groups()
            if not (u1 or u2):
                continue
            lo_v = _to_float(lo) * UNITS_GEV[(u1 or u2).lower()]
            hi_v = _to_float(hi) * UNITS_GEV[(u2 or u1).lower()]
            return [lo_v, hi_v]
    m = re.search(rf"(?:>|above|over|greater than|at least|more than)\s*({_NUM})\s*(tev|gev|mev)", goal, re.I)
    lo = _to_float(m.group(1)) * UNITS_GEV[m.group(2).lower()] if m else None
    m = re.search(rf"(?:<|below|under|less than|at most)\s*({_NUM})\s*(tev|gev|mev)", goal, re.I)
    hi = _to_float(m.group(1)) * UNITS_GEV[m.group(2).lower()] if m else None
    return [lo, hi] if (lo is not None or hi is not None) else None


def _mentions(goal: str, options: dict[str, list[str]]) -> list[tuple[int, str]]:
    """(position, value) of every option mentioned by its value or a synonym, word-bounded."""
    low = goal.lower()
    hits: dict[str, int] = {}
    for value, synonyms in options.items():
        for phrase in [value.replace("_", " "), value, *synonyms]:
            for m in re.finditer(rf"(?<![\w-]){re.escape(phrase.lower())}(?![\w])", low):
                hits[value] = min(hits.get(value, m.start()), m.start())
    return sorted((pos, v) for v, pos in hits.items())


def _options(spec: SlotSpec) -> dict[str, list[str]]:
    if isinstance(spec.options, dict):
        return {k: list(v or []) for k, v in spec.options.items()}
    if isinstance(spec.options, list):
        return {o: [] for o in spec.options}
    from hepilot.models.events.processes import PROCESSES

    return {name: list(p.synonyms) for name, p in PROCESSES.items()}


_PARTICLE_NAMES = {
    "electron": 11, "positron": -11, "muon": 13, "antimuon": -13, "tau": 15, "photon": 22, "gluon": 21,
    "z boson": 23, "z": 23, "w boson": 24, "w": 24, "higgs": 25, "higgs boson": 25, "top quark": 6, "top": 6,
    "bottom quark": 5, "b quark": 5, "charm quark": 4, "strange quark": 3, "up quark": 2, "down quark": 1,
    "proton": 2212, "neutron": 2112, "pion": 211, "neutral pion": 111, "kaon": 321, "j/psi": 443, "upsilon": 553,
    "neutrino": 12, "muon neutrino": 14, "tau neutrino": 16, "electron neutrino": 12,
}


def _particle(goal: str) -> int | None:
    low = goal.lower()
    for name in sorted(_PARTICLE_NAMES, key=len, reverse=True):
        if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", low):
            return _PARTICLE_NAMES[name]
    m = re.search(r"pdg\s*(?:id)?\s*(-?\d+)", low)
    if m:
        return int(m.group(1))
    from particle import Particle

    for token in re.findall(r"[A-Za-z][\w+\-*()~']*", goal):
        try:
            return int(Particle.from_name(token).pdgid)
        except Exception:  # particle raises several types for unknown names
            continue
    return None


def extract_slot(goal: str, spec: SlotSpec) -> Any:
    """The value of one slot as stated in `goal`, or None when it is not stated."""
    kind = spec.kind
    if kind == "text":
        return goal
    if kind == "count":
        nouns = tuple(spec.options) if isinstance(spec.options, list) else _DEFAULT_NOUNS
        if spec.pattern:
            m = re.search(spec.pattern, goal, re.I)
            return parse_count(m.group(1)) if m else None
        counts = find_counts(goal, nouns)
        return counts[0] if counts else None
    if kind == "energy":
        if spec.pattern:
            m = re.search(spec.pattern, goal, re.I)
            return parse_energy(m.group(1)) if m else None
        found = find_energies(goal)
        return found[0][1] if found else None
    if kind == "energy_range":
        if spec.pattern:
            m = re.search(spec.pattern, goal, re.I)
            return _energy_range(m.group(1)) if m else None
        return _energy_range(goal)
    if kind in ("int", "float"):
        if not spec.pattern:
            return None
        m = re.search(spec.pattern, goal, re.I)
        if not m:
            return None
        value = _to_float(m.group(1))
        return int(round(value)) if kind == "int" else value
    if kind in ("process", "processes", "choice", "choices"):
        hits = [v for _, v in _mentions(goal, _options(spec))]
        if kind in ("process", "choice"):
            return hits[0] if hits else None
        return hits or None
    if kind == "particle":
        return _particle(goal)
    if kind == "path":
        if spec.pattern:
            m = re.search(spec.pattern, goal, re.I)
            return m.group(1) if m else None
        m = _PATH_RE.search(goal)
        return m.group(1).rstrip(".") if m else None
    if kind == "flag":
        phrases = spec.options if isinstance(spec.options, list) else list(spec.options or {})
        low = goal.lower()
        return True if any(p.lower() in low for p in phrases) else None
    raise ValueError(f"unknown slot kind {kind!r}")
