"""Chunk bookkeeping of the event-sample generators."""
from __future__ import annotations

import math

import pytest

from hepilot.models.events._chunks import ProcessTally, chunk_tasks


def test_chunk_tasks_cover_the_sample_in_merge_order():
    tasks = chunk_tasks("cfg", ("zh", "qq"), 1200, 500)
    assert [(t[1], t[2], t[3]) for t in tasks] == [("zh", 0, 500), ("zh", 1, 500), ("zh", 2, 200),
                                                    ("qq", 0, 500), ("qq", 1, 500), ("qq", 2, 200)]


def test_tally_weights_cross_sections_by_generated_events():
    tally = ProcessTally(("zh",))
    tally.add({"process": "zh", "n_generated": 300, "sigma_pb": 2.0, "seconds": 1.0}, 100)
    tally.add({"process": "zh", "n_generated": 100, "sigma_pb": 6.0, "seconds": 0.5}, 50)
    zh = tally.finish()["zh"]
    assert zh["sigma_pb"] == pytest.approx((300 * 2.0 + 100 * 6.0) / 400)  # 3.0 pb
    assert zh["selection_efficiency"] == pytest.approx(150 / 400)
    assert (zh["n_events"], zh["n_generated"], zh["seconds"]) == (150, 400, 1.5)
    assert math.isnan(ProcessTally(("qq",)).finish()["qq"]["sigma_pb"])  # no chunk: no estimate
