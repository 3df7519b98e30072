"""Token grammar: field encoding and Lagrangian serialisation round trips in both styles."""
from fractions import Fraction

import pytest

from hepilot.models.theory.lagrangian.fields import Field, parse_fields
from hepilot.models.theory.lagrangian.generator import generate
from hepilot.models.theory.lagrangian.terms import canonical
from hepilot.models.theory.lagrangian.tokens import (
    VOCAB,
    TokenSyntaxError,
    decode_fields,
    encode_fields,
    lagrangian_tokens,
    parse_term,
    parse_terms,
    rational_tokens,
)
from hepilot.models.theory.lagrangian.tokenizer import build_tokenizer

CONTENT = ("Q(3,2,1/6) u(3,1,2/3) R L(1,2,-1/2) H(1,2,1/2) scalar D(1,3,1) scalar G(8,1,0) real "
           "S(1,1,0) complex X(3bar,1,-10/3) L")


def test_field_encoding_follows_the_paper_and_round_trips():
    h = parse_fields("H(1,2,1/2) scalar")
    assert encode_fields(h) == "FIELD F0 SPIN 0 SU2 2 U1 1 / 2".split()
    q = parse_fields("Q(3bar,2,-1/6) L")
    assert encode_fields(q) == "FIELD F0 SPIN 1 / 2 SU3 - 3 SU2 2 U1 - 1 / 6 HEL - 1 / 2".split()
    fields = generate(parse_fields(CONTENT)).fields
    back = decode_fields(encode_fields(fields))
    assert [f.quantum_numbers() for f in back] == [f.quantum_numbers() for f in fields]


def test_rationals_are_split_into_characters():
    assert rational_tokens(Fraction(-10, 3)) == ["-", "1", "0", "/", "3"]
    assert rational_tokens(Fraction(2)) == ["2"]


@pytest.mark.parametrize("style", ["compact", "paper"])
def test_lagrangian_round_trip(style):
    lag = generate(parse_fields(CONTENT))
    tokens = lagrangian_tokens(lag.terms, lag.fields, style=style)
    parsed = parse_terms(tokens, lag.fields)
    assert all(p.error is None for p in parsed)
    assert [canonical(p.term, lag.fields) for p in parsed] == list(lag.terms)


def test_paper_style_ids_may_be_permuted():
    fields = parse_fields("H(1,2,1/2) scalar")
    a = parse_term("+ FIELD SPIN 0 SU2 2 U1 1 / 2 ID7 FIELD SPIN 0 SU2 2 U1 - 1 / 2 DAGGER ID3 "
                   "CONTRACTIONS SU2 ID3 ID7".split(), fields)
    b = parse_term("+ F0 F0 DAGGER CONTRACTIONS SU2 ID0 ID1".split(), fields)
    assert canonical(a, fields) == canonical(b, fields)


def test_syntax_errors_point_at_the_token():
    fields = parse_fields("H(1,2,1/2) scalar")
    with pytest.raises(TokenSyntaxError) as err:
        parse_term("+ F0 F0 DAGGER CONTRACTIONS SU2 ID0 ID1 HC + F0".split(), fields)
    assert err.value.position == 9 and "after the end of the term" in str(err.value)
    with pytest.raises(TokenSyntaxError) as err:
        parse_term("+ F0 CONTRACTIONS LORENTZ ID0 SU2".split(), fields)
    assert "at least two IDs" in str(err.value)
    with pytest.raises(TokenSyntaxError):
        parse_term("+ F0 F0 DAGGER CONTRACTIONS SU2 ID0 ID1 HC ID3".split(), fields)


def test_tokenizer_covers_the_vocabulary_offline():
    tok = build_tokenizer()
    lag = generate(parse_fields(CONTENT))
    text = " ".join(lagrangian_tokens(lag.terms, lag.fields))
    ids = tok(text)["input_ids"]
    assert tok.unk_token_id not in ids
    assert tok.decode(ids, skip_special_tokens=True) == text
    assert len(tok) == len(VOCAB)


def test_two_copies_of_a_representation_are_distinct_fields():
    fields = (Field("H1", 0, 1, 2, Fraction(1, 2)), Field("H2", 0, 1, 2, Fraction(1, 2)))
    lag = generate(fields)
    tokens = lagrangian_tokens(lag.terms, lag.fields)
    assert "F1" in tokens and "F0" in tokens
