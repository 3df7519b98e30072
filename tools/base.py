"""The tool mechanism: `@tool` registration, the registry, validation, result cache and execution.

A tool is a plain function `fn(inp: SomeInput) -> SomeResult` where `SomeInput` is a pydantic
model (extra="forbid", Field descriptions, physical validators) and `SomeResult` subclasses
`ToolResult`. The docstring and the Field descriptions are what an LLM sees; the JSON schema is
derived from the types. Physics checks attached with `@tool(checks=[...])` run after every call
and their outcomes are stored on the result.

Execution (`execute`) is content-addressed: the key is a hash of the tool name and version, the
validated arguments and the contents of any input files they name. Outputs are written into a
staging folder that is renamed into `<cache>/results/<tool>/<key>/` only when the call succeeded,
so a failed or killed call never leaves partial files and a finished call is never recomputed.
"""
from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hepilot.evals.checks.base import Check, CheckResult, run_checks
from hepilot.errors import HepilotError, ToolExecutionError, ToolInputError, UnknownToolError, closest

__all__ = [
    "ToolResult",
    "ToolSpec",
    "ToolContext",
    "ToolCallRecord",
    "REGISTRY",
    "tool",
    "get_tool",
    "execute",
    "call_tool",
    "current_context",
    "use_context",
    "output_dir",
    "progress",
    "validation_to_input_error",
]

log = logging.getLogger(__name__)


class ToolResult(BaseModel):
    """Base of every tool result: a one-line status plus the files the tool wrote."""

    model_config = ConfigDict(extra="forbid")
    status: str = Field(description="One line the agent and evals read: what was done and the key number")
    artifacts: dict[str, str] = Field(
        default_factory=dict, description="Files written by the tool (plots, samples), name -> path"
    )
    checks: list[CheckResult] = Field(default_factory=list, description="Physics checks run on this result")

    @property
    def checks_passed(self) -> bool:
        return all(c.passed for c in self.checks)


@dataclass
class ToolContext:
    """Where and how tools run. Set per thread of work with `use_context`; read with `current_context`.

    cache_dir:   root of the content-addressed result cache and the sample cache.
    use_cache:   reuse finished results with the same key (False forces recomputation).
    show_progress: draw rich progress bars (CLI) instead of logging progress.
    llm:         optional injected callable (prompt -> text) for tools that can use an LLM.
    executor:    optional executor for chunked work (see hepilot.tools.executor), None = local.
    """

    cache_dir: Path
    use_cache: bool = True
    show_progress: bool = False
    llm: Callable[..., Any] | None = None
    executor: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def _default_context() -> ToolContext:
    from hepilot.settings import get_settings

    s = get_settings()
    return ToolContext(cache_dir=s.cache_dir, use_cache=s.use_cache)


_CONTEXT: contextvars.ContextVar[ToolContext | None] = contextvars.ContextVar("hepilot_tool_context", default=None)
_OUTPUT_DIR: contextvars.ContextVar[Path | None] = contextvars.ContextVar("hepilot_output_dir", default=None)


def current_context() -> ToolContext:
    """The active ToolContext (a default built from settings when none was set)."""
    ctx = _CONTEXT.get()
    if ctx is None:
        ctx = _default_context()
        _CONTEXT.set(ctx)
    return ctx


@contextlib.contextmanager
def use_context(ctx: ToolContext) -> Iterator[ToolContext]:
    token = _CONTEXT.set(ctx)
    try:
        yield ctx
    finally:
        _CONTEXT.reset(token)


def output_dir() -> Path:
    """The folder the running tool writes its files into (a staging folder, renamed on success)."""
    d = _OUTPUT_DIR.get()
    if d is None:
        raise RuntimeError("output_dir() is only available inside a tool call made through execute()")
    return d


