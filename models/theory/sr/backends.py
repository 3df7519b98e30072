"""Genetic-programming backends behind one interface: pyoperon (default), gplearn, PySR (optional).

A backend runs its search for a wall-time budget and returns expression *text* in its own
dialect; the caller parses every string with the one safe parser (`parser.parse_expression`).
    pyoperon  Operon (Burlacu et al., GECCO 2020) via pyoperon 0.6: NSGA-II on (R^2, length) with
              Levenberg-Marquardt constant fitting; settings from ML_NOTES.md. Supports warm
              starts and injected seed expressions (used by the guided search).
    gplearn   Koza-style GP (gplearn 0.4): run generation by generation (warm start) until the
              time budget is spent; the final population's best programs are returned.
    pysr      PySR (Cranmer 2023, arXiv:2305.01582) needs a Julia runtime; when it is missing the
              backend raises BackendUnavailable saying exactly that.
"""
from __future__ import annotations

import importlib.util
import logging
import math
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy

__all__ = ["FUNCTIONS", "DEFAULT_FUNCTIONS", "BackendUnavailable", "BackendOutput", "PyOperonBackend",
           "GplearnBackend", "PySRBackend",
           "BACKENDS", "make_backend", "to_operon_infix"]

log = logging.getLogger(__name__)


FUNCTIONS = ("exp", "log", "sqrt", "square", "sin", "cos", "tan", "tanh", "abs")
DEFAULT_FUNCTIONS = ("exp", "sqrt", "square")


class BackendUnavailable(RuntimeError):
    """The requested backend cannot run on this machine; the message says why and what to use instead."""


@dataclass
class BackendOutput:
    """Expression strings found by a backend, the dialect to parse them in, and run statistics."""

    expressions: list[str]
    dialect: str = "standard"
    stats: dict = field(default_factory=dict)
    refit: bool = True  # False when the backend already fitted the constants by least squares


# ---------------------------------------------------------------- pyoperon

_OPERON_FUNCS = {sympy.exp: "exp", sympy.log: "log", sympy.sin: "sin", sympy.cos: "cos", sympy.tan: "tan",
                 sympy.tanh: "tanh", sympy.Abs: "abs"}


def _num(v: float) -> str:
    return f"({v:.17g})"


def to_operon_infix(expr: sympy.Expr, names: dict[sympy.Symbol, str]) -> str:
    """Operon's infix syntax (spaced binary operators, no unary minus), which its parser accepts.

    Only constructs checked to parse safely are emitted (Operon's parser crashes on e.g. '(-x)' or
    'pow(x, 2)'); anything else raises ValueError.
    """
    if isinstance(expr, sympy.Symbol):
        if expr not in names:
            raise ValueError(f"{expr} is not a variable")
        return names[expr]
    if expr.is_number:
        v = float(expr)
        if not math.isfinite(v):
            raise ValueError("non-finite constant")
        return _num(v)
    args = [to_operon_infix(a, names) for a in expr.args]
    if isinstance(expr, (sympy.Add, sympy.Mul)):
        op = " + " if isinstance(expr, sympy.Add) else " * "
        out = args[0]
        for a in args[1:]:
            out = f"({out}{op}{a})"
        return out
    if isinstance(expr, sympy.Pow):
        base, e = expr.args
        if e.is_number:
            ev = float(e)
            if ev == 2:
                return f"square({args[0]})"
            if ev == 0.5:
                return f"sqrt({args[0]})"
            if ev == -1:
                return f"({_num(1.0)} / {args[0]})"
            if ev == -0.5:
                return f"({_num(1.0)} / sqrt({args[0]}))"
        return f"({args[0]} ^ {args[1]})"
    name = _OPERON_FUNCS.get(expr.func)
    if name is None:
        raise ValueError(f"{expr.func} has no Operon equivalent")
    return f"{name}({args[0]})"


