"""Tables for symbolic regression: CSV, parquet, ROOT TTree branches or a previous tool's output folder.

`load_table(path)` returns named 1-D float columns plus optional metadata from a sidecar file
`<stem>.meta.json` (written by data-producing tools: default target/error/feature columns,
units, an expected form). A previous tool's output is accepted as its result folder or its
`result.json`: the first table among its artifacts is read. Unknown columns raise ColumnError
listing the available columns and the closest names.
"""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Table", "ColumnError", "TableError", "load_table", "TABLE_SUFFIXES", "write_table"]

TABLE_SUFFIXES = (".csv", ".parquet", ".pq", ".root")


class TableError(ValueError):
    """The file is missing, unreadable or holds no numeric columns; the message says which."""


class ColumnError(KeyError):
    """A requested column is not in the table; carries the available and the closest names."""

    def __init__(self, name: str, available: list[str]):
        self.name = name
        self.available = available
        self.close = difflib.get_close_matches(name, available, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(self.close)}?" if self.close else ""
        self.message = f"column {name!r} not found; available columns: {', '.join(available)}.{hint}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass
class Table:
    """Numeric columns by name (all the same length), the file read, and sidecar metadata."""

    columns: dict[str, np.ndarray]
    path: Path
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def column(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise ColumnError(name, list(self.columns))
        return self.columns[name]


def _from_result(path: Path) -> Path:
    """The table artifact of a previous tool's output (folder or result.json)."""
    result = path / "result.json" if path.is_dir() else path
    if result.is_file():
        try:
            artifacts = json.loads(result.read_text()).get("artifacts", {})
        except (json.JSONDecodeError, OSError) as exc:
            raise TableError(f"{result} is not a readable tool result ({exc})") from None
        for p in artifacts.values():
            if Path(p).suffix.lower() in TABLE_SUFFIXES and Path(p).is_file():
                return Path(p)
    if path.is_dir():
        tables = sorted(p for p in path.iterdir() if p.suffix.lower() in TABLE_SUFFIXES)
        if tables:
            return tables[0]
    raise TableError(f"no table ({', '.join(TABLE_SUFFIXES)}) found in {path}")


def _read_root(path: Path, tree: str | None) -> dict[str, np.ndarray]:
    """Flat numeric branches (TTree) or fields (RNTuple) of one tree in a ROOT file."""
    import uproot

    with uproot.open(path) as f:
        trees = [k.split(";")[0] for k, cls in f.classnames().items() if cls in ("TTree", "ROOT::RNTuple")]
        if not trees:
            raise TableError(f"{path} has no TTree")
        name = tree or trees[0]
        if name not in trees:
            near = difflib.get_close_matches(name, trees, n=3)
            raise TableError(f"TTree {name!r} not in {path}; trees: {', '.join(trees)}"
                             + (f". Did you mean {', '.join(near)}?" if near else ""))
        arrays = f[name].arrays(library="np")
        return {str(b): np.asarray(a, dtype=float) for b, a in arrays.items()
                if getattr(a, "dtype", object) != object and np.ndim(a) == 1 and np.issubdtype(a.dtype, np.number)}


def _numeric(df) -> dict[str, np.ndarray]:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return {str(c): np.array(df[c].to_numpy(dtype=float)) for c in df.columns
            if is_numeric_dtype(df[c].dtype) and not is_bool_dtype(df[c].dtype)}


def load_table(path: str | Path, *, tree: str | None = None) -> Table:
    """Read numeric columns from a CSV/parquet/ROOT file or a previous tool's output folder."""
    p = Path(path).expanduser()
    if not p.exists():
        raise TableError(f"{p} does not exist")
    if p.is_dir() or p.name == "result.json":
        p = _from_result(p)
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            import pandas as pd
            df = pd.read_csv(p)
            cols = _numeric(df)
        elif suffix in (".parquet", ".pq"):
            import pandas as pd
            cols = _numeric(pd.read_parquet(p))
        elif suffix == ".root":
            cols = _read_root(p, tree)
        else:
            raise TableError(f"{p}: unsupported file type {suffix!r}; use {', '.join(TABLE_SUFFIXES)}")
    except TableError:
        raise
    except Exception as exc:  # pandas/pyarrow/uproot raise many types for corrupt files
        raise TableError(f"cannot read {p}: {type(exc).__name__}: {exc}") from None
    if not cols:
        raise TableError(f"{p} has no numeric columns")
    meta_path = p.with_suffix(".meta.json")
    meta = {}
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
        except (json.JSONDecodeError, OSError):
            meta = {}
    return Table({str(k): v for k, v in cols.items()}, p, meta)


def write_table(path: Path, columns: dict[str, np.ndarray], *, meta: dict | None = None) -> Path:
    """Write a CSV (or parquet, by suffix) table plus its `<stem>.meta.json` sidecar."""
    import pandas as pd

    df = pd.DataFrame({k: np.asarray(v) for k, v in columns.items()})
    if path.suffix.lower() in (".parquet", ".pq"):
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False, float_format="%.10g")
    if meta is not None:
        path.with_suffix(".meta.json").write_text(json.dumps(meta, indent=1))
    return path
