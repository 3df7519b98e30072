"""Quantum-ML tools: generate_ee_zh (e+e- -> ZH, H -> gamma gamma sample) and quantum_classifier (QSVM/VQC vs classical)."""
from __future__ import annotations

import logging
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hepilot.errors import ToolInputError
from hepilot.evals.checks.stats import diphoton_peak_at_higgs, quantum_kernel_valid
from hepilot.evals.checks.taggers import every_auc_above_random
from hepilot.models.events.ee_zh import EE_ZH_PROCESSES, FEATURES, EEZHConfig, generate_ee_zh_sample
from hepilot.models.quantum.comparison import METHODS, ComparisonConfig, compare_classifiers, kernel_cost_exponent
from hepilot.models.quantum.qsvm import QSVMConfig
from hepilot.models.quantum.vqc import VQCConfig
from hepilot.models.stats.tables import TableError, read_features
from hepilot.tools.base import ToolResult, current_context, output_dir, progress, tool
from hepilot.tools.executor import get_executor

__all__ = ["GenerateEeZhInput", "GenerateEeZhResult", "generate_ee_zh", "QuantumClassifierInput",
           "QuantumClassifierResult", "quantum_classifier"]

log = logging.getLogger(__name__)
Method = Literal["qsvm", "vqc", "svm_rbf", "bdt", "bdt_all"]


class GenerateEeZhInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_events: int = Field(500, ge=10, le=200_000, description="Selected events per process")
    processes: list[Literal["zh", "zgamma"]] = Field(["zh", "zgamma"], min_length=1, max_length=2,
                                                     description="zh: ZH with H -> gamma gamma, Z -> qq; "
                                                                 "zgamma: Z/gamma* + photon background")
    detector: Literal["none", "generic", "atlas", "cms", "cepc"] = Field("cepc", description="Detector response preset")
    seed: int = Field(1, ge=0, le=2**31 - 1, description="Random seed; chunk seeds derive from it")

    @model_validator(mode="after")
    def _unique(self):
        if len(set(self.processes)) != len(self.processes):
            raise ValueError(f"processes has duplicates: {self.processes}")
        return self


class GenerateEeZhResult(ToolResult):
    path: str = Field(description="events.root (TTree 'events': label + per-event features)")
    manifest: str
    features: list[str]
    n_events: dict[str, int]
    sigma_pb: dict[str, float] = Field(description="Generated cross section per process (pb, forced decays included)")
    selection_efficiency: dict[str, float]
    m_gg_median: dict[str, float] = Field(description="Median diphoton mass per process (GeV)")


@tool(checks=[diphoton_peak_at_higgs], category="quantum", version="2")
def generate_ee_zh(inp: GenerateEeZhInput) -> GenerateEeZhResult:
    """Generate e+e- -> ZH (H -> gamma gamma, Z -> qq) and Z/gamma* + photon events at 240 GeV with Pythia 8.

    Applies the detector response (CEPC preset by default), the diphoton selection (two isolated
    photons E > 20 GeV, |cos theta| < 0.9, 110 < m_gg < 140 GeV) and computes per-event features
    (photon energies and angles, m_gg, recoil mass, hadronic system, two Durham jets). The
    background passes the selection ~1e-3 of the time: ~1000 events take minutes. Call before
    quantum_classifier.
    """
    cfg = EEZHConfig(processes=tuple(inp.processes), n_events=inp.n_events, detector=inp.detector, seed=inp.seed)
    path = output_dir() / "events.root"
    ctx = current_context()
    executor = ctx.executor or get_executor()
    with progress("e+e- -> ZH(gamma gamma) events", total=inp.n_events * len(inp.processes)) as advance:
        manifest = generate_ee_zh_sample(cfg, path, map_fn=executor.map, on_chunk=advance)
    import uproot

    with uproot.open(path) as f:
        cols = f["events"].arrays(["label", "m_gg"], library="np")
    per = manifest["per_process"]
    medians = {p: float(np.median(cols["m_gg"][cols["label"] == i])) for i, p in enumerate(cfg.processes)
               if np.any(cols["label"] == i)}
    status = "e+e- 240 GeV: " + ", ".join(
        f"{per[p]['n_events']} {p} (eff {per[p]['selection_efficiency']:.2g}, median m_gg {medians.get(p, float('nan')):.1f} GeV)"
        for p in cfg.processes)
    return GenerateEeZhResult(
        status=status, artifacts={"events": str(path)}, path=str(path), manifest=str(path.parent / "manifest.json"),
        features=list(FEATURES), n_events={p: per[p]["n_events"] for p in cfg.processes},
        sigma_pb={p: per[p]["sigma_pb"] for p in cfg.processes},
        selection_efficiency={p: per[p]["selection_efficiency"] for p in cfg.processes}, m_gg_median=medians)


class QuantumClassifierInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sample: str = Field(description="events.root from generate_ee_zh (or any hepilot sample with a label column)")
    signal: str = Field("zh", description="Process name of the signal (label 1)")
    background: str = Field("zgamma", description="Process name of the background (label 0)")
    features: list[str] = Field(list(FEATURES), min_length=1, max_length=64, description="Input columns")
    methods: list[Method] = Field(["qsvm", "vqc", "svm_rbf", "bdt", "bdt_all"], min_length=1,
                                  description="Classifiers: qsvm (quantum kernel SVM), vqc (variational), svm_rbf "
                                              "(classical RBF SVM), bdt (xgboost on the qubit inputs), bdt_all (xgboost on all features)")
    train_sizes: list[int] = Field([100, 200], min_length=1, max_length=8,
                                   description="Training-set sizes (balanced); QSVM cost grows as n^2")
    n_test: int = Field(600, ge=40, le=20_000, description="Balanced held-out test events")
    n_val: int = Field(200, ge=20, le=5000, description="Balanced validation events for bandwidth / hyper-parameter tuning")
    n_qubits: int = Field(6, ge=2, le=12, description="Qubits = inputs after the reduction (paper: 6)")
    reduction: Literal["pca", "select"] = Field(
        "pca", description="How features become n_qubits inputs: pca (principal components of the standardised "
                           "features) or select (the first n_qubits entries of `features`, in the order given)")
    reps: int = Field(2, ge=1, le=5, description="ZZ feature-map repetitions")
    bandwidths: list[float] = Field([0.025, 0.05, 0.1, 0.2, 0.4, 0.8], min_length=1, max_length=10,
                                    description="Feature scales tried for the quantum kernel (tuned on validation)")
    shots: int | None = Field(None, ge=16, le=1_000_000, description="None = exact statevector kernel; an integer "
                              "samples the kernel circuits with that many shots on qiskit-aer (slow: ~0.1 s per pair)")
    vqc_maxiter: int = Field(100, ge=5, le=2000, description="COBYLA iterations of the VQC")
    vqc_max_train: int = Field(200, ge=10, le=5000, description="Skip VQC above this training size (its cost)")
    seed: int = Field(0, ge=0, le=2**31 - 1)

    @model_validator(mode="after")
    def _sizes(self):
        if any(n < 10 for n in self.train_sizes):
            raise ValueError(f"train_sizes must be >= 10 each, got {self.train_sizes}")
        if any(b <= 0 for b in self.bandwidths):
            raise ValueError(f"bandwidths must be > 0, got {self.bandwidths}")
        if self.signal == self.background:
            raise ValueError("signal and background must be different processes")
        return self


class QuantumClassifierResult(ToolResult):
    table: list[dict] = Field(description="One row per (method, training size): auc, auc_std, seconds, ...")
    best: dict = Field(description="Row with the highest AUC at the largest training size")
    kernel_checks: dict = Field(description="Largest QSVM training kernel: diag deviation from 1, smallest eigenvalue")
    kernel_cost_exponent: float | None = Field(description="k of QSVM kernel time ~ n^k over the training sizes")
    n_test_signal: int
    n_test_background: int
    n_qubits: int


def _labels(path: str, signal: str, background: str, features: list[str]) -> tuple[np.ndarray, np.ndarray]:
    xs = []
    for name, field in ((signal, "signal"), (background, "background")):
        try:
            xs.append(read_features(path, features, process=name))
        except TableError as exc:
            text = str(exc)
            bad = "features" if "no column" in text else field if "process" in text else "sample"
            fix = (f"valid processes of generate_ee_zh: {', '.join(EE_ZH_PROCESSES)}" if bad == field else
                   "pass the `path` of generate_ee_zh and its feature names")
            raise ToolInputError(bad, text, fix) from None
    return np.concatenate(xs), np.r_[np.ones(len(xs[0]), int), np.zeros(len(xs[1]), int)]


