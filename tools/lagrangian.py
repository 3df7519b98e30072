"""Tool: the renormalisable Lagrangian of a field content, from the Lagrangian transformer or the exact generator."""
from __future__ import annotations

import functools
import logging
import time
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hepilot.errors import ToolInputError
from hepilot.evals.checks.lagrangian import gauge_invariance, hermiticity, lorentz_invariance, renormalisable
from hepilot.models.theory.lagrangian.fields import Field as MatterField
from hepilot.models.theory.lagrangian.fields import FieldSpecError, check_content
from hepilot.models.theory.lagrangian.generator import generate
from hepilot.models.theory.lagrangian.latex import lagrangian_latex
from hepilot.models.theory.lagrangian.model import WEIGHTS_DIR, LagrangianTransformer
from hepilot.models.theory.lagrangian.presets import fields_from_text
from hepilot.models.theory.lagrangian.terms import term_class
from hepilot.models.theory.lagrangian.tokens import MAX_FIELDS, encode_fields, lagrangian_tokens
from hepilot.models.theory.lagrangian.validator import validate
from hepilot.tools.base import ToolResult, tool

__all__ = ["FieldInput", "LagrangianInput", "LagrangianResult", "lagrangian_from_fields"]

log = logging.getLogger(__name__)


class FieldInput(BaseModel):
    """One matter field."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="Symbol, e.g. 'H', 'Q', 'S1'")
    su3: Literal["1", "3", "3bar", "8"] = Field("1", description="SU(3) representation")
    su2: Literal[1, 2, 3] = Field(1, description="SU(2) representation")
    hypercharge: str = Field("0", description="U(1)_Y charge (Q = T3 + Y) as a fraction: '1/6', '-1/2', '0'")
    spin: Literal["scalar", "fermion"] = Field(description="scalar (spin 0) or Weyl fermion (spin 1/2)")
    helicity: Literal["L", "R"] | None = Field(None, description="Fermions only: left- or right-handed (default L)")
    real: bool = Field(False, description="Scalars only: a real scalar (needs a real representation and Y = 0)")
    z2_odd: bool = Field(False, description="Odd under an exact Z2 (e.g. the inert doublet)")


class LagrangianInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fields: list[FieldInput] | None = Field(None, description="The field content as structured fields")
    text: str | None = Field(None, description="Or as text: 'Q(3,2,1/6) L(1,2,-1/2) H(1,2,1/2) scalar' "
                             "(NAME(SU3,SU2,Y) + markers scalar/real/L/R/odd), SM symbols ('Q L H') or a named "
                             "model ('SM plus an inert doublet', 'complex scalar singlet')")
    method: Literal["auto", "model", "generator"] = Field(
        "auto", description="model: the trained transformer (falls back to the exact generator if no beam "
        "validates); generator: exact generator only; auto: model when its weights are installed")
    num_beams: int = Field(8, ge=1, le=16, description="Beam width of the transformer's beam search (8: in-distribution "
                           "exact 0.976 with completion, docs/benchmarks.md)")
    style: Literal["compact", "paper"] = Field("compact", description="Token style: compact (fields as F<k>) "
                                               "or paper (full quantum numbers on every field, arXiv:2501.09729)")

    @model_validator(mode="after")
    def _one_source(self) -> LagrangianInput:
        if (self.fields is None) == (self.text is None):
            raise ValueError("give exactly one of 'fields' (structured) or 'text'")
        return self


class LagrangianResult(ToolResult):
    latex: str = Field(description="The Lagrangian in LaTeX with explicit index contractions")
    tokens: list[str] = Field(description="The Lagrangian as tokens (see models/theory/lagrangian/tokens.py)")
    field_tokens: list[str] = Field(description="The field content as model-input tokens (F0, F1, ... order)")
    fields: list[str] = Field(description="The fields in canonical order (F0, F1, ...)")
    n_terms: int
    terms_by_class: dict[str, int]
    source: Literal["model", "generator"] = Field(description="Who wrote the returned Lagrangian")
    fallback: bool = Field(description="True when the model's beams failed validation and the generator answered")
    fallback_reason: str | None = None
    model_verdict: str | None = Field(None, description="Validator summary of the model's best beam")
    verdict: dict = Field(description="Validator verdict of the returned Lagrangian (valid, complete, exact, ...)")
    seconds: float


def _field_from_input(k: int, f: FieldInput) -> MatterField:
    try:
        y = Fraction(f.hypercharge.replace(" ", ""))
    except (ValueError, ZeroDivisionError):
        raise ToolInputError(f"fields.{k}.hypercharge", f"{f.hypercharge!r} is not a number.",
                             "write it as a fraction like '1/6' or '-1/2', or an integer.") from None
    su3 = {"1": 1, "3": 3, "3bar": -3, "8": 8}[f.su3]
    if f.spin == "scalar" and f.helicity is not None:
        raise ToolInputError(f"fields.{k}.helicity", f"field {f.name!r} is a scalar and has no helicity.",
                             "drop helicity or set spin='fermion'.")
    hel = None if f.spin == "scalar" else Fraction(1 if f.helicity == "R" else -1, 2)
    try:
        return MatterField(f.name, Fraction(0) if f.spin == "scalar" else Fraction(1, 2), su3, f.su2, y, hel, f.real,
                           f.z2_odd)
    except FieldSpecError as exc:
        raise ToolInputError(f"fields.{k}", f"field {exc.field!r}: {exc.problem}", exc.fix) from None


def _content(inp: LagrangianInput) -> tuple[MatterField, ...]:
    if inp.fields is not None:
        fields = tuple(_field_from_input(k, f) for k, f in enumerate(inp.fields))
        try:
            check_content(fields)
        except FieldSpecError as exc:
            raise ToolInputError("fields", f"field {exc.field!r}: {exc.problem}", exc.fix) from None
    else:
        try:
            fields = fields_from_text(inp.text)
        except FieldSpecError as exc:
            raise ToolInputError("text", f"field {exc.field!r}: {exc.problem}", exc.fix) from None
    if not fields or len(fields) > MAX_FIELDS:
        raise ToolInputError("fields" if inp.fields is not None else "text",
                             f"{len(fields)} fields given; between 1 and {MAX_FIELDS} are supported.",
                             "split the model into smaller field sets.")
    return fields


@functools.cache
def _model() -> LagrangianTransformer | None:
    """The shipped transformer, loaded once per process (None when no weights are installed)."""
    if not (WEIGHTS_DIR / "model.safetensors").is_file():
        return None
    return LagrangianTransformer.load(WEIGHTS_DIR)


def _verdict_dict(v) -> dict:
    return {"valid": v.valid, "complete": v.complete, "exact": v.exact, "n_terms_true": len(v.reference.terms),
            "n_correct": v.n_correct, "missing": len(v.missing), "spurious": len(v.spurious),
            "failed_checks": v.failed_checks(), "summary": v.summary()}


@tool(checks=[gauge_invariance, lorentz_invariance, hermiticity, renormalisable], category="theory", version="2")
def lagrangian_from_fields(inp: LagrangianInput) -> LagrangianResult:
    """Write the most general renormalisable Lagrangian (dimension <= 4) of a field content.

    Give scalars and Weyl fermions with their SU(3) x SU(2) x U(1)_Y charges (structured, or text like
    "Q(3,2,1/6) L(1,2,-1/2) H(1,2,1/2) scalar"). Returns every independent gauge- and Lorentz-invariant
    hermitian term — kinetic, gauge kinetic, masses, Yukawas, scalar potential — as LaTeX and tokens,
    written by a BART transformer (arXiv:2501.09729, trained here; it writes the terms of every sub-content
    of <= 4 fields that can carry one, and their union is the Lagrangian) and checked by an exact validator;
    if no candidate validates, the exact group-theory generator answers and the result says so. Always valid.
    """
    t0 = time.perf_counter()
    fields = _content(inp)
    reference = generate(fields)
    canon = reference.fields
    source, fallback, reason, model_summary = "generator", False, None, None
    terms = reference.terms
    estimator = _model() if inp.method in ("auto", "model") else None
    if inp.method == "model" and estimator is None:
        fallback, reason = True, "no trained weights installed (models/theory/lagrangian/weights)"
    elif estimator is not None:
        if not estimator.blocks and len(encode_fields(canon)) + 2 > estimator.config.max_source_tokens:
            fallback, reason = True, "the field content is longer than the model's input window"
        else:
            # a beam much longer than the true Lagrangian cannot validate: cap the decoding there
            budget = 2 * len(lagrangian_tokens(reference.terms, canon)) + 16
            beams = estimator.predict(canon, num_beams=inp.num_beams, max_new_tokens=budget)
            verdicts = [validate(canon, b, reference=reference) for b in beams]
            model_summary = verdicts[0].summary() if verdicts else "no beam"
            good = next((v for v in verdicts if v.accepted), None)
            if good is not None:
                source = "model"
                terms = tuple(r.term for r in good.reports)
            else:
                fallback = True
                reason = f"none of {len(beams)} beams passed the validator (best: {model_summary})"
    tokens = lagrangian_tokens(terms, canon, style=inp.style)
    verdict = validate(canon, tokens, reference=reference)
    by_class: dict[str, int] = {}
    for t in terms:
        c = term_class(t, canon)
        by_class[c] = by_class.get(c, 0) + 1
    where = "transformer (validated)" if source == "model" else (
        "exact generator (fallback: " + reason + ")" if fallback else "exact generator")
    status = (f"Lagrangian of {len(canon)} fields: {len(terms)} terms from the {where}; validator: "
              f"{'valid' if verdict.valid else 'INVALID'}, {'complete' if verdict.complete else 'incomplete'}")
    return LagrangianResult(
        status=status, latex=lagrangian_latex(terms, canon), tokens=tokens, field_tokens=encode_fields(canon),
        fields=[f"F{k}: {f.describe()}" for k, f in enumerate(canon)], n_terms=len(terms), terms_by_class=by_class,
        source=source, fallback=fallback, fallback_reason=reason, model_verdict=model_summary,
        verdict=_verdict_dict(verdict), seconds=round(time.perf_counter() - t0, 3))
