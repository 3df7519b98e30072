"""Statistics tools: nplm_test (New Physics Learning Machine) and two_sample_test (classifier two-sample test)."""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hepilot.errors import ToolInputError
from hepilot.evals.checks.stats import (
    c2st_test_split_balanced,
    nplm_calibration_verified,
    nplm_null_follows_chi2,
)
from hepilot.models.stats import plots
from hepilot.models.stats.c2st import C2STConfig, ClassifierTwoSampleTest
from hepilot.models.stats.nplm import NPLM, NPLMConfig, n_trainable_parameters
from hepilot.models.stats.nplm_calibration import (
    NPLMCalibration,
    calibrate_from_reference,
    calibration_key,
    data_cap,
    resampled_toys,
    tune_weight_clipping,
)
from hepilot.models.stats.tables import TableError, read_features
from hepilot.tools.base import ToolResult, current_context, output_dir, progress, tool

__all__ = ["NplmTestInput", "NplmTestResult", "nplm_test", "TwoSampleTestInput", "TwoSampleTestResult",
           "two_sample_test"]

log = logging.getLogger(__name__)
_SAMPLE_HELP = ("a .root/.csv/.parquet/.npz file with named columns, or the `path` of generate_jets / "
                "jet_features (jets.root, features.root)")
_MIN_TOYS = 50


def _load(path: str, features: list[str], *, field: str, process_field: str, tree: str | None,
          process: str | None, max_events: int | None) -> np.ndarray:
    try:
        x = read_features(path, features, tree=tree, process=process, max_events=max_events)
    except TableError as exc:
        text = str(exc)
        bad = "features" if "no column" in text else process_field if process and "process" in text else field
        raise ToolInputError(bad, text, f"pass {_SAMPLE_HELP} and column names it contains") from None
    if len(x) == 0:
        raise ToolInputError(field, f"{path} has no events (after the process selection and NaN removal).",
                             "pass a non-empty sample")
    return x


class NplmTestInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(description=f"Reference (Standard-Model) sample: {_SAMPLE_HELP}; "
                                       "should hold >> data events (the paper uses 100x)")
    data: str = Field(description=f"Data sample to test against the reference: {_SAMPLE_HELP}")
    features: list[str] = Field(min_length=1, max_length=5, description="Columns to test, e.g. ['jet_mass']")
    tree: str | None = Field(None, description="TTree name in ROOT files (default: the first TTree)")
    reference_process: str | None = Field(None, description="Keep only this process of a hepilot sample, e.g. 'qcd'")
    data_process: str | None = Field(None, description="Keep only this process of the data sample")
    n_expected: float | None = Field(None, gt=0, description="Expected data yield under the reference "
                                     "(default: the observed number of data events)")
    hidden: list[int] = Field([4], min_length=1, max_length=4,
                              description="Hidden sigmoid layer sizes of f(x;w) (paper 1D: [4]; 5D: [5, 5, 5])")
    weight_clipping: float = Field(36.0, gt=0, le=1000, description="Clipping c of every weight (paper 1D: 9 with "
                                   "3e5 Adam epochs; 36 matched chi2(13) best here with L-BFGS, see docs/benchmarks.md)")
    tune_clipping: bool = Field(False, description="Scan c in {c/4, c/2, c, 2c} with null toys and keep the one "
                                "whose t distribution is closest to chi2(dof) (4x the toy cost)")
    max_iter: int = Field(300, ge=10, le=20000, description="Training budget (L-BFGS iterations, fixed per fit)")
    restarts: int = Field(3, ge=1, le=10, description="Fits per data set from independent initial weights, best kept "
                          "(single fits can stop in local minima; cost grows linearly)")
    n_toys: int = Field(100, ge=0, le=5000, description=f"Null toys calibrating t (>= {_MIN_TOYS} needed for a "
                        "p-value; 0 = only a cached calibration of the same setup)")
    max_reference: int | None = Field(None, ge=100, description="Use at most this many reference events")
    max_data: int | None = Field(None, ge=10, description="Use at most this many data events")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed of toys, subsampling and initialisation")

    @model_validator(mode="after")
    def _sizes(self):
        if any(h < 1 or h > 64 for h in self.hidden):
            raise ValueError(f"hidden layer sizes must be between 1 and 64, got {self.hidden}")
        if len(set(self.features)) != len(self.features):
            raise ValueError(f"features has duplicates: {self.features}")
        return self


