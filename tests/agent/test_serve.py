"""The MCP server seen by the real `mcp` client over stdio and streamable HTTP: the registry's tools
with identical schemas, a successful call, invalid input as an MCP tool error, knowledge resources,
loopback-only binding and a clean shutdown."""
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from typer.testing import CliRunner

from hepilot.agent.serve import CORPUS_URI, app, http_url, search_uri
from hepilot.knowledge.corpus import corpus_files
from hepilot.tools.registry import all_tools

SERVER = [sys.executable, "-m", "hepilot.agent", "serve", "--mcp"]
REPO = Path(__file__).resolve().parents[2]
CARD = "methods/particlenet.md"
TIMEOUT = 120.0  # seconds; the server imports every tool module before it answers (slow on a busy machine)


async def _session(client: Client) -> dict:
    """One conversation: list, a bad call, a good call, resources. Errors must not drop the connection."""
    out = {"tools": (await client.list_tools()).tools}
    out["inverted"] = await client.call_tool("generate_jets", {"processes": ["top"], "n_jets": 10,
                                                               "pt_min": 700.0, "pt_max": 600.0})
    out["typo"] = await client.call_tool("generate_jets", {"n_jet": 10})
    out["unknown"] = await client.call_tool("generate_jet", {})
    out["top"] = await client.call_tool("particle_info", {"particle": "t"})
    out["resources"] = (await client.list_resources()).resources
    out["templates"] = (await client.list_resource_templates()).resource_templates
    out["card"] = (await client.read_resource(CORPUS_URI + CARD)).contents
    try:
        await client.read_resource("knowledge://nowhere/x")
    except MCPError as exc:
        out["bad_uri"] = exc
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def stdio_session() -> dict:
    params = StdioServerParameters(command=SERVER[0], args=SERVER[1:], env=dict(os.environ), cwd=str(REPO))

    async def go():
        async with Client(params, read_timeout_seconds=TIMEOUT) as client:
            return await _session(client)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def http_server():
    port = _free_port()
    proc = subprocess.Popen([*SERVER, "--http", "--port", str(port)], env=dict(os.environ), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the HTTP server did not start: {proc.communicate()[1][-2000:]}")
            time.sleep(0.2)
    yield proc, http_url("127.0.0.1", port)
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


@pytest.fixture(scope="module")
def http_session(http_server) -> dict:
    async def go():
        async with Client(http_server[1], read_timeout_seconds=TIMEOUT) as client:
            return await _session(client)

    return asyncio.run(go())


@pytest.fixture(params=["stdio", "http"])
def session(request) -> dict:
    return request.getfixturevalue(f"{request.param}_session")


def test_every_registry_tool_listed_with_its_schema_and_description(session):
    listed = {t.name: t for t in session["tools"]}
    specs = {s.name: s for s in all_tools()}
    assert set(listed) == set(specs)
    for name, spec in specs.items():
        assert listed[name].input_schema == spec.input_schema(), name
        assert listed[name].description == spec.description, name


def test_successful_call_returns_the_result_as_json_and_structured_content(session):
    res = session["top"]
    assert not res.is_error
    data = res.structured_content
    assert json.loads(res.content[0].text) == data
    assert data["pdg_id"] == 6
    assert data["mass_GeV"] == pytest.approx(172.6, abs=1.0)  # PDG top mass, within 1 GeV
    assert data["charge"] == pytest.approx(2 / 3)
    assert all(c["passed"] for c in data["checks"])


def test_invalid_input_is_an_mcp_tool_error_with_the_validation_message(session):
    inverted, typo, unknown = session["inverted"], session["typo"], session["unknown"]
    assert inverted.is_error and typo.is_error and unknown.is_error
    assert inverted.content[0].text.startswith("generate_jets: invalid argument 'pt_max'")
    assert "pt_min = 700.0 GeV >= pt_max = 600.0 GeV" in inverted.content[0].text
    assert inverted.structured_content["error"] == "ToolInputError"
    assert inverted.structured_content["field"] == "pt_max"
    assert typo.content[0].text.startswith("generate_jets: invalid argument 'n_jet': is not an argument")
    assert typo.structured_content["field"] == "n_jet"
    assert "did you mean n_jets" in typo.structured_content["fix"]
    assert "generate_jet is not a valid tool" in unknown.content[0].text
    assert "generate_jets" in unknown.content[0].text


def test_knowledge_cards_are_resources_readable_by_uri(session):
    shipped = dict(corpus_files())
    uris = {str(r.uri) for r in session["resources"]}
    assert uris == {CORPUS_URI + rel for rel in shipped}
    (content,) = session["card"]
    assert content.text == shipped[CARD].decode()
    assert content.mime_type == "text/markdown"
    assert "knowledge://search/{query}" in {t.uri_template for t in session["templates"]}
    assert "unknown resource" in session["bad_uri"].message


@pytest.mark.slow
def test_search_template_returns_cited_passages_without_blocking_other_calls(http_server):
    async def go():
        async with Client(http_server[1], read_timeout_seconds=TIMEOUT) as client:
            # The first search loads the embedding model and indexes the corpus (seconds): it runs in a
            # worker thread, so a cheap call sent after it is answered while it is still running.
            search = asyncio.create_task(client.read_resource(search_uri("ParticleNet EdgeConv architecture")))
            await asyncio.sleep(0.5)
            quick = await client.call_tool("particle_info", {"particle": "Z"})
            return quick, search.done(), await search

    quick, search_was_done, found = asyncio.run(go())
    assert not quick.is_error and quick.structured_content["pdg_id"] == 23
    assert not search_was_done
    (content,) = found.contents
    result = json.loads(content.text)
    assert 1 <= len(result["passages"]) <= 5
    assert any("1902.08570" in p["citation"] for p in result["passages"])  # the ParticleNet paper is cited


def test_http_refuses_non_loopback_hosts_without_allow_remote():
    res = CliRunner().invoke(app, ["--mcp", "--http", "--host", "0.0.0.0"])
    assert res.exit_code == 2
    assert "invalid argument '--host'" in res.output and "--allow-remote" in res.output
    res = CliRunner().invoke(app, [])
    assert res.exit_code == 2 and "--mcp" in res.output


def test_http_server_shuts_down_cleanly_on_interrupt(http_server, http_session):
    proc, _ = http_server
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr
