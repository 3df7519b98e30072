"""The validator catches each kind of invalid term and reports missing and spurious terms."""
import pytest

from hepilot.models.theory.lagrangian.fields import parse_fields
from hepilot.models.theory.lagrangian.generator import generate
from hepilot.models.theory.lagrangian.score import score
from hepilot.models.theory.lagrangian.tokens import lagrangian_tokens, term_tokens
from hepilot.models.theory.lagrangian.validator import validate

SM = generate(parse_fields("Q(3,2,1/6) u(3,1,2/3) R d(3,1,-1/3) R L(1,2,-1/2) e(1,1,-1) R H(1,2,1/2) scalar"))
EXT = generate(parse_fields("H(1,2,1/2) scalar D(1,3,1) scalar G(8,1,0) real N(1,1,0) R"))
HIGGS = generate(parse_fields("H(1,2,1/2) scalar"))
# SM: F0 H, F1 L, F2 Q, F3 e, F4 d, F5 u.  EXT: F0 H, F1 D, F2 G, F3 N


def errors(lag, text: str) -> list[str]:
    verdict = validate(lag.fields, text.split())
    return [name for r in verdict.reports for name, _ in r.errors]


def test_generator_lagrangian_is_valid_complete_and_exact():
    verdict = validate(SM.fields, lagrangian_tokens(SM.terms, SM.fields))
    assert verdict.valid and verdict.complete and verdict.exact
    assert verdict.n_correct == len(SM.terms) == 14


@pytest.mark.parametrize("lag,text,check", [
    (SM, "+ F0 F0 DAGGER CONTRACTIONS SU2 ID0", "syntax"),
    (SM, "+ F9 F9 DAGGER CONTRACTIONS SU2 ID0 ID1", "fields"),
    (EXT, "+ F2 DAGGER F2 CONTRACTIONS SU3 ID0 ID1", "fields"),                          # real scalar daggered
    (SM, "+ F0 DAGGER F1 F3 DAGGER CONTRACTIONS SU2 ID0 ID1 HC", "lorentz"),            # spinors uncontracted
    (SM, "+ F0 DAGGER F1 F3 CONTRACTIONS LORENTZ ID1 ID2 SU2 ID0 ID1 HC", "lorentz"),   # L with R spinor
    (SM, "+ F0 F0 CONTRACTIONS SU2 ID0 ID1 HC", "U1"),                                  # H H: Y = 1
    (SM, "+ F0 F0 DAGGER CONTRACTIONS SU3 ID0 ID1", "SU3"),                             # singlets in SU3
    (SM, "+ F0 F2 F5 DAGGER CONTRACTIONS LORENTZ ID1 ID2 SU2 ID0 ID1 HC", "SU3"),       # colour uncontracted
    (EXT, "+ F0 F0 DAGGER F1 CONTRACTIONS SU2 ID0 ID1 ID2 HC", "U1"),
    (EXT, "+ F0 F0 F1 DAGGER CONTRACTIONS SU2 ID0 ID2 SU2 ID1 ID3 HC", "SU2"),          # 2 x 3 has no pair
    (EXT, "+ F2 F2 F2 CONTRACTIONS SU3 ID0 ID1 ID2", "SU3"),                            # 8x8x8 needs f or d
    (EXT, "+ F2 F2 F2 CONTRACTIONS SU3 FABC ID0 ID1 ID2", "vanishes"),                  # f G G G = 0
    (SM, "+ F0 F0 DAGGER F0 F0 DAGGER F0 CONTRACTIONS SU2 ID0 ID1 SU2 ID2 ID3", "dimension"),
    (SM, "+ F0 F0 DAGGER CONTRACTIONS SU2 ID0 ID1 HC", "hermiticity"),                  # h.c. double counts
    (SM, "+ i F0 F0 DAGGER CONTRACTIONS SU2 ID0 ID1", "hermiticity"),                   # i H^dag H not hermitian
    (SM, "+ F0 F2 F5 DAGGER CONTRACTIONS LORENTZ ID1 ID2 SU3 ID1 ID2 SU2 ID0 ID1", "hermiticity"),  # no h.c.
    (EXT, "+ F0 F0 DAGGER F1 F1 DAGGER CONTRACTIONS SU2 ID0 ID1 ID4 SU2 ID2 ID3 ID4", "hermiticity"),  # needs i
    (SM, "+ DERIVATIVE F0 DAGGER DERIVATIVE F0 CONTRACTIONS LORENTZ ID0 ID2 SU2 ID1 ID3 HC", "hermiticity"),
    (SM, "+ F0 F0 DAGGER CONTRACTIONS SU2 ID0 ID1 + F0 DAGGER F0 CONTRACTIONS SU2 ID0 ID1", "redundant"),
    (SM, "+ F0 F2 F5 DAGGER CONTRACTIONS LORENTZ ID1 ID2 SU3 ID1 ID2 SU2 ID0 ID1 HC "
         "+ F0 DAGGER F2 DAGGER F5 CONTRACTIONS LORENTZ ID1 ID2 SU3 ID1 ID2 SU2 ID0 ID1 HC", "redundant"),  # h.c. partner
    (SM, "+ DERIVATIVE F1 DAGGER DERIVATIVE F1 CONTRACTIONS LORENTZ ID0 ID2 SU2 ID1 ID3", "structure"),  # fermion as scalar
    (HIGGS, "- COMMUTATOR_A DERIVATIVE SU3 COMMUTATOR_B DERIVATIVE SU3 COMMUTATOR_A DERIVATIVE SU3 COMMUTATOR_B "
            "DERIVATIVE SU3", "structure"),                                               # no coloured field
    (EXT, "+ F3 F3 F3 CONTRACTIONS LORENTZ ID0 ID1 HC", "lorentz"),                     # odd number of spinors
])
def test_each_kind_of_invalid_term_is_caught(lag, text, check):
    assert check in errors(lag, text)


