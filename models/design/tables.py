"""Event tables for the analysis loop: numeric columns read from ROOT (first TTree), CSV or Parquet files.

One row per event. A column named `weight` (expected events per row at the target luminosity)
is taken as the event weight; without it every row weighs total / rows, with `total` the expected
number of events of the sample given by the caller.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["read_table", "WEIGHT"]

WEIGHT = "weight"


def read_table(path: str | Path) -> dict[str, np.ndarray]:
    """Numeric 1-D columns of a .root, .csv or .parquet file; ValueError names the problem."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"no file at {p}")
    suffix = p.suffix.lower()
    if suffix == ".root":
        import uproot

        try:
            with uproot.open(p) as f:
                trees = [k for k, cls in f.classnames().items() if cls.startswith("TTree")]
                if not trees:
                    raise ValueError(f"{p} has no TTree")
                arrays = f[trees[0]].arrays(library="np")
        except ValueError:
            raise
        except Exception as exc:  # uproot raises many types on damaged files
            raise ValueError(f"{p} is not a readable ROOT file ({type(exc).__name__}: {exc})") from None
    elif suffix in (".csv", ".parquet"):
        import pandas as pd

        try:
            frame = pd.read_csv(p) if suffix == ".csv" else pd.read_parquet(p)
        except Exception as exc:  # pandas raises parser-specific types
            raise ValueError(f"{p} is not a readable {suffix[1:]} file ({type(exc).__name__}: {exc})") from None
        arrays = {c: frame[c].to_numpy() for c in frame.columns}
    else:
        raise ValueError(f"{p}: unsupported table format {suffix!r}; use .root, .csv or .parquet")
    cols = {k: np.asarray(v, dtype=float) for k, v in arrays.items()
            if isinstance(v, np.ndarray) and v.ndim == 1 and np.issubdtype(v.dtype, np.number)}
    if not cols:
        raise ValueError(f"{p} has no numeric columns")
    return cols
