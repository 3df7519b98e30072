"""Reading named feature columns from event files (ROOT, CSV, parquet, npz) for the statistical tests.

`read_features(path, features)` returns an (n_events, n_features) float64 array. Supported:
  .root            a TTree or RNTuple (`tree`, else the first one); flat numeric branches; a
                   hepilot sample (jets.root + manifest.json, features.root + processes.txt, or
                   the folder of jets.root) can be restricted to one `process` (its label column)
  .csv             header row with the column names
  .parquet / .pq   columns by name
  .npz             one array per name, or a 2D array "X"/"features" with a "feature_names" array
A missing column raises `TableError` listing the available ones and the closest names.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from hepilot.errors import closest

__all__ = ["TableError", "read_features", "list_columns", "SUFFIXES"]

log = logging.getLogger(__name__)
SUFFIXES = (".root", ".csv", ".parquet", ".pq", ".npz")


class TableError(ValueError):
    """A feature file is missing, unreadable, or lacks a requested column; the text says which."""


def _resolve(path: str | Path) -> Path:
    p = Path(path)
    if p.is_dir() and (p / "jets.root").is_file():
        p = p / "jets.root"
    if not p.is_file():
        raise TableError(f"no file at {p}")
    if p.suffix.lower() not in SUFFIXES:
        raise TableError(f"{p.name}: unsupported file type {p.suffix!r}; use one of {', '.join(SUFFIXES)}")
    return p


def _root_tree(p: Path, tree: str | None):
    import uproot

    try:
        f = uproot.open(p)
    except Exception as exc:  # uproot raises many types for corrupt files
        raise TableError(f"{p.name} is not a readable ROOT file ({type(exc).__name__}: {exc})") from None
    trees = [k.split(";")[0] for k, cls in f.classnames().items() if cls in ("TTree", "ROOT::RNTuple")]
    if not trees:
        raise TableError(f"{p.name} has no TTree (or RNTuple)")
    name = tree or trees[0]
    if name not in trees:
        raise TableError(f"{p.name} has no tree {name!r}; trees: {', '.join(trees)}")
    return f[name]


def _npz_columns(z) -> dict[str, np.ndarray]:
    keys = list(z.keys())
    for matrix in ("X", "features"):
        if matrix in keys and "feature_names" in keys:
            names = [str(n) for n in z["feature_names"]]
            x = np.asarray(z[matrix])
            return {n: x[:, i] for i, n in enumerate(names)}
    return {k: np.asarray(z[k]) for k in keys if np.asarray(z[k]).ndim == 1}


def list_columns(path: str | Path, *, tree: str | None = None) -> list[str]:
    """Names of the one-dimensional numeric columns of a feature file."""
    p = _resolve(path)
    suffix = p.suffix.lower()
    if suffix == ".root":
        t = _root_tree(p, tree)
        flat = []
        for k in t.keys():
            if not hasattr(t[k], "interpretation"):  # an RNTuple field
                flat.append(k)
                continue
            dtype = getattr(t[k].interpretation, "numpy_dtype", None)  # None for jagged branches
            if dtype is not None and dtype.kind in "biuf" and not dtype.shape:
                flat.append(k)
        return flat
    if suffix == ".csv":
        with p.open() as fh:
            return [c.strip() for c in fh.readline().strip().split(",") if c.strip()]
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return list(pq.read_schema(p).names)
    with np.load(p, allow_pickle=False) as z:
        return list(_npz_columns(z))


def _check_columns(p: Path, features: list[str], available: list[str]) -> None:
    for name in features:
        if name not in available:
            near = closest(name, available)
            hint = f" Did you mean {', '.join(near)}?" if near else ""
            raise TableError(f"{p.name} has no column {name!r}.{hint} Available: {', '.join(available[:40])}")


def _process_names(p: Path) -> list[str]:
    """Process names of a hepilot sample: manifest.json (jets.root) or processes.txt (features.root)."""
    manifest, names = p.parent / "manifest.json", p.parent / "processes.txt"
    if manifest.is_file():
        return list(json.loads(manifest.read_text()).get("processes", []))
    if names.is_file():
        return names.read_text().split()
    raise TableError(f"{p.name}: selecting a process needs a hepilot sample (manifest.json or processes.txt beside it)")


def _process_mask(p: Path, process: str, labels: np.ndarray) -> np.ndarray:
    processes = _process_names(p)
    if process not in processes:
        raise TableError(f"{p.name} has no process {process!r}; it has {', '.join(processes)}")
    return labels == processes.index(process)


def read_features(path: str | Path, features: list[str], *, tree: str | None = None,
                  process: str | None = None, max_events: int | None = None) -> np.ndarray:
    """(n_events, len(features)) float64 array of the named columns; rows with NaN/inf dropped."""
    if not features:
        raise TableError("no features requested; name at least one column")
    p = _resolve(path)
    suffix = p.suffix.lower()
    try:
        if suffix == ".root":
            t = _root_tree(p, tree)
            _check_columns(p, features, list(t.keys()))
            cols = t.arrays(features + (["label"] if process else []), library="np")
        elif suffix == ".csv":
            import pandas as pd

            df = pd.read_csv(p)
            _check_columns(p, features, list(df.columns))
            cols = {c: df[c].to_numpy() for c in features}
        elif suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            _check_columns(p, features, list(pq.read_schema(p).names))
            table = pq.read_table(p, columns=features)
            cols = {c: table.column(c).to_numpy() for c in features}
        else:
            with np.load(p, allow_pickle=False) as z:
                avail = _npz_columns(z)
            _check_columns(p, features, list(avail))
            cols = {c: avail[c] for c in features}
    except TableError:
        raise
    except Exception as exc:  # pandas/pyarrow/uproot each raise their own types on corrupt input
        raise TableError(f"cannot read {p.name}: {type(exc).__name__}: {exc}") from None
    try:
        x = np.column_stack([np.asarray(cols[c], dtype=np.float64) for c in features])
    except (TypeError, ValueError) as exc:
        raise TableError(f"{p.name}: columns {features} are not numeric per event ({exc})") from None
    if process is not None:
        if suffix != ".root":
            raise TableError(f"{p.name}: `process` selection works on hepilot jet samples (.root) only")
        x = x[_process_mask(p, process, np.asarray(cols["label"]))]
    good = np.isfinite(x).all(axis=1)
    if not good.all():
        log.warning("%s: dropped %d events with NaN/inf features", p.name, int((~good).sum()))
        x = x[good]
    if max_events is not None:
        x = x[:max_events]
    return x
