"""OpenAI-compatible LLM client (hosted, vLLM, Ollama, ...): chat with tool calling, retries, token counts.

Built on the official `openai` client pointed at `OPENAI_BASE_URL`. Transient failures (HTTP 5xx,
429, connection errors, timeouts) are retried with exponential backoff by the client
(`max_retries = settings.llm_retries`), each request has `settings.llm_timeout` seconds. Token
usage is summed per client and reported to an optional trace callback. The API key is held only
in memory: it never enters traces, reports, checkpoints or the settings hash.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hepilot.errors import HepilotError

__all__ = ["LLMClient", "LLMError", "ChatTurn", "ToolCallRequest", "client_from_settings"]

log = logging.getLogger(__name__)


class LLMError(HepilotError):
    """The LLM endpoint failed after retries (unreachable, timeout, HTTP error, malformed reply)."""


@dataclass
class ToolCallRequest:
    id: str
    name: str
    arguments: str  # raw JSON text as the model wrote it

    def parsed(self) -> dict[str, Any]:
        """The arguments as a dict; malformed JSON raises ValueError with the position."""
        if not self.arguments.strip():
            return {}
        value = json.loads(self.arguments)
        if not isinstance(value, dict):
            raise ValueError(f"tool arguments must be a JSON object, got {type(value).__name__}")
        return value


@dataclass
class ChatTurn:
    content: str
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class LLMClient:
    """Chat and completion against one OpenAI-compatible endpoint and model."""

    def __init__(self, *, base_url: str | None, api_key: str | None, model: str, timeout: float = 120.0,
                 retries: int = 3, trace: Callable[[dict[str, Any]], None] | None = None):
        import openai

        self.model = model
        self.base_url = base_url
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout,
                                     max_retries=retries)
        self._trace = trace
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0, "requests": 0}

    def chat(self, messages: list[dict[str, Any]], *, tools: list[dict[str, Any]] | None = None,
             temperature: float = 0.0, max_tokens: int | None = None) -> ChatTurn:
        """One chat completion; returns the text and any tool calls the model asked for."""
        import openai

        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": temperature}
        if tools:
            kwargs["tools"] = tools
            kwargs["tool_choice"] = "auto"
        if max_tokens:
            kwargs["max_tokens"] = max_tokens
        t0 = time.perf_counter()
        try:
            resp = self._client.chat.completions.create(**kwargs)
        except openai.APITimeoutError as exc:
            raise LLMError(f"the LLM endpoint {self.base_url or 'api.openai.com'} timed out after retries ({exc})") from None
        except openai.APIConnectionError as exc:
            raise LLMError(f"cannot reach the LLM endpoint {self.base_url or 'api.openai.com'}: {exc}. "
                           "Check OPENAI_BASE_URL, or unset it to use the offline planner") from None
        except openai.APIStatusError as exc:
            raise LLMError(f"the LLM endpoint answered HTTP {exc.status_code}: {exc.message}") from None
        seconds = time.perf_counter() - t0
        if not resp.choices:
            raise LLMError("the LLM endpoint returned no choices")
        msg = resp.choices[0].message
        calls = [ToolCallRequest(c.id, c.function.name, c.function.arguments or "") for c in (msg.tool_calls or [])]
        usage = {"prompt_tokens": int(getattr(resp.usage, "prompt_tokens", 0) or 0),
                 "completion_tokens": int(getattr(resp.usage, "completion_tokens", 0) or 0)}
        self.usage["prompt_tokens"] += usage["prompt_tokens"]
        self.usage["completion_tokens"] += usage["completion_tokens"]
        self.usage["requests"] += 1
        if self._trace:
            self._trace({"event": "llm", "model": self.model, "seconds": round(seconds, 3), **usage,
                         "tool_calls": [c.name for c in calls]})
        return ChatTurn(msg.content or "", calls, usage, seconds)

    def complete(self, prompt: str, *, system: str | None = None, temperature: float = 0.7,
                 max_tokens: int = 1024) -> str:
        """Plain text completion (used by tools such as LLM-guided symbolic search)."""
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
        return self.chat(messages, temperature=temperature, max_tokens=max_tokens).content


def client_from_settings(trace: Callable[[dict[str, Any]], None] | None = None) -> LLMClient | None:
    """An LLMClient when an endpoint is configured (OPENAI_BASE_URL / OPENAI_API_KEY), else None."""
    from hepilot.settings import get_settings

    s = get_settings()
    if not s.llm_configured:
        return None
    key = s.api_key.get_secret_value() if s.api_key else None
    return LLMClient(base_url=s.base_url, api_key=key, model=s.model, timeout=s.llm_timeout, retries=s.llm_retries,
                     trace=trace)
