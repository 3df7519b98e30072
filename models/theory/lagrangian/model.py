"""The Lagrangian transformer: a BART encoder-decoder from field content to Lagrangian tokens.

After arXiv:2501.09729 (Koay, Enberg, Moretti, Camargo-Molina, "Generating particle physics
Lagrangians with transformers"): BART trained from scratch on (field content -> Lagrangian) pairs
with a tiny word-level vocabulary. The paper's model is BART-large sized (~3.57e8 parameters,
d_model 1024, 12 + 12 layers); `LagrangianBartConfig()` keeps that layout as its default. For CPU
training we use `LagrangianBartConfig.cpu()` (d_model 128, 2 + 3 layers, ~1.5M parameters, fp32 weights
~6 MB; it trains at 2-7k target tokens/s on one thread of the shared machine, a 7M model at ~200), the
compact output grammar of tokens.py (fields referenced by input position, implicit object IDs: ~3x
shorter targets than the paper's) and canonical term order, so one target per input.
Decoding is beam search; `LagrangianTransformer.predict` returns the beams for the validator to choose.
By default the search is constrained to the content (`ContentConstraint`): field tokens F<k> only for
fields that exist, and gauge kinetic terms only for gauge groups some field is charged under — facts
of the input, not of the answer; everything else (terms, contractions, h.c.) is the model's.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields as dc_fields
from pathlib import Path

import torch

from hepilot.models.theory.lagrangian.fields import Field, canonical_order
from hepilot.models.theory.lagrangian.generator import gauge_groups
from hepilot.models.theory.lagrangian.tokenizer import build_tokenizer, load_tokenizer
from hepilot.models.theory.lagrangian.tokens import MAX_FIELDS, encode_fields

__all__ = ["LagrangianBartConfig", "build_model", "LagrangianTransformer", "ContentConstraint", "WEIGHTS_DIR"]

log = logging.getLogger(__name__)
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# tied to model.shared.weight; safetensors stores the shared tensor once
_TIED = ("model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight")
_TERM_TOKENS = 64  # room for one term: the longest multi-field block term of the training data has 28 tokens


@dataclass(frozen=True)
class LagrangianBartConfig:
    """BART sizes. Defaults: the paper's BART-large layout; `cpu()` and `small()` are our presets."""

    d_model: int = 1024
    encoder_layers: int = 12
    decoder_layers: int = 12
    attention_heads: int = 16
    ffn_dim: int = 4096
    dropout: float = 0.1
    max_source_tokens: int = 1024
    max_target_tokens: int = 2048

    @classmethod
    def cpu(cls) -> LagrangianBartConfig:
        """~1.5M parameters (d_model 128, 2 + 3 layers): hours, not days, on a shared 2-core CPU."""
        return cls(d_model=128, encoder_layers=2, decoder_layers=3, attention_heads=4, ffn_dim=512, dropout=0.1,
                   max_source_tokens=192, max_target_tokens=1024)

    @classmethod
    def block(cls) -> LagrangianBartConfig:
        """A preset (~1.6M parameters, d_model 128, 3 + 3 layers) for block inputs of <= 4 fields
        (blocks.py): short sources and targets, so the windows are small."""
        return cls(d_model=128, encoder_layers=3, decoder_layers=3, attention_heads=4, ffn_dim=512, dropout=0.05,
                   max_source_tokens=96, max_target_tokens=640)

    @classmethod
    def small(cls) -> LagrangianBartConfig:
        """A toy size for tests."""
        return cls(d_model=32, encoder_layers=1, decoder_layers=1, attention_heads=2, ffn_dim=64, dropout=0.0,
                   max_source_tokens=192, max_target_tokens=512)


