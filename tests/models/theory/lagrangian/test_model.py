"""The BART model: save/load round trip, training with checkpoint + resume, and the shipped weights."""
from __future__ import annotations

import json

import pytest
import torch

from hepilot.models.theory.lagrangian.dataset import SamplerConfig, write_dataset
from hepilot.models.theory.lagrangian.fields import parse_fields
from hepilot.models.theory.lagrangian.generator import generate
from hepilot.models.theory.lagrangian.model import (
    WEIGHTS_DIR,
    ContentConstraint,
    LagrangianBartConfig,
    LagrangianTransformer,
    build_model,
)
from hepilot.models.theory.lagrangian.tokenizer import build_tokenizer
from hepilot.models.theory.lagrangian.train import export, train
from hepilot.models.theory.lagrangian.validator import validate


def test_save_and_load_round_trip(tmp_path):
    est = LagrangianTransformer(config=LagrangianBartConfig.small(), num_beams=2)
    est.model_ = build_model(est.config, seed=1).eval()
    est.tokenizer_ = build_tokenizer()
    est.save(tmp_path / "w")
    back = LagrangianTransformer.load(tmp_path / "w", num_beams=2)
    assert back.early_stopping == "never"  # a whole-content model keeps the full beam search
    for k, v in est.model_.state_dict().items():
        assert torch.equal(v, back.model_.state_dict()[k]), k
    fields = parse_fields("H(1,2,1/2) scalar")
    assert est.predict(fields, max_new_tokens=12) == back.predict(fields, max_new_tokens=12)


def test_content_constraint_keeps_decoding_to_the_fields_present():
    est = LagrangianTransformer(config=LagrangianBartConfig.small(), num_beams=2)
    est.model_ = build_model(est.config, seed=5).eval()
    est.tokenizer_ = build_tokenizer()
    singlet = parse_fields("S(1,1,0) real")

    def beyond(beams):
        return [t for b in beams for t in b if t[0] == "F" and t[1:].isdigit() and t != "F0"]

    assert beyond(est.predict(singlet, num_beams=2, max_new_tokens=30, constrained=False))  # untrained: F10 ...
    assert not beyond(est.predict(singlet, num_beams=2, max_new_tokens=30))


def test_content_constraint_allows_field_strengths_only_of_groups_present():
    tok = build_tokenizer()
    ids = tok.convert_tokens_to_ids
    constraint = ContentConstraint(tok, parse_fields("H(1,2,1/2) scalar"))  # SU(2) x U(1), no colour
    prefix = torch.tensor([[ids("[SOS]"), ids("-"), ids("COMMUTATOR_A"), ids("DERIVATIVE")],
                           [ids("[SOS]"), ids("+"), ids("F0"), ids("F0")]])
    scores = constraint(prefix, torch.zeros(2, len(tok)))
    assert scores[0, ids("SU3")] == -float("inf") and scores[0, ids("SU2")] == 0 and scores[0, ids("U1")] == 0
    assert scores[1, ids("SU3")] == 0  # elsewhere SU3 is an ordinary token (e.g. in CONTRACTIONS)
    assert (scores[:, ids("F1")] == -float("inf")).all() and (scores[:, ids("F0")] == 0).all()


def test_predict_requires_a_model():
    with pytest.raises(RuntimeError, match="not trained or loaded"):
        LagrangianTransformer().predict(parse_fields("H(1,2,1/2) scalar"))


