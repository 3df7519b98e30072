"""The exact generator on the Standard Model and textbook extensions (one generation, couplings implicit)."""
import random

import pytest

from hepilot.models.theory.lagrangian.dataset import SamplerConfig, sample_fields
from hepilot.models.theory.lagrangian.fields import parse_fields
from hepilot.models.theory.lagrangian.generator import generate
from hepilot.models.theory.lagrangian.terms import term_class
from hepilot.models.theory.lagrangian.tokens import term_tokens
from hepilot.models.theory.lagrangian.validator import validate

SM = "Q(3,2,1/6) u(3,1,2/3) R d(3,1,-1/3) R L(1,2,-1/2) e(1,1,-1) R H(1,2,1/2) scalar"


def classes(text: str) -> dict[str, int]:
    lag = generate(parse_fields(text))
    out: dict[str, int] = {}
    for t in lag.terms:
        c = term_class(t, lag.fields)
        out[c] = out.get(c, 0) + 1
    return out


def interaction_tokens(text: str) -> set[str]:
    lag = generate(parse_fields(text))
    return {" ".join(term_tokens(t, lag.fields)) for t in lag.terms
            if term_class(t, lag.fields) not in ("scalar_kinetic", "fermion_kinetic", "gauge_kinetic")}


def test_standard_model_terms():
    assert classes(SM) == {"scalar_kinetic": 1, "fermion_kinetic": 5, "gauge_kinetic": 3, "scalar_mass": 1,
                           "quartic": 1, "yukawa": 3}
    # canonical order: F0 H, F1 L, F2 Q, F3 e, F4 d, F5 u
    assert interaction_tokens(SM) == {
        "+ F0 F0 DAGGER CONTRACTIONS SU2 ID0 ID1",                                      # H^dag H
        "+ F0 F0 F0 DAGGER F0 DAGGER CONTRACTIONS SU2 ID0 ID2 SU2 ID1 ID3",             # (H^dag H)^2
        "+ F0 F2 F5 DAGGER CONTRACTIONS LORENTZ ID1 ID2 SU3 ID1 ID2 SU2 ID0 ID1 HC",    # Q u^dag eps H (up)
        "+ F0 DAGGER F1 F3 DAGGER CONTRACTIONS LORENTZ ID1 ID2 SU2 ID0 ID1 HC",         # L e^dag H^dag (lepton)
        "+ F0 DAGGER F2 F4 DAGGER CONTRACTIONS LORENTZ ID1 ID2 SU3 ID1 ID2 SU2 ID0 ID1 HC",  # Q d^dag H^dag (down)
    }


def test_standard_model_with_left_handed_conjugates_has_the_same_terms():
    lh = "Q(3,2,1/6) uc(3bar,1,-2/3) dc(3bar,1,1/3) L(1,2,-1/2) ec(1,1,1) H(1,2,1/2) scalar"
    assert classes(lh) == classes(SM)


@pytest.mark.parametrize("text,expected", [
    # real singlet (xSM): tadpole, S^2, H^dag H, S^3, S H^dag H, S^4, S^2 H^dag H, (H^dag H)^2
    ("H(1,2,1/2) scalar S(1,1,0) real", {"tadpole": 1, "scalar_mass": 2, "cubic": 2, "quartic": 3}),
    # complex singlet without symmetry: S, S^2, |S|^2, S^3, S^2 S*, S H^dag H (+h.c.), six quartics
    ("H(1,2,1/2) scalar S(1,1,0) complex", {"tadpole": 1, "scalar_mass": 3, "cubic": 3, "quartic": 6}),
    # inert doublet: mu1, mu2, lambda1..lambda5, nothing odd in H2
    ("H(1,2,1/2) scalar H2(1,2,1/2) scalar odd", {"scalar_mass": 2, "quartic": 5}),
    # general 2HDM: m11, m22, m12 (+h.c.), lambda1..lambda7
    ("H1(1,2,1/2) scalar H2(1,2,1/2) scalar", {"scalar_mass": 3, "quartic": 7}),
    # type-II seesaw: mu H H Delta^dag, lambda, lambda1..lambda4, L L Delta
    ("L(1,2,-1/2) H(1,2,1/2) scalar D(1,3,1) scalar", {"scalar_mass": 2, "cubic": 1, "quartic": 5, "yukawa": 1}),
    # vector-like top partner: M T_L T_R^dag, T_L u^dag mixing, Yukawas Q u^dag H and Q T_R^dag H
    ("Q(3,2,1/6) u(3,1,2/3) R H(1,2,1/2) scalar TL(3,1,2/3) L TR(3,1,2/3) R",
     {"scalar_mass": 1, "quartic": 1, "fermion_mass": 2, "yukawa": 2}),
])
def test_textbook_extensions(text, expected):
    got = {k: v for k, v in classes(text).items() if k not in ("scalar_kinetic", "fermion_kinetic", "gauge_kinetic")}
    assert got == expected


