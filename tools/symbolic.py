"""Symbolic-regression tools: qed_angular_distribution, symbolic_regression, llm_symbolic_search.

The QED rediscovery chains the first two: generate e+e- -> mu+mu- with Pythia, histogram the
mu- angle into dsigma/dcos(theta) (a table whose sidecar declares target, errors, features and
the expected form pi alpha^2/(2s) (1 + cos^2 theta)), then search for the formula.
"""
from __future__ import annotations

import logging
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from hepilot.errors import ToolInputError
from hepilot.evals.checks.theory import (qed_angular_shape, qed_total_cross_section, sr_dimensional_consistency,
                                         sr_expected_form, sr_fit_quality)
from hepilot.models.events import qed
from hepilot.models.theory.sr.data import ColumnError, TableError, load_table, write_table
from hepilot.tools.base import ToolResult, current_context, output_dir, progress, tool

__all__ = ["SymbolicDataInput", "ExpressionInfo", "ExpectedInfo", "QedAngularInput", "QedAngularResult",
           "qed_angular_distribution", "SymbolicRegressionInput", "SymbolicRegressionResult", "symbolic_regression",
           "LLMSymbolicSearchInput", "LLMSymbolicSearchResult", "llm_symbolic_search"]

log = logging.getLogger(__name__)


class SymbolicDataInput(BaseModel):
    """Arguments shared by symbolic_regression and llm_symbolic_search: the data and the output."""

    model_config = ConfigDict(extra="forbid")
    data: str = Field(description="CSV, parquet or ROOT file, or a previous tool's output folder/result.json")
    target: str | None = Field(None, description="Column to model; default: the table's declared target, else "
                                                 "the last column")
    features: list[str] | None = Field(None, min_length=1, max_length=10,
                                       description="Input columns; default: declared features, else all other columns")
    target_error: str | None = Field(None, description="Column of per-point errors (chi2 fit); default: declared one")
    tree: str | None = Field(None, description="TTree name for ROOT files (default: the first tree)")
    units: dict[str, str] | None = Field(None, description="Unit per feature column, e.g. {'m': 'kg', 'v': 'm/s'}")
    target_unit: str | None = Field(None, description="Unit of the target, e.g. 'J' or 'pb'")
    natural_units: bool = Field(False, description="Check dimensions with hbar = c = 1 (everything in GeV powers)")
    expected: str | None = Field(None, description="Expected form with free constants c0, c1, ... in the column "
                                                   "names, e.g. 'c0*(1 + cos_theta**2)'; default: the table's")
    expected_values: dict[str, float] | None = Field(None, description="Reference values of the expected constants")
    tolerance: float = Field(0.02, gt=0, le=1, description="Relative tolerance for the expected constants")
    selection: Literal["auto", "bic", "pvalue", "pysr", "accuracy"] = Field(
        "auto", description="Criterion for the chosen model: auto = simplest with chi2 p-value >= 0.01 when errors "
                            "are given, else minimum BIC")
    functions: list[Literal["exp", "log", "sqrt", "square", "sin", "cos", "tan", "tanh", "abs"]] = Field(
        ["exp", "sqrt", "square"], min_length=1, description="Unary functions the GP may use (default exp, sqrt, "
                                                             "square; add sin, cos, log for periodic/log laws)")
    time_limit: float = Field(30.0, ge=1.0, le=7200.0, description="Wall-time budget in seconds")
    max_points: int = Field(2000, ge=10, le=100_000, description="Rows used (a seeded random subset if more)")
    seed: int = Field(1, ge=0, le=2**31 - 1, description="Seed of the search and of the row subset")


class ExpressionInfo(BaseModel):
    expression: str = Field(description="sympy expression (constants to 6 digits)")
    latex: str
    complexity: int = Field(description="Weighted node count (transcendental functions 2, small integer powers 1)")
    loss: float | None = Field(description="MSE, or chi2/ndf with errors")
    mse: float | None
    r2: float | None
    n_constants: int
    chi2: float | None = None
    ndf: int | None = None
    dimensionally_consistent: bool | None = None
    dimension_note: str | None = None
    origin: str = Field(description="Backend or proposer operator that produced it")
    id: int


class ExpectedInfo(BaseModel):
    expression: str
    equivalent: bool = Field(description="Chosen expression equals this form up to its constants (sympy)")
    reason: str
    fitted: dict[str, float] = Field(description="The form's constants fitted to the data")
    errors: dict[str, float]
    reference: dict[str, float]
    deviation: dict[str, float] = Field(description="(fitted - reference) / reference")
    tolerance: float
    chi2: float
    ndf: int
    within_tolerance: bool | None


