"""Training data: random field contents and their exact Lagrangians as (source, target) token pairs.

The sampler follows the spirit of arXiv:2501.09729's data: up to 6 matter fields in distribution
(7-8 for the out-of-distribution test), scalars and Weyl fermions of both helicities, SU(3) in
{1, 3, 3bar, 8}, SU(2) in {1, 2, 3}, hypercharges with single-digit numerators and denominators.
Like the paper's "sampled" set it over-represents interacting contents: hypercharges come from the
set of multiples of 1/6 the SM uses, so trilinears and Yukawas close often. Fields of one content
have distinct quantum numbers; Lagrangians longer than `max_target_tokens` are resampled (the
length cap is part of the distribution and recorded in the manifest).
"""
from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from hepilot.models.theory.lagrangian.fields import Field, canonical_order
from hepilot.models.theory.lagrangian.generator import generate
from hepilot.models.theory.lagrangian.tokens import encode_fields, lagrangian_tokens

__all__ = ["SamplerConfig", "sample_fields", "make_pairs", "write_dataset", "read_dataset", "content_key",
           "block_pairs", "write_block_dataset"]

log = logging.getLogger(__name__)

_Y_VALUES = tuple(Fraction(n, 6) for n in range(-12, 13) if Fraction(n, 6).denominator in (1, 2, 3, 6))


@dataclass(frozen=True)
class SamplerConfig:
    """Distribution of field contents. Probabilities are per field."""

    min_fields: int = 1
    max_fields: int = 6
    p_scalar: float = 0.4
    p_right_handed: float = 0.4
    su3_weights: tuple[float, float, float, float] = (0.5, 0.2, 0.15, 0.15)  # 1, 3, 3bar, 8
    su2_weights: tuple[float, float, float] = (0.45, 0.4, 0.15)  # 1, 2, 3
    p_y_zero: float = 0.2
    p_real: float = 0.5  # scalars in real representations with Y = 0
    p_odd: float = 0.05
    max_scalars: int = 3
    max_target_tokens: int = 640


def _field(rng: random.Random, cfg: SamplerConfig, name: str, scalar: bool) -> Field:
    su3 = rng.choices((1, 3, -3, 8), cfg.su3_weights)[0]
    su2 = rng.choices((1, 2, 3), cfg.su2_weights)[0]
    if rng.random() < cfg.p_y_zero:
        y = Fraction(0)
    else:
        small = rng.random() < 0.8
        y = rng.choice([v for v in _Y_VALUES if v != 0 and (abs(v) <= 1) == small])
    odd = rng.random() < cfg.p_odd
    if scalar:
        real = y == 0 and su3 in (1, 8) and su2 in (1, 3) and rng.random() < cfg.p_real
        return Field(name, Fraction(0), su3, su2, y, None, real, odd)
    hel = Fraction(1, 2) if rng.random() < cfg.p_right_handed else Fraction(-1, 2)
    return Field(name, Fraction(1, 2), su3, su2, y, hel, False, odd)


def sample_fields(rng: random.Random, cfg: SamplerConfig, n_fields: int | None = None) -> tuple[Field, ...]:
    """One field content in canonical order (distinct quantum numbers, at most cfg.max_scalars scalars)."""
    n = n_fields if n_fields is not None else rng.randint(cfg.min_fields, cfg.max_fields)
    fields: list[Field] = []
    seen: set[tuple] = set()
    n_scalars = 0
    while len(fields) < n:
        scalar = n_scalars < cfg.max_scalars and rng.random() < cfg.p_scalar
        f = _field(rng, cfg, f"X{len(fields)}", scalar)
        if f.quantum_numbers() in seen:
            continue
        seen.add(f.quantum_numbers())
        n_scalars += scalar
        fields.append(f)
    return canonical_order(fields)


def content_key(fields: tuple[Field, ...]) -> str:
    """A string identifying a field content (used to keep train and test apart)."""
    return " ".join(encode_fields(canonical_order(fields)))


def make_pairs(n: int, *, seed: int, cfg: SamplerConfig = SamplerConfig(),
               exclude: set[str] | None = None, n_fields: int | None = None) -> Iterator[dict]:
    """Yield n examples {source, target, n_fields, n_terms} with distinct contents not in `exclude`."""
    rng = random.Random(seed)
    seen = set(exclude or ())
    made = 0
    while made < n:
        fields = sample_fields(rng, cfg, n_fields)
        key = content_key(fields)
        if key in seen:
            continue
        lag = generate(fields)
        target = lagrangian_tokens(lag.terms, lag.fields)
        if len(target) > cfg.max_target_tokens:
            continue
        seen.add(key)
        made += 1
        yield {"source": " ".join(encode_fields(lag.fields)), "target": " ".join(target),
               "n_fields": len(fields), "n_terms": len(lag.terms)}


def write_dataset(path: Path, n: int, *, seed: int, cfg: SamplerConfig = SamplerConfig(),
                  exclude: set[str] | None = None, n_fields: int | None = None) -> Path:
    """Write n examples as JSON lines (atomically) plus `<path>.manifest.json` with the sampler config."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w") as fh:
        for k, ex in enumerate(make_pairs(n, seed=seed, cfg=cfg, exclude=exclude, n_fields=n_fields)):
            fh.write(json.dumps(ex) + "\n")
            if (k + 1) % 5000 == 0:
                log.info("%s: %d/%d examples", path.name, k + 1, n)
    tmp.replace(path)
    manifest = {"n": n, "seed": seed, "n_fields": n_fields, "sampler": asdict(cfg)}
    path.with_suffix(path.suffix + ".manifest.json").write_text(json.dumps(manifest, indent=1))
    return path


def read_dataset(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def block_pairs(fields: tuple[Field, ...]) -> Iterator[dict]:
    """The (block -> its terms) pairs of one canonical content (blocks.py), as {source, target, ...}."""
    from hepilot.models.theory.lagrangian.blocks import block_terms, blocks, sub_content

    for index in blocks(fields):
        sub = sub_content(fields, index)
        terms = block_terms(sub)
        yield {"source": " ".join(encode_fields(sub)), "target": " ".join(lagrangian_tokens(terms, sub)),
               "n_fields": len(sub), "n_terms": len(terms)}


def write_block_dataset(path: Path, n_contents: int, *, seed: int, cfg: SamplerConfig = SamplerConfig(),
                        exclude: set[str] | None = None) -> dict:
    """Write the distinct blocks of `n_contents` random contents (JSON lines, atomically), leaving out
    every block in `exclude` (the multi-field blocks of the test contents), and a manifest."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    rng = random.Random(seed)
    seen = set(exclude or ())
    counts: dict[int, int] = {}
    n_written = n_empty = 0
    with tmp.open("w") as fh:
        for k in range(n_contents):
            for ex in block_pairs(sample_fields(rng, cfg)):
                if ex["source"] in seen:
                    continue
                seen.add(ex["source"])
                fh.write(json.dumps(ex) + "\n")
                counts[ex["n_fields"]] = counts.get(ex["n_fields"], 0) + 1
                n_written += 1
                n_empty += ex["n_terms"] == 0
            if (k + 1) % 5000 == 0:
                log.info("%s: %d/%d contents, %d blocks", path.name, k + 1, n_contents, n_written)
    tmp.replace(path)
    manifest = {"contents": n_contents, "seed": seed, "blocks": n_written, "empty_blocks": n_empty,
                "blocks_by_size": counts, "excluded": len(exclude or ()), "sampler": asdict(cfg)}
    path.with_suffix(path.suffix + ".manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest
