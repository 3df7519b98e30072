"""The symbolic-regression tools: the QED rediscovery chain, file round trips, the LLM loop, bad input."""
import json
from pathlib import Path

import numpy as np
import pytest

from hepilot.errors import ToolInputError
from hepilot.tools.base import ToolContext, call_tool, current_context

QED = {"n_events": 20_000, "n_bins": 20, "seed": 5}


@pytest.fixture(scope="module")
def qed_table(_isolated_cache):
    return call_tool("qed_angular_distribution", QED)


def test_qed_table_and_its_checks(qed_table):
    r = qed_table
    assert r.checks_passed, [c.message for c in r.checks]
    assert 1 / r.alpha_em == pytest.approx(131.12, abs=0.05)
    assert r.sigma_pb == pytest.approx(r.sigma_expected_pb, rel=1e-3)
    assert r.a_expected == pytest.approx(3 / 8 * r.sigma_expected_pb, rel=1e-9)  # integral of (1 + c^2) is 8/3
    meta = json.loads(Path(r.path).with_suffix(".meta.json").read_text())
    assert meta["target"] == "dsigma_dcos" and meta["expected"]["values"]["c0"] == pytest.approx(r.a_expected)


def test_qed_rediscovery_with_pyoperon(qed_table):
    r = call_tool("symbolic_regression", data=qed_table.path, time_limit=8)
    e = r.expected
    assert e is not None and e.equivalent, (r.chosen.expression, e.reason)
    # 20k events: c0 has a ~0.7% statistical error, the goal is agreement with pi alpha^2/(2s) within 2%
    assert abs(e.deviation["c0"]) < 0.02 and abs(e.deviation["c0"]) < 3 * e.errors["c0"] / e.fitted["c0"]
    assert r.checks_passed, [c.message for c in r.checks]
    assert Path(r.artifacts["fit_plot"]).stat().st_size > 10_000
    assert r.chosen.chi2 is not None and "p-value" in r.criterion
    assert [f.complexity for f in r.pareto_front] == sorted(f.complexity for f in r.pareto_front)


def test_qed_rediscovery_with_the_guided_search_from_the_output_folder(qed_table):
    folder = str(Path(qed_table.path).parent)  # a previous tool's output folder works as data
    r = call_tool("llm_symbolic_search", data=folder, time_limit=6, n_rounds=2, llm="off")
    assert r.expected.equivalent and abs(r.expected.deviation["c0"]) < 0.02, r.chosen.expression
    assert not r.llm_used and r.concepts and r.lineage[0]["id"] == r.chosen.id
    assert r.method == "guided(offline)"


def test_feynman_equation_from_a_root_file_with_units(tmp_path):
    import uproot

    rng = np.random.default_rng(7)
    k, x = rng.uniform(1, 5, 300), rng.uniform(1, 5, 300)
    path = tmp_path / "spring.root"
    with uproot.recreate(path) as f:
        f.mktree("points", {"k_spring": "f8", "x": "f8", "U": "f8"})
        f["points"].extend({"k_spring": k, "x": x, "U": 0.5 * k * x ** 2})
    r = call_tool("llm_symbolic_search", data=str(path), target="U", features=["k_spring", "x"], time_limit=60,
                  units={"k_spring": "N/m", "x": "m"}, target_unit="J", llm="off")
    assert r.chosen.expression.replace(" ", "") in ("0.5*k_spring*x**2", "k_spring*x**2/2"), r.chosen.expression
    assert r.chosen.dimensionally_consistent is True and r.checks_passed


def test_parquet_round_trip_with_gplearn(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(8)
    q, v = rng.uniform(1, 5, 200), rng.uniform(1, 5, 200)
    path = tmp_path / "t.parquet"
    pd.DataFrame({"q": q, "v": v, "F": q * v}).to_parquet(path)
    r = call_tool("symbolic_regression", data=str(path), backend="gplearn", time_limit=3)
    assert r.target == "F" and r.features == ["q", "v"] and r.r2 > 0.99


def test_llm_search_tool_uses_the_context_llm(qed_table, openai_server):
    from hepilot.agent.llm import LLMClient

    server = openai_server(["IDEA: symmetric in cos(theta)\nEXPR: c0*(1 + c1*cos_theta**2)",
                            "CONCEPT: forward-backward symmetric, quadratic in cos(theta)"])
    llm = LLMClient(base_url=server.base_url, api_key="k", model="scripted", retries=0)
    ctx = ToolContext(cache_dir=current_context().cache_dir, use_cache=False, llm=llm)
    r = call_tool("llm_symbolic_search", data=qed_table.path, time_limit=4, n_rounds=1, llm="required", ctx=ctx)
    assert r.llm_used and r.proposers["llm"]["calls"] >= 1 and len(server.requests) >= 1
    assert "cos_theta" in server.requests[0]["messages"][-1]["content"]
    assert r.expected.equivalent


@pytest.mark.parametrize("args, field, text", [
    ({"target": "dsigma"}, "target", "did you mean dsigma_dcos"),
    ({"features": ["cos"]}, "features", "Available columns"),
    ({"backend": "pysr"}, "backend", "Julia"),
    ({"units": {"cos_theta": "furlong"}}, "units", "furlong"),
    ({"units": {"theta": "1"}}, "units", "not features"),
    ({"expected": "__import__('os')"}, "expected", "not allowed"),
])
def test_bad_input_names_the_field(qed_table, args, field, text):
    with pytest.raises(ToolInputError) as err:
        call_tool("symbolic_regression", data=qed_table.path, time_limit=1, **args)
    assert err.value.field == field and text in str(err.value)


def test_bad_files_and_missing_llm(tmp_path):
    with pytest.raises(ToolInputError, match="does not exist") as err:
        call_tool("symbolic_regression", data=str(tmp_path / "nope.csv"))
    assert err.value.field == "data"
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\nx,y\n")
    with pytest.raises(ToolInputError, match="no numeric columns"):
        call_tool("symbolic_regression", data=str(bad))
    with pytest.raises(ToolInputError) as err:
        call_tool("llm_symbolic_search", data=str(bad), llm="required")
    assert err.value.field == "llm"
    with pytest.raises(ToolInputError) as err:
        call_tool("qed_angular_distribution", n_events=10)
    assert err.value.field == "n_events"


@pytest.mark.parametrize("goal, second", [
    ("rediscover the angular distribution of e+e- to mu+mu-", "symbolic_regression"),
    ("which formula does the muon polar angle follow in electron-positron annihilation? use 50k events and 10 bins",
     "symbolic_regression"),
    ("derive dsigma/dcos(theta) for e+ e- -> mu+ mu- from simulated events", "symbolic_regression"),
    ("rediscover the e+e- -> mu+mu- angular distribution with LLM-guided symbolic search", "llm_symbolic_search"),
])
def test_the_offline_planner_plans_the_qed_rediscovery(goal, second):
    from hepilot.agent.planner_offline import default_planner

    plan = default_planner().plan(goal)
    assert not plan.refused, plan.answer
    assert [s.tool for s in plan.steps] == ["qed_angular_distribution", second]
    assert plan.steps[1].args["data"] == "$gen.path"
    if "50k" in goal:
        assert plan.steps[0].args["n_events"] == 50_000 and plan.steps[0].args["n_bins"] == 10
