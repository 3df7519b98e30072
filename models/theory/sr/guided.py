"""GuidedSymbolicSearch: LLM- (or offline-) guided evolutionary symbolic regression with a concept library.

Combines LaSR (Grayeli et al., NeurIPS 2024, arXiv:2409.09359) and IdeaSearchFitter (IdeaSearch
Collaboration, arXiv:2510.08317). Each round, within one wall-time budget:
1. hypothesis proposal: every proposer (the offline one; an LLM one when a completion callable
   is injected) is shown the Pareto front, sampled concepts and the data description and proposes
   ansaetze with free constants — the semantic mutation / crossover / randomize operators;
   each is parsed by the safe parser and its constants fitted (IdeaSearchFitter's ansatz fit);
2. GP evolution: pyoperon continues its population (warm start; from round 1 on, as there is no
   population before) with the best proposals injected in place of its worst individuals — the
   GP fits constants and proposes structural variants (LaSR: LLM operations mixed into GP
   evolution);
3. concept abstraction: proposers summarise the best front members into concepts, kept in a
   bounded library (30, as LaSR) and credited with the loss of the hypotheses they produce.
At the end the best front members are refined by deleting single terms (as SymbolicRegressor does).
Changes for a 2-core CPU: one population (LaSR/PySR use 15 islands), a fixed number of rounds in
a wall-time budget, offline proposer always on. The search stops early on noiseless data once
a candidate reproduces y to relative MSE < 1e-20. The result has the same form as
SymbolicRegressor (front_, model_) plus concepts_ and the lineage of the chosen model.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from hepilot.models.theory.sr.backends import PyOperonBackend
from hepilot.models.theory.sr.concepts import ConceptLibrary
from hepilot.models.theory.sr.expression import compile_expression, round_floats
from hepilot.models.theory.sr.pareto import CRITERIA, Candidate, bic, pareto_front, select_model
from hepilot.models.theory.sr.problem import Problem
from hepilot.models.theory.sr.proposers import OfflineProposer, SearchState

__all__ = ["GuidedSymbolicSearch"]

log = logging.getLogger(__name__)


class GuidedSymbolicSearch:
    """Guided symbolic regression; `proposers` default to the offline proposer alone."""

    def __init__(self, *, proposers: Sequence | None = None, time_limit: float = 60.0, n_rounds: int = 4,
                 proposals_per_round: int = 40, gp_fraction: float = 0.5, n_inject: int = 20,
                 max_concepts: int = 30, selection: str = "auto", seed: int = 0,
                 units: Mapping[str, str] | None = None, target_unit: str | None = None,
                 natural_units: bool = False, context: str = "", gp_options: Mapping | None = None,
                 min_proposals: int = 8, max_params: int = 6):
        self.proposers = proposers
        self.time_limit = time_limit
        self.n_rounds = n_rounds
        self.proposals_per_round = proposals_per_round
        self.gp_fraction = gp_fraction
        self.n_inject = n_inject
        self.max_concepts = max_concepts
        self.selection = selection
        self.seed = seed
        self.units = units
        self.target_unit = target_unit
        self.natural_units = natural_units
        self.context = context
        self.gp_options = gp_options
        self.min_proposals = min_proposals
        self.max_params = max_params

    def _add(self, cand: Candidate | None, round_: int) -> Candidate | None:
        if cand is None:
            return None
        cand.id = len(self.candidates_)
        cand.extra["round"] = round_
        self.candidates_.append(cand)
        for cid in cand.concepts:
            self.concepts_.credit(cid, cand.loss)
        return cand

    def _exact(self, problem: Problem) -> bool:
        return problem.sigma is None and any(c.mse <= 1e-20 * max(problem.var_y, 1e-300) for c in self.candidates_)

    def fit(self, X: np.ndarray, y: np.ndarray, *, variable_names: Sequence[str] | None = None,
            sigma: np.ndarray | None = None) -> GuidedSymbolicSearch:
        """Search for expressions y = f(X); returns self with front_, model_ and the run's records."""
        # small dense linear algebra: one BLAS thread avoids oversubscription on a shared CPU
        with threadpool_limits(limits=1):
            return self._fit(X, y, variable_names=variable_names, sigma=sigma)

    def _fit(self, X: np.ndarray, y: np.ndarray, *, variable_names: Sequence[str] | None,
             sigma: np.ndarray | None) -> GuidedSymbolicSearch:
        if self.selection not in CRITERIA:
            raise ValueError(f"selection must be one of {sorted(CRITERIA)}, got {self.selection!r}")
        if not self.time_limit > 0 or self.n_rounds < 1 or not 0 <= self.gp_fraction <= 1:
            raise ValueError("need time_limit > 0, n_rounds >= 1 and 0 <= gp_fraction <= 1")
        t0 = time.perf_counter()
        X = np.asarray(X, dtype=float)
        X = X[:, None] if X.ndim == 1 else X
        names = list(variable_names) if variable_names is not None else [f"x{i}" for i in range(X.shape[1])]
        problem = Problem.build(X, y, names=names, sigma=sigma, units=self.units, target_unit=self.target_unit,
                                natural_units=self.natural_units, seed=self.seed)
        proposers = list(self.proposers) if self.proposers else [OfflineProposer()]
        # a smaller population than plain pyoperon's 1000 so that short GP slices still complete the
        # >= 2 generations a warm start needs
        gp = PyOperonBackend(seed=self.seed, warm_start=True, **{"population_size": 500, **dict(self.gp_options or {})})
        rng = np.random.default_rng(self.seed)
        self.candidates_: list[Candidate] = []
        self.concepts_ = ConceptLibrary(max_concepts=self.max_concepts)
        self.history_: list[dict] = []
        tried: set[str] = set()
        deadline = t0 + self.time_limit
        for rnd in range(self.n_rounds):
            now = time.perf_counter()
            if now >= deadline - 0.5:
                break
            round_end = t0 + 0.9 * self.time_limit * (rnd + 1) / self.n_rounds  # 10% kept for the end
            propose_until = now + (1 - self.gp_fraction) * (round_end - now)
            n_before = len(self.candidates_)
            state = self._state(problem, rnd, tried)
            new_props: list[Candidate] = []
            for proposer in proposers:
                if time.perf_counter() > propose_until and len(self.candidates_) > n_before:
                    break  # out of proposal time: later proposers (an LLM call takes seconds) wait a round
                for k, p in enumerate(proposer.propose(state, n=self.proposals_per_round, rng=rng)):
                    now = time.perf_counter()
                    if (k >= self.min_proposals and now > propose_until) or now > round_end:
                        break
                    c = self._add(problem.evaluate(p.expression, origin=f"{proposer.name}:{p.origin}",
                                                   parents=p.parents, concepts=p.concept_ids, n_restarts=2,
                                                   max_params=self.max_params), rnd)
                    if c is not None:
                        c.extra["idea"] = p.idea
                        new_props.append(c)
            n_props = len(self.candidates_) - n_before
            if self._exact(problem):
                self._abstract(proposers, problem, rnd, tried)
                self.history_.append({"round": rnd, "proposals": n_props, "gp": 0, "stopped": "exact fit"})
                break
            gp_time = max(1.0, round_end - time.perf_counter())
            seeds = sorted(new_props + pareto_front(self.candidates_), key=lambda c: c.loss)[: self.n_inject]
            out = gp.run(problem.X, problem.y, names=names, sigma=problem.sigma, time_limit=gp_time,
                         seeds=[c.expr for c in seeds], symbols=problem.symbols)
            parents = tuple(c.id for c in seeds[:3]) if out.stats.get("injected") else ()
            n_gp = 0
            for text in dict.fromkeys(out.expressions):
                c = self._add(problem.evaluate(text, origin=f"gp:round{rnd}", parents=parents,
                                               refit=problem.sigma is not None), rnd)
                n_gp += c is not None
            self._abstract(proposers, problem, rnd, tried)
            self.history_.append({"round": rnd, "proposals": n_props, "gp": n_gp,
                                  "injected": out.stats.get("injected"), "seconds": time.perf_counter() - t0,
                                  "best_loss": min(c.loss for c in self.candidates_)})
            if self._exact(problem):
                break
        if not self.candidates_:
            raise RuntimeError("the guided search produced no valid candidate; give more time")
        for c in sorted(pareto_front(self.candidates_), key=lambda k: bic(k, var_y=problem.var_y))[:3]:
            if time.perf_counter() > deadline:
                break
            for v in problem.deletion_variants(c):
                self._add(v, len(self.history_))
        self.front_ = problem.tidy_front(self.candidates_) if time.perf_counter() < deadline \
            else pareto_front(self.candidates_)
        self.model_ = select_model(self.front_, criterion=self.selection, var_y=problem.var_y)
        self.problem_ = problem
        self.criterion_ = CRITERIA[self.selection]
        self.seconds_ = time.perf_counter() - t0
        self.proposer_stats_ = {p.name: {k: getattr(p, k) for k in ("calls", "errors", "last_error")
                                         if hasattr(p, k)} for p in proposers}
        return self

    def _abstract(self, proposers: list, problem: Problem, rnd: int, tried: set[str]) -> None:
        """Concept abstraction: every proposer summarises the current front into the concept library."""
        state = self._state(problem, rnd, tried)
        for proposer in proposers:
            for text, template, loss in proposer.abstract(state):
                self.concepts_.add(text, template=template, loss=loss, source=proposer.name, round=rnd)

    def _state(self, problem: Problem, rnd: int, tried: set[str]) -> SearchState:
        return SearchState(problem.X, problem.y, problem.names, problem.symbols, pareto_front(self.candidates_),
                           self.concepts_, rnd, problem.units, problem.target_unit, problem.natural_units,
                           self.context, tried)

    def predict(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise RuntimeError("this GuidedSymbolicSearch is not fitted yet; call fit(X, y) first")
        X = np.asarray(X, dtype=float)
        return compile_expression(self.model_.expr, self.problem_.symbols)(X[:, None] if X.ndim == 1 else X)

    def equations(self) -> list[dict]:
        return [c.to_dict() for c in self.front_]

    def lineage(self, candidate: Candidate | None = None, *, max_steps: int = 25) -> list[dict]:
        """The ancestry of a candidate (default: the chosen model), itself first, breadth first."""
        start = candidate or self.model_
        by_id = {c.id: c for c in self.candidates_}
        out, queue, seen = [], [start.id], set()
        while queue and len(out) < max_steps:
            cid = queue.pop(0)
            if cid in seen or cid not in by_id:
                continue
            seen.add(cid)
            c = by_id[cid]
            concepts = [self.concepts_.get(k).text for k in c.concepts if self.concepts_.get(k) is not None]
            out.append({"id": c.id, "expression": str(round_floats(c.expr, 6)), "origin": c.origin,
                        "round": c.extra.get("round"), "loss": c.loss, "complexity": c.complexity,
                        "parents": list(c.parents), "idea": c.extra.get("idea", ""), "concepts": concepts})
            queue.extend(c.parents)
        return out
