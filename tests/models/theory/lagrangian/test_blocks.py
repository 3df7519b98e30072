"""Interaction blocks: a Lagrangian is exactly the union of its blocks' terms (locality)."""
import random

import pytest

from hepilot.models.theory.lagrangian.blocks import assemble, block_terms, blocks, lift, sub_content
from hepilot.models.theory.lagrangian.dataset import SamplerConfig, block_pairs, sample_fields
from hepilot.models.theory.lagrangian.fields import parse_fields
from hepilot.models.theory.lagrangian.generator import generate
from hepilot.models.theory.lagrangian.presets import fields_from_text, sm
from hepilot.models.theory.lagrangian.terms import term_class
from hepilot.models.theory.lagrangian.tokens import lagrangian_tokens
from hepilot.models.theory.lagrangian.validator import validate


def union_of_blocks(fields):
    fields = generate(fields).fields
    terms = [t for idx in blocks(fields) for t in lift(block_terms(sub_content(fields, idx)), idx, fields)]
    return assemble(fields, terms)


@pytest.mark.parametrize("text", ["SM", "SM plus inert doublet", "type II seesaw", "SM plus vector-like top",
                                  "SM plus a complex singlet", "colour octet scalar", "SM plus leptoquark"])
def test_named_models_are_the_union_of_their_blocks(text):
    fields = fields_from_text(text)
    assert union_of_blocks(fields).terms == generate(fields).terms


def test_random_contents_in_and_out_of_distribution_are_the_union_of_their_blocks():
    rng = random.Random(11)
    contents = [sample_fields(rng, SamplerConfig()) for _ in range(40)]
    contents += [sample_fields(rng, SamplerConfig(min_fields=7, max_fields=8)) for _ in range(10)]
    for fields in contents:
        assert union_of_blocks(fields).terms == generate(fields).terms, fields


def test_blocks_are_what_dimension_four_allows():
    """SM, one generation: 6 one-field blocks, 10 fermion pairs + 5 fermion-Higgs pairs, 10 two-fermion +
    Higgs triples; no three-fermion or two-scalar-one-fermion block."""
    fields = generate(sm()).fields
    sizes = [len(b) for b in blocks(fields)]
    assert (sizes.count(1), sizes.count(2), sizes.count(3), sizes.count(4)) == (6, 15, 10, 0)
    three_scalars = parse_fields("A(1,1,0) real B(1,2,1/2) scalar C(1,3,1) scalar D(1,1,1) scalar")
    assert sum(len(b) == 4 for b in blocks(three_scalars)) == 1


def test_sm_yukawas_sit_in_their_own_blocks():
    fields = generate(sm()).fields
    names = {f.name: k for k, f in enumerate(fields)}
    for trio, n in ((("Q", "u", "H"), 1), (("Q", "d", "H"), 1), (("L", "e", "H"), 1), (("Q", "e", "H"), 0),
                    (("Q", "L"), 0)):
        idx = tuple(sorted(names[x] for x in trio))
        terms = block_terms(sub_content(fields, idx))
        assert len(terms) == n and all(term_class(t, sub_content(fields, idx)) == "yukawa" for t in terms), trio


def test_assemble_keeps_repeats_for_the_validator_except_shared_field_strengths():
    fields = generate(parse_fields("H(1,2,1/2) scalar S(1,1,0) real")).fields
    lag = union_of_blocks(fields)
    mass = next(t for t in lag.terms if term_class(t, fields) == "scalar_mass")
    gauge = [t for t in lag.terms if term_class(t, fields) == "gauge_kinetic"]
    doubled = assemble(fields, list(lag.terms) + [mass] + gauge)
    assert len(doubled.terms) == len(lag.terms) + 1
    verdict = validate(fields, lagrangian_tokens(doubled.terms, fields))
    assert not verdict.valid and verdict.failed_checks() == {"redundant": 1}


def test_block_pairs_cover_every_block_with_its_own_field_numbering():
    fields = generate(parse_fields("Q(3,2,1/6) L u(3,1,2/3) R H(1,2,1/2) scalar")).fields
    pairs = list(block_pairs(fields))
    assert len(pairs) == len(blocks(fields))
    yukawa = [p for p in pairs if p["n_fields"] == 3]
    assert len(yukawa) == 1 and yukawa[0]["n_terms"] == 1 and "F2 DAGGER" in yukawa[0]["target"]
    assert all("F3" not in p["target"] for p in pairs)