class NplmTestResult(ToolResult):
    t: float = Field(description="Test statistic t = -2 min L on the data")
    dof: int = Field(description="Trainable parameters of f = chi2 degrees of freedom of the asymptotic law")
    p_value: float | None = Field(description="Calibrated p-value; None when the setup is uncalibrated")
    z: float | None = Field(description="Significance Phi^-1(1-p); None when uncalibrated")
    p_method: Literal["chi2", "empirical"] | None = Field(
        description="chi2: chi2(dof) law verified by the null toys; empirical: fraction of toys above t")
    z_lower_bound: bool = Field(description="t exceeded every null toy: the true Z is at least `z`")
    calibration: dict = Field(description="Null-toy summary: n_toys, KS p-value vs chi2(dof), mean t, ...")
    calibration_cached: bool = Field(description="The calibration was reused from an earlier call")
    weight_clipping: float = Field(description="Clipping used (after tuning, when requested)")
    clipping_scan: dict[str, dict] = Field(default_factory=dict, description="c -> KS distance, KS p, tail p, mean t")
    n_data: int
    n_reference: int
    n_expected: float
    features: list[str]


def _digest(x: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()[:20]


@tool(checks=[nplm_calibration_verified, nplm_null_follows_chi2], category="stats", version="2")
def nplm_test(inp: NplmTestInput) -> NplmTestResult:
    """Test whether a data sample is compatible with a reference sample with NPLM (arXiv:1806.02350).

    Learns the log density ratio f(x) = log n(x|data)/n(x|reference) with a small network and
    returns t = -2 min L, a p-value and a significance Z calibrated with null toys (chi2(dof) used
    only if the toys pass a KS test and a largest-toy tail test; otherwise the empirical toy
    distribution; with no calibration no Z is reported), plus plots of the null distribution and
    of the learned excess. Calibrations are cached per reference and network setup. Use for a
    model-independent search for any deviation in 1-5 features (e.g. a bump in a jet mass). Needs
    two samples first (generate_jets / jet_features outputs or files with named columns).
    """
    ref = _load(inp.reference, inp.features, field="reference", process_field="reference_process", tree=inp.tree,
                process=inp.reference_process, max_events=inp.max_reference)
    data = _load(inp.data, inp.features, field="data", process_field="data_process", tree=inp.tree,
                 process=inp.data_process, max_events=inp.max_data)
    n_expected = float(inp.n_expected or len(data))
    shift, scale = ref.mean(0), np.where(ref.std(0) > 0, ref.std(0), 1.0)
    pool, data_t = (ref - shift) / scale, (data - shift) / scale
    try:
        make_toys = resampled_toys(pool, n_expected=n_expected)
    except ValueError as exc:
        raise ToolInputError("reference", str(exc), "pass a larger reference sample or set n_expected lower") from None
    config = NPLMConfig(hidden=tuple(inp.hidden), weight_clipping=inp.weight_clipping, max_iter=inp.max_iter,
                        n_restarts=inp.restarts)
    dof = n_trainable_parameters(len(inp.features), config.hidden)
    scan: dict[str, dict] = {}
    cache = current_context().cache_dir / "nplm_calibration"
    if inp.tune_clipping:
        grid = [inp.weight_clipping * k for k in (0.25, 0.5, 1.0, 2.0)]
        n_scan = max(_MIN_TOYS // 2, inp.n_toys // 2)
        scan_path = cache / ("scan_" + calibration_key(replace(config, weight_clipping=0.0), n_expected=n_expected,
                                                       reference_digest=_digest(pool) + str(grid), n_toys=n_scan,
                                                       seed=inp.seed) + ".json")
        if scan_path.is_file():
            saved = json.loads(scan_path.read_text())
            best, scan = float(saved["best"]), saved["scan"]
        else:
            with progress("NPLM clipping scan toys", total=n_scan * len(grid)) as advance:
                best, raw = tune_weight_clipping(make_toys, grid=grid, n_toys=n_scan, n_expected=n_expected,
                                                 config=config, dof=dof, seed=inp.seed + 7, progress=advance)
            scan = {f"{c:g}": {k: v for k, v in r.items() if k != "t_null"} for c, r in raw.items()}
            scan_path.parent.mkdir(parents=True, exist_ok=True)
            scan_path.write_text(json.dumps({"best": best, "scan": scan}))
        config = replace(config, weight_clipping=best)

    # the observed fit uses a reference of the same size as each toy's (pool minus the data cap)
    rng = np.random.default_rng(inp.seed)
    n_ref_used = len(pool) - data_cap(n_expected)
    ref_used = pool[rng.permutation(len(pool))[:n_ref_used]]
    model = NPLM(config=config, seed=inp.seed).fit(ref_used, data_t, n_expected=n_expected)

    key = calibration_key(config, n_expected=n_expected, reference_digest=_digest(pool), n_toys=inp.n_toys,
                          seed=inp.seed)
    path = cache / f"{key}.npz"
    cached = path.is_file()
    if cached:
        calib = NPLMCalibration.load(path)
    elif inp.n_toys > 0:
        with progress("NPLM null toys", total=inp.n_toys) as advance:
            calib = calibrate_from_reference(pool, n_expected=n_expected, config=config, n_toys=inp.n_toys,
                                             seed=inp.seed + 1, key=key, min_toys=_MIN_TOYS, progress=advance)
        calib.save(path)
    else:
        calib = NPLMCalibration(t_null=np.zeros(0), dof=dof, key=key, min_toys=_MIN_TOYS)
    pv = calib.p_value(model.t_)

    out = output_dir()
    artifacts = {}
    if calib.n_toys:
        artifacts["calibration_plot"] = str(plots.plot_nplm_calibration(
            calib.t_null, dof, out / "nplm_calibration.png", t_obs=model.t_, ks_pvalue=calib.ks_pvalue))
    f_ref = model.log_ratio(ref_used)
    artifacts["reconstruction_plot"] = str(plots.plot_nplm_reconstruction(
        ref_used * scale + shift, data, f_ref, n_expected, inp.features, out / "nplm_reconstruction.png"))
    np.savez(out / "nplm_result.npz", t=model.t_, theta=model.theta_, t_null=calib.t_null, shift=shift, scale=scale,
             hidden=np.asarray(config.hidden), weight_clipping=config.weight_clipping)
    artifacts["arrays"] = str(out / "nplm_result.npz")

    if pv is None:
        verdict = (f"no p-value: uncalibrated ({calib.n_toys} null toys, need >= {_MIN_TOYS}); "
                   f"rerun with n_toys >= {_MIN_TOYS}")
    else:
        z_text = f"Z {'>= ' if pv.lower_bound else ''}{pv.z:.2f}"
        how = (f"chi2({dof}) verified by {calib.n_toys} toys, KS p {calib.ks_pvalue:.2f}" if pv.method == "chi2"
               else f"empirical from {calib.n_toys} toys; chi2({dof}) rejected, KS p {calib.ks_pvalue:.2g}, "
                    f"tail p {calib.tail_pvalue:.2g}")
        verdict = f"p = {pv.p:.3g}, {z_text} ({how})"
    status = f"NPLM on {len(data)} data vs {len(ref_used)} reference events: t = {model.t_:.2f} (dof {dof}), {verdict}"
    return NplmTestResult(
        status=status, artifacts=artifacts, t=model.t_, dof=dof, p_value=pv.p if pv else None,
        z=pv.z if pv else None, p_method=pv.method if pv else None, z_lower_bound=bool(pv and pv.lower_bound),
        calibration=calib.summary(), calibration_cached=cached, weight_clipping=config.weight_clipping,
        clipping_scan=scan, n_data=len(data), n_reference=len(ref_used), n_expected=n_expected,
        features=list(inp.features))


class TwoSampleTestInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sample_a: str = Field(description=f"First sample: {_SAMPLE_HELP}")
    sample_b: str = Field(description=f"Second sample: {_SAMPLE_HELP}")
    features: list[str] = Field(min_length=1, max_length=100, description="Columns the classifier sees")
    tree: str | None = Field(None, description="TTree name in ROOT files (default: the first TTree)")
    process_a: str | None = Field(None, description="Keep only this process of sample_a (hepilot samples)")
    process_b: str | None = Field(None, description="Keep only this process of sample_b (hepilot samples)")
    classifier: Literal["xgboost", "mlp"] = Field("xgboost", description="Classifier: gradient-boosted trees or an MLP")
    n_trials: int = Field(20, ge=0, le=500, description="Optuna TPE trials on the validation split (0 = defaults)")
    n_permutations: int = Field(1000, ge=0, le=100_000, description="Test-label permutations for the permutation p-value")
    test_fraction: float = Field(0.3, gt=0.05, lt=0.8, description="Share of the balanced events held out for the test")
    val_fraction: float = Field(0.2, ge=0.0, lt=0.5, description="Share used for hyper-parameter tuning")
    max_events: int | None = Field(None, ge=20, description="Use at most this many events per sample")
    alpha: float = Field(0.05, gt=0, lt=0.5, description="Significance level of the compatibility verdict")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed of balancing, splits, tuning and permutations")

    @model_validator(mode="after")
    def _fractions(self):
        if self.test_fraction + self.val_fraction >= 0.9:
            raise ValueError(f"test_fraction + val_fraction = {self.test_fraction + self.val_fraction:.2f} leaves "
                             "too little for training; keep the sum below 0.9")
        if self.n_trials > 0 and self.val_fraction == 0:
            raise ValueError("tuning (n_trials > 0) needs a validation split; set val_fraction > 0 or n_trials = 0")
        return self


class TwoSampleTestResult(ToolResult):
    auc: float = Field(description="Held-out ROC AUC (0.5 = indistinguishable)")
    auc_err: float = Field(description="Bootstrap standard deviation of the AUC")
    accuracy: float = Field(description="Held-out accuracy (chance = 0.5, classes balanced)")
    p_binomial: float = Field(description="P(K >= correct), K ~ Binomial(n_test, 1/2)")
    z_binomial: float
    p_permutation: float | None = Field(description="Permutation p-value of the test AUC (None if n_permutations = 0)")
    compatible: bool = Field(description="p_binomial >= alpha: no significant difference found")
    n_a: int
    n_b: int
    n_train: int
    n_test: int
    n_test_a: int
    n_test_b: int
    best_params: dict
    classifier: str


@tool(checks=[c2st_test_split_balanced], category="stats")
def two_sample_test(inp: TwoSampleTestInput) -> TwoSampleTestResult:
    """Classifier two-sample test: can a tuned classifier tell sample A from sample B?

    Balances the two samples, tunes xgboost or an MLP with Optuna (TPE) on a validation split, and
    evaluates once on a held-out split: AUC, accuracy, the binomial p-value of the accuracy
    (n_test * acc ~ Binomial(n_test, 1/2) if A and B are the same) and a permutation p-value. Use
    to check whether two generator settings, a fast simulation and a full one, or data and
    simulation agree in a set of features.
    """
    xa = _load(inp.sample_a, inp.features, field="sample_a", process_field="process_a", tree=inp.tree,
               process=inp.process_a, max_events=inp.max_events)
    xb = _load(inp.sample_b, inp.features, field="sample_b", process_field="process_b", tree=inp.tree,
               process=inp.process_b, max_events=inp.max_events)
    cfg = C2STConfig(model=inp.classifier, test_fraction=inp.test_fraction, val_fraction=inp.val_fraction,
                     n_trials=inp.n_trials, n_permutations=inp.n_permutations)
    try:
        with progress("C2ST tuning and test", total=None):
            test = ClassifierTwoSampleTest(config=cfg, seed=inp.seed).fit(xa, xb)
    except ValueError as exc:
        raise ToolInputError("sample_a", str(exc), "pass larger samples (>= 100 events each is sensible)") from None
    out = output_dir()
    plot = plots.plot_c2st_scores(test.test_scores_, test.test_labels_, out / "c2st_scores.png", auc=test.auc_,
                                  names=("A", "B"))
    n_b_test = int(test.test_labels_.sum())
    compatible = test.p_binomial_ >= inp.alpha
    perm = test.p_permutation_ if inp.n_permutations > 0 else None
    perm_text = f", p_perm {perm:.3g}" if perm is not None else ""
    status = (f"C2ST ({inp.classifier}, {inp.n_trials} TPE trials): AUC {test.auc_:.4f} +- {test.auc_err_:.4f}, "
              f"accuracy {test.accuracy_:.4f} on {test.n_test_} test events, p_binom {test.p_binomial_:.3g}{perm_text}"
              f" -> {'compatible' if compatible else 'different'} at {inp.alpha:g}")
    return TwoSampleTestResult(
        status=status, artifacts={"scores_plot": str(plot)}, auc=test.auc_, auc_err=test.auc_err_,
        accuracy=test.accuracy_, p_binomial=test.p_binomial_, z_binomial=test.z_binomial_, p_permutation=perm,
        compatible=compatible, n_a=len(xa), n_b=len(xb), n_train=test.n_train_, n_test=test.n_test_,
        n_test_a=test.n_test_ - n_b_test, n_test_b=n_b_test, best_params=test.best_params_,
        classifier=inp.classifier)