def test_inert_doublet_has_lambda5_and_no_odd_terms():
    terms = interaction_tokens("H(1,2,1/2) scalar H2(1,2,1/2) scalar odd")
    assert "+ F0 F0 F1 DAGGER F1 DAGGER CONTRACTIONS SU2 ID0 ID2 SU2 ID1 ID3 HC" in terms  # (H^dag H2)^2 + h.c.
    assert not any(t.count("F1") % 2 for t in terms)


@pytest.mark.parametrize("text,n_mass", [
    ("N(1,1,0) R", 1),          # Majorana mass of a right-handed neutrino
    ("e(1,1,-1) R", 0),         # no Majorana mass with hypercharge
    ("W(1,3,0) L", 1),          # wino-like triplet: symmetric delta
    ("X(1,2,0) L", 0),          # a Y = 0 doublet: eps is antisymmetric, psi psi = 0 for one field
    ("G(8,1,0) L", 1),          # gluino-like octet
    ("Hu(1,2,1/2) L Hd(1,2,-1/2) L", 1),  # higgsino mass Hu eps Hd
    ("TL(3,1,2/3) L TR(3,1,2/3) R", 1),   # Dirac mass T_L T_R^dag
])
def test_weyl_mass_terms_only_when_gauge_invariant(text, n_mass):
    assert classes(text).get("fermion_mass", 0) == n_mass


def test_identical_field_antisymmetry_removes_vanishing_terms():
    # H^T eps H = 0 for a Y = 0 doublet: only H^dag H survives
    assert classes("H(1,2,0) scalar").get("scalar_mass") == 1
    # the Zee singlet couples L L antisymmetrically in SU(2): zero for one flavour
    assert "yukawa" not in classes("L(1,2,-1/2) S(1,1,1) scalar")
    # real octet: f^abc G G G = 0, only d^abc; one quartic (Cayley-Hamilton: Tr G^4 = (Tr G^2)^2 / 2)
    lag = generate(parse_fields("G(8,1,0) real"))
    cubic = [t for t in lag.terms if term_class(t, lag.fields) == "cubic"]
    assert len(cubic) == 1 and cubic[0].items[0].variant == "DABC"
    assert classes("G(8,1,0) real")["quartic"] == 1


def test_self_conjugate_operator_gets_a_factor_i_when_antihermitian():
    lag = generate(parse_fields("H(1,2,1/2) scalar D(1,3,1) scalar"))
    quartic_i = [t for t in lag.terms if term_class(t, lag.fields) == "quartic" and t.imag]
    assert len(quartic_i) == 1 and not quartic_i[0].hc  # i eps^abc D*^a D^b H^dag sigma^c H


def test_generator_output_passes_its_own_validator_on_random_contents():
    rng = random.Random(7)
    for _ in range(12):
        fields = sample_fields(rng, SamplerConfig(max_fields=5))
        lag = generate(fields)
        verdict = validate(lag.fields, [t for term in lag.terms for t in term_tokens(term, lag.fields)])
        assert verdict.valid and verdict.complete and verdict.exact, verdict.summary()


def all_terms(text: str) -> list[str]:
    lag = generate(parse_fields(text))
    return [" ".join(term_tokens(t, lag.fields)) for t in lag.terms]


_G = {g: f"- COMMUTATOR_A DERIVATIVE {g} COMMUTATOR_B DERIVATIVE {g} COMMUTATOR_A DERIVATIVE {g} "
         f"COMMUTATOR_B DERIVATIVE {g}" for g in ("SU3", "SU2", "U1")}