def test_equivalent_basis_is_complete_but_not_exact():
    # 2HDM: (H1^dag H2)(H2^dag H1) replaced by (H1 eps H2)(H1^dag eps H2^dag) spans the same two operators
    lag = generate(parse_fields("H1(1,2,1/2) scalar H2(1,2,1/2) scalar"))
    text = " ".join(lagrangian_tokens(lag.terms, lag.fields))
    delta = "+ F0 F0 DAGGER F1 F1 DAGGER CONTRACTIONS SU2 ID0 ID3 SU2 ID1 ID2"
    assert delta in text
    verdict = validate(lag.fields, text.replace(delta, "+ F0 F0 DAGGER F1 F1 DAGGER CONTRACTIONS SU2 ID0 ID2 "
                                                       "SU2 ID1 ID3").split())
    assert verdict.valid and verdict.complete and not verdict.exact
    assert len(verdict.missing) == 1 and len(verdict.spurious) == 1


def test_missing_and_spurious_terms_and_the_paper_score():
    true_tokens = lagrangian_tokens(SM.terms, SM.fields)
    dropped = lagrangian_tokens(SM.terms[:-1], SM.fields)
    extra = "+ F0 F0 CONTRACTIONS SU2 ID0 ID1 HC".split()
    verdict = validate(SM.fields, dropped + extra)
    assert not verdict.valid and not verdict.complete
    assert [term_tokens(t, SM.fields) for t in verdict.missing] == [term_tokens(SM.terms[-1], SM.fields)]
    assert len(verdict.spurious) == 1
    s = score(SM.fields, dropped + extra)
    # 13 correct, 14 predicted, 14 true: S = (13 - 0) / 14; F1 = 13/14
    assert s.paper_score == pytest.approx(13 / 14)
    assert s.f1 == pytest.approx(13 / 14)
    assert score(SM.fields, true_tokens).exact and score(SM.fields, true_tokens).paper_score == 1.0
    doubled = score(SM.fields, true_tokens + true_tokens)
    assert doubled.paper_score == pytest.approx(0.0)  # 14 correct, 14 extra


def test_check_terms_runs_the_physics_checks_without_the_generator(monkeypatch):
    """check_terms gives each term the same errors as validate, and never calls the generator (the block
    model's beam choice relies on it not knowing the answer)."""
    import hepilot.models.theory.lagrangian.validator as validator

    text = (" ".join(lagrangian_tokens(SM.terms, SM.fields)) + " + F0 F0 CONTRACTIONS SU2 ID0 ID1 HC"
            " + F0 F0 DAGGER CONTRACTIONS SU2 ID0 ID1").split()  # + a U1 violation + a repeated mass term
    full = [[name for name, _ in r.errors] for r in validate(SM.fields, text).reports]

    def no_generator(*args, **kwargs):
        raise AssertionError("check_terms called the generator")

    monkeypatch.setattr(validator, "generate", no_generator)
    alone = [[name for name, _ in r.errors] for r in validator.check_terms(SM.fields, text)]
    assert alone == full
    assert alone[:14] == [[]] * 14 and "U1" in alone[14] and alone[15] == ["redundant"]


def test_a_second_form_of_a_fermion_kinetic_term_is_redundant():
    """i psi^dag sigma-bar D psi and i psi sigma-bar D psi^dag differ by a total derivative: one kinetic term
    per field. (Both forms pass the index checks alone; before this check a beam holding both counted as a
    larger valid answer.)"""
    lag = generate(parse_fields("X(8,1,1) R"))
    toks = lagrangian_tokens(lag.terms, lag.fields)
    assert toks[:6] == "+ i F0 SIGMA_BAR DERIVATIVE F0".split()
    other = "+ i F0 DAGGER SIGMA_BAR DERIVATIVE F0".split()
    assert validate(lag.fields, other).check_passed("lorentz")
    assert [name for r in validate(lag.fields, toks + other).reports for name, _ in r.errors] == ["redundant"]
    assert validate(lag.fields, toks).exact