@contextlib.contextmanager
def progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n)`: a rich progress bar in the CLI, periodic log lines in library use."""
    ctx = current_context()
    if ctx.show_progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
        ) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n=1: bar.advance(task, n)
    else:
        state = {"done": 0, "last": time.monotonic()}

        def advance(n: int = 1) -> None:
            state["done"] += n
            if time.monotonic() - state["last"] > 10:
                state["last"] = time.monotonic()
                log.info("%s: %d/%s", description, state["done"], total if total is not None else "?")

        yield advance


@dataclass
class ToolSpec:
    """A registered tool: its function, typed input and result models, and attached checks."""

    name: str
    fn: Callable[[BaseModel], ToolResult]
    input_model: type[BaseModel]
    result_model: type[ToolResult]
    checks: list[Check]
    category: str
    version: str
    cacheable: bool

    @property
    def description(self) -> str:
        return (self.fn.__doc__ or "").strip()

    @property
    def summary(self) -> str:
        return self.description.splitlines()[0] if self.description else self.name

    def input_schema(self) -> dict[str, Any]:
        """JSON Schema of the arguments, derived from the pydantic model."""
        return self.input_model.model_json_schema()

    def result_schema(self) -> dict[str, Any]:
        return self.result_model.model_json_schema()

    def openai_schema(self) -> dict[str, Any]:
        """OpenAI tool-calling schema (function name, description, parameters)."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.input_schema()},
        }

    def validate(self, args: dict[str, Any] | BaseModel) -> BaseModel:
        """Validate arguments; a problem becomes a ToolInputError naming the field and the fix."""
        if isinstance(args, self.input_model):
            return args
        if not isinstance(args, dict):
            raise ToolInputError("<arguments>", f"expected a JSON object, got {type(args).__name__}.",
                                 "pass the arguments as an object of name -> value.", tool=self.name)
        try:
            return self.input_model.model_validate(args)
        except ValidationError as exc:
            raise validation_to_input_error(exc, self.input_model, tool=self.name) from None


def _field_rule(model: type[BaseModel], name: str) -> str:
    """'n: integer >= 1 (How many)' from the JSON schema of one field."""
    prop = model.model_json_schema().get("properties", {}).get(name, {})
    parts = []
    kind = prop.get("type") or " or ".join(sorted({a.get("type", "?") for a in prop.get("anyOf", [])}))
    if kind:
        parts.append(kind)
    if "enum" in prop:
        parts.append("one of " + ", ".join(json.dumps(v) for v in prop["enum"]))
    for key, sym in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
        if key in prop:
            parts.append(f"{sym} {prop[key]}")
    desc = model.model_fields[name].description if name in model.model_fields else ""
    rule = f"{name} must be {' '.join(parts)}" if parts else name
    return rule + (f" ({desc})" if desc else "")


def validation_to_input_error(exc: ValidationError, model: type[BaseModel], *, tool: str | None = None) -> ToolInputError:
    """Turn pydantic's first error into a ToolInputError with the field, the problem and a fix."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "<arguments>"
    top = str(err["loc"][0]) if err["loc"] else ""
    fields = model.model_fields
    if err["type"] == "extra_forbidden":
        near = closest(top, fields)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        return ToolInputError(loc, "is not an argument of this tool.",
                              f"{hint}Valid arguments: {', '.join(fields)}.", tool=tool)
    if err["type"] == "missing":
        return ToolInputError(loc, "is required.", f"give {_field_rule(model, top)}." if top in fields else "",
                              tool=tool)
    msg = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    shown = json.dumps(got, default=str)[:80] if got is not None and not isinstance(got, dict) else ""
    problem = msg + (f" (got {shown})" if shown else "") + "."
    fix = f"{_field_rule(model, top)}." if top in fields else ""
    return ToolInputError(loc, problem, fix, tool=tool)


REGISTRY: dict[str, ToolSpec] = {}


def tool(*, checks: list[Check] | tuple[Check, ...] = (), name: str | None = None, category: str = "general",
         version: str = "1", cacheable: bool = True) -> Callable:
    """Register `fn(inp: InputModel) -> ResultModel` as a tool; the function stays callable as is."""

    def wrap(fn: Callable) -> Callable:
        hints = get_type_hints(fn)
        params = [k for k in hints if k != "return"]
        if len(params) != 1:
            raise TypeError(f"tool {fn.__name__} must take exactly one annotated pydantic argument")
        input_model, result_model = hints[params[0]], hints.get("return")
        if not (isinstance(input_model, type) and issubclass(input_model, BaseModel)):
            raise TypeError(f"tool {fn.__name__}: the argument must be a pydantic model")
        if input_model.model_config.get("extra") != "forbid":
            raise TypeError(f"tool {fn.__name__}: {input_model.__name__} needs model_config extra='forbid'")
        if not (isinstance(result_model, type) and issubclass(result_model, ToolResult)):
            raise TypeError(f"tool {fn.__name__}: the return annotation must subclass ToolResult")
        if not (fn.__doc__ or "").strip():
            raise TypeError(f"tool {fn.__name__} needs a docstring: it is what the LLM sees")
        tool_name = name or fn.__name__
        if tool_name in REGISTRY and REGISTRY[tool_name].fn is not fn:
            raise ValueError(f"tool {tool_name!r} registered twice")
        REGISTRY[tool_name] = ToolSpec(tool_name, fn, input_model, result_model, list(checks), category,
                                       version, cacheable)
        return fn

    return wrap


def get_tool(name: str) -> ToolSpec:
    """The registered tool called `name`; an UnknownToolError lists the valid names otherwise."""
    from hepilot.tools.registry import load_all

    load_all()
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownToolError(name, REGISTRY) from None


@dataclass
class ToolCallRecord:
    """One finished tool call: what was asked, what came back, how long it took, whether cached."""

    tool: str
    args: dict[str, Any]
    result: ToolResult
    key: str
    seconds: float
    cached: bool
    out_dir: str


def _file_fingerprint(path: Path) -> str:
    st = path.stat()
    if st.st_size > 256 * 2**20:
        return f"{st.st_size}:{st.st_mtime_ns}"
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            h.update(block)
    return h.hexdigest()


def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _strings(v)


def call_key(spec: ToolSpec, inp: BaseModel) -> str:
    """Content address of a call: tool, version, arguments and the contents of files they name."""
    from hepilot import __version__

    args = inp.model_dump(mode="json")
    files = {}
    for s in _strings(args):
        if len(s) < 4096 and os.sep in s:
            p = Path(s)
            with contextlib.suppress(OSError):
                if p.is_file():
                    files[s] = _file_fingerprint(p)
    blob = json.dumps({"tool": spec.name, "v": spec.version, "pkg": __version__, "args": args, "files": files},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _load_cached(spec: ToolSpec, final: Path) -> ToolResult | None:
    path = final / "result.json"
    if not path.is_file():
        return None
    try:
        return spec.result_model.model_validate_json(path.read_text())
    except (ValidationError, ValueError, OSError):
        log.warning("ignoring unreadable cached result %s", path)
        return None


def execute(name: str, args: dict[str, Any] | BaseModel, *, ctx: ToolContext | None = None) -> ToolCallRecord:
    """Validate, run (or reuse), check and store one tool call. Raises typed HepilotErrors."""
    spec = get_tool(name)
    inp = spec.validate(args)
    ctx = ctx or current_context()
    key = call_key(spec, inp)
    final = Path(ctx.cache_dir) / "results" / spec.name / key
    dumped = inp.model_dump(mode="json")
    t0 = time.perf_counter()
    if spec.cacheable and ctx.use_cache:
        cached = _load_cached(spec, final)
        if cached is not None:
            return ToolCallRecord(spec.name, dumped, cached, key, time.perf_counter() - t0, True, str(final))
    staging = final.parent / f".{key}.{uuid.uuid4().hex[:8]}.partial"
    staging.mkdir(parents=True, exist_ok=False)
    token_ctx = _CONTEXT.set(ctx)
    token_dir = _OUTPUT_DIR.set(staging)
    try:
        result = spec.fn(inp)
        if not isinstance(result, spec.result_model):
            raise ToolExecutionError(f"{spec.name} returned {type(result).__name__}, not {spec.result_model.__name__}")
        result.checks = run_checks(spec.checks, inp, result)
        text = result.model_dump_json(indent=1).replace(str(staging), str(final))
        result = spec.result_model.model_validate_json(text)
        (staging / "result.json").write_text(text)
        (staging / "call.json").write_text(json.dumps({"tool": spec.name, "args": dumped, "key": key}, indent=1))
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    except HepilotError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise ToolExecutionError(f"{spec.name} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        _OUTPUT_DIR.reset(token_dir)
        _CONTEXT.reset(token_ctx)
    return ToolCallRecord(spec.name, dumped, result, key, time.perf_counter() - t0, False, str(final))


def call_tool(name: str, args: dict[str, Any] | BaseModel | None = None, *, ctx: ToolContext | None = None,
              **kwargs: Any) -> ToolResult:
    """Library entry point: `call_tool("generate_jets", processes=["top"], n_jets=100)` -> result."""
    return execute(name, {**(args or {}), **kwargs} if not isinstance(args, BaseModel) else args, ctx=ctx).result
