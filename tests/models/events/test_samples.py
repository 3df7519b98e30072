"""The jet-sample format: round trip, clear errors on damaged files, deterministic stratified splits."""
import awkward as ak
import numpy as np
import pytest

from hepilot.models.events.samples import SampleError, read_jet_sample, split_indices, write_jet_sample


def _write(tmp_path, n=5):
    jets = {"label": np.arange(n) % 2, "jet_pt": np.linspace(550, 650, n), "jet_eta": np.zeros(n),
            "jet_phi": np.zeros(n), "jet_mass": np.full(n, 170.0), "jet_e": np.full(n, 600.0),
            "truth_matched": np.ones(n, bool), "event": np.arange(n), "chunk": np.zeros(n)}
    parts = ak.Array([[{"px": 1.0 * i, "py": 0.0, "pz": 0.0, "e": 1.0 * i, "pid": 211, "charge": 1.0}] * (i + 1)
                      for i in range(n)])
    return write_jet_sample(tmp_path / "jets.root", jets, parts, {"processes": ["top", "qcd"]})


def test_round_trip(tmp_path):
    path = _write(tmp_path)
    s = read_jet_sample(path)
    assert len(s) == 5 and s.processes == ["top", "qcd"]
    assert ak.to_list(ak.num(s.particles)) == [1, 2, 3, 4, 5]
    assert s.binary_labels("top").tolist() == [1, 0, 1, 0, 1]
    assert s.manifest["format"] == "hepilot-jets/1"


def test_corrupt_and_foreign_files_give_clear_errors(tmp_path):
    bad = tmp_path / "bad" / "jets.root"
    bad.parent.mkdir()
    bad.write_bytes(b"not a root file" * 100)
    with pytest.raises(SampleError, match="not a readable ROOT file"):
        read_jet_sample(bad)
    with pytest.raises(SampleError, match="no sample file"):
        read_jet_sample(tmp_path / "missing.root")
    import uproot

    other = tmp_path / "other.root"
    with uproot.recreate(other) as f:
        f["events"] = {"x": np.arange(3.0)}
    with pytest.raises(SampleError, match="available keys: events"):
        read_jet_sample(other)


def test_split_is_disjoint_stratified_and_seeded():
    labels = np.array([0] * 700 + [1] * 300)
    a = split_indices(labels, fractions=(0.6, 0.2, 0.2), seed=3)
    b = split_indices(labels, fractions=(0.6, 0.2, 0.2), seed=3)
    c = split_indices(labels, fractions=(0.6, 0.2, 0.2), seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    assert sum(len(x) for x in a) == 1000 and len(np.unique(np.concatenate(a))) == 1000
    for part, frac in zip(a, (0.6, 0.2, 0.2)):
        assert labels[part].mean() == pytest.approx(0.3, abs=0.002)
        assert len(part) == pytest.approx(1000 * frac, abs=1)
