"""Scores of a predicted Lagrangian against the exact generator (term-level, as in arXiv:2501.09729).

Terms are matched after canonicalisation (order of terms, order of identical objects and the labels of
IDs do not matter); each true term is matched at most once.
    precision = N_correct / N_pred,  recall = N_correct / N_true,  F1 = harmonic mean
    paper score S = (N_correct - N_extra) / N_true,  N_extra = max(0, N_pred - N_true)
    exact: the canonical term sequence equals the generator's (and every term is valid)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from hepilot.models.theory.lagrangian.fields import Field
from hepilot.models.theory.lagrangian.generator import Lagrangian
from hepilot.models.theory.lagrangian.validator import Verdict, validate

__all__ = ["Score", "score", "score_verdict"]


@dataclass(frozen=True)
class Score:
    n_true: int
    n_pred: int
    n_correct: int
    exact: bool
    valid: bool
    complete: bool

    @property
    def precision(self) -> float:
        return self.n_correct / self.n_pred if self.n_pred else 0.0

    @property
    def recall(self) -> float:
        return self.n_correct / self.n_true if self.n_true else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def paper_score(self) -> float:
        return (self.n_correct - max(0, self.n_pred - self.n_true)) / self.n_true if self.n_true else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1,
                "paper_score": self.paper_score}


def score_verdict(verdict: Verdict) -> Score:
    return Score(n_true=len(verdict.reference.terms), n_pred=len(verdict.reports), n_correct=verdict.n_correct,
                 exact=verdict.exact, valid=verdict.valid, complete=verdict.complete)


def score(fields: tuple[Field, ...], tokens: list[str], *, reference: Lagrangian | None = None) -> Score:
    """Score a predicted token sequence for a field content (canonical order)."""
    return score_verdict(validate(fields, tokens, reference=reference))