def test_training_checkpoints_and_resumes(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    cfg = SamplerConfig(max_fields=2, max_target_tokens=80)
    write_dataset(data / "test_id.jsonl", 4, seed=1, cfg=cfg)
    write_dataset(data / "train.jsonl", 24, seed=3, cfg=cfg)
    run = train(data, tmp_path / "run", preset="small", epochs=1, batch_tokens=512, log_every=1)
    first = torch.load(run / "checkpoint.pt", weights_only=False)["state"]
    assert first["step"] >= 2 and first["epoch"] == 0
    train(data, tmp_path / "run", preset="small", epochs=2, batch_tokens=512, log_every=1)
    second = torch.load(run / "checkpoint.pt", weights_only=False)["state"]
    assert second["step"] == 2 * first["step"]  # continued from the checkpoint, not restarted
    assert any("heldout_token_accuracy" in h for h in second["history"])
    out = export(run, tmp_path / "weights")
    meta = json.loads((out / "hepilot_config.json").read_text())
    assert meta["training"]["steps"] == second["step"]
    assert LagrangianTransformer.load(out).config == LagrangianBartConfig.small()


@pytest.mark.skipif(not (WEIGHTS_DIR / "model.safetensors").is_file(), reason="no shipped weights")
def test_shipped_weights_decode_the_higgs_lagrangian():
    model = LagrangianTransformer.load(num_beams=2)
    assert sum(f.stat().st_size for f in WEIGHTS_DIR.rglob("*.safetensors")) < 50 * 2**20  # with single/
    assert model.blocks and model.single_.meta_["training"]["n_params"] > 0  # block model + one-field companion
    fields = parse_fields("H(1,2,1/2) scalar")
    beams = model.predict(fields, num_beams=2, max_new_tokens=80)
    verdicts = [validate(fields, b) for b in beams]
    assert any(v.accepted for v in verdicts), [v.summary() for v in verdicts]
    meta = model.meta_["training"]
    assert meta["n_params"] == sum(p.numel() for p in model.model_.parameters())
    assert (WEIGHTS_DIR / "MODEL_CARD.md").is_file() and (WEIGHTS_DIR / "tokenizer.json").is_file()


def test_block_training_data_leave_out_the_test_blocks_and_the_model_writes_whole_lagrangians(tmp_path):
    """prepare_block_data: no multi-field block of a test content is trained on; a block model (even an
    untrained one) answers a whole content, in the content's field numbering, and never hides what it wrote."""
    from hepilot.models.theory.lagrangian.dataset import read_dataset
    from hepilot.models.theory.lagrangian.train import prepare_block_data

    data = tmp_path / "data"
    info = prepare_block_data(data, n_contents=30, n_test=3, n_ood=1)
    train_src = {ex["source"] for ex in read_dataset(data / "train_blocks.jsonl")}
    held = {ex["source"] for ex in read_dataset(data / "heldout_blocks.jsonl")}
    assert info["heldout_blocks"] == len(held) > 0 and not (train_src & held)
    assert all(ex["n_fields"] > 1 for ex in read_dataset(data / "heldout_blocks.jsonl"))
    run = train(data, tmp_path / "run", preset="small", epochs=1, batch_tokens=2048, log_every=1, blocks=True)
    model = LagrangianTransformer.load(export(run, tmp_path / "weights"), num_beams=2)
    assert model.blocks
    fields = parse_fields("H(1,2,1/2) scalar Q(3,2,1/6) L u(3,1,2/3) R")
    cands = model.predict(fields, max_new_tokens=20)
    assert 1 <= len(cands) <= 2
    for toks in cands:
        assert {t for t in toks if t[:1] == "F" and t[1:].isdigit()} <= {"F0", "F1", "F2"}
        assert not validate(fields, toks).exact  # one epoch on 30 contents: it cannot be right


def test_a_block_model_decodes_one_field_blocks_with_its_companion(tmp_path):
    """weights/single (the one-field model) is loaded with a block model and writes every one-field block;
    the other blocks stay with the block model."""
    est = LagrangianTransformer(config=LagrangianBartConfig.small(), num_beams=2)
    est.tokenizer_ = build_tokenizer()
    folder = tmp_path / "w"
    for seed, where in ((1, folder), (2, folder / "single"), (2, tmp_path / "alone")):
        est.model_ = build_model(est.config, seed=seed).eval()
        est.save(where, extra={"training": {"blocks": True}})
    main = LagrangianTransformer.load(folder, num_beams=2)
    alone = LagrangianTransformer.load(tmp_path / "alone", num_beams=2)
    main_only = LagrangianTransformer.load(folder, num_beams=2)
    del main_only.single_
    assert main.blocks and main.single_.blocks
    assert main.early_stopping is False and main.single_.early_stopping is False  # blocks: stop at current length
    one = parse_fields("S(1,3,0) real")  # a single field: its only block is the one-field block
    assert main.predict(one, max_new_tokens=12) == alone.predict(one, max_new_tokens=12)
    assert main.predict(one, max_new_tokens=12) != main_only.predict(one, max_new_tokens=12)


def test_block_candidates_take_the_passing_beam_with_the_most_terms(monkeypatch):
    """For each block the checked candidate takes, among the beams whose terms all pass the physics checks
    and contain every field of the block, the one with the most terms (a basis of the block's invariants
    cannot be exceeded by independent valid terms); the top candidate keeps the blocks' top beams."""
    from hepilot.models.theory.lagrangian.blocks import block_terms, blocks, sub_content
    from hepilot.models.theory.lagrangian.fields import canonical_order
    from hepilot.models.theory.lagrangian.tokens import lagrangian_tokens

    est = LagrangianTransformer(config=LagrangianBartConfig.small(), num_beams=4)
    est.tokenizer_, est.model_ = build_tokenizer(), build_model(LagrangianBartConfig.small(), seed=1).eval()
    est.meta_ = {"training": {"blocks": True}}
    fields = canonical_order(parse_fields("H(1,2,1/2) scalar S(1,1,0) real"))
    pair = next(i for i in blocks(fields) if len(i) == 2)
    h = next(i for i in blocks(fields) if len(i) == 1 and fields[i[0]].name == "H")
    sub = sub_content(fields, pair)
    truth = block_terms(sub)
    assert len(truth) == 2  # H^dag H S and H^dag H S S
    one = lagrangian_tokens(truth[:1], sub)
    both = lagrangian_tokens(truth, sub)
    wrong_u1 = "+ F0 F0 F1 CONTRACTIONS SU2 ID0 ID1 HC".split() if sub[0].name == "H" else \
        "+ F1 F1 F0 CONTRACTIONS SU2 ID0 ID1 HC".split()
    h_in = sub_content(fields, h)
    mass = lagrangian_tokens(block_terms(h_in)[-1:], h_in)  # an H-only term: not this block's
    mass = [f"F{pair.index(h[0])}" if t == "F0" else t for t in mass]

    def decode(contents, **kwargs):  # the beams a model could write, best first
        out = []
        for c in contents:
            if c == sub:
                out.append([one, both + wrong_u1, both + mass, both])
            else:
                out.append([lagrangian_tokens(block_terms(c), c)])
        return out

    monkeypatch.setattr(est, "decode", decode)
    monkeypatch.setattr(est, "next_terms", lambda requests, **kw: [[] for _ in requests])  # no completion here
    cands = est.block_candidates(fields)
    lag = generate(fields)
    assert validate(fields, cands["checked"]).exact
    assert cands["completed"] == cands["checked"]
    top = validate(fields, cands["top"])
    assert top.valid and not top.complete and len(top.missing) == 1
    assert est.predict(fields) == [cands["checked"], cands["top"]]
    assert len(lag.terms) == len(validate(fields, cands["checked"]).reports)


def _pair_block_model(monkeypatch, beams_of_pair):
    """A small block model whose decode gives the H-S pair block the given beams (other blocks: their truth)."""
    from hepilot.models.theory.lagrangian.blocks import block_terms, blocks, sub_content
    from hepilot.models.theory.lagrangian.fields import canonical_order
    from hepilot.models.theory.lagrangian.tokens import lagrangian_tokens

    est = LagrangianTransformer(config=LagrangianBartConfig.small(), num_beams=4)
    est.tokenizer_, est.model_ = build_tokenizer(), build_model(LagrangianBartConfig.small(), seed=1).eval()
    est.meta_ = {"training": {"blocks": True}}
    fields = canonical_order(parse_fields("H(1,2,1/2) scalar S(1,1,0) real"))
    sub = sub_content(fields, next(i for i in blocks(fields) if len(i) == 2))
    truth = [lagrangian_tokens([t], sub) for t in block_terms(sub)]  # H^dag H S, H^dag H S S: one term each
    monkeypatch.setattr(est, "decode", lambda contents, **kw: [
        beams_of_pair(truth) if c == sub else [lagrangian_tokens(block_terms(c), c)] for c in contents])
    return est, fields, sub, truth


def test_completion_adds_only_the_independent_valid_terms_the_model_proposes(monkeypatch):
    """An incomplete checked block (one of its two terms) is completed by the proposed terms that pass the
    checks with it: the missing term is added; a duplicate, its hermitian conjugate form, a term breaking
    U(1) and one without S are not. The request asks after the block's empty prefix and after its one term."""
    est, fields, sub, truth = _pair_block_model(monkeypatch, lambda truth: [truth[0]])
    wrong_u1 = "+ F0 F0 F1 CONTRACTIONS SU2 ID0 ID1 HC".split() if sub[0].name == "H" else \
        "+ F1 F1 F0 CONTRACTIONS SU2 ID0 ID1 HC".split()
    asked = []

    def next_terms(requests, **kw):
        asked.extend(prefix for c, prefix in requests if c == sub)
        return [[truth[0], wrong_u1, truth[1], truth[1]] if c == sub else [] for c, _ in requests]

    monkeypatch.setattr(est, "next_terms", next_terms)
    cands = est.block_candidates(fields)
    assert sorted(map(len, asked)) == [0, len(truth[0])]  # one request per term boundary
    checked, completed = validate(fields, cands["checked"]), validate(fields, cands["completed"])
    assert checked.valid and not checked.complete and len(checked.missing) == 1
    assert completed.exact
    assert est.predict(fields)[0] == cands["completed"]


def test_completion_leaves_a_complete_block_unchanged(monkeypatch):
    """A block already holding its basis gains nothing: every proposal (its own terms again) is dependent."""
    est, fields, sub, truth = _pair_block_model(monkeypatch, lambda truth: [truth[0] + truth[1]])
    monkeypatch.setattr(est, "next_terms", lambda requests, **kw: [
        [truth[1], truth[0]] if c == sub else [] for c, _ in requests])
    cands = est.block_candidates(fields)
    assert cands["completed"] == cands["checked"]
    assert validate(fields, cands["completed"]).exact


def test_next_terms_writes_one_term_after_the_prefix():
    """Real decoding (a random small model): each proposal is one term — it starts with its sign and holds
    no other term sign — at most one per beam, and only fields of the content."""
    est = LagrangianTransformer(config=LagrangianBartConfig.small(), num_beams=3)
    est.tokenizer_, est.model_ = build_tokenizer(), build_model(LagrangianBartConfig.small(), seed=2).eval()
    est.meta_ = {"training": {"blocks": True}}
    fields = parse_fields("H(1,2,1/2) scalar S(1,1,0) real")
    from hepilot.models.theory.lagrangian.fields import canonical_order
    fields = canonical_order(fields)
    out = est.next_terms([(fields, []), (fields, "+ F0 F0 F1".split()), (fields[:1], [])])
    assert len(out) == 3
    for terms, n in zip(out, (2, 2, 1)):
        assert 1 <= len(terms) <= 3
        for t in terms:
            assert t[0] == "+" and "+" not in t[1:] and "-" not in t[1:]
            assert {x for x in t if x.startswith("F") and x[1:].isdigit()} <= {f"F{k}" for k in range(n)}