class _Prepared:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def _column(table, name: str, field: str) -> np.ndarray:
    try:
        return table.column(name)
    except ColumnError as exc:
        hint = f"did you mean {', '.join(exc.close)}? " if exc.close else ""
        raise ToolInputError(field, f"column {name!r} not found.", f"{hint}Available columns: "
                                    f"{', '.join(exc.available)}.") from None


def prepare(inp: SymbolicDataInput) -> _Prepared:
    """Load the table and resolve columns, errors, units and the expected form (ToolInputError on problems)."""
    from hepilot.models.theory.sr.parser import ExpressionError, parse_expression, safe_name
    from hepilot.models.theory.sr.units import parse_unit

    try:
        table = load_table(inp.data, tree=inp.tree)
    except TableError as exc:
        raise ToolInputError("data", str(exc) + ".",
                             "give a CSV/parquet/ROOT file or a tool's output folder.") from None
    meta, cols = table.meta, list(table.columns)
    target = inp.target or meta.get("target") or cols[-1]
    y = _column(table, target, "target")
    err_name = inp.target_error if inp.target_error is not None else (meta.get("target_error") if not inp.target
                                                                      or inp.target == meta.get("target") else None)
    sigma = _column(table, err_name, "target_error") if err_name else None
    features = inp.features or meta.get("features") or [c for c in cols if c not in (target, err_name)]
    X = np.column_stack([_column(table, f, "features") for f in features])
    names = [safe_name(f) for f in features]
    if len(set(names)) != len(names):
        raise ToolInputError("features", f"columns {features} map to clashing symbol names {names}.",
                             "rename the columns.")
    units = inp.units if inp.units is not None else meta.get("units")
    target_unit = inp.target_unit if inp.target_unit is not None else meta.get("target_unit")
    if units:
        unknown = [k for k in units if k not in features]
        if unknown:
            raise ToolInputError("units", f"units given for {unknown}, which are not features.",
                                 f"give units for {', '.join(features)}.")
        units = {safe_name(k): v for k, v in units.items()}
    for u in list((units or {}).values()) + [target_unit]:
        try:
            parse_unit(u, natural=inp.natural_units)
        except ValueError as exc:
            raise ToolInputError("units" if u != target_unit else "target_unit", str(exc), "") from None
    expected = inp.expected if inp.expected is not None else (meta.get("expected") or {}).get("expression")
    values = inp.expected_values if inp.expected_values is not None else (
        (meta.get("expected") or {}).get("values") if inp.expected is None else None)
    tol = inp.tolerance if "tolerance" in inp.model_fields_set or inp.expected is not None \
        else (meta.get("expected") or {}).get("tolerance", inp.tolerance)
    if expected:
        try:
            parse_expression(expected, names)
        except ExpressionError as exc:
            raise ToolInputError("expected", str(exc) + ".", f"write it in {', '.join(names)} and c0, c1, ...") \
                from None
    if len(y) > inp.max_points:
        keep = np.sort(np.random.default_rng(inp.seed).choice(len(y), inp.max_points, replace=False))
        X, y, sigma = X[keep], y[keep], None if sigma is None else sigma[keep]
    return _Prepared(table=table, X=X, y=y, sigma=sigma, target=target, features=features, names=names,
                     units=units or None, target_unit=target_unit, expected=expected, expected_values=values,
                     tolerance=tol)


def _info(c) -> ExpressionInfo:
    return ExpressionInfo(**c.to_dict())


