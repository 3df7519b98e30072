"""The physics objectives a detector design is scored on, each measured by re-applying the detector to cached events.

    hgg_mass_resolution          sigma of the m_gg core in e+e- -> ZH, H -> gamma gamma, 240 GeV (GeV, minimise)
    zmumu_mass_resolution        sigma of the core of m_mumu(reco) - m_mumu(truth) in e+e- -> ZH, Z -> mu mu
                                 (the detector part only: the Z line shape cancels event by event; GeV, minimise)
    higgs_recoil_mass_resolution the same for the recoil mass against the dimuon (GeV, minimise)
    top_tagging_auc              ROC AUC of a BDT (xgboost, 100 trees of depth 3) on substructure observables of
                                 the rebuilt top and QCD jets, trained on one half, tested on the other (maximise)
    jet_energy_resolution        sigma(r)/<r> of r = pT_reco / pT_truth of the QCD jets (550-650 GeV; minimise)
Every trial uses the same random seed, so two designs see the same smearing sequence (common random
numbers: differences between designs are not hidden by independent noise).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepilot.models import metrics
from hepilot.models.design.observables import diphoton, dimuon, rebuild_jets
from hepilot.models.design.resolution import core_width, jet_response
from hepilot.models.events.detector import Detector
from hepilot.models.events.ee_higgs import read_truth_sample
from hepilot.models.events.samples import read_jet_sample, split_indices
from hepilot.models.events.substructure import jet_substructure

__all__ = ["Objective", "OBJECTIVES", "evaluate_objectives", "load_objective_data", "BDT_FEATURES"]

BDT_FEATURES = ("jet_mass", "tau21", "tau32", "c2", "d2", "n_constituents", "n_charged", "ptd", "girth")


@dataclass(frozen=True)
class Objective:
    name: str
    direction: str  # "minimize" or "maximize"
    unit: str
    data: str  # data kind (hepilot.models.design.data.DATA_KINDS)
    description: str
    fn: Callable[[Detector, dict, np.random.Generator], float]


@functools.lru_cache(maxsize=8)
def load_objective_data(kind: str, path: str) -> dict:
    """Generator-level particles and truth observables of one cached sample (once per process)."""
    if kind in ("zh_gamgam", "zh_mumu"):
        sample = read_truth_sample(path)
        out = {"particles": sample.particles}
        if kind == "zh_mumu":
            out["truth"] = dimuon(sample.particles)
        return out
    sample = read_jet_sample(path)
    return {"particles": sample.particles, "labels": sample.labels, "truth_pt": ak.to_numpy(sample.jets.jet_pt),
            "processes": sample.processes, "jet_r": float(sample.manifest.get("config", {}).get("jet_r", 0.8))}


def _hgg(detector: Detector, data: dict, rng: np.random.Generator) -> float:
    obs = diphoton(detector.apply(data["particles"], rng=rng))
    return core_width(obs["m_gg"][obs["valid"]])[1]


def _dimuon_delta(field: str) -> Callable[[Detector, dict, np.random.Generator], float]:
    def fn(detector: Detector, data: dict, rng: np.random.Generator) -> float:
        reco = dimuon(detector.apply(data["particles"], rng=rng))
        delta = reco[field] - data["truth"][field]
        return core_width(delta[np.isfinite(delta)])[1]

    return fn


def _top_auc(detector: Detector, data: dict, rng: np.random.Generator) -> float:
    from hepilot.models.taggers.bdt import BDTTagger

    y = (data["labels"] == data["processes"].index("top")).astype(np.int64)
    reco = detector.apply(data["particles"], rng=rng)
    keep = ak.to_numpy(ak.num(reco)) >= 2
    feats = jet_substructure(rebuild_jets(reco[keep], y[keep], jet_r=data["jet_r"]))
    X = np.column_stack([feats[k] for k in BDT_FEATURES])
    y = y[keep]
    train, test = split_indices(y, fractions=(0.5, 0.5), seed=0)
    model = BDTTagger(n_estimators=100, max_depth=3, seed=0, n_jobs=1).fit(X[train], y[train])
    return metrics.roc_auc(y[test], model.decision_function(X[test]))


def _jer(detector: Detector, data: dict, rng: np.random.Generator) -> float:
    qcd = data["labels"] == data["processes"].index("qcd")
    return jet_response(detector, data["particles"][qcd], data["truth_pt"][qcd], rng=rng)[1]


OBJECTIVES: dict[str, Objective] = {o.name: o for o in (
    Objective("hgg_mass_resolution", "minimize", "GeV", "zh_gamgam",
              "m_gg core resolution in e+e- -> ZH, H -> gamma gamma at 240 GeV", _hgg),
    Objective("zmumu_mass_resolution", "minimize", "GeV", "zh_mumu",
              "m_mumu resolution (reco - truth) in e+e- -> ZH, Z -> mu mu at 240 GeV", _dimuon_delta("m_mumu")),
    Objective("higgs_recoil_mass_resolution", "minimize", "GeV", "zh_mumu",
              "recoil-mass resolution (reco - truth) against Z -> mu mu in e+e- -> ZH at 240 GeV",
              _dimuon_delta("m_recoil")),
    Objective("top_tagging_auc", "maximize", "", "jets_top_qcd",
              "AUC of a substructure BDT for 550-650 GeV top vs QCD jets at 14 TeV", _top_auc),
    Objective("jet_energy_resolution", "minimize", "", "jets_top_qcd",
              "relative jet pT resolution of 550-650 GeV QCD jets (R = 0.8)", _jer),
)}


def evaluate_objectives(detector: Detector, names: list[str] | tuple[str, ...], paths: dict[str, str], *,
                        seed: int) -> dict[str, float]:
    """Objective values of one detector; the i-th objective uses the random stream (seed, i)."""
    out = {}
    for i, name in enumerate(names):
        obj = OBJECTIVES[name]
        data = load_objective_data(obj.data, paths[obj.data])
        out[name] = float(obj.fn(detector, data, np.random.default_rng([seed, i])))
    return out
