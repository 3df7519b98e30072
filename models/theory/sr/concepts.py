"""The concept library of the guided search: natural-language abstractions of good hypotheses.

After LaSR (Grayeli et al., NeurIPS 2024, arXiv:2409.09359): concepts are short statements
("the target falls off as a Gaussian in theta/sigma") distilled from the best expressions,
kept in a bounded library (max_concepts = 30 as in LaSR), sampled to condition new proposals,
and scored by how good the hypotheses they produced were. A concept may carry a template (an
ansatz with free parameters c0, c1, ...) that the offline proposer can instantiate directly.
Sampling is a softmax over rank (IdeaSearch-style), deterministic for a given generator.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Concept", "ConceptLibrary"]


@dataclass
class Concept:
    """One abstraction: text, optional ansatz template, best loss of hypotheses it led to, origin."""

    id: int
    text: str
    template: str | None = None
    best_loss: float = math.inf
    uses: int = 0
    source: str = "offline"
    round: int = 0


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9*/^+\-().]+", " ", text.lower()).strip()


class ConceptLibrary:
    """A bounded set of concepts; the worst (by best_loss, then age) are dropped when full."""

    def __init__(self, *, max_concepts: int = 30, temperature: float = 1.0):
        self.max_concepts = max_concepts
        self.temperature = temperature
        self._items: dict[int, Concept] = {}
        self._next = 0

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(self.ranked())

    def add(self, text: str, *, template: str | None = None, loss: float = math.inf, source: str = "offline",
            round: int = 0) -> Concept | None:
        """Add a concept (or improve the loss of an existing one with the same text); None if empty."""
        text = " ".join(str(text).split())[:300]
        if not text:
            return None
        for c in self._items.values():
            if _key(c.text) == _key(text):
                c.best_loss = min(c.best_loss, loss)
                if template and not c.template:
                    c.template = template
                return c
        c = Concept(self._next, text, template, loss, 0, source, round)
        self._items[c.id] = c
        self._next += 1
        if len(self._items) > self.max_concepts:
            worst = max(self._items.values(), key=lambda k: (k.best_loss, -k.id))
            del self._items[worst.id]
        return c if c.id in self._items else None

    def get(self, concept_id: int) -> Concept | None:
        return self._items.get(concept_id)

    def credit(self, concept_id: int, loss: float) -> None:
        """Record that a hypothesis built from this concept reached `loss`."""
        c = self._items.get(concept_id)
        if c is not None:
            c.uses += 1
            c.best_loss = min(c.best_loss, loss)

    def ranked(self) -> list[Concept]:
        return sorted(self._items.values(), key=lambda c: (c.best_loss, c.id))

    def sample(self, k: int, rng: np.random.Generator) -> list[Concept]:
        """k concepts without replacement, softmax over rank (better concepts more often)."""
        ranked = self.ranked()
        if not ranked or k <= 0:
            return []
        logits = -np.arange(len(ranked)) / max(self.temperature, 1e-6)
        p = np.exp(logits - logits.max())
        p /= p.sum()
        idx = rng.choice(len(ranked), size=min(k, len(ranked)), replace=False, p=p)
        return [ranked[i] for i in sorted(idx)]

    def to_list(self) -> list[dict]:
        """JSON-ready concepts, best first (loss None when never credited)."""
        out = []
        for c in self.ranked():
            d = asdict(c)
            d["best_loss"] = c.best_loss if math.isfinite(c.best_loss) else None
            out.append(d)
        return out