def build_model(config: LagrangianBartConfig, *, seed: int = 0):
    """A randomly initialised BartForConditionalGeneration for the grammar vocabulary."""
    from transformers import BartConfig, BartForConditionalGeneration

    tok = build_tokenizer()
    torch.manual_seed(seed)
    bart = BartConfig(
        vocab_size=len(tok), d_model=config.d_model, encoder_layers=config.encoder_layers,
        decoder_layers=config.decoder_layers, encoder_attention_heads=config.attention_heads,
        decoder_attention_heads=config.attention_heads, encoder_ffn_dim=config.ffn_dim,
        decoder_ffn_dim=config.ffn_dim, dropout=config.dropout, attention_dropout=0.0, activation_dropout=0.0,
        max_position_embeddings=max(config.max_source_tokens, config.max_target_tokens),
        pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.bos_token_id, forced_eos_token_id=tok.eos_token_id,
        scale_embedding=True, tie_word_embeddings=True,
    )
    return BartForConditionalGeneration(bart)


class ContentConstraint:
    """Logits processor: forbid F<k> beyond the content and field strengths of gauge groups nobody feels.

    `contents` is one content or a batch of them; rows of the scores are the batch's beams in order
    (`num_beams` consecutive rows per content, as `generate` lays them out)."""

    def __init__(self, tokenizer, contents, num_beams: int = 1):
        if contents and isinstance(contents[0], Field):
            contents = [contents]
        ids = tokenizer.convert_tokens_to_ids
        n_vocab = len(tokenizer)
        self.field_ban = torch.zeros(len(contents), n_vocab, dtype=torch.bool)
        self.group_ban = torch.zeros(len(contents), n_vocab, dtype=torch.bool)
        for r, fields in enumerate(contents):
            self.field_ban[r, [ids(f"F{k}") for k in range(len(fields), MAX_FIELDS)]] = True
            present = set(gauge_groups(tuple(fields)))
            self.group_ban[r, [ids(g) for g in ("SU3", "SU2", "U1") if g not in present]] = True
        self.field_ban = self.field_ban.repeat_interleave(num_beams, 0)
        self.group_ban = self.group_ban.repeat_interleave(num_beams, 0)
        self.commutators = torch.tensor(sorted({ids("COMMUTATOR_A"), ids("COMMUTATOR_B")}))
        self.derivative = ids("DERIVATIVE")

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        scores.masked_fill_(self.field_ban, -float("inf"))
        if input_ids.shape[1] >= 2:
            after = (input_ids[:, -1] == self.derivative) & torch.isin(input_ids[:, -2], self.commutators)
            if after.any():
                scores.masked_fill_(after[:, None] & self.group_ban, -float("inf"))
        return scores


