"""hepilot settings: one pydantic-settings object read from HEPILOT_* and OPENAI_* environment variables.

Never read the environment ad hoc elsewhere: ask `get_settings()`. Each run stores
`settings_hash()` (the API key excluded) so a report says exactly how it was configured.
Named presets (`HEPILOT_PRESET=ci|cpu|paper`) set the size of default trainings and samples.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "settings_hash", "PRESETS"]

PRESETS: dict[str, str] = {
    "ci": "smallest configurations that still test the physics (unit tests, CI)",
    "cpu": "models and samples sized for a 2-core CPU in minutes (the default)",
    "paper": "the papers' configurations (hours on a CPU)",
}


def _home() -> Path:
    return Path.home() / ".cache" / "hepilot"


class Settings(BaseSettings):
    """Configuration of hepilot. Environment variables in brackets."""

    model_config = SettingsConfigDict(env_prefix="HEPILOT_", extra="ignore", populate_by_name=True)

    cache_dir: Path = Field(default_factory=lambda: _home(),
                            description="Root of the result and sample cache [HEPILOT_CACHE_DIR]")
    runs_dir: Path = Field(Path("runs"), description="Where run directories are created [HEPILOT_RUNS_DIR]")
    kb_dir: Path = Field(default_factory=lambda: _home() / "kb",
                         validation_alias=AliasChoices("HEPILOT_KB", "HEPILOT_KB_DIR"),
                         description="On-disk knowledge index (Chroma + BM25) [HEPILOT_KB]")
    use_cache: bool = Field(True, description="Reuse finished tool results with the same key [HEPILOT_USE_CACHE]")
    preset: Literal["ci", "cpu", "paper"] = Field("cpu", description="Default size of trainings and samples [HEPILOT_PRESET]")
    planner: Literal["auto", "offline", "llm"] = Field(
        "auto", description="auto = LLM when OPENAI_BASE_URL or OPENAI_API_KEY is set, else offline [HEPILOT_PLANNER]")
    model: str = Field("gpt-4o-mini", description="Model name sent to the OpenAI-compatible endpoint [HEPILOT_MODEL]")
    base_url: str | None = Field(None, validation_alias=AliasChoices("OPENAI_BASE_URL", "HEPILOT_BASE_URL"),
                                 description="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 [OPENAI_BASE_URL]")
    api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("OPENAI_API_KEY", "HEPILOT_API_KEY"),
                                      description="Key for the endpoint; never written to disk [OPENAI_API_KEY]")
    llm_timeout: float = Field(120.0, gt=0, description="Seconds before one LLM request times out [HEPILOT_LLM_TIMEOUT]")
    llm_retries: int = Field(3, ge=0, le=10, description="Retries with exponential backoff on LLM errors [HEPILOT_LLM_RETRIES]")
    max_replans: int = Field(2, ge=0, le=10, description="Replans allowed after failed checks or errors [HEPILOT_MAX_REPLANS]")
    max_turns: int = Field(8, ge=1, le=50, description="Tool-calling rounds for the LLM planner [HEPILOT_MAX_TURNS]")
    workers: int = Field(2, ge=1, le=256, description="Local worker processes for chunked work [HEPILOT_WORKERS]")
    dask: str | None = Field(None, description="Dask scheduler address tcp://HOST:PORT; local pool when unset [HEPILOT_DASK]")
    plan_threshold: float = Field(0.45, ge=0, le=1, description="Offline planner: minimum goal/intent similarity to plan [HEPILOT_PLAN_THRESHOLD]")

    @property
    def llm_configured(self) -> bool:
        return bool(self.base_url or self.api_key)

    @property
    def effective_planner(self) -> Literal["offline", "llm"]:
        if self.planner == "auto":
            return "llm" if self.llm_configured else "offline"
        return self.planner


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call `get_settings.cache_clear()` after changing env)."""
    return Settings()


def settings_hash(settings: Settings | None = None) -> str:
    """Short hash of the settings that change results (the API key is never included)."""
    s = settings or get_settings()
    data = s.model_dump(mode="json", exclude={"api_key"})
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]
