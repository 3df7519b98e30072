"""Lagrangian generation: field content -> renormalisable Lagrangian (exact generator, validator, BART model).

Light imports here (no torch): fields, the exact generator, tokens, the validator, scores and LaTeX.
The transformer lives in `hepilot.models.theory.lagrangian.model` (torch + transformers), its training
in `.train`; shipped weights and MODEL_CARD.md in `weights/`.
"""
from hepilot.models.theory.lagrangian.fields import Field, FieldSpecError, canonical_order, parse_fields
from hepilot.models.theory.lagrangian.generator import Lagrangian, generate
from hepilot.models.theory.lagrangian.latex import lagrangian_latex
from hepilot.models.theory.lagrangian.presets import fields_from_text
from hepilot.models.theory.lagrangian.score import Score, score
from hepilot.models.theory.lagrangian.tokens import decode_fields, encode_fields, lagrangian_tokens, parse_terms
from hepilot.models.theory.lagrangian.validator import Verdict, validate

__all__ = [
    "Field",
    "FieldSpecError",
    "canonical_order",
    "parse_fields",
    "fields_from_text",
    "Lagrangian",
    "generate",
    "lagrangian_latex",
    "Score",
    "score",
    "encode_fields",
    "decode_fields",
    "lagrangian_tokens",
    "parse_terms",
    "Verdict",
    "validate",
]