def run_search(estimator, prep: _Prepared, inp: SymbolicDataInput, *, method: str) -> dict:
    """Fit the estimator, compare with the expected form, write predictions and the plot; result fields."""
    from hepilot.models.theory.sr.backends import BackendUnavailable
    from hepilot.models.theory.sr.equivalence import compare_to_expected
    from hepilot.models.theory.sr.expression import compile_expression, round_floats
    from hepilot.models.theory.sr.plots import plot_fit

    try:
        with progress(f"symbolic regression ({method})", total=None):
            estimator.fit(prep.X, prep.y, variable_names=prep.names, sigma=prep.sigma)
    except BackendUnavailable as exc:
        raise ToolInputError("backend", str(exc) + ".", "use backend='pyoperon' or 'gplearn'.") from None
    except ValueError as exc:
        raise ToolInputError("data", str(exc) + ".", "check the chosen columns and their values.") from None
    problem, chosen = estimator.problem_, estimator.model_
    expected = None
    if prep.expected:
        form = problem.parse(prep.expected)
        cmp = compare_to_expected(chosen.expr, form, problem.symbols, problem.X, problem.y, sigma=problem.sigma,
                                  reference=prep.expected_values, tolerance=prep.tolerance, seed=inp.seed)
        expected = ExpectedInfo(**{k: getattr(cmp, k) for k in ExpectedInfo.model_fields})
    out = output_dir()
    pred = estimator.predict(problem.X)
    cols = {**{f: problem.X[:, i] for i, f in enumerate(prep.features)}, prep.target: problem.y,
            "prediction": pred, "residual": problem.y - pred}
    if problem.sigma is not None:
        cols["error"] = problem.sigma
    pred_path = write_table(out / "predictions.csv", cols)
    reference = None
    if expected is not None and expected.fitted:
        form = problem.parse(prep.expected)
        values = {s: expected.reference.get(s.name, expected.fitted[s.name]) for s in form.free_symbols
                  if s.name in expected.fitted}
        reference = compile_expression(form.xreplace(values), problem.symbols)
    label = f"chosen: {round_floats(chosen.expr, 4)}"
    plot = plot_fit(out / "fit.png", problem.X, problem.y, estimator.predict, sigma=problem.sigma, names=prep.names,
                    target=prep.target + (f" [{prep.target_unit}]" if prep.target_unit else ""), label=label,
                    reference=reference,
                    reference_label=f"expected: {prep.expected}" if reference else "", title=method)
    c = chosen
    status = (f"{method}: chosen {round_floats(c.expr, 4)} (complexity {c.complexity}, R^2 {c.r2:.5f}"
              + (f", chi2/ndf {c.chi2:.1f}/{c.ndf}" if c.chi2 is not None else "") + f") on {len(problem.y)} points")
    if expected is not None:
        devs = ", ".join(f"{k} {v:+.2%}" for k, v in expected.deviation.items())
        status += f"; {'matches' if expected.equivalent else 'does NOT match'} {expected.expression}" + (
            f" ({devs} vs reference)" if devs else "")
    return dict(status=status, artifacts={"fit_plot": str(plot), "predictions": str(pred_path)}, method=method,
                target=prep.target, features=prep.features, variable_names=dict(zip(prep.features, prep.names)),
                n_points=len(problem.y), pareto_front=[_info(k) for k in estimator.front_], chosen=_info(c),
                criterion=estimator.criterion_, r2=c.r2, mse=c.mse,
                chi2_ndf=c.chi2 / c.ndf if c.chi2 is not None else None, expected=expected,
                seconds=estimator.seconds_, predictions_path=str(pred_path))


class QedAngularInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_events: int = Field(100_000, ge=1000, le=20_000_000, description="Events to generate")
    sqrt_s: float = Field(10.0, ge=2.0, le=40.0, description="Centre-of-mass energy in GeV (photon exchange only)")
    n_bins: int = Field(20, ge=2, le=1000,
                        description="Bins in cos(theta) on [-1, 1] (the reference talk used 10, 20, 200)")
    unit: Literal["pb", "GeV^-2"] = Field("pb", description="Unit of dsigma/dcos(theta)")
    alpha_em_running: bool = Field(True, description="Pythia's alpha_em(Q^2 = s) (True) or fixed alpha(0)")
    seed: int = Field(1, ge=1, le=900_000_000, description="Pythia random seed")


class QedAngularResult(ToolResult):
    path: str = Field(description="CSV table: cos_theta, dsigma_dcos, dsigma_dcos_err, counts (+ .meta.json sidecar)")
    n_events: int
    n_bins: int
    sqrt_s: float = Field(description="GeV")
    alpha_em: float = Field(description="alpha_em the generator used (info.alphaEM())")
    sigma_pb: float = Field(description="Generator cross section sigmaGen in pb")
    sigma_err_pb: float
    sigma_expected_pb: float = Field(description="4 pi alpha^2 / (3 s) with the generator's alpha, pb")
    unit: str
    a_expected: float = Field(description="pi alpha^2 / (2 s) in `unit`: the coefficient of (1 + cos^2 theta)")
    a_fit: float = Field(description="a of a (1 + b cos^2) fitted to the histogram")
    a_fit_err: float
    b_fit: float
    b_fit_err: float
    shape_chi2: float
    shape_ndf: int