class LagrangianTransformer:
    """Field content -> Lagrangian token beams with a trained BART (sklearn-style: load, then predict)."""

    def __init__(self, *, config: LagrangianBartConfig | None = None, num_beams: int = 4, seed: int = 0,
                 length_penalty: float = 1.0, early_stopping: bool | str = "never"):
        self.config = config
        self.num_beams = num_beams
        self.length_penalty = length_penalty
        self.early_stopping = early_stopping
        self.seed = seed

    @classmethod
    def load(cls, folder: Path = WEIGHTS_DIR, *, num_beams: int = 4) -> LagrangianTransformer:
        """Load weights (model.safetensors), config and tokenizer from a folder written by `save`."""
        from safetensors.torch import load_file

        folder = Path(folder)
        meta = json.loads((folder / "hepilot_config.json").read_text())
        known = {f.name for f in dc_fields(LagrangianBartConfig)}
        est = cls(config=LagrangianBartConfig(**{k: v for k, v in meta["config"].items() if k in known}),
                  num_beams=num_beams)
        est.model_ = build_model(est.config)
        missing, unexpected = est.model_.load_state_dict(load_file(str(folder / "model.safetensors")), strict=False)
        if unexpected or set(missing) - set(_TIED):
            raise ValueError(f"{folder}: weights do not fit the config (missing {missing}, unexpected {unexpected})")
        est.model_.eval()
        est.tokenizer_ = load_tokenizer(folder)
        est.meta_ = meta
        if est.blocks:  # the same answers as "never", 8x-33x faster (measured: see decode)
            est.early_stopping = False
        if (folder / "single" / "hepilot_config.json").is_file():  # a block model's one-field companion
            est.single_ = cls.load(folder / "single", num_beams=num_beams)
        return est

    def save(self, folder: Path, *, extra: dict | None = None) -> Path:
        """Write model.safetensors (fp32), the tokenizer and hepilot_config.json into `folder`."""
        from safetensors.torch import save_file

        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.contiguous() for k, v in self.model_.state_dict().items() if k not in _TIED}
        save_file(state, str(folder / "model.safetensors"))
        (folder / "model.safetensors").chmod(0o644)  # shipped data: readable like the other package files
        self.tokenizer_.save_pretrained(str(folder))
        meta = {"config": asdict(self.config), **(extra or {})}
        (folder / "hepilot_config.json").write_text(json.dumps(meta, indent=1))
        return folder

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise RuntimeError("LagrangianTransformer is not trained or loaded: call load() or train first")

    @property
    def blocks(self) -> bool:
        """True when the model was trained on blocks (train --blocks) and writes Lagrangians block by block."""
        return bool(getattr(self, "meta_", {}).get("training", {}).get("blocks"))

    @torch.no_grad()
    def decode(self, contents: list[tuple[Field, ...]], *, num_beams: int | None = None,
               num_return: int | None = None, max_new_tokens: int | None = None, constrained: bool = True,
               batch_size: int = 64) -> list[list[list[str]]]:
        """Beam-search decode canonical contents as the model's inputs, batched; per content up to
        `num_return` token lists, best first.

        `max_new_tokens` is capped at the decoder's window; `constrained` applies ContentConstraint.
        `self.early_stopping` sets when the beams stop. A whole-content model uses "never" (run until no
        unfinished beam can still win at the maximum length): stopping at the first finished beams
        (True) favours Lagrangians that end early, and beam 4 then fell below greedy (exact 0.38 vs 0.44 on
        120 held-out contents; 0.47 with "never"). A block model (`load` sets it) uses False (stop when no
        unfinished beam beats the worst finished one at its current length): with a length penalty "never"
        runs nearly every block to the window's end, mostly-empty blocks included; False returned the same
        checked candidate on 29 of the first 30 in-distribution test contents (on the 30th it was exact
        and "never"'s was not) and on 2 out-of-distribution ones, 8x and 33x faster (1 thread)."""
        self._check_fitted()
        beams = num_beams or self.num_beams
        n_ret = min(num_return or beams, beams)
        limit = self.config.max_target_tokens - 2  # the decoder's position embeddings end there
        out: list[list[list[str]]] = []
        for s in range(0, len(contents), batch_size):
            chunk = contents[s:s + batch_size]
            enc, processors = self._inputs(chunk, beams, constrained)
            seqs = self.model_.generate(
                input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], num_beams=beams,
                num_return_sequences=n_ret, do_sample=False,
                **({"early_stopping": self.early_stopping} if beams > 1 else {}),
                max_new_tokens=min(max_new_tokens or limit, limit), length_penalty=self.length_penalty,
                logits_processor=processors,
            )
            toks = [self.tokenizer_.convert_ids_to_tokens(self._strip(seq)) for seq in seqs]
            out += [toks[k:k + n_ret] for k in range(0, len(toks), n_ret)]
        return out

    def predict(self, fields: tuple[Field, ...] | list[Field], *, num_beams: int | None = None,
                num_return: int | None = None, max_new_tokens: int | None = None,
                constrained: bool = True) -> list[list[str]]:
        """Candidate Lagrangians (token lists of the whole content), best first.

        A block model (blocks.py) returns `block_candidates`: first the completed physics-checked blocks, then —
        each when it differs from those before — the checked blocks without completion and the blocks' top beams.
        A whole-content model returns its beams."""
        fields = canonical_order(fields)
        if not self.blocks:
            return self.decode([fields], num_beams=num_beams, num_return=num_return, max_new_tokens=max_new_tokens,
                               constrained=constrained)[0]
        cands = self.block_candidates(fields, num_beams=num_beams, max_new_tokens=max_new_tokens,
                                      constrained=constrained)
        out: list[list[str]] = []
        for name in ("completed", "checked", "top"):
            if cands[name] not in out:
                out.append(cands[name])
        return out[: num_return or len(out)]

    def block_candidates(self, fields: tuple[Field, ...] | list[Field], *, num_beams: int | None = None,
                         max_new_tokens: int | None = None, constrained: bool = True) -> dict[str, list[str]]:
        """A block model's three answers for a content: `checked` assembles, for each block, the beam with the
        most terms among those whose terms all pass the validator's physics checks (`check_terms`: syntax,
        Lorentz and gauge invariance, hermiticity, dimension, independence — no generator) and each contain
        every field of the block (the block's definition), the earlier beam on a tie, the top beam when none
        passes; `top` assembles each block's top beam. Most terms: a block's answer is a basis of its
        independent invariants, so a passing beam with more terms spans more of it and none can hold more
        than the basis (on 32 held-out contents: exact 0.97 vs 0.91 for the first passing beam, 0.72 for the
        top beams). `completed` then adds to each multi-field block's checked beam the further terms the model
        writes when asked for one more term at each term boundary (`next_terms`) that pass the same checks with
        the terms already kept — each raises the rank of the block's span, which the validator measures exactly,
        so a complete block gains nothing and an incomplete one only independent invariants (on the 37 wrong
        multi-field blocks of 4-beam decoding of 500 held-out contents it fixed 12 and changed none of 104
        right ones). Every block of the content is decoded in one batch per model (the one-field blocks by
        the companion in `single/` when there is one)."""
        from hepilot.models.theory.lagrangian.blocks import assemble, blocks, lift, sub_content
        from hepilot.models.theory.lagrangian.tokens import lagrangian_tokens, parse_terms, split_terms
        from hepilot.models.theory.lagrangian.validator import check_terms

        self._check_fitted()
        if not self.blocks:
            raise ValueError("block_candidates needs a block model (trained with train --blocks); "
                             "use predict() for a whole-content model")
        fields = canonical_order(fields)
        index = blocks(fields)
        subs = [sub_content(fields, i) for i in index]
        # one-field blocks (long: kinetic, field strengths, the potential) apart from the others (mostly empty),
        # so that short decodes do not wait for long ones in the same batch
        beams: list = [None] * len(subs)
        single = getattr(self, "single_", None) or self
        for group, model in (([k for k, i in enumerate(index) if len(i) == 1], single),
                             ([k for k, i in enumerate(index) if len(i) > 1], self)):
            for k, b in zip(group, model.decode([subs[k] for k in group], num_beams=num_beams,
                                                max_new_tokens=max_new_tokens, constrained=constrained)):
                beams[k] = b
        picks: dict[str, list] = {"checked": [], "top": []}
        passing: list[int] = []  # multi-field blocks whose checked beam passes: the ones to complete
        for k, (idx, sub, cands) in enumerate(zip(index, subs, beams)):
            picks["top"].append((idx, cands[0]))
            best, most = cands[0], -1
            for c in cands:
                reports = check_terms(sub, c)
                if len(reports) > most and _block_passes(reports, len(sub)):
                    best, most = c, len(reports)
            picks["checked"].append((idx, best))
            if len(idx) > 1 and most >= 0:
                passing.append(k)
        picks["completed"] = list(picks["checked"])
        # one request per term boundary of each passing block: the terms before it, then one more term
        requests = []
        for k in passing:
            parts = [part for _, part in split_terms(picks["checked"][k][1])]
            requests += [(k, [t for part in parts[:cut] for t in part]) for cut in range(len(parts) + 1)]
        proposals: dict[int, list[list[str]]] = {}
        for (k, _), terms in zip(requests, self.next_terms([(subs[k], prefix) for k, prefix in requests],
                                                           num_beams=num_beams, constrained=constrained)):
            proposals.setdefault(k, []).extend(terms)
        for k, terms in proposals.items():
            kept = list(picks["checked"][k][1])
            for term in terms:
                if _block_passes(check_terms(subs[k], kept + term), len(subs[k])):
                    kept += term
            picks["completed"][k] = (index[k], kept)
        out: dict[str, list[str]] = {}
        for name, choice in picks.items():
            terms, broken = [], []
            for idx, toks in choice:
                for p in parse_terms(toks, sub_content(fields, idx)):
                    if p.term is not None:
                        terms += lift([p.term], idx, fields)
                    else:  # kept, renumbered, for the validator to reject: never silently dropped
                        broken += [f"F{idx[int(t[1:])]}" if t[:1] == "F" and t[1:].isdigit() and int(t[1:]) < len(idx)
                                   else t for t in p.tokens]
            out[name] = lagrangian_tokens(assemble(fields, terms).terms, fields) + broken
        return out

    @torch.no_grad()
    def next_terms(self, requests: list[tuple[tuple[Field, ...], list[str]]], *, num_beams: int | None = None,
                   constrained: bool = True, batch_size: int = 64) -> list[list[list[str]]]:
        """For each (content, prefix tokens): the next term the model writes after the prefix, one per beam,
        best first, deduplicated. The decoder starts from the prefix and a new term's sign '+', and a beam
        ends at the next term's sign (or the end), so only one term is written. Requests with prefixes of
        equal length are batched."""
        self._check_fitted()
        beams = num_beams or self.num_beams
        ids = self.tokenizer_.convert_tokens_to_ids
        plus, minus, eos = ids("+"), ids("-"), self.tokenizer_.eos_token_id
        stops = {plus, minus, eos, self.tokenizer_.pad_token_id}
        out: list[list[list[str]]] = [[] for _ in requests]
        by_len: dict[int, list[int]] = {}
        for r, (_, prefix) in enumerate(requests):
            by_len.setdefault(len(prefix), []).append(r)
        for length, rows in sorted(by_len.items()):
            room = self.config.max_target_tokens - 2 - (length + 2)
            if room < 2:
                continue  # no window left for another term
            for s in range(0, len(rows), batch_size):
                chunk = rows[s:s + batch_size]
                contents = [requests[r][0] for r in chunk]
                enc, processors = self._inputs(contents, beams, constrained)
                start = torch.tensor([[self.tokenizer_.bos_token_id, *ids(requests[r][1]), plus] for r in chunk])
                seqs = self.model_.generate(
                    input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], decoder_input_ids=start,
                    num_beams=beams, num_return_sequences=beams, do_sample=False,
                    **({"early_stopping": self.early_stopping} if beams > 1 else {}),
                    max_new_tokens=min(_TERM_TOKENS, room), eos_token_id=[eos, plus, minus],
                    forced_eos_token_id=None, length_penalty=self.length_penalty, logits_processor=processors)
                for j, r in enumerate(chunk):
                    for seq in seqs[j * beams:(j + 1) * beams].tolist():
                        new = seq[start.shape[1]:]
                        cut = next((p for p, t in enumerate(new) if t in stops), len(new))
                        term = ["+", *self.tokenizer_.convert_ids_to_tokens(new[:cut])]
                        if len(term) > 1 and term not in out[r]:
                            out[r].append(term)
        return out

    def _inputs(self, contents: list[tuple[Field, ...]], beams: int, constrained: bool):
        """Encoder inputs of a batch of contents and its logits processors (ContentConstraint if constrained)."""
        from transformers import LogitsProcessorList

        enc = self.tokenizer_([" ".join(encode_fields(c)) for c in contents], return_tensors="pt", padding=True,
                              truncation=True, max_length=self.config.max_source_tokens)
        return enc, LogitsProcessorList([ContentConstraint(self.tokenizer_, contents, beams)] if constrained else [])

    def _strip(self, seq: torch.Tensor) -> list[int]:
        special = {self.tokenizer_.pad_token_id, self.tokenizer_.bos_token_id, self.tokenizer_.eos_token_id}
        ids = seq.tolist()
        if self.tokenizer_.eos_token_id in ids[1:]:
            ids = ids[: ids.index(self.tokenizer_.eos_token_id, 1)]
        return [i for i in ids if i not in special]


def _block_passes(reports, n_fields: int) -> bool:
    """Every term passes the physics checks and, in a block of several fields, contains all of them."""
    every = set(range(n_fields))
    return all(r.valid and (n_fields == 1 or {o.field for o in r.term.objects if o.kind == "field"} == every)
               for r in reports)
