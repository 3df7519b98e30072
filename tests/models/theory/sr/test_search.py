"""GP backends, the SymbolicRegressor and the guided search (offline proposer and a scripted LLM).

GP runs are bounded by evaluations (not wall time) so they are deterministic.
"""
import numpy as np
import pytest

from hepilot.models.theory.sr.aifeynman import get_equation, sample_equation
from hepilot.models.theory.sr.backends import BackendUnavailable, PySRBackend, make_backend, to_operon_infix
from hepilot.models.theory.sr.equivalence import symbolic_match
from hepilot.models.theory.sr.expression import evaluate
from hepilot.models.theory.sr.guided import GuidedSymbolicSearch
from hepilot.models.theory.sr.llm_proposer import LLMProposer, parse_reply
from hepilot.models.theory.sr.parser import make_symbols, parse_expression
from hepilot.models.theory.sr.regressor import SymbolicRegressor


def _recovered(est, eq, X):
    truth = eq.truth(est.problem_.symbol_map)
    return symbolic_match(est.model_.expr, truth, est.problem_.symbols, X)


def test_pyoperon_recovers_a_feynman_equation_deterministically():
    eq = get_equation("I.6.2a")  # exp(-theta^2/2)/sqrt(2 pi), theta in [1, 3]
    X, y = sample_equation(eq, 300, seed=1)
    runs = [SymbolicRegressor(time_limit=600, seed=2, backend_options={"max_evaluations": 100_000})
            .fit(X, y, variable_names=eq.variables) for _ in range(2)]
    match = _recovered(runs[0], eq, X)
    assert match.equivalent, (runs[0].model_.expr, match.reason)
    assert str(runs[0].model_.expr) == str(runs[1].model_.expr)
    assert runs[0].model_.r2 == pytest.approx(1.0, abs=1e-12)
    front = runs[0].equations()
    assert [f["complexity"] for f in front] == sorted(f["complexity"] for f in front)
    assert all(f["latex"] for f in front)


def test_gplearn_backend_goes_through_the_safe_parser():
    eq = get_equation("I.12.1")  # mu * Nn
    X, y = sample_equation(eq, 200, seed=3)
    reg = SymbolicRegressor(backend="gplearn", time_limit=600, seed=1,
                            backend_options={"population_size": 300, "max_generations": 3}).fit(
        X, y, variable_names=eq.variables)
    assert reg.backend_stats_["generations"] == 3 and reg.backend_stats_["n_valid"] > 0
    assert reg.model_.r2 > 0.99


def test_pysr_says_julia_is_unavailable():
    reason = PySRBackend.availability()
    if reason is None:
        pytest.skip("PySR and Julia are installed here")
    with pytest.raises(BackendUnavailable, match="Julia is not available"):
        make_backend("pysr")
    with pytest.raises(BackendUnavailable, match="Julia"):
        SymbolicRegressor(backend="pysr").fit(np.ones((5, 1)), np.arange(5.0))


def test_operon_infix_round_trip_matches_our_evaluator():
    import pyoperon as op

    S = make_symbols(["x", "y"], positive=["x", "y"])
    X = np.random.default_rng(0).uniform(0.5, 2.0, (50, 2))
    from pyoperon.sklearn import SymbolicRegressor as OpReg

    fitted = OpReg(max_evaluations=1000, population_size=20, random_state=0).fit(X, X[:, 0])
    hashes = {v: k for k, v in fitted.variables_.items()}
    for text in ["-0.5*x + y", "exp(-x**2/2)/y", "sqrt(x*y) - 1/x", "x**(-1.5)*log(y) + cos(x)**2", "x**y"]:
        expr = parse_expression(text, S)
        infix = to_operon_infix(expr, {S["x"]: "X1", S["y"]: "X2"})
        tree = op.InfixParser.Parse(infix, {"X1": hashes["X1"], "X2": hashes["X2"]})
        # Operon evaluates in single precision
        np.testing.assert_allclose(fitted.evaluate_model(tree, X), evaluate(expr, [S["x"], S["y"]], X), rtol=1e-4,
                                   atol=1e-6)


