"""Feature tables: every supported file type, process selection, errors that name the fix."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hepilot.models.stats.tables import TableError, list_columns, read_features


@pytest.fixture()
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"jet_mass": rng.uniform(50, 200, 30), "tau21": rng.uniform(0, 1, 30),
                         "label": np.r_[np.zeros(20), np.ones(10)].astype(np.int32)})


def test_csv_parquet_npz_and_root_give_the_same_columns(tmp_path, frame):
    import uproot

    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "a.parquet")
    np.savez(tmp_path / "a.npz", **{c: frame[c].to_numpy() for c in frame})
    np.savez(tmp_path / "m.npz", X=frame[["jet_mass", "tau21"]].to_numpy(), feature_names=np.array(["jet_mass", "tau21"]))
    with uproot.recreate(tmp_path / "a.root") as f:
        f["features"] = {c: frame[c].to_numpy() for c in frame}
    want = frame[["tau21", "jet_mass"]].to_numpy()
    for name in ("a.csv", "a.parquet", "a.npz", "m.npz", "a.root"):
        np.testing.assert_allclose(read_features(tmp_path / name, ["tau21", "jet_mass"]), want)
    assert "tau21" in list_columns(tmp_path / "a.root")


def test_process_selection_uses_the_sample_manifest(tmp_path, frame):
    import uproot

    with uproot.recreate(tmp_path / "jets.root") as f:
        f["jets"] = {c: frame[c].to_numpy() for c in frame}
    (tmp_path / "manifest.json").write_text(json.dumps({"processes": ["qcd", "w"]}))
    assert len(read_features(tmp_path, ["jet_mass"], process="w")) == 10
    with pytest.raises(TableError, match="no process 'top'"):
        read_features(tmp_path, ["jet_mass"], process="top")


def test_errors_name_the_problem(tmp_path, frame):
    frame.to_csv(tmp_path / "a.csv", index=False)
    with pytest.raises(TableError, match="Did you mean jet_mass"):
        read_features(tmp_path / "a.csv", ["jet_mas"])
    with pytest.raises(TableError, match="no file"):
        read_features(tmp_path / "missing.csv", ["x"])
    (tmp_path / "b.txt").write_text("x")
    with pytest.raises(TableError, match="unsupported file type"):
        read_features(tmp_path / "b.txt", ["x"])
    (tmp_path / "bad.root").write_bytes(b"not a root file")
    with pytest.raises(TableError, match="not a readable ROOT file"):
        read_features(tmp_path / "bad.root", ["x"])
