"""fastsim_gan tool: round trips for both applications (real Pythia jets, reference CCQE MC) and bad input."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hepilot.errors import ToolInputError
from hepilot.evals.checks.fastsim import (fastsim_classifier_auc, fastsim_finite, fastsim_physical_ranges,
                                          fastsim_speedup, fastsim_w1_vs_truth)
from hepilot.models.events.samples import read_jet_sample
from hepilot.models.fastsim.ccqe_gan import CCQEGAN
from hepilot.models.fastsim.jet_gan import JetGAN
from hepilot.tools.base import ToolContext, execute
from hepilot.tools.fastsim import FastsimGanResult, read_ccqe_events


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def ctx(tmp_path):
    return ToolContext(cache_dir=tmp_path / "cache")


def _checks(result) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for c in result.checks:
        out[c.name] = out.get(c.name, True) and c.passed
    return out


def test_ccqe_round_trip(ctx):
    rec = execute("fastsim_gan", {"application": "ccqe", "n_train": 3000, "n_generate": 2000, "preset": "tiny",
                                  "epochs": 40, "seed": 1}, ctx=ctx)
    res = rec.result
    assert res.n_generated == 2000 and res.n_train == 3000
    checks = _checks(res)
    assert checks["fastsim_finite"] and checks["fastsim_physical_ranges"]
    assert {"fastsim_w1_vs_truth", "fastsim_classifier_auc", "fastsim_speedup"} <= set(checks)
    assert 0.5 - 5 * res.classifier_auc_err < res.classifier_auc < 1.0
    assert res.sim_seconds > 0 and res.speedup > 0
    gen = read_ccqe_events(res.generated)
    assert len(gen["e_nu"]) == 2000 and np.all(gen["e_mu"] < gen["e_nu"])
    model = CCQEGAN.load(res.checkpoint)
    assert np.all(np.abs(model.sample(gen["e_nu"][:50])["cos_theta"]) <= 1)
    assert all(Path(p).is_file() and p.endswith(".png") for p in res.artifacts.values())
    assert "classifier AUC" in res.status
    again = execute("fastsim_gan", {"application": "ccqe", "n_train": 3000, "n_generate": 2000, "preset": "tiny",
                                    "epochs": 40, "seed": 1}, ctx=ctx)
    assert again.cached and again.result.classifier_auc == res.classifier_auc


@pytest.mark.slow
def test_jets_round_trip_on_pythia_jets(ctx):
    """Simulates 60 top + 60 QCD jets with Pythia 8 + FastJet + detector, trains 2 tiny epochs."""
    rec = execute("fastsim_gan", {"application": "jets", "n_train": 60, "n_generate": 200, "preset": "tiny",
                                  "epochs": 2, "seed": 2}, ctx=ctx)
    res = rec.result
    checks = _checks(res)
    assert checks["fastsim_finite"] and checks["fastsim_physical_ranges"]
    assert res.speedup is not None and res.sim_seconds > 0
    assert {"w1m_x1e3", "w1p_x1e3", "w1efp_x1e5", "truth_w1m_x1e3", "classifier_auc_lowlevel"} <= set(res.metrics)
    sample = read_jet_sample(res.generated)  # generated jets in the shared hepilot-jets/1 format
    assert len(sample) == 200 and sample.processes == ["top", "qcd"]
    pts, mask = JetGAN.load(res.checkpoint).sample(np.array([0, 1]), np.array([600.0, 600.0]))
    assert pts[mask][:, 2].max() <= 1.0


@pytest.mark.parametrize("args, field, words", [
    ({"application": "higgs"}, "application", "jets"),
    ({"application": "ccqe", "e_nu_min": 5.0, "e_nu_max": 1.0}, "<arguments>", "below e_nu_max"),
    ({"application": "ccqe", "e_nu_min": 0.05}, "<arguments>", "threshold"),
    ({"application": "ccqe", "processes": ["top"]}, "<arguments>", "only apply to application jets"),
    ({"application": "jets", "axial_mass": 1.2}, "<arguments>", "only apply to application ccqe"),
    ({"application": "jets", "n_generate": 5}, "n_generate", ">= 100"),
    ({"application": "ccqe", "n_train": 500}, "<arguments>", ">= 1000"),
    ({"application": "jets", "sample": "/x/jets.root", "processes": ["w"]}, "<arguments>", "sample is given"),
    ({"application": "ccqe", "epoch": 3}, "epoch", "epochs"),
])
def test_bad_arguments_name_the_field(ctx, args, field, words):
    with pytest.raises(ToolInputError) as err:
        execute("fastsim_gan", args, ctx=ctx)
    assert err.value.field == field
    assert words in str(err.value)


def test_bad_sample_files(ctx, tmp_path):
    with pytest.raises(ToolInputError) as err:
        execute("fastsim_gan", {"application": "jets", "sample": str(tmp_path / "missing.root")}, ctx=ctx)
    assert err.value.field == "sample" and "generate_jets" in str(err.value)
    junk = tmp_path / "junk.root"
    junk.write_text("not a root file")
    with pytest.raises(ToolInputError) as err:
        execute("fastsim_gan", {"application": "ccqe", "sample": str(junk)}, ctx=ctx)
    assert err.value.field == "sample" and "events.root" in str(err.value)
    assert not list((ctx.cache_dir / "results" / "fastsim_gan").glob("*partial*"))  # nothing half-written


def _result(**kw) -> FastsimGanResult:
    base = {"status": "x", "application": "jets", "checkpoint": "g.pt", "generated": "j.root",
            "training_sample": "t.root", "n_train": 100, "n_generated": 100,
            "metrics": {"w1m_x1e3": 3.0, "truth_w1m_x1e3": 1.0, "w1p_x1e3": 50.0, "truth_w1p_x1e3": 1.0},
            "classifier_auc": 0.52, "classifier_auc_err": 0.01, "ranges": {"pt_rel": [0.0, 0.9]}, "n_nonfinite": 0,
            "train_seconds": 1.0, "gen_seconds": 0.1, "sim_seconds": 10.0, "speedup": 100.0, "best_epoch": 1.0}
    return FastsimGanResult(**{**base, **kw})


def test_checks_flag_unphysical_or_unfaithful_results():
    assert all(c.passed for c in fastsim_physical_ranges(None, _result()))
    assert not fastsim_physical_ranges(None, _result(ranges={"pt_rel": [0.0, 1.2]}))[0].passed
    ccqe = {"cos_theta": [-1.0, 1.0], "e_mu": [0.2, 5.0], "e_mu_minus_e_nu": [-3.0, 0.01]}
    assert [c.passed for c in fastsim_physical_ranges(None, _result(ranges=ccqe))] == [True, False]
    w1 = {c.message.split(":")[0]: c.passed for c in fastsim_w1_vs_truth(None, _result())}
    assert w1 == {"w1m_x1e3": True, "w1p_x1e3": False}  # 3x passes, 50x the floor fails
    assert fastsim_classifier_auc(None, _result()).passed
    assert not fastsim_classifier_auc(None, _result(classifier_auc=0.6)).passed
    assert not fastsim_speedup(None, _result(speedup=10.0)).passed
    assert not fastsim_speedup(None, _result(speedup=None, sim_seconds=None)).passed
    assert not fastsim_finite(None, _result(n_nonfinite=3)).passed