def test_guided_offline_recovers_the_gaussian_with_its_lineage():
    eq = get_equation("I.6.2")  # exp(-(theta/sigma)^2/2)/(sqrt(2 pi) sigma)
    X, y = sample_equation(eq, 500, seed=4)
    g = GuidedSymbolicSearch(time_limit=600, n_rounds=2, seed=0).fit(X, y, variable_names=eq.variables)
    assert _recovered(g, eq, X).equivalent, g.model_.expr
    assert g.history_[0]["stopped"] == "exact fit"  # found by a proposal before any GP slice
    lineage = g.lineage()
    assert lineage[0]["id"] == g.model_.id and lineage[0]["origin"].startswith("offline:")
    assert "gaussian" in lineage[0]["idea"] or "exp" in lineage[0]["expression"]


def test_guided_search_builds_concepts_and_checks_units():
    eq = get_equation("I.48.2")  # m c^2 / sqrt(1 - v^2/c^2)
    X, y = sample_equation(eq, 400, seed=5, noise=0.001)  # at 1% exp(0.53 v^2/c^2) fits as well
    g = GuidedSymbolicSearch(time_limit=10, n_rounds=2, proposals_per_round=20, seed=1,
                             units={"m": "kg", "v": "m/s", "c": "m/s"}, target_unit="J",
                             gp_options={"max_evaluations": 20_000}).fit(X, y, variable_names=eq.variables)
    assert len(g.concepts_) > 0 and all(c["text"] for c in g.concepts_.to_list())
    dimensional = [c for c in g.candidates_ if c.origin == "offline:dimensional"]
    assert dimensional and all(c.dimension.consistent for c in dimensional)
    assert g.model_.dimension is not None and g.model_.dimension.consistent, g.model_.expr
    assert _recovered(g, eq, X).equivalent, g.model_.expr


def test_reply_parsing():
    reply = "Sure!\n1. IDEA: a Gaussian bump\n   EXPR: `c0*exp(-c1*x**2)`\nCONCEPT: symmetric in x.\nEXPR: y = c0/x"
    assert parse_reply(reply) == [("idea", "a Gaussian bump"), ("expr", "c0*exp(-c1*x**2)"),
                                  ("concept", "symmetric in x"), ("expr", "c0/x")]


def test_llm_loop_against_a_scripted_openai_server(openai_server):
    from hepilot.agent.llm import LLMClient

    server = openai_server([
        "IDEA: a bell curve centred at zero\nEXPR: c0*exp(-c1*x**2)\n"
        "IDEA: try code\nEXPR: __import__('os').system('echo hacked')\nEXPR: c0*x**2",
        "CONCEPT: the target is an even function of x that decays like a Gaussian",
    ])
    client = LLMClient(base_url=server.base_url, api_key="test", model="scripted", retries=0)
    proposer = LLMProposer(lambda p: client.complete(p, temperature=0.7))
    rng = np.random.default_rng(6)
    x = rng.uniform(-2, 2, 300)
    y = 2.5 * np.exp(-0.7 * x ** 2) + rng.normal(0, 0.01, 300)
    g = GuidedSymbolicSearch(proposers=[proposer], time_limit=4, n_rounds=1, seed=2,
                             gp_options={"max_evaluations": 5_000}).fit(x[:, None], y, variable_names=["x"])
    assert len(server.requests) == 2 and proposer.calls == 2 and proposer.errors == 0
    prompt = server.requests[0]["messages"][-1]["content"]
    assert "x: range" in prompt and "EXPR:" in prompt
    llm_cands = [c for c in g.candidates_ if c.origin.startswith("llm:")]
    assert len(llm_cands) == 2  # the __import__ line was rejected by the safe parser, never evaluated
    best = min(llm_cands, key=lambda c: c.loss)
    assert best.extra["idea"] == "a bell curve centred at zero"
    assert best.chi2 is None and best.mse < 2e-4  # noise variance 1e-4
    assert any(c["source"] == "llm" and "Gaussian" in c["text"] for c in g.concepts_.to_list())
    assert g.proposer_stats_["llm"]["calls"] == 2
