"""SymbolicRegressor: the sklearn-style estimator over the GP backends (pyoperon, gplearn, PySR).

    reg = SymbolicRegressor(backend="pyoperon", time_limit=20, selection="bic", seed=1)
    reg.fit(X, y, variable_names=["theta", "sigma"], sigma=None, units={"theta": "1"})
    reg.model_        # the chosen Candidate (sympy expression, loss, R^2, ...)
    reg.front_        # the Pareto front, complexity ascending
    reg.predict(X)

Every backend expression is parsed by the safe parser, its constants are refitted by least
squares (chi2 with errors), it is scored and dimensionally checked when units are given; the
n_refine best front members (by BIC) are refined by deleting one term of a sum at a time (and
refitting), and the front members are simplified with sympy. The chosen model follows `selection` (see
pareto.CRITERIA; "auto" by default: chi2 p-value with errors, else BIC).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from hepilot.models.theory.sr.backends import make_backend
from hepilot.models.theory.sr.expression import compile_expression
from hepilot.models.theory.sr.pareto import CRITERIA, Candidate, bic, pareto_front, select_model
from hepilot.models.theory.sr.problem import Problem

__all__ = ["SymbolicRegressor"]

log = logging.getLogger(__name__)


class SymbolicRegressor:
    """Symbolic regression with one of the GP backends; fitted attributes end in `_`."""

    def __init__(self, *, backend: str = "pyoperon", time_limit: float = 20.0, selection: str = "auto",
                 seed: int = 0, units: Mapping[str, str] | None = None, target_unit: str | None = None,
                 natural_units: bool = False, backend_options: Mapping | None = None, n_refine: int = 5):
        self.backend = backend
        self.time_limit = time_limit
        self.selection = selection
        self.seed = seed
        self.units = units
        self.target_unit = target_unit
        self.natural_units = natural_units
        self.backend_options = backend_options
        self.n_refine = n_refine

    def fit(self, X: np.ndarray, y: np.ndarray, *, variable_names: Sequence[str] | None = None,
            sigma: np.ndarray | None = None) -> SymbolicRegressor:
        """Search for expressions y = f(X); returns self with front_, model_ and the run's records."""
        # small dense linear algebra: one BLAS thread avoids oversubscription on a shared CPU
        with threadpool_limits(limits=1):
            return self._fit(X, y, variable_names=variable_names, sigma=sigma)

    def _fit(self, X: np.ndarray, y: np.ndarray, *, variable_names: Sequence[str] | None,
             sigma: np.ndarray | None) -> SymbolicRegressor:
        if self.selection not in CRITERIA:
            raise ValueError(f"selection must be one of {sorted(CRITERIA)}, got {self.selection!r}")
        if not self.time_limit > 0:
            raise ValueError(f"time_limit must be > 0 seconds, got {self.time_limit}")
        X = np.asarray(X, dtype=float)
        X = X[:, None] if X.ndim == 1 else X
        names = list(variable_names) if variable_names is not None else [f"x{i}" for i in range(X.shape[1])]
        problem = Problem.build(X, y, names=names, sigma=sigma, units=self.units, target_unit=self.target_unit,
                                natural_units=self.natural_units, seed=self.seed)
        backend = make_backend(self.backend, seed=self.seed, **dict(self.backend_options or {}))
        t0 = time.perf_counter()
        deadline = t0 + self.time_limit
        # the GP gets 80% of the budget; parsing, refits and refinement must fit in the rest
        out = backend.run(problem.X, problem.y, names=names, sigma=problem.sigma,
                          time_limit=max(1.0, 0.8 * self.time_limit), symbols=problem.symbols)
        candidates: list[Candidate] = []
        for text in dict.fromkeys(out.expressions):
            c = problem.evaluate(text, origin=self.backend, dialect=out.dialect, refit=out.refit or sigma is not None)
            if c is not None:
                c.id = len(candidates)
                candidates.append(c)
        if not candidates:
            raise RuntimeError(f"{self.backend} produced no expression with finite predictions on these data")
        for c in sorted(pareto_front(candidates), key=lambda k: bic(k, var_y=problem.var_y))[: self.n_refine]:
            if time.perf_counter() > deadline:
                break
            for v in problem.deletion_variants(c):
                v.id = len(candidates)
                candidates.append(v)
        self.front_ = problem.tidy_front(candidates) if time.perf_counter() < deadline else pareto_front(candidates)
        self.model_ = select_model(self.front_, criterion=self.selection, var_y=problem.var_y)
        self.candidates_ = candidates
        self.problem_ = problem
        self.backend_stats_ = {**out.stats, "n_expressions": len(out.expressions), "n_valid": len(candidates)}
        self.seconds_ = time.perf_counter() - t0
        self.criterion_ = CRITERIA[self.selection]
        log.info("%s: %d expressions, front of %d, chosen %s (%.1f s)", self.backend, len(out.expressions),
                 len(self.front_), self.model_.expr, self.seconds_)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise RuntimeError("this SymbolicRegressor is not fitted yet; call fit(X, y) first")

    def predict(self, X: np.ndarray) -> np.ndarray:
        self._check_fitted()
        X = np.asarray(X, dtype=float)
        return compile_expression(self.model_.expr, self.problem_.symbols)(X[:, None] if X.ndim == 1 else X)

    def equations(self) -> list[dict]:
        """The Pareto front as JSON-ready dicts (expression, LaTeX, complexity, loss, R^2, ...)."""
        self._check_fitted()
        return [c.to_dict() for c in self.front_]
