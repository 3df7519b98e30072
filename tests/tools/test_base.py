"""The tool mechanism: validation messages, unknown tools, content cache, atomic outputs, checks."""
import json
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from hepilot.errors import ToolExecutionError, ToolInputError, UnknownToolError
from hepilot.evals.checks.base import CheckResult
from hepilot.tools.base import REGISTRY, ToolContext, ToolResult, execute, output_dir, tool


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_events: int = Field(10, ge=1, description="Events to count")
    fail: bool = Field(False, description="Raise inside the tool")


class _Out(ToolResult):
    total: int


def _positive(inp, res):
    return CheckResult(name="positive", passed=res.total > 0, measured=res.total)


def _broken(inp, res):
    raise RuntimeError("bug in a check")


def _count_events(inp: _In) -> _Out:
    """Count events (a test tool)."""
    (output_dir() / "counts.txt").write_text(str(inp.n_events))
    if inp.fail:
        raise RuntimeError("generator crashed")
    return _Out(status=f"{inp.n_events} events", total=inp.n_events, artifacts={"f": str(output_dir() / "counts.txt")})


@pytest.fixture(autouse=True, scope="module")
def _test_tool():
    """Register the test tool only while this module runs (other tests list the real registry)."""
    tool(checks=[_positive, _broken], category="test")(_count_events)
    yield
    REGISTRY.pop("_count_events", None)


@pytest.fixture
def ctx(tmp_path):
    yield ToolContext(cache_dir=tmp_path)


def test_validation_messages_name_field_and_fix(ctx):
    with pytest.raises(ToolInputError) as e:
        execute("_count_events", {"n_events": -5}, ctx=ctx)
    assert e.value.field == "n_events" and e.value.exit_code == 2
    assert "greater than or equal to 1" in str(e.value) and "n_events must be integer >= 1 (Events to count)" in str(e.value)
    with pytest.raises(ToolInputError, match="did you mean n_events"):
        execute("_count_events", {"n_event": 5}, ctx=ctx)


def test_unknown_tool_lists_and_suggests():
    with pytest.raises(UnknownToolError) as e:
        execute("_count_event", {})
    assert "is not a valid tool, try one of [" in str(e.value) and "Did you mean _count_events" in str(e.value)


def test_results_are_cached_by_content_and_paths_point_to_final_folder(ctx):
    a = execute("_count_events", {"n_events": 3}, ctx=ctx)
    b = execute("_count_events", {"n_events": 3}, ctx=ctx)
    assert not a.cached and b.cached and a.key == b.key
    assert Path(b.result.artifacts["f"]).read_text() == "3"
    assert ".partial" not in b.result.artifacts["f"]
    assert json.loads((Path(a.out_dir) / "call.json").read_text())["args"] == {"n_events": 3, "fail": False}


def test_checks_attached_and_a_broken_check_is_a_failure_not_a_crash(ctx):
    res = execute("_count_events", {"n_events": 2}, ctx=ctx).result
    by_name = {c.name: c for c in res.checks}
    assert by_name["positive"].passed
    assert not by_name["_broken"].passed and "bug in a check" in by_name["_broken"].message


def test_failed_call_leaves_no_files(ctx):
    with pytest.raises(ToolExecutionError, match="generator crashed"):
        execute("_count_events", {"n_events": 4, "fail": True}, ctx=ctx)
    folder = Path(ctx.cache_dir) / "results" / "_count_events"
    assert not folder.exists() or not any(folder.iterdir())


def test_openai_schema_is_derived_from_types():
    spec = REGISTRY["_count_events"]
    schema = spec.openai_schema()["function"]
    assert schema["name"] == "_count_events" and schema["description"].startswith("Count events")
    assert schema["parameters"]["properties"]["n_events"]["minimum"] == 1
    assert schema["parameters"]["additionalProperties"] is False