class PyOperonBackend:
    """pyoperon with the settings that work here (ML_NOTES.md); warm-startable.

    `functions` extends or replaces the unary functions (default exp, sqrt, square as in ML_NOTES:
    adding sin/cos lets e.g. a - b cos(k x) shadow a + b x^2 on small noisy data).
    """

    name = "pyoperon"

    def __init__(self, *, functions: Sequence[str] = DEFAULT_FUNCTIONS,
                 max_length: int = 30, population_size: int = 1000, optimizer_iterations: int = 10,
                 max_evaluations: int = 500_000, generations: int = 1000, seed: int = 0, warm_start: bool = False):
        unknown = sorted(set(functions) - set(FUNCTIONS))
        if unknown:
            raise ValueError(f"unknown functions {unknown}; choose from {list(FUNCTIONS)}")
        self.functions = tuple(functions)
        self.max_length = max_length
        self.population_size = population_size
        self.optimizer_iterations = optimizer_iterations
        self.max_evaluations = max_evaluations
        self.generations = generations
        self.seed = seed
        self.warm_start = warm_start
        self._reg = None

    def run(self, X: np.ndarray, y: np.ndarray, *, names: Sequence[str], sigma: np.ndarray | None = None,
            time_limit: float = 30.0, seeds: Sequence[sympy.Expr] = (),
            symbols: Sequence[sympy.Symbol] = ()) -> BackendOutput:
        from pyoperon.sklearn import SymbolicRegressor

        reg = self._reg if (self.warm_start and self._reg is not None) else None
        injected = 0
        if reg is None and seeds:
            log.debug("pyoperon: %d seeds not injected (no population to continue yet)", len(seeds))
        if reg is None:
            reg = SymbolicRegressor(
                allowed_symbols=",".join(["add", "sub", "mul", "div", "constant", "variable", *self.functions]),
                optimizer_iterations=self.optimizer_iterations,
                objectives=["r2", "length"], max_length=self.max_length, generations=self.generations,
                max_evaluations=self.max_evaluations, population_size=self.population_size,
                uncertainty=[float(np.median(sigma))] if sigma is not None else None, n_threads=1,
                random_state=self.seed, max_time=max(1, int(round(time_limit))))
        else:
            reg.set_params(max_time=max(1, int(round(time_limit))), warm_start=True,
                           random_state=int(reg.random_state or 0) + 1)
            if seeds:
                injected = self._inject(reg, seeds, symbols, names, X, y)
        t0 = time.perf_counter()
        reg.fit(X, y)
        # pyoperon 0.6 crashes (segfault) when warm-starting a run that stopped inside its first
        # generation; such a population is not continued (the next call starts afresh)
        continuable = reg.stats_.get("generations", 0) >= 2 and len(reg.individuals_) >= self.population_size
        self._reg = reg if self.warm_start and continuable else None
        texts = [reg.get_model_string(p["tree"], 12, list(names)) for p in reg.pareto_front_]
        return BackendOutput(texts, "standard", {"seconds": time.perf_counter() - t0, "injected": injected,
                                                  "generations": reg.stats_.get("generations")}, refit=False)

    @staticmethod
    def _inject(reg, seeds: Sequence[sympy.Expr], symbols: Sequence[sympy.Symbol], names: Sequence[str],
                X: np.ndarray, y: np.ndarray) -> int:
        """Replace the worst individuals of the population by the seed expressions (LaSR-style)."""
        import pyoperon as op

        hashes = {v: k for k, v in reg.variables_.items()}  # operon's own column names X1, X2, ...
        name_of = {sym: f"X{i + 1}" for i, sym in enumerate(symbols)}
        pop = reg.individuals_
        order = sorted(range(len(pop)), key=lambda i: -pop[i].GetFitness(0))
        n_obj = 2
        done = 0
        for expr in seeds:
            if done >= len(order) // 4:
                break
            try:
                text = to_operon_infix(expr, name_of)
                tree = op.InfixParser.Parse(text, {n: hashes[n] for n in name_of.values()})
            except (ValueError, KeyError, RuntimeError) as exc:
                log.debug("seed %s not injected: %s", expr, exc)
                continue
            if tree.Length > reg.max_length:
                continue
            pred = reg.evaluate_model(tree, X)
            ind = op.Individual(n_obj)
            ind.Genotype = tree
            with np.errstate(all="ignore"):
                r2 = np.corrcoef(pred, y)[0, 1] ** 2 if np.all(np.isfinite(pred)) and np.std(pred) > 0 else np.nan
            ind.SetFitness(float(-r2) if np.isfinite(r2) else 3.4e38, 0)
            ind.SetFitness(float(tree.Length), 1)
            pop[order[done]] = ind
            done += 1
        return done


# ---------------------------------------------------------------- gplearn

