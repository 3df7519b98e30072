"""generate_ee_zh and quantum_classifier through the tool interface: round trips, checks, bad input."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hepilot.errors import ToolInputError
from hepilot.tools.base import call_tool, execute

COLS = ["m_gg", "e_g1", "e_g2", "m_recoil"]


@pytest.fixture(scope="module")
def toy_sample(tmp_path_factory):
    """A small file in the generate_ee_zh format: signal peaks in m_gg, background is flat."""
    import uproot

    d = tmp_path_factory.mktemp("qml")
    rng = np.random.default_rng(0)
    n = 300
    label = np.r_[np.zeros(n), np.ones(n)].astype(np.int32)  # processes ["zh", "zgamma"]: 0 = zh
    cols = {"label": label,
            "m_gg": np.where(label == 0, rng.normal(125, 2, 2 * n), rng.uniform(110, 140, 2 * n)),
            "e_g1": rng.normal(70, 10, 2 * n), "e_g2": rng.normal(50, 10, 2 * n) + 5 * label,
            "m_recoil": rng.normal(95, 8, 2 * n)}
    with uproot.recreate(d / "events.root") as f:
        f.mktree("events", {k: v.dtype for k, v in cols.items()})
        f["events"].extend(cols)
    (d / "manifest.json").write_text(json.dumps({"processes": ["zh", "zgamma"]}))
    return d / "events.root"


def test_quantum_classifier_round_trip(toy_sample):
    r = call_tool("quantum_classifier", sample=str(toy_sample), features=COLS, methods=["qsvm", "svm_rbf", "bdt"],
                  train_sizes=[40, 80], n_test=120, n_val=40, n_qubits=3, reps=1, bandwidths=[0.1, 0.3])
    assert {(row["name"], row["n_train"]) for row in r.table} == {(m, n) for m in ("qsvm", "svm_rbf", "bdt")
                                                                   for n in (40, 80)}
    assert r.n_test_signal == r.n_test_background == 60
    assert r.kernel_checks["n"] == 80 and r.kernel_cost_exponent is not None
    assert r.checks_passed, [c.message for c in r.checks if not c.passed]
    # the m_gg peak alone separates the classes well (AUC ~0.9): every method beats random by 3 sigma
    assert {c.name for c in r.checks} == {"every_auc_above_random", "quantum_kernel_valid"}
    assert Path(r.artifacts["auc_vs_n"]).is_file()


@pytest.mark.parametrize("args, field, text", [
    ({"signal": "higgs"}, "signal", "no process 'higgs'"),
    ({"features": ["m_gamgam"]}, "features", "Did you mean m_gg"),
    ({"train_sizes": [600]}, "train_sizes", "events per class"),
    ({"n_qubits": 6}, "n_qubits", "only 4 features"),
    ({"methods": ["qcnn"]}, "methods.0", "qsvm"),
    ({"bandwidths": [0.0]}, "<arguments>", "> 0"),
])
def test_quantum_classifier_bad_input(toy_sample, args, field, text):
    base = {"sample": str(toy_sample), "features": COLS, "train_sizes": [30], "n_test": 100, "n_val": 40,
            "n_qubits": 3}
    with pytest.raises(ToolInputError) as e:
        execute("quantum_classifier", {**base, **args})
    assert e.value.field == field
    assert text in str(e.value)


def test_generate_ee_zh_signal_only():
    r = call_tool("generate_ee_zh", n_events=15, processes=["zh"], seed=3)
    assert r.n_events == {"zh": 15}
    assert r.m_gg_median["zh"] == pytest.approx(125.0, abs=3.0)
    assert 0.4 < r.selection_efficiency["zh"] < 0.9
    assert Path(r.path).is_file() and Path(r.manifest).is_file()
    assert [c.name for c in r.checks] == ["diphoton_peak_at_higgs"] and r.checks_passed


@pytest.mark.parametrize("args, field", [({"n_events": 5}, "n_events"), ({"processes": ["ww"]}, "processes.0"),
                                         ({"detector": "lep"}, "detector")])
def test_generate_ee_zh_bad_input(args, field):
    with pytest.raises(ToolInputError) as e:
        execute("generate_ee_zh", args)
    assert e.value.field == field


def test_quantum_classifier_can_use_a_chosen_feature_instead_of_pca(toy_sample):
    """reduction=select keeps the first n_qubits features: with m_gg (signal peak at 125 GeV vs flat 110-140
    background) a BDT must beat one on e_g1 and m_recoil alone (no separation, AUC ~0.5) by > 5 sigma; PCA of all
    three would mix m_gg in."""
    common = dict(sample=str(toy_sample), methods=["bdt"], train_sizes=[80], n_test=200, n_val=40, n_qubits=2,
                  reduction="select")
    peak = call_tool("quantum_classifier", features=["m_gg", "e_g1", "m_recoil"], **common)
    flat = call_tool("quantum_classifier", features=["e_g1", "m_recoil", "m_gg"], **common)
    a, b = peak.table[0], flat.table[0]
    assert a["auc"] - b["auc"] > 5 * np.hypot(a["auc_std"], b["auc_std"])
