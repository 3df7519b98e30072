"""The evaluation harness: the fast subset passes, failures and regressions are detected, LLM planner runs."""
import json

import pytest
from typer.testing import CliRunner

from hepilot.evals.cases import AgentCase, AnswerCheck, arg_matches
from hepilot.evals.harness import compare, evaluate_agent_case, run_suites, summarize


def test_fast_subset_scores_the_offline_planner():
    results = run_suites(["agent", "knowledge"], fast=True)
    s = summarize(results)
    agent = s["suites"]["agent"]
    assert agent["cases"] >= 40
    assert agent["plan_accuracy"] >= 0.95 and agent["refusal_correctness"] == 1.0, [
        (r.id, r.details) for r in results if not r.passed]
    assert s["suites"]["knowledge"]["answer_accuracy"] >= 0.9


def test_a_wrong_expectation_fails(tmp_path):
    case = AgentCase(id="x", goal="train a BDT on top versus QCD jets",
                     expect={"tools": ["generate_jets", "train_tagger"], "args": {"generate_jets": {"n_jets": 12345}}})
    r = evaluate_agent_case(case, planner="offline", execute=False, out_dir=tmp_path)
    assert not r.passed and r.plan_ok is False
    assert any("n_jets" in d for d in r.details)
    refused = AgentCase(id="y", goal="train a BDT on top versus QCD jets", expect={"refused": True})
    assert not evaluate_agent_case(refused, planner="offline", execute=False, out_dir=tmp_path).passed


def test_answer_checks_and_arg_constraints():
    assert AnswerCheck(path="t.auc", min=0.8).judge(0.9)[0] and not AnswerCheck(path="t.auc", min=0.8).judge(0.7)[0]
    assert AnswerCheck(path="t.m", approx=172.5, abs=1.0).judge(172.9)[0]
    assert not AnswerCheck(path="t.m", approx=172.5, rel=0.001).judge(173.0)[0]
    assert arg_matches(5000, {"min": 1000}) and not arg_matches(500, {"min": 1000})
    assert arg_matches(["top", "qcd"], {"contains": "qcd"}) and arg_matches(550, 550.0)


def test_compare_reports_regressions_first():
    old = [{"suite": "a", "id": "1", "passed": True}, {"suite": "a", "id": "2", "passed": False}]
    new = [{"suite": "a", "id": "1", "passed": False, "details": ["x"]}, {"suite": "a", "id": "2", "passed": True,
                                                                         "details": []}]
    assert [c["kind"] for c in compare(new, old)] == ["regression", "fixed"]


def test_llm_planner_case_with_scripted_endpoint(openai_server, monkeypatch, tmp_path):
    from hepilot.settings import get_settings

    server = openai_server([[{"name": "particle_info", "arguments": {"particle": "t"}}],
                            "The top quark mass is about 172.6 GeV."])
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    get_settings.cache_clear()
    try:
        case = AgentCase(id="pdg", goal="what is the mass of the top quark",
                         expect={"tools": ["particle_info"], "answers": [{"path": "particle_info.mass_GeV",
                                                                         "approx": 172.6, "abs": 1.0}]})
        r = evaluate_agent_case(case, planner="llm", execute=True, out_dir=tmp_path)
    finally:
        get_settings.cache_clear()
    assert r.passed, r.details
    assert r.tokens["requests"] == 2 and r.tokens["prompt_tokens"] > 0


def test_cli_json_and_bad_suite():
    from hepilot.evals.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["--suite", "agentt", "--fast", "--no-save"])
    assert res.exit_code == 2 and "did you mean agent" in res.output
    res = runner.invoke(app, ["--suite", "agent", "--fast", "--no-save", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["summary"]["overall"]["cases"] >= 40
