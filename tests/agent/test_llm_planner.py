"""The LLM planner through the real `openai` client against a scripted local OpenAI-compatible server."""
import os

import pytest

from hepilot.agent.llm import LLMClient, LLMError
from hepilot.agent.session import run_goal
from hepilot.settings import get_settings


@pytest.fixture
def llm_env(openai_server, monkeypatch):
    def configure(script, **env):
        server = openai_server(script)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-123")
        for k, v in env.items():
            monkeypatch.setenv(k, str(v))
        get_settings.cache_clear()
        return server

    yield configure
    get_settings.cache_clear()


def test_tool_call_round_trip_with_correction_after_validation_error(llm_env, tiny_jets, tiny_jets_args):
    TINY_JETS = tiny_jets_args
    server = llm_env([
        [{"name": "generate_jets", "arguments": {**TINY_JETS, "pt_min": 650, "pt_max": 550}}],  # inverted window
        [{"name": "generate_jets", "arguments": TINY_JETS}],  # corrected after the validation message
        "Generated 120 top and 120 QCD jets; the top-jet mass peak is near 175 GeV.",
    ])
    run, state = run_goal("generate a few top and QCD jets", planner="llm")
    assert state["status"] == "done", state.get("failures")
    assert [r.get("error_kind") for r in state["records"]] == ["input", None]
    # the second request carried the validation message back to the model as the tool result
    tool_msgs = [m for m in server.requests[1]["messages"] if m["role"] == "tool"]
    assert "invalid argument" in tool_msgs[0]["content"] and "pt_max" in tool_msgs[0]["content"]
    assert server.requests[0]["tools"] and {t["function"]["name"] for t in server.requests[0]["tools"]} >= {
        "generate_jets", "train_bdt"}
    assert state["answer"].startswith("Generated 120")
    assert state["llm_usage"]["requests"] == 3 and state["llm_usage"]["prompt_tokens"] > 0
    # the key is never written anywhere in the run folder
    for f in run.path.rglob("*"):
        if f.is_file() and f.suffix in (".json", ".jsonl", ".md", ".sqlite"):
            assert b"sk-test-secret-123" not in f.read_bytes(), f


def test_http_500_is_retried(llm_env):
    server = llm_env([{"status": 500}, "Nothing to run for this question."], HEPILOT_LLM_RETRIES=2)
    _, state = run_goal("what can you do?", planner="llm")
    assert state["status"] == "done" and state["answer"] == "Nothing to run for this question."
    assert len(server.requests) == 2


def test_timeout_gives_a_clear_error(openai_server):
    server = openai_server([{"delay": 2.0, "then": "late"}, {"delay": 2.0, "then": "late"}])
    client = LLMClient(base_url=server.base_url, api_key=None, model="m", timeout=0.5, retries=1)
    with pytest.raises(LLMError, match="timed out"):
        client.chat([{"role": "user", "content": "hi"}])


def test_unknown_tool_comes_back_as_a_message(llm_env):
    server = llm_env([[{"name": "generate_jet", "arguments": {}}], "I could not find that tool."])
    _, state = run_goal("generate jets", planner="llm")
    msg = [m for m in server.requests[1]["messages"] if m["role"] == "tool"][0]["content"]
    assert "generate_jet is not a valid tool, try one of [" in msg and "Did you mean generate_jets" in msg
    assert state["records"][0]["error_kind"] == "unknown_tool"


def test_llm_planner_without_endpoint_is_an_input_error(monkeypatch):
    from hepilot.errors import ToolInputError

    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    get_settings.cache_clear()
    with pytest.raises(ToolInputError, match="OPENAI_BASE_URL"):
        run_goal("generate jets", planner="llm")
    assert "OPENAI_BASE_URL" not in os.environ