@tool(checks=[qed_total_cross_section, qed_angular_shape], category="theory")
def qed_angular_distribution(inp: QedAngularInput) -> QedAngularResult:
    """Generate e+e- -> gamma* -> mu+mu- with Pythia 8 and tabulate dsigma/dcos(theta) of the mu-.

    Call first when asked to rediscover the QED angular distribution; pass `path` to
    symbolic_regression (the table declares its target, errors and the expected form
    pi alpha^2/(2s) (1 + cos^2 theta), so no other arguments are needed). No ISR/FSR, lepton beams,
    photon exchange only; the cross section and alpha_em are the generator's own.
    """
    with progress("generating e+e- -> mu+mu-", total=None):
        try:
            sample = qed.generate_dimuon(n_events=inp.n_events, sqrt_s=inp.sqrt_s, seed=inp.seed,
                                         alpha_em_running=inp.alpha_em_running)
        except ValueError as exc:
            raise ToolInputError("n_events", str(exc), "see the argument ranges in the tool schema") from None
    dist = qed.angular_distribution(sample, n_bins=inp.n_bins, unit=inp.unit)
    fit = qed.fit_shape(dist)
    a_exp = qed.born_coefficient(sample.alpha_em, sample.s, inp.unit)
    path = output_dir() / "dsigma_dcos.csv"
    meta = {"target": "dsigma_dcos", "target_error": "dsigma_dcos_err", "features": ["cos_theta"],
            "units": {"cos_theta": "1"}, "target_unit": "pb" if inp.unit == "pb" else "GeV^-2",
            "expected": {"expression": "c0*(1 + cos_theta**2)", "values": {"c0": a_exp}, "tolerance": 0.02,
                         "description": f"pi alpha^2/(2 s) (1 + cos^2 theta), alpha = info.alphaEM() = "
                                        f"1/{1 / sample.alpha_em:.4f}, s = {sample.s:g} GeV^2, in {inp.unit}"},
            "generator": {"settings": list(sample.settings), "sigma_pb": sample.sigma("pb"), "n_events": inp.n_events}}
    write_table(path, {"cos_theta": dist.centers, "cos_theta_low": dist.edges[:-1], "cos_theta_high": dist.edges[1:],
                       "counts": dist.counts, "dsigma_dcos": dist.dsigma, "dsigma_dcos_err": dist.dsigma_err},
                meta=meta)
    sigma_exp = qed.born_cross_section(sample.alpha_em, sample.s, "pb")
    status = (f"e+e- -> mu+mu- at {inp.sqrt_s:g} GeV: {inp.n_events} events, sigma = {sample.sigma('pb'):.4g} pb "
              f"(4 pi alpha^2/3s = {sigma_exp:.4g} pb), {inp.n_bins} bins; a(1+b c^2) fit b = {fit.b:.3f} "
              f"+- {fit.b_err:.3f}")
    return QedAngularResult(status=status, artifacts={"table": str(path)}, path=str(path), n_events=inp.n_events,
                            n_bins=inp.n_bins, sqrt_s=inp.sqrt_s, alpha_em=sample.alpha_em,
                            sigma_pb=sample.sigma("pb"), sigma_err_pb=sample.sigma_err_mb * 1e9,
                            sigma_expected_pb=sigma_exp, unit=inp.unit, a_expected=a_exp, a_fit=fit.a,
                            a_fit_err=fit.a_err, b_fit=fit.b, b_fit_err=fit.b_err, shape_chi2=fit.chi2,
                            shape_ndf=fit.ndf)


class SymbolicRegressionInput(SymbolicDataInput):
    backend: Literal["pyoperon", "gplearn", "pysr"] = Field(
        "pyoperon", description="GP engine: pyoperon (default, fast), gplearn, or pysr (needs Julia)")


class SymbolicRegressionResult(ToolResult):
    method: str = Field(description="Backend or search that produced the expressions")
    target: str
    features: list[str]
    variable_names: dict[str, str] = Field(description="Column -> symbol used in the expressions")
    n_points: int
    pareto_front: list[ExpressionInfo] = Field(description="Complexity vs loss front, simplest first")
    chosen: ExpressionInfo
    criterion: str = Field(description="How the chosen expression was selected from the front")
    r2: float | None
    mse: float | None
    chi2_ndf: float | None = Field(None, description="chi2/ndf of the chosen expression when errors are given")
    expected: ExpectedInfo | None = Field(None, description="Comparison with the expected form, when one is given")
    seconds: float
    predictions_path: str = Field(description="CSV with the data, the chosen expression's prediction and residuals")


