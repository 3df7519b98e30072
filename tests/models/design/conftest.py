"""Small generator-level e+e- samples shared by the design tests (generated once per session, ~10 s)."""
from __future__ import annotations

import pytest

from hepilot.models.design.data import prepare_data


@pytest.fixture(scope="session")
def ee_paths(tmp_path_factory) -> dict[str, str]:
    """zh_gamgam and zh_mumu truth samples, 400 events each, seed 1."""
    cache = tmp_path_factory.mktemp("design_cache")
    return prepare_data(["zh_gamgam", "zh_mumu"], n_events=400, n_jets=50, seed=1, cache_dir=cache)