def _protected_exp(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.where(x < 100, np.exp(np.minimum(x, 100)), 0.0)


class GplearnBackend:
    """gplearn SymbolicRegressor run generation by generation until the time budget is spent."""

    name = "gplearn"

    def __init__(self, *, population_size: int = 1000, parsimony_coefficient: float = 0.0005,
                 functions: Sequence[str] = DEFAULT_FUNCTIONS, n_best: int = 60, max_generations: int = 10_000,
                 seed: int = 0):
        unknown = sorted(set(functions) - set(FUNCTIONS))
        if unknown:
            raise ValueError(f"unknown functions {unknown}; choose from {list(FUNCTIONS)}")
        self.population_size = population_size
        self.parsimony_coefficient = parsimony_coefficient
        # gplearn has no square: x*x is one multiplication away
        self.function_set = ("add", "sub", "mul", "div", *(f for f in functions if f != "square"))
        self.n_best = n_best
        self.max_generations = max_generations
        self.seed = seed

    def run(self, X: np.ndarray, y: np.ndarray, *, names: Sequence[str], sigma: np.ndarray | None = None,
            time_limit: float = 30.0, seeds: Sequence[sympy.Expr] = (),
            symbols: Sequence[sympy.Symbol] = ()) -> BackendOutput:
        from gplearn.functions import make_function
        from gplearn.genetic import SymbolicRegressor

        custom = {"exp": make_function(function=_protected_exp, name="exp", arity=1),
                  "tanh": make_function(function=np.tanh, name="tanh", arity=1)}
        funcs = [custom.get(f, f) for f in self.function_set]
        reg = SymbolicRegressor(population_size=self.population_size, generations=1, function_set=funcs,
                                metric="mse", parsimony_coefficient=self.parsimony_coefficient,
                                feature_names=list(names), warm_start=True, random_state=self.seed, n_jobs=1)
        t0 = time.perf_counter()
        seen: dict[str, float] = {}
        gen = 0
        while gen < self.max_generations:
            gen += 1
            reg.set_params(generations=gen)
            reg.fit(X, y)
            seen[str(reg._program)] = reg._program.raw_fitness_
            elapsed = time.perf_counter() - t0
            if elapsed * (gen + 1) / gen > time_limit:
                break
        final = sorted(reg._programs[-1], key=lambda p: p.raw_fitness_ if p is not None else np.inf)
        for p in final[: self.n_best]:
            if p is not None:
                seen.setdefault(str(p), p.raw_fitness_)
        return BackendOutput(list(seen), "gplearn", {"seconds": time.perf_counter() - t0, "generations": gen})


# ---------------------------------------------------------------- PySR

class PySRBackend:
    """PySR when both the `pysr` package and a Julia runtime exist; otherwise BackendUnavailable."""

    name = "pysr"

    def __init__(self, *, niterations: int = 40, maxsize: int = 30, functions: Sequence[str] = DEFAULT_FUNCTIONS,
                 seed: int = 0):
        self.functions = tuple(functions)
        self.niterations = niterations
        self.maxsize = maxsize
        self.seed = seed

    @staticmethod
    def availability() -> str | None:
        """None when PySR can run here, else the reason it cannot."""
        if shutil.which("julia") is None and importlib.util.find_spec("juliacall") is None:
            return ("PySR needs a Julia runtime, and Julia is not available on this machine (no `julia` "
                    "executable, no juliacall); use backend 'pyoperon' (default) or 'gplearn'")
        if importlib.util.find_spec("pysr") is None:
            return "PySR is not installed (pip install pysr, which also needs Julia); use 'pyoperon' or 'gplearn'"
        return None

    def run(self, X: np.ndarray, y: np.ndarray, *, names: Sequence[str], sigma: np.ndarray | None = None,
            time_limit: float = 30.0, seeds: Sequence[sympy.Expr] = (),
            symbols: Sequence[sympy.Symbol] = ()) -> BackendOutput:
        reason = self.availability()
        if reason is not None:
            raise BackendUnavailable(reason)
        from pysr import PySRRegressor  # pragma: no cover - needs Julia

        reg = PySRRegressor(niterations=self.niterations, maxsize=self.maxsize, timeout_in_seconds=time_limit,
                            binary_operators=["+", "-", "*", "/"], unary_operators=list(self.functions),
                            random_state=self.seed, deterministic=True, parallelism="serial", progress=False)
        t0 = time.perf_counter()
        reg.fit(X, y, weights=None if sigma is None else 1.0 / np.asarray(sigma) ** 2, variable_names=list(names))
        texts = [str(e) for e in reg.equations_["equation"]]
        return BackendOutput(texts, "standard", {"seconds": time.perf_counter() - t0})


BACKENDS = {"pyoperon": PyOperonBackend, "gplearn": GplearnBackend, "pysr": PySRBackend}


def make_backend(name: str, *, seed: int = 0, **options):
    """A backend instance by name; BackendUnavailable for PySR without Julia, ValueError for unknown names."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; use one of {sorted(BACKENDS)}")
    if name == "pysr":
        reason = PySRBackend.availability()
        if reason is not None:
            raise BackendUnavailable(reason)
    return BACKENDS[name](seed=seed, **options)
