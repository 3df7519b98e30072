"""The local WordLevel tokenizer of the Lagrangian transformer (no download: the vocabulary is the grammar).

Built from `tokens.VOCAB` with the `tokenizers` library (WordLevel model, whitespace split), wrapped as a
transformers `PreTrainedTokenizerFast` with [SOS] = bos, [EOS] = eos, [PAD], [UNK]. The encoder input is
`[SOS] field tokens [EOS]`; the decoder is trained on `[SOS] Lagrangian tokens [EOS]` (shifted).
"""
from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import WhitespaceSplit
from tokenizers.processors import TemplateProcessing

from hepilot.models.theory.lagrangian.tokens import VOCAB

__all__ = ["build_tokenizer", "load_tokenizer", "PAD", "SOS", "EOS", "UNK"]

PAD, SOS, EOS, UNK = "[PAD]", "[SOS]", "[EOS]", "[UNK]"


def build_tokenizer():
    """A PreTrainedTokenizerFast over the fixed grammar vocabulary."""
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(VOCAB)}
    core = Tokenizer(WordLevel(vocab, unk_token=UNK))
    core.pre_tokenizer = WhitespaceSplit()
    core.post_processor = TemplateProcessing(single=f"{SOS} $A {EOS}", special_tokens=[(SOS, vocab[SOS]),
                                                                                      (EOS, vocab[EOS])])
    return PreTrainedTokenizerFast(tokenizer_object=core, bos_token=SOS, eos_token=EOS, pad_token=PAD,
                                   unk_token=UNK)


def load_tokenizer(folder: Path):
    """Load a tokenizer saved with `save_pretrained` (tokenizer.json), offline."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast.from_pretrained(str(folder), local_files_only=True)
