"""Event objects for the MPNN task: hadron flavour, object arrays, file round trip, a small Pythia run."""
from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepilot.models.events.event_objects import (
    OBJECT_TYPES,
    EventObjectConfig,
    EventSample,
    _hadron_flavour,
    _write,
    generate_event_chunk,
    object_arrays,
    read_event_sample,
)
from hepilot.models.events.samples import SampleError


def test_hadron_flavour_from_pdg_digits():
    # B0 511, B+ 521, Lambda_b 5122, Upsilon 553 (b bbar), D+ 411, Lambda_c 4122, pi+ 211, proton 2212, b quark 5
    ids = np.array([511, -521, 5122, 553, 411, -4122, 211, 2212, 5])
    assert _hadron_flavour(ids).tolist() == [5, 5, 5, 5, 4, 4, 0, 0, 0]


def _objects():
    return [
        {"type": np.array([5, 1, 3, 4]), "pt": np.array([40.0, 60.0, 80.0, 30.0]), "eta": np.array([0.0, 0.5, -1.0, 2.0]),
         "phi": np.array([1.0, -2.0, 0.3, 3.0]), "e": np.array([40.0, 68.0, 130.0, 113.0]),
         "mass": np.array([0.0, 0.0, 10.0, 5.0]), "charge": np.array([0.0, 1.0, 0.0, 0.0])},
        {"type": np.array([5, 2]), "pt": np.array([10.0, 25.0]), "eta": np.array([0.0, 0.1]), "phi": np.array([0.0, 0.2]),
         "e": np.array([10.0, 25.1]), "mass": np.array([0.0, 0.1]), "charge": np.array([0.0, 1.0])},
    ]


def test_object_arrays_encode_types_charge_and_log_kinematics(tmp_path):
    path = tmp_path / "events.root"
    _write(path, {"label": np.array([0, 1]), "event": np.array([3, 7]), "chunk": np.array([0, 0])}, _objects(),
           {"format": "hepilot-events/1", "processes": ["tth_bb", "ttbar"]})
    sample = read_event_sample(tmp_path)
    assert sample.labels.tolist() == [0, 1] and sample.event.tolist() == [3, 7]
    a = object_arrays(sample, max_objects=3)
    assert a["nodes"].shape == (2, 10, 3) and a["mask"][:, 0].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert a["nodes"][0, OBJECT_TYPES.index("bjet"), 2] == 1.0  # third object of event 0 is the b-jet
    assert a["nodes"][0, 6, 1] == 1.0  # the electron's charge
    assert a["nodes"][0, 7, 2] == pytest.approx(np.log1p(80.0), rel=1e-6)  # ln(1 + pT / GeV)
    assert np.all(a["nodes"][1, :, 2] == 0) and np.all(a["coords"][1, :, 2] == 0)  # padding slot is empty
    assert sample.binary_labels("ttbar").tolist() == [0, 1]
    with pytest.raises(SampleError, match="not in this sample"):
        sample.binary_labels("zh")


def test_reading_a_non_sample_fails_clearly(tmp_path):
    (tmp_path / "events.root").write_bytes(b"not root" * 20)
    with pytest.raises(SampleError, match="not a readable"):
        read_event_sample(tmp_path)
    with pytest.raises(SampleError, match="no event sample"):
        read_event_sample(tmp_path / "missing")


def test_pythia_ttbar_events_pass_the_selection_with_a_positive_lepton():
    cfg = EventObjectConfig(processes=("ttbar",), n_events=8, seed=5)
    res = generate_event_chunk(cfg, "ttbar", 0, 8)
    assert len(res["objects"]) == 8 and res["n_generated"] >= 8
    for obj in res["objects"]:
        types = [OBJECT_TYPES[t] for t in obj["type"]]
        leptons = [i for i, t in enumerate(types) if t in ("electron", "muon")]
        assert types[0] == "met" and obj["pt"][0] >= 0
        assert len(leptons) == 1 and obj["charge"][leptons[0]] == 1.0  # W+ -> l+ nu forced by the recipe
        assert sum(t in ("bjet", "jet") for t in types) >= 4
        jets = np.array([t in ("bjet", "jet") for t in types])
        assert np.all(obj["pt"][jets] > 25.0) and np.all(np.abs(obj["eta"][jets]) < 2.5)
    # sigma(gg/qqbar -> ttbar) x BR(one W+ leptonic e/mu) x BR(W- hadronic) at 13 TeV: ~ 500 pb x 0.22 x 0.67
    assert 30.0 < res["sigma_pb"] < 200.0


def test_select_keeps_ids_aligned():
    objs = ak.Array([{"type": [5], "pt": [1.0]}, {"type": [5, 1], "pt": [2.0, 3.0]}])
    s = EventSample(np.array([0, 1]), objs, {"processes": ["a", "b"]}, None, np.array([0, 1]), np.array([10, 11]))
    sub = s.select(np.array([1]))
    assert sub.event.tolist() == [11] and sub.labels.tolist() == [1] and len(sub) == 1
