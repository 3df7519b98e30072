"""Field specifications: the text grammar and its error messages."""
from fractions import Fraction

import pytest

from hepilot.models.theory.lagrangian.fields import FieldSpecError, canonical_order, parse_fields
from hepilot.models.theory.lagrangian.presets import fields_from_text


def test_text_grammar_reads_spins_helicities_and_markers():
    q, u, h, s, h2 = parse_fields("Q(3,2,1/6) u(3bar,1,-2/3), H(1,2,1/2) scalar; S(1,1,0) real H2(1,2,0.5,scalar,odd)")
    assert (q.su3, q.su2, q.y, q.helicity) == (3, 2, Fraction(1, 6), Fraction(-1, 2))
    assert (u.su3, u.y) == (-3, Fraction(-2, 3))
    assert h.is_scalar and not h.real and h.y == Fraction(1, 2)
    assert s.real and s.is_scalar
    assert h2.odd and h2.y == Fraction(1, 2)
    assert parse_fields("e(1,1,-1) R")[0].helicity == Fraction(1, 2)


@pytest.mark.parametrize("text,field,words", [
    ("H(1,2,1/2) real", "H", "pseudo-real"),
    ("X(4,1,0)", "X", "1, 3, 3bar"),
    ("X(3,5,0)", "X", "1, 2 or 3"),
    ("X(3,2,a)", "X", "fraction"),
    ("X(1,2,0) sclar", "X", "did you mean scalar"),
    ("H(1,2,1) scalar R", "H", "conflicting"),
    ("A(1,1,0) A(1,1,1)", "A", "used twice"),
    ("H(1,2)", "H", "(SU3,SU2,Y)"),
])
def test_bad_specs_name_the_field_and_the_fix(text, field, words):
    with pytest.raises(FieldSpecError) as err:
        parse_fields(text)
    assert err.value.field == field
    assert words in str(err.value) and "Fix:" in str(err.value)


def test_canonical_order_puts_scalars_first_then_left_then_right_handed():
    fields = canonical_order(parse_fields("e(1,1,-1) R Q(3,2,1/6) H(1,2,1/2) scalar"))
    assert [f.name for f in fields] == ["H", "Q", "e"]


def test_plain_text_requests():
    assert [f.name for f in fields_from_text("what renormalisable terms are allowed for Q L H")] == ["Q", "L", "H"]
    inert = fields_from_text("the Standard Model plus an inert doublet")
    assert len(inert) == 7 and inert[-1].odd
    assert [f.describe() for f in fields_from_text("write the Lagrangian for a complex scalar singlet")] == \
        ["S(1,1,0) scalar"]
    with pytest.raises(FieldSpecError):
        fields_from_text("tell me a joke")


@pytest.mark.parametrize("text,expected", [
    # "the SM Higgs doublet" is H alone, not the whole Standard Model
    ("Write the Lagrangian for a complex scalar singlet added to the SM Higgs doublet",
     ["H(1,2,1/2) scalar", "S(1,1,0) scalar"]),
    ("Higgs doublet plus a real singlet", ["H(1,2,1/2) scalar", "S(1,1,0) real scalar"]),
    # named Higgs-sector models bring their doublet (and the type-II seesaw its lepton doublet)
    ("enumerate the quartic couplings of two Higgs doublets", ["H(1,2,1/2) scalar", "H2(1,2,1/2) scalar"]),
    ("the inert doublet model", ["H(1,2,1/2) scalar", "H2(1,2,1/2) scalar odd"]),
    ("type-II seesaw", ["H(1,2,1/2) scalar", "L(1,2,-1/2) L", "Delta(1,3,1) scalar"]),
    # the SM plus right-handed neutrinos: N appears once
    ("SM plus right-handed neutrinos", ["Q(3,2,1/6) L", "u(3,1,2/3) R", "d(3,1,-1/3) R", "L(1,2,-1/2) L",
                                       "e(1,1,-1) R", "H(1,2,1/2) scalar", "N(1,1,0) R"]),
])
def test_named_models_in_requests(text, expected):
    assert [f.describe() for f in fields_from_text(text)] == expected