_HIGGS_POTENTIAL = ["+ F{h} F{h} DAGGER CONTRACTIONS SU2 ID0 ID1",
                    "+ F{h} F{h} F{h} DAGGER F{h} DAGGER CONTRACTIONS SU2 ID0 ID2 SU2 ID1 ID3"]


def test_standard_model_full_term_list_in_canonical_order():
    """Kinetic terms (LH as psi^dag sigma-bar D psi, RH as chi sigma-bar D chi^dag), three gauge groups,
    the Higgs potential mu^2 H^dag H + lambda (H^dag H)^2 and the up, lepton and down Yukawas."""
    assert all_terms(SM) == [
        "+ DERIVATIVE F0 DAGGER DERIVATIVE F0",
        "+ i F1 DAGGER SIGMA_BAR DERIVATIVE F1",
        "+ i F2 DAGGER SIGMA_BAR DERIVATIVE F2",
        "+ i F3 SIGMA_BAR DERIVATIVE F3 DAGGER",
        "+ i F4 SIGMA_BAR DERIVATIVE F4 DAGGER",
        "+ i F5 SIGMA_BAR DERIVATIVE F5 DAGGER",
        _G["SU3"], _G["SU2"], _G["U1"],
        *(t.format(h=0) for t in _HIGGS_POTENTIAL),
        "+ F0 F2 F5 DAGGER CONTRACTIONS LORENTZ ID1 ID2 SU3 ID1 ID2 SU2 ID0 ID1 HC",
        "+ F0 DAGGER F1 F3 DAGGER CONTRACTIONS LORENTZ ID1 ID2 SU2 ID0 ID1 HC",
        "+ F0 DAGGER F2 F4 DAGGER CONTRACTIONS LORENTZ ID1 ID2 SU3 ID1 ID2 SU2 ID0 ID1 HC",
    ]


