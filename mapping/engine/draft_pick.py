"""Which vendor field fits which event field: by name, by kind, by the values it holds (``mapping draft``).

Pure helpers of :mod:`.draft`. A field's name is read as words (``RosterLocation`` is
``roster location``, ``start_time`` is ``start time``) and compared with the words vendor
exports use for each canonical field (:data:`HINTS`); when no name fits (a pipe file's
unnamed fields, a cryptic column), the field whose kind fits is taken (the first date, the
first two local times), or the text whose values spell canonical codes (``Band 5``,
``Nursing and Midwifery Registered``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rosterhub.events.codes import GRADES
from rosterhub.events.models.common import StaffGroup
from rosterhub.mapping.engine.sniff import Field, Sample

__all__ = ["ENUM_KINDS", "HINTS", "canonical", "flat", "pick", "pick_among", "words"]

#: Words that name a canonical field in vendor exports, strongest first.
HINTS: dict[str, tuple[str, ...]] = {
    "id": (
        "shift ref",
        "shift id",
        "duty id",
        "session id",
        "booking ref",
        "booking reference",
        "reference",
        "ref",
        "id",
    ),
    "trust": ("trust code", "trust", "trust ods", "organisation ods", "ods code", "organisation", "org code", "ods"),
    "ward": ("ward", "department", "roster location", "location", "unit", "service"),
    "staff_group": ("staff group", "profession", "discipline"),
    "grade": ("grade", "band"),
    "shift_type": ("shift type", "shift code", "shift"),
    "start": ("start time", "start", "from", "begin"),
    "end": ("end time", "end", "to", "finish", "until"),
    "date": ("shift date", "duty date", "date", "day"),
    "times": ("times", "hours", "time"),
    "break_minutes": ("unpaid break", "break minutes", "break"),
    "hourly_rate": ("hourly rate", "pay rate", "rate", "pay"),
    "cost_centre": ("cost centre", "cost center", "cost code"),
    "site": ("site code", "site ods", "site"),
    "notes": ("notes", "comments", "comment"),
    "posted_at": ("posted", "created", "last changed", "changed", "updated"),
    "version": ("version", "revision"),
    "tier": ("visibility", "tier", "escalation", "release"),
}
ENUM_KINDS = ("text", "ods", "integer")
_STAFF_GROUPS = [g.value for g in StaffGroup if g.value != "OTHER"]


@dataclass(frozen=True, slots=True)
class _Pick:
    field: Field
    score: int


def words(path: str) -> str:
    """A field's name as words: ``RosterLocation."#text"`` -> ``roster location``, ``start_time`` -> ``start time``."""
    parts = [p.strip('"') for p in re.findall(r'"[^"]*"|[^.]+', path)]
    parts = [p for p in parts if p not in ("#text",)] or parts
    name = parts[-1]
    if name.startswith("@"):
        name = name[1:]
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name.lower()).split())


def pick(
    sample: Sample, hint: str, kinds: Iterable[str] | None = None, *, avoid: set[str] | None = None
) -> Field | None:
    """The field whose name best matches the hints for ``hint`` (and, when given, is of one of ``kinds``)."""
    best: _Pick | None = None
    wanted = set(kinds) if kinds is not None else None
    for f in sample.fields:
        if (avoid and f.path in avoid) or (wanted is not None and f.kind not in wanted) or f.kind == "empty":
            continue
        said = words(f.path)
        for rank, phrase in enumerate(HINTS[hint]):
            exact = said == phrase
            inside = re.search(rf"\b{re.escape(phrase)}\b", said) is not None
            if exact or inside:
                score = (100 if exact else 50) - rank - (0 if "." not in f.path else 1)
                if best is None or score > best.score:
                    best = _Pick(f, score)
                break
    if best is not None:
        return best.field
    return _by_content(sample, hint, wanted, avoid or set())


#: Canonical codes a field's values are compared with when its name says nothing (pipe fields, cryptic columns).
_VALUE_HINTS: dict[str, list[str]] = {"grade": sorted(GRADES.codes)}
_KIND_HINTS = {"id": None, "trust": "ods", "date": "date", "start": "time", "end": "time", "hourly_rate": "money"}


def _by_content(sample: Sample, hint: str, wanted: set[str] | None, avoid: set[str]) -> Field | None:
    """When no name fits: the field whose kind or values do (the first date, the first two local times,
    the text whose values spell canonical grades or staff groups), for exports whose names say nothing."""
    free = [f for f in sample.fields if f.path not in avoid and f.kind != "empty" and (not wanted or f.kind in wanted)]
    if hint == "id":
        return next((f for f in free if f.unique and f.kind in ("text", "integer")), None)
    if hint in _KIND_HINTS:
        return next((f for f in free if f.kind == _KIND_HINTS[hint]), None)
    symbols = _VALUE_HINTS.get(hint) or (_STAFF_GROUPS if hint == "staff_group" else None)
    if symbols:
        for f in free:
            if (
                f.kind == "text"
                and f.values
                and sum(canonical(v, symbols) is not None for v in f.values) * 2 >= len(f.values)
            ):
                return f
    if hint == "ward":
        text = [f for f in free if f.kind == "text" and f.codes and not _looks_coded(f)]
        return max(text, key=lambda f: sum(len(v) for v in f.values) / len(f.values), default=None)
    return None


def _looks_coded(f: Field) -> bool:
    return any(canonical(v, symbols) for v in f.values for symbols in (_VALUE_HINTS["grade"], _STAFF_GROUPS))


def pick_among(fields: list[Field], sample: Sample) -> Field | None:
    chosen = pick(Sample(sample.format, sample.encoding, sample.records, fields, {}), "id")
    return chosen


def flat(value: Any, path: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(flat(v, f"{path}.{k}" if path else str(k)))
    elif path:
        out[path] = value
    return out


def canonical(value: str, symbols: list[str]) -> str | None:
    """The canonical code a vendor value spells: itself (``night`` -> ``NIGHT``), or the one code whose every
    word it holds (``AfC Band 5`` -> ``BAND_5``, ``Nursing and Midwifery Registered`` ->
    ``NURSING_MIDWIFERY_REGISTERED``)."""
    norm = re.sub(r"[^A-Z0-9]+", "_", value.upper()).strip("_")
    if norm in symbols:
        return norm
    words = set(norm.split("_"))
    found = [s for s in symbols if s != "OTHER" and set(s.split("_")) <= words]
    return found[0] if len(found) == 1 else None