@tool(checks=[sr_fit_quality, sr_expected_form, sr_dimensional_consistency], category="theory")
def symbolic_regression(inp: SymbolicRegressionInput) -> SymbolicRegressionResult:
    """Find closed-form formulas target = f(features) in a table by genetic-programming symbolic regression.

    Data: a CSV/parquet/ROOT file or a previous tool's output (e.g. qed_angular_distribution's
    `path`). Returns the Pareto front (complexity vs loss) as simplified sympy expressions with
    LaTeX, R^2, MSE (chi2 with errors), the chosen expression (stated criterion, default min BIC),
    dimensional checks when units are given, and a fit/residual plot. With an expected form
    (e.g. "c0*(1 + cos_theta**2)") it tests symbolic equivalence and the fitted constants.
    """
    from hepilot.models.theory.sr.regressor import SymbolicRegressor

    prep = prepare(inp)
    reg = SymbolicRegressor(backend=inp.backend, time_limit=inp.time_limit, selection=inp.selection, seed=inp.seed,
                            units=prep.units, target_unit=prep.target_unit, natural_units=inp.natural_units,
                            backend_options={"functions": inp.functions})
    fields = run_search(reg, prep, inp, method=inp.backend)
    return SymbolicRegressionResult(**fields)


class LLMSymbolicSearchInput(SymbolicDataInput):
    time_limit: float = Field(60.0, ge=2.0, le=7200.0, description="Wall-time budget of the whole search, seconds")
    n_rounds: int = Field(4, ge=1, le=100, description="Rounds of propose -> GP -> concept abstraction")
    proposals_per_round: int = Field(40, ge=1, le=500, description="Ansaetze per proposer and round")
    llm: Literal["auto", "off", "required"] = Field(
        "auto", description="auto: use the configured LLM endpoint if there is one; off: offline proposer only; "
                            "required: fail when no endpoint is configured")
    context: str = Field("", max_length=2000, description="Hint for the LLM about the data (treated as data)")


class LLMSymbolicSearchResult(SymbolicRegressionResult):
    concepts: list[dict] = Field(description="Concept library: natural-language abstractions, best first")
    lineage: list[dict] = Field(description="Ancestry of the chosen expression: operator, parents, ideas, concepts")
    rounds: list[dict] = Field(description="Per-round counts of proposals and GP expressions, best loss")
    proposers: dict[str, dict] = Field(description="Proposer statistics (LLM calls and errors)")
    llm_used: bool


@tool(checks=[sr_fit_quality, sr_expected_form, sr_dimensional_consistency], category="theory")
def llm_symbolic_search(inp: LLMSymbolicSearchInput) -> LLMSymbolicSearchResult:
    """LLM-guided symbolic regression (LaSR + IdeaSearchFitter): proposals + GP + a concept library.

    Same data and output as symbolic_regression, plus the concept library and the lineage of
    the chosen expression. An LLM (when an endpoint is configured) and a deterministic offline
    proposer (dimensional analysis, physics function families, recombination of the front) act
    as semantic mutation operators; pyoperon fits constants and evolves structural variants.
    """
    from hepilot.models.theory.sr.guided import GuidedSymbolicSearch
    from hepilot.models.theory.sr.llm_proposer import SYSTEM_PROMPT, LLMProposer
    from hepilot.models.theory.sr.proposers import OfflineProposer

    llm = current_context().llm
    if inp.llm == "required" and llm is None:
        raise ToolInputError("llm", "no LLM endpoint is configured.",
                             "set OPENAI_BASE_URL (and OPENAI_API_KEY), or use llm='auto' or 'off'.")
    proposers: list = [OfflineProposer()]
    if llm is not None and inp.llm != "off":
        complete = (lambda p: llm.complete(p, system=SYSTEM_PROMPT, temperature=0.7)) if hasattr(llm, "complete") \
            else llm
        proposers.append(LLMProposer(complete))
    prep = prepare(inp)
    search = GuidedSymbolicSearch(proposers=proposers, time_limit=inp.time_limit, n_rounds=inp.n_rounds,
                                  proposals_per_round=inp.proposals_per_round, selection=inp.selection,
                                  seed=inp.seed, units=prep.units, target_unit=prep.target_unit,
                                  natural_units=inp.natural_units, context=inp.context,
                                  gp_options={"functions": inp.functions})
    fields = run_search(search, prep, inp, method="guided(" + "+".join(p.name for p in proposers) + ")")
    lineage = search.lineage()
    return LLMSymbolicSearchResult(**fields, concepts=search.concepts_.to_list(), lineage=lineage,
                                   rounds=search.history_, proposers=search.proposer_stats_,
                                   llm_used=len(proposers) > 1)
