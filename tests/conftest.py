"""Shared fixtures: an isolated hepilot cache per test session and a scripted OpenAI-compatible server.

`openai_server(script)` starts a real HTTP server on 127.0.0.1 that speaks the OpenAI chat
completions API, driven by a script (one entry per request, as LangGraph's own tests do):
    "text"                                  -> an assistant message with that content
    [{"name": ..., "arguments": {...}}]     -> an assistant message with those tool calls ([] = no calls)
    {"status": 500}                         -> an HTTP error with that status
    {"delay": 3.0, "then": <entry>}         -> sleep, then answer with <entry>
The server records every request body in `server.requests`; running out of script is an error
(HTTP 500 with a message) so a test never hangs on an unexpected extra turn.
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory) -> Iterator[Path]:
    """Every test session writes to its own cache, runs and knowledge folders."""
    root = tmp_path_factory.mktemp("hepilot")
    old = {k: os.environ.get(k) for k in ("HEPILOT_CACHE_DIR", "HEPILOT_RUNS_DIR", "OPENAI_BASE_URL",
                                          "OPENAI_API_KEY", "HEPILOT_PLANNER")}
    os.environ["HEPILOT_CACHE_DIR"] = str(root / "cache")
    os.environ["HEPILOT_RUNS_DIR"] = str(root / "runs")
    os.environ.setdefault("HEPILOT_KB", str(root / "kb"))
    for k in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "HEPILOT_PLANNER"):
        os.environ.pop(k, None)
    from hepilot.settings import get_settings

    get_settings.cache_clear()
    yield root
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    get_settings.cache_clear()


class ScriptedOpenAIServer:
    """A local OpenAI-compatible chat-completions endpoint answering from a script."""

    def __init__(self, script: list):
        self.script = list(script)
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with server._lock:
                    server.requests.append(body)
                    entry = server.script.pop(0) if server.script else {"status": 500, "error": "script exhausted"}
                while isinstance(entry, dict) and "delay" in entry:
                    time.sleep(entry["delay"])
                    entry = entry.get("then", "")
                if isinstance(entry, dict) and "status" in entry:
                    self._send(entry["status"], {"error": {"message": entry.get("error", "scripted error"),
                                                           "type": "server_error"}})
                    return
                self._send(200, server._completion(body, entry))

            def _send(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def _completion(self, body: dict, entry) -> dict:
        n = len(self.requests)
        message: dict = {"role": "assistant", "content": None}
        if isinstance(entry, str):
            message["content"] = entry
            finish = "stop"
        else:
            calls = [{"id": f"call_{n}_{i}", "type": "function",
                      "function": {"name": c["name"], "arguments": c["arguments"] if isinstance(c["arguments"], str)
                                   else json.dumps(c["arguments"])}} for i, c in enumerate(entry)]
            if calls:
                message["tool_calls"] = calls
                finish = "tool_calls"
            else:
                message["content"] = ""
                finish = "stop"
        prompt_tokens = sum(len(str(m.get("content") or "").split()) for m in body.get("messages", []))
        return {"id": f"chatcmpl-{n}", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "scripted"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 7, "total_tokens": prompt_tokens + 7}}

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def openai_server():
    """Factory: `server = openai_server([...])` -> a running ScriptedOpenAIServer (closed after the test)."""
    servers: list[ScriptedOpenAIServer] = []

    def start(script: list) -> ScriptedOpenAIServer:
        s = ScriptedOpenAIServer(script)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Small networks: one torch thread avoids oversubscribing the shared 2-core CPU (and is deterministic)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# A tiny top/QCD sample shared by the jet, BDT and agent tests: the same arguments everywhere,
# so the content-addressed cache generates it once per test session.
TINY_JETS = {"processes": ["top", "qcd"], "n_jets": 120, "seed": 11}
TINY_GOAL = ("Generate 120 top and 120 QCD jets with pT between 550 and 650 GeV with seed 11 and train a BDT "
             "tagger on jet substructure")


@pytest.fixture(scope="session")
def tiny_jets(_isolated_cache):
    """The generate_jets result for TINY_JETS (generated once per session)."""
    from hepilot.tools.base import call_tool

    return call_tool("generate_jets", TINY_JETS)


@pytest.fixture
def tiny_jets_args() -> dict:
    return dict(TINY_JETS)


@pytest.fixture
def tiny_goal() -> str:
    return TINY_GOAL