@tool(checks=[every_auc_above_random, quantum_kernel_valid], category="quantum")
def quantum_classifier(inp: QuantumClassifierInput) -> QuantumClassifierResult:
    """Train quantum classifiers (QSVM with a ZZ quantum kernel, VQC) and classical ones (RBF SVM, BDT) side by side.

    Reduces the features to n_qubits (PCA, or the first n_qubits chosen features), scales them to
    the feature map's range (bandwidth tuned on a validation split), trains every method at the same training sizes and reports the
    held-out AUC with bootstrap uncertainties, timings and the QSVM kernel-cost growth (~n^2).
    Exact statevector simulation by default; `shots` adds shot noise (qiskit-aer). Needs a
    sample from generate_ee_zh first (arXiv:2209.12788: ZH -> qq gamma gamma at 240 GeV).
    """
    x, y = _labels(inp.sample, inp.signal, inp.background, inp.features)
    need = max(inp.train_sizes) + inp.n_test + inp.n_val
    per_class = min(int(y.sum()), int(len(y) - y.sum()))
    if 2 * per_class < need:
        raise ToolInputError("train_sizes", f"needs {need // 2} events per class (largest training size + test + "
                             f"validation) but the sample has {per_class} of the smaller class.",
                             "generate more events or lower train_sizes / n_test / n_val")
    if inp.n_qubits > x.shape[1]:
        raise ToolInputError("n_qubits", f"{inp.n_qubits} qubits but only {x.shape[1]} features.",
                             f"use n_qubits <= {x.shape[1]} or more features")
    cfg = ComparisonConfig(methods=tuple(inp.methods), reduction=inp.reduction,
                           train_sizes=tuple(sorted(inp.train_sizes)), n_test=inp.n_test,
                           n_val=inp.n_val, bandwidths=tuple(inp.bandwidths),
                           qsvm=QSVMConfig(n_qubits=inp.n_qubits, reps=inp.reps, shots=inp.shots),
                           vqc=VQCConfig(n_qubits=inp.n_qubits, feature_reps=inp.reps, maxiter=inp.vqc_maxiter,
                                         shots=inp.shots),
                           vqc_max_train=inp.vqc_max_train)
    total = sum(1 for n in cfg.train_sizes for m in cfg.methods if m != "vqc" or n <= cfg.vqc_max_train)
    with progress("quantum vs classical classifiers", total=total) as advance:
        res = compare_classifiers(x, y, config=cfg, seed=inp.seed, progress=advance)
    rows = res["rows"]
    q = [r for r in rows if r["name"] == "qsvm"]
    k = kernel_cost_exponent([r["n_train"] for r in q], [r["kernel_seconds"] for r in q]) if q else None
    largest = max(r["n_train"] for r in rows)
    best = max((r for r in rows if r["n_train"] == largest), key=lambda r: r["auc"])
    out = output_dir()
    _plot(rows, out / "auc_vs_n.png")
    summary = ", ".join(f"{r['name']} {r['auc']:.3f}+-{r['auc_std']:.3f}" for r in rows if r["n_train"] == largest)
    k_text = f", QSVM kernel time ~ n^{k:.2f}" if k is not None and np.isfinite(k) else ""
    status = f"ZH(gamma gamma) vs background, {inp.n_qubits} qubits, n_train {largest}: AUC {summary}{k_text}"
    return QuantumClassifierResult(
        status=status, artifacts={"auc_vs_n": str(out / "auc_vs_n.png")}, table=rows, best=best,
        kernel_checks=res["kernel_checks"], kernel_cost_exponent=k if k is not None and np.isfinite(k) else None,
        n_test_signal=res["n_test_signal"], n_test_background=res["n_test_background"], n_qubits=inp.n_qubits)


def _plot(rows: list[dict], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name in dict.fromkeys(r["name"] for r in rows):
        rr = [r for r in rows if r["name"] == name]
        ax.errorbar([r["n_train"] for r in rr], [r["auc"] for r in rr], yerr=[r["auc_std"] for r in rr],
                    marker="o", capsize=3, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("training events")
    ax.set_ylabel("test AUC")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