@pytest.mark.parametrize("text,expected", [
    # xSM (F0 S, F1 H): a1 S, m^2 S^2, mu^2 H^dag H, a3 S^3, a2 S H^dag H, l S^4, l_HS S^2 H^dag H, l (H^dag H)^2
    ("H(1,2,1/2) scalar S(1,1,0) real", [
        "+ DERIVATIVE F0 DERIVATIVE F0", "+ DERIVATIVE F1 DAGGER DERIVATIVE F1", _G["SU2"], _G["U1"],
        "+ F0", "+ F0 F0", _HIGGS_POTENTIAL[0].format(h=1), "+ F0 F0 F0",
        "+ F0 F1 F1 DAGGER CONTRACTIONS SU2 ID1 ID2", "+ F0 F0 F0 F0",
        "+ F0 F0 F1 F1 DAGGER CONTRACTIONS SU2 ID2 ID3", _HIGGS_POTENTIAL[1].format(h=1)]),
    # cxSM without symmetry: S, S^2, S^3, S^2 S*, S H^dag H, S^4, S^3 S*, S^2 H^dag H with + h.c.; |S|^2,
    # |S|^4, |S|^2 H^dag H hermitian
    ("H(1,2,1/2) scalar S(1,1,0) complex", [
        "+ DERIVATIVE F0 DAGGER DERIVATIVE F0", "+ DERIVATIVE F1 DAGGER DERIVATIVE F1", _G["SU2"], _G["U1"],
        "+ F0 HC", "+ F0 F0 HC", "+ F0 F0 DAGGER", _HIGGS_POTENTIAL[0].format(h=1), "+ F0 F0 F0 HC",
        "+ F0 F0 F0 DAGGER HC", "+ F0 F1 F1 DAGGER CONTRACTIONS SU2 ID1 ID2 HC", "+ F0 F0 F0 F0 HC",
        "+ F0 F0 F0 F0 DAGGER HC", "+ F0 F0 F0 DAGGER F0 DAGGER", "+ F0 F0 F1 F1 DAGGER CONTRACTIONS SU2 ID2 ID3 HC",
        "+ F0 F0 DAGGER F1 F1 DAGGER CONTRACTIONS SU2 ID2 ID3", _HIGGS_POTENTIAL[1].format(h=1)]),
    # inert doublet (F0 H, F1 H2 odd): mu1, mu2, lambda1, lambda5 (H^dag H2)^2 + h.c., lambda3, lambda4, lambda2
    ("H(1,2,1/2) scalar H2(1,2,1/2) scalar odd", [
        "+ DERIVATIVE F0 DAGGER DERIVATIVE F0", "+ DERIVATIVE F1 DAGGER DERIVATIVE F1", _G["SU2"], _G["U1"],
        _HIGGS_POTENTIAL[0].format(h=0), _HIGGS_POTENTIAL[0].format(h=1), _HIGGS_POTENTIAL[1].format(h=0),
        "+ F0 F0 F1 DAGGER F1 DAGGER CONTRACTIONS SU2 ID0 ID2 SU2 ID1 ID3 HC",
        "+ F0 F0 DAGGER F1 F1 DAGGER CONTRACTIONS SU2 ID0 ID1 SU2 ID2 ID3",
        "+ F0 F0 DAGGER F1 F1 DAGGER CONTRACTIONS SU2 ID0 ID3 SU2 ID1 ID2", _HIGGS_POTENTIAL[1].format(h=1)]),
    # vector-like top partner (F0 H, F1 T_L, F2 Q, F3 u_R, F4 T_R): M T_L T_R^dag, m T_L u_R^dag mixing,
    # Yukawas Q u_R^dag eps H and Q T_R^dag eps H
    ("Q(3,2,1/6) u(3,1,2/3) R H(1,2,1/2) scalar TL(3,1,2/3) L TR(3,1,2/3) R", [
        "+ DERIVATIVE F0 DAGGER DERIVATIVE F0", "+ i F1 DAGGER SIGMA_BAR DERIVATIVE F1",
        "+ i F2 DAGGER SIGMA_BAR DERIVATIVE F2", "+ i F3 SIGMA_BAR DERIVATIVE F3 DAGGER",
        "+ i F4 SIGMA_BAR DERIVATIVE F4 DAGGER", _G["SU3"], _G["SU2"], _G["U1"],
        *(t.format(h=0) for t in _HIGGS_POTENTIAL),
        "+ F1 F3 DAGGER CONTRACTIONS LORENTZ ID0 ID1 SU3 ID0 ID1 HC",
        "+ F1 F4 DAGGER CONTRACTIONS LORENTZ ID0 ID1 SU3 ID0 ID1 HC",
        "+ F0 F2 F3 DAGGER CONTRACTIONS LORENTZ ID1 ID2 SU3 ID1 ID2 SU2 ID0 ID1 HC",
        "+ F0 F2 F4 DAGGER CONTRACTIONS LORENTZ ID1 ID2 SU3 ID1 ID2 SU2 ID0 ID1 HC"]),
    # type-II seesaw (F0 H, F1 Delta, F2 L): mu H^T eps Delta^dag H, lambda_1..4 (lambda_4 as i eps^abc form),
    # Y_Delta L^T eps Delta L
    ("L(1,2,-1/2) H(1,2,1/2) scalar D(1,3,1) scalar", [
        "+ DERIVATIVE F0 DAGGER DERIVATIVE F0", "+ DERIVATIVE F1 DAGGER DERIVATIVE F1",
        "+ i F2 DAGGER SIGMA_BAR DERIVATIVE F2", _G["SU2"], _G["U1"],
        _HIGGS_POTENTIAL[0].format(h=0), "+ F1 F1 DAGGER CONTRACTIONS SU2 ID0 ID1",
        "+ F0 F0 F1 DAGGER CONTRACTIONS SU2 ID0 ID1 ID2 HC", _HIGGS_POTENTIAL[1].format(h=0),
        "+ i F0 F0 DAGGER F1 F1 DAGGER CONTRACTIONS SU2 ID0 ID1 ID4 SU2 ID2 ID3 ID4",
        "+ F0 F0 DAGGER F1 F1 DAGGER CONTRACTIONS SU2 ID0 ID1 SU2 ID2 ID3",
        "+ F1 F1 F1 DAGGER F1 DAGGER CONTRACTIONS SU2 ID0 ID1 SU2 ID2 ID3",
        "+ F1 F1 F1 DAGGER F1 DAGGER CONTRACTIONS SU2 ID0 ID2 SU2 ID1 ID3",
        "+ F1 F2 F2 CONTRACTIONS LORENTZ ID1 ID2 SU2 ID0 ID1 ID2 HC"]),
])
def test_textbook_extensions_full_term_lists(text, expected):
    assert all_terms(text) == expected
