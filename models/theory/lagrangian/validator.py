"""Exact validator: parse a token sequence into terms and check each one, then compare with the generator.

Per term (check names in brackets): grammar [syntax]; objects name fields of the content and real
scalars are never conjugated [fields]; Lorentz invariance — every spinor, vector and sigma-bar index
contracted exactly once with a partner of the right kind [lorentz]; a known structure: kinetic term,
gauge kinetic term of a group present, potential monomial or fermion bilinear (+ scalar) [structure];
SU(3) and SU(2) invariance — every charged index contracted once by a primitive invariant tensor
joining compatible representations, verified numerically on the generators [SU3], [SU2]; hypercharge
sum zero [U1]; Z2 parity even [Z2]; mass dimension <= 4 [dimension]; the operator does not vanish
by the symmetry of identical fields (H^T eps H = 0) [vanishes]; hermiticity — a term without HC is
hermitian (with its i), a term with HC is not self-conjugate and does not vanish [hermiticity].
Across terms: a term that is a linear combination of earlier ones (duplicate, own h.c. partner,
kinetic mixing) is [redundant]. Against the generator: exact matches after canonicalisation,
`missing` and `spurious` terms, and completeness per monomial (the valid terms span the same space).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from hepilot.models.theory.lagrangian.fields import Field
from hepilot.models.theory.lagrangian.generator import Lagrangian, gauge_groups, generate, monomial_signature
from hepilot.models.theory.lagrangian.groups import is_invariant
from hepilot.models.theory.lagrangian.invariants import TOL, group_tensor, operator_gram
from hepilot.models.theory.lagrangian.terms import Obj, Term, canonical, chirality, dimension, leg, term_class
from hepilot.models.theory.lagrangian.tokens import parse_terms, term_tokens

__all__ = ["TermReport", "Verdict", "validate", "check_terms", "CHECK_NAMES"]

CHECK_NAMES = ("syntax", "fields", "lorentz", "structure", "SU3", "SU2", "U1", "Z2", "dimension", "vanishes",
               "hermiticity", "redundant")
_TEMPLATES = ("scalar_kinetic", "fermion_kinetic", "gauge_kinetic")


@dataclass
class TermReport:
    """One predicted term: its tokens, parsed form, class and the failed checks (name, message)."""

    index: int
    tokens: list[str]
    term: Term | None
    term_class: str = "other"
    errors: list[tuple[str, str]] = field(default_factory=list)
    matched: bool = False

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass
class Verdict:
    """The validator's answer for one token sequence."""

    fields: tuple[Field, ...]
    reports: list[TermReport]
    reference: Lagrangian
    missing: list[Term]
    complete: bool
    exact: bool

    @property
    def valid(self) -> bool:
        return all(r.valid for r in self.reports) and bool(self.reports)

    @property
    def accepted(self) -> bool:
        """Valid and complete: physically the generator's Lagrangian (possibly another basis or order)."""
        return self.valid and self.complete

    @property
    def spurious(self) -> list[TermReport]:
        return [r for r in self.reports if not r.matched]

    @property
    def n_correct(self) -> int:
        return sum(r.matched for r in self.reports)

    def failed_checks(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.reports:
            for name, _ in r.errors:
                out[name] = out.get(name, 0) + 1
        return out

    def check_passed(self, name: str) -> bool:
        return all(name not in (n for n, _ in r.errors) for r in self.reports)

    def summary(self) -> str:
        bad = self.failed_checks()
        head = "valid" if self.valid else "INVALID (" + ", ".join(f"{k} x{v}" for k, v in bad.items()) + ")"
        return (f"{head}; {self.n_correct}/{len(self.reference.terms)} terms match the generator, "
                f"{len(self.missing)} missing, {len(self.spurious)} spurious; "
                f"{'complete' if self.complete else 'incomplete'}; {'exact' if self.exact else 'not exact'}")


def _lorentz(term: Term, fields: tuple[Field, ...]) -> list[str]:
    """Index bookkeeping of spinor, vector and sigma-bar indices."""
    errs = []
    n = len(term.objects)
    spinor_uses = {i: 0 for i, o in enumerate(term.objects) if chirality(fields, o) is not None}
    vector_uses = {i: 0 for i, o in enumerate(term.objects) if o.kind in ("derivative", "comm_a", "comm_b",
                                                                           "sigma_bar")}
    sigma_spinor = {i: 0 for i, o in enumerate(term.objects) if o.kind == "sigma_bar"}
    for it in (i for i in term.items if i.group == "LORENTZ"):
        if any(i >= n for i in it.ids):
            errs.append(f"LORENTZ contraction names ID{max(it.ids)} beyond the {n} objects")
            continue
        kinds = [term.objects[i].kind for i in it.ids]
        if len(it.ids) == 2 and all(i in vector_uses for i in it.ids):
            for i in it.ids:
                vector_uses[i] += 1
        elif len(it.ids) == 2 and all(i in spinor_uses for i in it.ids):
            a, b = (chirality(fields, term.objects[i]) for i in it.ids)
            if a != b:
                errs.append(f"LORENTZ ID{it.ids[0]} ID{it.ids[1]} contracts a left- with a right-handed spinor "
                            "without sigma (not a scalar)")
            for i in it.ids:
                spinor_uses[i] += 1
        elif len(it.ids) == 3 and kinds.count("sigma_bar") == 1 and sum(i in spinor_uses for i in it.ids) == 2:
            s = next(i for i in it.ids if term.objects[i].kind == "sigma_bar")
            hel = sorted(chirality(fields, term.objects[i]) for i in it.ids if i != s)
            if hel != [Fraction(-1, 2), Fraction(1, 2)]:
                errs.append("sigma-bar must join one dotted (HEL 1/2) and one undotted (HEL -1/2) spinor")
            sigma_spinor[s] += 1
            for i in it.ids:
                if i != s:
                    spinor_uses[i] += 1
        else:
            errs.append(f"LORENTZ contraction of {' x '.join(kinds)} is not invariant")
    for i, k in spinor_uses.items():
        if k != 1:
            errs.append(f"the spinor index of ID{i} is contracted {k} times (needs 1)")
    for i, k in vector_uses.items():
        if k != 1:
            errs.append(f"the vector index of ID{i} is contracted {k} times (needs 1)")
    for i, k in sigma_spinor.items():
        if k != 1:
            errs.append(f"the spinor indices of sigma-bar ID{i} are contracted {k} times (needs 1)")
    return errs


def _structure(term: Term, fields: tuple[Field, ...], cls: str) -> list[str]:
    o = term.objects
    present = gauge_groups(fields)
    if cls == "scalar_kinetic":
        a, b = o[1], o[3]
        want_dagger = not fields[b.field].real
        if a.field != b.field:
            return ["derivatives on two different fields: kinetic mixing is removed by a field redefinition"]
        if (a.dagger, b.dagger) != (want_dagger, False):
            return ["a scalar kinetic term is (D phi)^dag (D phi) (real scalar: D phi D phi)"]
    elif cls == "fermion_kinetic":
        a, b = o[0], o[3]
        if a.field != b.field or a.dagger == b.dagger:
            return ["a fermion kinetic term is i psi^dag sigma-bar D psi of one field"]
    elif cls == "gauge_kinetic":
        groups = {x.group for x in o}
        if len(groups) != 1 or [x.kind for x in o] != ["comm_a", "comm_b", "comm_a", "comm_b"]:
            return ["a gauge kinetic term is [D,D][D,D] of one group"]
        g = groups.pop()
        if g not in present:
            return [f"no field is charged under {g}: its gauge field does not couple and has no kinetic term here"]
    elif cls == "other":
        kinds = [x.kind for x in o]
        if "derivative" in kinds or "sigma_bar" in kinds or "comm_a" in kinds:
            return ["derivatives, sigma-bar and field strengths appear only in kinetic terms at dimension <= 4"]
        n_f = sum(fields[x.field].is_fermion for x in o)
        return [f"{n_f} fermions and {len(o) - n_f} scalars: not a renormalisable monomial"]
    if cls in ("tadpole", "scalar_mass", "cubic", "quartic") and any(i.group == "LORENTZ" for i in term.items):
        return ["scalars carry no Lorentz index"]
    return []


def _gauge(term: Term, fields: tuple[Field, ...], group: str) -> tuple[list[str], np.ndarray | None]:
    slot_legs = tuple(leg(fields, o, group) for o in term.objects)
    items = tuple(i for i in term.items if i.group == group)
    try:
        tensor = group_tensor(group, slot_legs, items)
    except ValueError as exc:
        return [str(exc)], None
    if not is_invariant(group, slot_legs, tensor):
        return [f"the {group} contraction is not invariant"], None
    return [], tensor


def _check_term(report: TermReport, fields: tuple[Field, ...]) -> dict[str, np.ndarray] | None:
    """Run the per-term checks; returns the gauge tensors of a valid non-kinetic term."""
    term = report.term
    errs = report.errors
    n = len(fields)
    for o in term.objects:
        if o.kind == "field" and not 0 <= o.field < n:
            errs.append(("fields", f"F{o.field} is not a field of this content (F0..F{n - 1})"))
        elif o.kind == "field" and o.dagger and fields[o.field].real:
            errs.append(("fields", f"{fields[o.field].name} is a real scalar: it has no DAGGER"))
    if errs:
        return None
    dim = dimension(term, fields)
    if dim > 4:
        errs.append(("dimension", f"mass dimension {dim} > 4 (not renormalisable)"))
    errs += [("lorentz", m) for m in _lorentz(term, fields)]
    cls = report.term_class = term_class(term, fields)
    errs += [("structure", m) for m in _structure(term, fields, cls)]
    tensors = {}
    for group in ("SU3", "SU2"):
        msgs, tensors[group] = _gauge(term, fields, group)
        errs += [(group, m) for m in msgs]
    ys = [(-fields[o.field].y if o.dagger else fields[o.field].y) for o in term.objects if o.kind == "field"]
    if sum(ys) != 0:
        errs.append(("U1", f"hypercharges sum to {sum(ys)}, not 0"))
    if sum(fields[o.field].odd for o in term.objects if o.kind == "field") % 2:
        errs.append(("Z2", "odd number of Z2-odd fields"))
    if cls in _TEMPLATES:
        want_imag = cls == "fermion_kinetic"
        if term.hc or term.imag != want_imag:
            errs.append(("hermiticity", f"a {cls.replace('_', ' ')} term is hermitian as written "
                         f"({'with' if want_imag else 'without'} i, without HC)"))
        return None
    if errs:
        return None
    return _hermiticity(report, fields, {g: tensors[g] for g in ("SU3", "SU2")})


def _hermiticity(report: TermReport, fields, element) -> dict[str, np.ndarray] | None:
    term = report.term
    objects = term.objects
    slots, blocks, conj_perm = monomial_signature(fields, objects)
    gram = operator_gram([element], blocks)
    if gram[0, 0].real <= 1e-12:
        report.errors.append(("vanishes", "the operator vanishes by the (anti)symmetry of identical fields"))
        return None
    has_fermion = any(fields[o.field].is_fermion for o in objects)
    if conj_perm is None or has_fermion:
        if not term.hc:
            report.errors.append(("hermiticity", "the operator is not self-conjugate: it needs + h.c. (HC)"))
            return None
        return element
    axes = tuple(np.argsort(conj_perm))
    dag = {g: np.transpose(t.conj(), axes) for g, t in element.items()}
    g2 = operator_gram([element, dag], blocks)
    n_t = g2[0, 0].real
    diff = (g2[0, 0] + g2[1, 1] - g2[0, 1] - g2[1, 0]).real
    summ = (g2[0, 0] + g2[1, 1] + g2[0, 1] + g2[1, 0]).real
    hermitian, antihermitian = diff < TOL * n_t, summ < TOL * n_t
    ok_plain = (hermitian and not term.imag) or (antihermitian and term.imag)
    if not term.hc and not ok_plain:
        report.errors.append(("hermiticity", "the term is not hermitian as written (" +
                              ("drop the i" if hermitian else "add i" if antihermitian else "add HC") + ")"))
        return None
    if term.hc and (hermitian or antihermitian):
        vanish = (hermitian and term.imag) or (antihermitian and not term.imag)
        report.errors.append(("vanishes" if vanish else "hermiticity",
                              "with HC the term cancels against its conjugate" if vanish else
                              "the operator is its own conjugate: HC double counts it"))
        return None
    return element


def _sorted(objects: tuple[Obj, ...], element: dict[str, np.ndarray]) -> tuple[tuple[Obj, ...], dict]:
    """Objects in canonical (field, dagger) order and the tensors with their axes permuted alike."""
    order = sorted(range(len(objects)), key=lambda s: (objects[s].field, objects[s].dagger))
    return tuple(objects[s] for s in order), {g: np.transpose(t, order) for g, t in element.items()}


def _monomial_key(objects: tuple[Obj, ...], fields: tuple[Field, ...]) -> tuple:
    """The monomial of a term or of its h.c. partner, whichever sorts first (the generator's choice)."""
    key = sorted((o.field, o.dagger) for o in objects)
    conj = sorted((o.field, o.dagger if fields[o.field].real else not o.dagger) for o in objects)
    return tuple(min(key, conj))


def _vector(term: Term, fields: tuple[Field, ...], element: dict) -> tuple[tuple, list[dict], np.ndarray]:
    """(canonical monomial, basis elements, coefficients) of a valid non-kinetic term."""
    objs, el = _sorted(term.objects, element)
    conj = tuple(o if fields[o.field].real else Obj("field", o.field, not o.dagger) for o in term.objects)
    conj_objs, conj_el = _sorted(conj, {g: t.conj() for g, t in element.items()})
    key = tuple((o.field, o.dagger) for o in objs)
    conj_key = tuple((o.field, o.dagger) for o in conj_objs)
    if key != conj_key:  # + h.c. of a non-self-conjugate operator: complex coupling, the span is what counts
        return (conj_key, [conj_el], np.array([1.0])) if conj_key < key else (key, [el], np.array([1.0]))
    phase = 1j if term.imag else 1.0
    if term.hc:
        return key, [el, conj_el], np.array([phase, np.conj(phase)])
    return key, [el], np.array([phase])


def check_terms(fields: tuple[Field, ...], tokens: list[str]) -> list[TermReport]:
    """The physics checks alone, term by term — syntax, Lorentz and gauge invariance, hermiticity,
    dimension, independence of the earlier terms — without the generator (no completeness, no matching).
    `fields` in canonical order, as the tokens use."""
    return _check(fields, tokens)[0]


def _check(fields: tuple[Field, ...], tokens: list[str]) -> tuple[list[TermReport], dict, set]:
    reports: list[TermReport] = []
    for k, parsed in enumerate(parse_terms(tokens, fields)):
        rep = TermReport(k, parsed.tokens, parsed.term)
        if parsed.term is None:
            rep.errors.append(("syntax", parsed.error))
        reports.append(rep)
    spans: dict[tuple, dict] = {}
    seen_templates: set[tuple] = set()
    kinetic_of: set[tuple] = set()
    for rep in reports:
        if rep.term is None:
            continue
        element = _check_term(rep, fields)
        if rep.errors:
            continue
        if rep.term_class in _TEMPLATES:
            key = tuple(term_tokens(canonical(rep.term, fields), fields))
            # one kinetic term per field (or gauge group): i psi^dag sigma-bar D psi and i psi sigma-bar D psi^dag
            # differ by a total derivative, so a second form of it is the same term again
            owner = (rep.term_class, *sorted({o.field if o.kind == "field" else o.group for o in rep.term.objects},
                                             key=str))
            if owner in kinetic_of:  # also catches the same term written twice (same owner)
                rep.errors.append(("redundant", "the same kinetic term appears twice (up to a total derivative)"))
            seen_templates.add(key)
            kinetic_of.add(owner)
            continue
        mono, elems, coef = _vector(rep.term, fields, element)
        _, blocks, _ = monomial_signature(fields, tuple(Obj("field", f, d) for f, d in mono))
        span = spans.setdefault(mono, {"elements": [], "vectors": [], "blocks": blocks})
        base = len(span["elements"])
        span["elements"] += elems
        vec = (base, coef)
        if not _raises_rank(span, vec):
            rep.errors.append(("redundant", "a linear combination of earlier terms (duplicate or h.c. partner)"))
            del span["elements"][base:]
        else:
            span["vectors"].append(vec)
    return reports, spans, seen_templates


def validate(fields: tuple[Field, ...], tokens: list[str], *, reference: Lagrangian | None = None) -> Verdict:
    """Check a predicted token sequence for the field content (canonical order, as the tokens use)."""
    ref = reference or generate(fields)
    fields = ref.fields
    reports, spans, seen_templates = _check(fields, tokens)
    _match(reports, ref)
    ref_classes: dict[tuple, int] = {}
    for t in ref.terms:
        if term_class(t, fields) not in _TEMPLATES:
            mono = _monomial_key(t.objects, fields)
            ref_classes[mono] = ref_classes.get(mono, 0) + 1
    complete = (all(len(spans.get(m, {"vectors": []})["vectors"]) == n for m, n in ref_classes.items())
                and set(spans) <= set(ref_classes)
                and {tuple(term_tokens(t, fields)) for t in ref.terms if term_class(t, fields) in _TEMPLATES}
                <= seen_templates)
    matched_ref = _matched_reference(reports, ref)
    missing = [t for t, m in zip(ref.terms, matched_ref) if not m]
    exact = (all(r.valid for r in reports)
             and [canonical(r.term, fields) for r in reports] == list(ref.terms))
    return Verdict(fields, reports, ref, missing, complete and all(r.valid for r in reports), exact)


def _raises_rank(span: dict, vec: tuple[int, np.ndarray]) -> bool:
    gram = operator_gram(span["elements"], span["blocks"])
    size = len(span["elements"])

    def full(v):
        c = np.zeros(size, dtype=complex)
        c[v[0]: v[0] + len(v[1])] = v[1]
        return c

    new = full(vec)
    norm = float((new.conj() @ gram @ new).real)
    if not span["vectors"]:
        return norm > 1e-12
    c = np.stack([full(v) for v in span["vectors"]], axis=1)
    g_ss = c.conj().T @ gram @ c
    g_sv = c.conj().T @ gram @ new
    resid = norm - float((g_sv.conj() @ np.linalg.solve(g_ss, g_sv)).real)
    return resid > TOL * norm


def _match(reports: list[TermReport], ref: Lagrangian) -> None:
    pool: dict[tuple, int] = {}
    for t in ref.terms:
        key = tuple(term_tokens(t, ref.fields))
        pool[key] = pool.get(key, 0) + 1
    for rep in reports:
        if rep.term is None or rep.errors:
            continue
        key = tuple(term_tokens(canonical(rep.term, ref.fields), ref.fields))
        if pool.get(key, 0) > 0:
            pool[key] -= 1
            rep.matched = True


def _matched_reference(reports: list[TermReport], ref: Lagrangian) -> list[bool]:
    got: dict[tuple, int] = {}
    for rep in reports:
        if rep.matched:
            key = tuple(term_tokens(canonical(rep.term, ref.fields), ref.fields))
            got[key] = got.get(key, 0) + 1
    out = []
    for t in ref.terms:
        key = tuple(term_tokens(t, ref.fields))
        out.append(got.get(key, 0) > 0)
        if got.get(key, 0) > 0:
            got[key] -= 1
    return out
