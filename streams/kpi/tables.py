"""KPI answers as flat tables: the CSV the API serves and the report attaches, one column per figure.

Nested figures become dotted column names (``time_to_fill.p50_s``, ``rejections_by_reason.GRADE_MISMATCH``);
every row of a table has every column (empty where a row has no such figure), in first-seen order.
"""

from __future__ import annotations

import csv
import io
from typing import Any

__all__ = ["flatten", "table", "to_csv"]


def flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in value.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, name + "."))
        else:
            out[name] = v
    return out


def table(rows: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Column names (first-seen order) and flattened rows."""
    flat = [flatten(r) for r in rows]
    columns: dict[str, None] = {}
    for r in flat:
        columns.update(dict.fromkeys(r))
    return list(columns), flat


def to_csv(rows: list[dict[str, Any]]) -> str:
    columns, flat = table(rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    for r in flat:
        writer.writerow({k: "" if v is None else v for k, v in r.items()})
    return buf.getvalue()
