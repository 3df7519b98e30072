"""The Optuna design loop: a valid front, resumption after a kill, LLM proposals, and the report."""
import json

import numpy as np
import optuna
import pytest

from hepilot.models.design.detector_loop import open_study, optimise_detector
from hepilot.models.design.objectives import evaluate_objectives
from hepilot.models.design.pareto import pareto_mask, to_minimisation
from hepilot.models.design.proposals import parse_proposals, proposal_prompt
from hepilot.models.design.report import markdown_report, parameter_importances, pareto_plots
from hepilot.models.design.spec import DetectorDesignSpec
from hepilot.models.events.detector import DETECTOR_PRESETS, get_detector


def _spec(**kw):
    return DetectorDesignSpec.model_validate({
        "name": "loop-test", "base": "cepc",
        "parameters": {"tracker.b_field": {"low": 1.5, "high": 4.0}, "ecal.stochastic": {"low": 0.03, "high": 0.3,
                                                                                          "log": True}},
        "objectives": ["hgg_mass_resolution", "zmumu_mass_resolution"], "cost_budget": 400, "trials": 6,
        "population": 3, "baselines": ["cepc"], "events": {"n_events": 400}, **kw})


def test_objectives_follow_the_physics(ee_paths):
    names = ["hgg_mass_resolution", "zmumu_mass_resolution"]
    base = DETECTOR_PRESETS["cepc"]
    ref = evaluate_objectives(get_detector(base), names, ee_paths, seed=1)
    # a 4x better ECAL stochastic term narrows m_gg by > 1.5x; the muons do not care
    good_ecal = evaluate_objectives(get_detector(base.with_params(**{"ecal.stochastic": 0.04})), names, ee_paths, seed=1)
    assert ref["hgg_mass_resolution"] > 1.5 * good_ecal["hgg_mass_resolution"]
    assert good_ecal["zmumu_mass_resolution"] == pytest.approx(ref["zmumu_mass_resolution"], rel=1e-9)
    # halving B doubles the curvature term: the dimuon resolution grows by > 1.5x (the MS term grows too)
    weak = evaluate_objectives(get_detector(base.with_params(**{"tracker.b_field": 1.5})), names, ee_paths, seed=1)
    assert weak["zmumu_mass_resolution"] > 1.5 * ref["zmumu_mass_resolution"]
    # CEPC photons: E ~ 62 GeV, 16%/sqrt(E) (+) 1% -> sigma_m / m ~ 2.4% / sqrt(2) -> ~2 GeV at 125 GeV
    assert 1.3 < ref["hgg_mass_resolution"] < 2.8


def test_study_front_resume_and_llm_proposals(ee_paths, tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    spec = _spec()
    asked = []

    def proposer(s, records, n):  # a scripted proposer: the design the LLM would return
        asked.append(len(records))
        return [{"tracker.b_field": 3.3, "ecal.stochastic": 0.05}]

    first = optimise_detector(spec.model_copy(update={"trials": 3}), paths=ee_paths, storage=storage,
                              proposer=proposer)
    assert len(first.trials) == 3 and first.trials[0].source == "card:cepc"
    # simulate a kill in the middle of a round: a trial asked but never told stays RUNNING
    study = open_study(spec, storage)
    study.ask({"tracker.b_field": optuna.distributions.FloatDistribution(1.5, 4.0),
               "ecal.stochastic": optuna.distributions.FloatDistribution(0.03, 0.3, log=True)})
    spec = spec.model_copy(update={"trials": 8})  # a larger budget continues the same study
    result = optimise_detector(spec, paths=ee_paths, storage=storage, proposer=proposer)
    states = [t.state for t in open_study(spec, storage).get_trials()]
    assert states.count(optuna.trial.TrialState.COMPLETE) == 8 and asked == [6]
    assert optuna.trial.TrialState.RUNNING not in states
    assert any(r.source.endswith("(re-run)") for r in result.trials)  # the killed trial was evaluated again
    assert any(r.source == "llm" for r in result.trials)  # the proposal made it into the study
    # the front: feasible, non-dominated, and every feasible non-front trial is dominated by it
    vec = to_minimisation(np.array([r.vector(spec.objectives) for r in result.trials if r.feasible]),
                          ["minimize", "minimize", "minimize"])
    assert len(result.front) == int(pareto_mask(vec).sum()) >= 1
    assert all(r.cost <= spec.cost_budget for r in result.front)
    assert set(result.baselines) == {"cepc"}
    importances = parameter_importances(open_study(spec, storage), spec.objectives)
    # the ECAL term drives m_gg, the field drives m_mumu (fANOVA on 6 trials is coarse but this is robust)
    assert importances["hgg_mass_resolution"]["ecal.stochastic"] > importances["hgg_mass_resolution"]["tracker.b_field"]
    assert importances["zmumu_mass_resolution"]["tracker.b_field"] > 0.5
    plots = pareto_plots(result, tmp_path)
    text = markdown_report(result, importances, "trade-offs", plots)
    assert "Pareto-optimal designs" in text and all((tmp_path / f"pareto_{o}.png").is_file() for o in spec.objectives)


def test_proposal_parsing_keeps_only_valid_new_designs():
    spec = _spec()
    text = "Here you go:\n" + json.dumps([
        {"tracker.b_field": 3.0, "ecal.stochastic": 0.05},
        {"tracker.b_field": 9.0, "ecal.stochastic": 0.05},   # out of range
        {"tracker.b_field": 3.0},                            # incomplete
        {"tracker.b_field": 2.5, "ecal.stochastic": "low"},  # not a number
        {"tracker.b_field": 2.0, "ecal.stochastic": 0.1},    # already tried
    ])
    good, problems = parse_proposals(text, spec, tried=[{"tracker.b_field": 2.0, "ecal.stochastic": 0.1}])
    assert good == [{"tracker.b_field": 3.0, "ecal.stochastic": 0.05}]
    assert len(problems) == 4
    assert parse_proposals("no json here", spec)[0] == []
    prompt = proposal_prompt(spec, [], 0, 2)
    assert "tracker.b_field: 1.5 .. 4" in prompt and "budget 400 MCHF" in prompt
