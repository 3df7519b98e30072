"""train_bdt: an xgboost tagger on jet-substructure features with a held-out evaluation."""
from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from hepilot.errors import ToolInputError
from hepilot.evals.checks.jets import auc_above_random, efficiencies_in_range, no_train_test_overlap
from hepilot.models import metrics
from hepilot.models.events.samples import split_indices
from hepilot.models.taggers.bdt import BDTTagger
from hepilot.tools import plotting
from hepilot.tools.base import ToolResult, output_dir, tool
from hepilot.tools.jets import read_table

__all__ = ["TrainBdtInput", "TrainBdtResult", "train_bdt", "DEFAULT_BDT_FEATURES"]

DEFAULT_BDT_FEATURES = ["jet_mass", "tau21", "tau32", "c2", "d2", "n_constituents", "n_charged", "ptd", "girth"]


class TrainBdtInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    features: str = Field(description="features.root written by jet_features")
    signal: str = Field("top", description="Process treated as signal (label 1)")
    background: str | None = Field(None, description="Process treated as background; default: every other process")
    variables: list[str] = Field(DEFAULT_BDT_FEATURES, min_length=1, description="Feature branches the BDT uses")
    test_fraction: float = Field(0.3, gt=0.05, lt=0.9, description="Fraction of jets held out for the test")
    n_estimators: int = Field(300, ge=10, le=5000, description="Boosting rounds")
    max_depth: int = Field(4, ge=1, le=12, description="Tree depth")
    learning_rate: float = Field(0.1, gt=0, le=1, description="Shrinkage per round")
    seed: int = Field(0, ge=0, description="Seed of the train/test split and of xgboost")


class TrainBdtResult(ToolResult):
    auc: float = Field(description="ROC AUC on the held-out test set")
    auc_std: float = Field(description="Bootstrap standard deviation of the AUC")
    accuracy: float = Field(description="Accuracy at score 0.5 on the test set")
    rejection_30: float | None = Field(description="Background rejection 1/eB at 30% signal efficiency (None if no background passed)")
    rejection_30_std: float | None = Field(description="Bootstrap standard deviation of the rejection")
    background_eff_30: float = Field(description="Background efficiency eB at the 30% signal-efficiency point")
    n_train: int
    n_test_signal: int
    n_test_background: int
    train_test_overlap: int = Field(description="Jets present in both train and test (must be 0)")
    importances: dict[str, float] = Field(description="xgboost gain importances per feature")
    scores_path: str = Field(description="npz with test labels and scores (for ROC comparisons)")
    efficiencies: dict[str, float] = Field(description="Working-point efficiencies (in [0, 1])")


@tool(checks=[auc_above_random, no_train_test_overlap, efficiencies_in_range], category="jets")
def train_bdt(inp: TrainBdtInput) -> TrainBdtResult:
    """Train a BDT (xgboost) jet tagger on substructure features; report held-out AUC and rejection.

    Call after jet_features. Reports AUC, accuracy and the background rejection 1/eB at 30%
    signal efficiency with bootstrap uncertainties, plus ROC and feature-importance plots.
    """
    arrays, processes = read_table(inp.features, "features", sorted(set(inp.variables) | {"chunk", "event", "jet_pt"}))
    if inp.signal not in processes:
        raise ToolInputError("signal", f"process {inp.signal!r} is not in this sample.", f"choose one of {processes}")
    if inp.background is not None and inp.background not in processes:
        raise ToolInputError("background", f"process {inp.background!r} is not in this sample.",
                             f"choose one of {processes}")
    labels = arrays["label"]
    sig_label = processes.index(inp.signal)
    keep = labels == sig_label
    keep |= (labels == processes.index(inp.background)) if inp.background else (labels != sig_label)
    y = (labels[keep] == sig_label).astype(np.int64)
    if y.min() == y.max():
        raise ToolInputError("background", "the sample has no background jets.", "generate a background process too")
    X = np.column_stack([arrays[v][keep] for v in inp.variables])
    train, test = split_indices(y, fractions=(1 - inp.test_fraction, inp.test_fraction), seed=inp.seed)
    # a jet is identified by (process, chunk, event, pT): the same jet in both sets would show here
    keys = list(zip(labels[keep], arrays["chunk"][keep], arrays["event"][keep], arrays["jet_pt"][keep]))
    overlap = len({keys[i] for i in train} & {keys[i] for i in test})
    model = BDTTagger(n_estimators=inp.n_estimators, max_depth=inp.max_depth, learning_rate=inp.learning_rate,
                      seed=inp.seed).fit(X[train], y[train], feature_names=inp.variables)
    score = model.decision_function(X[test])
    m = metrics.evaluate_classifier(y[test], score, signal_effs=(0.3,), seed=inp.seed)
    fpr, tpr, _ = metrics.roc_curve(y[test], score)
    eb30 = 1.0 / m.rejection[0.3].value if np.isfinite(m.rejection[0.3].value) else 0.0
    out = output_dir()
    np.savez(out / "scores.npz", y=y[test], score=score)
    roc = plotting.roc_plot({f"BDT (AUC {m.auc.value:.3f})": (fpr, tpr)}, out / "roc.png",
                            title=f"{inp.signal} vs {inp.background or 'rest'}")
    fig, ax = plotting.figure()
    names = sorted(model.feature_importances_, key=model.feature_importances_.get)
    ax.barh(names, [model.feature_importances_[n] for n in names])
    ax.set_xlabel("importance (gain fraction)")
    imp = plotting.save(fig, out / "importance.png")
    d = m.as_dict()
    rej = d["rejection_30"]
    rej_text = f"{rej:.1f}" if rej is not None else f"> {m.n_background}"
    return TrainBdtResult(
        status=f"BDT {inp.signal} tagger: AUC {m.auc.value:.4f} +- {m.auc.std:.4f}, rejection at 30% eff "
               f"{rej_text}, on {len(test)} test jets",
        auc=m.auc.value, auc_std=m.auc.std, accuracy=m.accuracy.value, rejection_30=rej,
        rejection_30_std=d["rejection_30_std"], background_eff_30=eb30, n_train=len(train),
        n_test_signal=m.n_signal, n_test_background=m.n_background, train_test_overlap=overlap,
        importances=model.feature_importances_, scores_path=str(out / "scores.npz"),
        efficiencies={"background_eff_30": eb30, "signal_eff_30": metrics.signal_efficiency_at(y[test], score, 0.3)},
        artifacts={"roc": roc, "importance": imp},
    )
