"""Metadata filters for retrieval: validation, the Chroma `where` clause and the same test on arrays.

A filter is a dict field -> condition. A condition is a value (equality), a list (any of) or a
dict of operators {"$gte": 2019, "$lte": 2022, "$ne": ..., "$in": [...], "$nin": [...]}.
Fields: source_type ("method_card", "detector_card", "reference_card", "pdf", "markdown",
"latex", "text"), experiment ("ATLAS", "CMS", ...; case-insensitive), year, arxiv_id, tool, source.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from hepilot.errors import closest
from hepilot.knowledge.documents import canonical_experiment

__all__ = ["FILTER_FIELDS", "SOURCE_TYPES", "normalize_filters", "to_chroma_where", "filter_mask"]

FILTER_FIELDS: dict[str, type] = {"source_type": str, "experiment": str, "year": int, "arxiv_id": str,
                                  "tool": str, "source": str}
SOURCE_TYPES = ("method_card", "detector_card", "reference_card", "pdf", "markdown", "latex", "text")
_OPS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin")


def _coerce(field: str, value: Any) -> Any:
    kind = FILTER_FIELDS[field]
    if isinstance(value, list):
        return [_coerce(field, v) for v in value]
    try:
        value = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"filter '{field}' needs {kind.__name__} values, got {value!r}") from None
    return canonical_experiment(value) if field == "experiment" else value


def normalize_filters(filters: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """{field: {op: value}} with types checked; ValueError names the bad field and the valid ones."""
    out: dict[str, dict[str, Any]] = {}
    for field, cond in (filters or {}).items():
        if field not in FILTER_FIELDS:
            near = closest(field, FILTER_FIELDS)
            hint = f" Did you mean {', '.join(near)}?" if near else ""
            raise ValueError(f"unknown filter field '{field}'; valid fields: {', '.join(FILTER_FIELDS)}.{hint}")
        if cond is None:
            continue
        if isinstance(cond, dict):
            bad = [op for op in cond if op not in _OPS]
            if bad:
                raise ValueError(f"filter '{field}': unknown operator {bad[0]!r}; use one of {', '.join(_OPS)}")
            ops = {op: _coerce(field, v) for op, v in cond.items()}
        elif isinstance(cond, (list, tuple)):
            ops = {"$in": _coerce(field, list(cond))}
        else:
            ops = {"$eq": _coerce(field, cond)}
        if field == "source_type":
            for v in (ops.get("$eq"), *ops.get("$in", [])):
                if v is not None and v not in SOURCE_TYPES:
                    raise ValueError(f"filter 'source_type': unknown value {v!r}; valid: {', '.join(SOURCE_TYPES)}")
        if ops:
            out[field] = ops
    return out


def to_chroma_where(filters: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The Chroma `where` clause of normalised filters (None when empty)."""
    clauses = [{field: {op: value}} for field, ops in filters.items() for op, value in ops.items()]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def filter_mask(columns: dict[str, np.ndarray], n: int, filters: dict[str, dict[str, Any]]) -> np.ndarray:
    """Boolean mask over n chunks; `columns[field]` holds each chunk's value (None when missing)."""
    mask = np.ones(n, dtype=bool)
    for field, ops in filters.items():
        col = columns.get(field)
        if col is None:
            return np.zeros(n, dtype=bool)
        present = np.array([v is not None for v in col], dtype=bool)
        for op, value in ops.items():
            if op == "$eq":
                hit = col == value
            elif op == "$ne":
                hit = col != value
            elif op in ("$in", "$nin"):
                hit = np.isin(col, np.array(value, dtype=object))
                hit = ~hit if op == "$nin" else hit
            else:
                numeric = np.array([v if isinstance(v, (int, float)) else np.nan for v in col], dtype=float)
                with np.errstate(invalid="ignore"):
                    hit = {"$gt": numeric > value, "$gte": numeric >= value, "$lt": numeric < value,
                           "$lte": numeric <= value}[op]
            mask &= np.asarray(hit, dtype=bool) & (present | (op in ("$ne", "$nin")))
    return mask
