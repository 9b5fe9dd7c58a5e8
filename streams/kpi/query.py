"""The KPI questions asked of the read model: headline figures, trends, splits, matrix, drill-down.

Every question takes a :class:`KpiFilter` (collaborative, period, trusts, staff groups, shift types,
grades, wards) that the caller's :class:`Scope` has already narrowed (:mod:`.access`). Partials are
computed per month block and cached by (block, block version, the filter as clipped to that month,
grouping): a past month answers from the cache until one of its shifts changes, so a year's trend
costs about one month's work (docs/benchmarks.md).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from rosterhub.instants import LONDON, to_ms
from rosterhub.streams.kpi.aggregate import Partial, block_partials, figures, merge, nearest_rank
from rosterhub.streams.kpi.store import Block, Interner, KpiStore, day_number

__all__ = ["GRAINS", "GROUPS", "KpiFilter", "KpiQueries", "period_of"]

_EPOCH = date(1970, 1, 1)
GRAINS = ("day", "week", "month")
#: Groupings a split may use: name -> store column (coded dimension).
GROUPS = {
    "trust": "host",
    "home_trust": "home",
    "staff_group": "staff_group",
    "shift_type": "shift_type",
    "grade": "grade",
    "ward": "ward",
    "site": "site",
    "tier": "fill_tier",
    "membership": "membership",
}
#: Filter fields -> store column.
_FILTERS = {
    "trusts": "host",
    "staff_groups": "staff_group",
    "shift_types": "shift_type",
    "grades": "grade",
    "wards": "ward",
    "sites": "site",
}


@dataclass(frozen=True)
class KpiFilter:
    """Which shifts a figure counts: the period is [start, end) of Europe/London days of the shift start."""

    start: date
    end: date
    collaborative: str | None = None
    trusts: frozenset[str] | None = None
    staff_groups: frozenset[str] | None = None
    shift_types: frozenset[str] | None = None
    grades: frozenset[str] | None = None
    wards: frozenset[str] | None = None
    sites: frozenset[str] | None = None

    def clipped(self, month: int) -> KpiFilter:
        first = date(month // 100, month % 100, 1)
        after = (first + timedelta(days=32)).replace(day=1)
        return replace(self, start=max(self.start, first), end=min(self.end, after))


def period_of(text: str) -> tuple[date, date]:
    """``2026-11`` (a month), ``2026-W45`` (an ISO week) or ``2026-11-10`` (a day) -> [start, end)."""
    if "W" in text:
        year, week = text.split("-W")
        start = date.fromisocalendar(int(year), int(week), 1)
        return start, start + timedelta(days=7)
    parts = text.split("-")
    if len(parts) == 2:
        start = date(int(parts[0]), int(parts[1]), 1)
        return start, (start + timedelta(days=32)).replace(day=1)
    day = date.fromisoformat(text)
    return day, day + timedelta(days=1)


class KpiQueries:
    """Questions over one :class:`KpiStore`, with a per-block cache of partials."""

    def __init__(self, store: KpiStore, cache_size: int = 4096) -> None:
        self.store = store
        self._cache: OrderedDict[tuple[int, int, KpiFilter, str], dict[Any, Partial]] = OrderedDict()
        self._cache_size = cache_size

    # ------------------------------------------------------------------ selection

    def _mask(self, block: Block, f: KpiFilter) -> np.ndarray:
        s = self.store
        day = block.col("day")
        mask = block.col("alive") & (day >= day_number(f.start)) & (day < day_number(f.end))
        if f.collaborative is not None:
            mask &= block.col("collaborative") == s.code_of("collaborative", f.collaborative)
        for name, column in _FILTERS.items():
            values = getattr(f, name)
            if values is not None:
                codes = [s.code_of(column, v) for v in values]
                mask &= np.isin(block.col(column), codes)
        return mask

    def _partials(self, f: KpiFilter, grouping: str) -> dict[Any, Partial]:
        """Partials per group label over every block of the period, merged."""
        found: dict[Any, list[Partial]] = {}
        for block in self.store.months(f.start, f.end - timedelta(days=1)):
            clipped = f.clipped(block.month)
            if clipped.start >= clipped.end:
                continue
            key = (block.month, block.version, clipped, grouping)
            parts = self._cache.get(key)
            if parts is None:
                parts = self._compute(block, clipped, grouping)
                self._cache[key] = parts
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(key)
            for label, p in parts.items():
                found.setdefault(label, []).append(p)
        return {label: merge(ps) for label, ps in found.items()}

    def _compute(self, block: Block, f: KpiFilter, grouping: str) -> dict[Any, Partial]:
        mask = self._mask(block, f)
        labels: list[Any]  # the group labels: ISO dates, trusts, ..., None for "none" (code -1)
        if grouping == "all":
            group, labels = np.zeros(block.rows.n, dtype=np.int64), ["all"]
        elif grouping in GRAINS:
            group, labels = _time_groups(block, grouping)
        else:
            column = GROUPS[grouping]
            codes = block.col(column).astype(np.int64)
            interner = self.store.dims[column]
            labels = [*interner.values, None]  # code -1 (none) is the last label
            group = np.where(codes < 0, len(labels) - 1, codes)
        parts = block_partials(self.store, block, mask, group, labels)
        return {label: p for label, p in parts.items() if p.counts["posted"] or p.counts["rejections"]}

    # ------------------------------------------------------------------ questions

    def summary(self, f: KpiFilter) -> dict[str, Any]:
        """The headline figures of the period."""
        parts = self._partials(f, "all")
        result = figures(parts.get("all") or Partial())
        result["time_to_clearance"] = self.clearance(f)
        return result

    def series(self, f: KpiFilter, grain: str) -> list[dict[str, Any]]:
        """The headline figures per day, week (Monday) or month of the period, oldest first."""
        parts = self._partials(f, grain)
        return [{"period": label, **figures(parts[label])} for label in sorted(parts)]

    def split(self, f: KpiFilter, by: str, relabel: Callable[[Any], Any] | None = None) -> list[dict[str, Any]]:
        """The headline figures per value of a dimension (trust, staff_group, shift_type, tier, ...); ``relabel``
        merges values (a workforce lead's split by trust: their own trust and all others as one row)."""
        parts = self._partials(f, by)
        if relabel is not None:
            merged: dict[Any, list[Partial]] = {}
            for label, p in parts.items():
                merged.setdefault(relabel(label), []).append(p)
            parts = {label: merge(ps) for label, ps in merged.items()}
        return [{by: label, **figures(parts[label])} for label in sorted(parts, key=lambda x: (x is None, x or ""))]

    def migration(self, f: KpiFilter) -> dict[str, Any]:
        """Home trust x host trust: filled shifts and distinct people, overall and per shift type."""
        d = self.store.dims
        keys, people = [], []
        for block in self.store.months(f.start, f.end - timedelta(days=1)):
            mask = self._mask(block, f.clipped(block.month)) & block.col("filled") & ~block.col("withdrawn")
            rows = np.nonzero(mask)[0]
            if len(rows):
                # One integer per (home, host, shift type) cell: codes shifted into their own bit ranges.
                homes = block.col("home")[rows].astype(np.int64) + 1  # -1 (unknown) -> 0
                key = (homes << 40) | (block.col("host")[rows].astype(np.int64) << 20) | block.col("shift_type")[rows]
                keys.append(key)
                people.append(block.col("person")[rows].astype(np.int64))
        if not keys:
            return {"cells": [], "by_shift_type": []}
        key, person = np.concatenate(keys), np.concatenate(people)
        cells, shifts = np.unique(key, return_counts=True)
        known = person >= 0
        people_per_cell = _distinct_per(key[known], person[known])

        def names(k: int) -> tuple[str, str, str]:
            home = d["home"].value(int(k >> 40) - 1) or "UNKNOWN"
            return home, d["host"].value(int((k >> 20) & 0xFFFFF)) or "", d["shift_type"].value(int(k & 0xFFFFF)) or ""

        by_type = []
        totals: dict[tuple[str, str], int] = {}
        for k, n in zip(cells.tolist(), shifts.tolist(), strict=True):
            home, host, kind = names(k)
            people_n = int(people_per_cell.get(k, 0))
            by_type.append(
                {"home_trust": home, "host_trust": host, "shift_type": kind, "shifts": n, "people": people_n}
            )
            totals[(home, host)] = totals.get((home, host), 0) + n
        # People per (home, host) over every shift type: distinct across the types, not summed.
        per_pair = _distinct_per(key[known] >> 20, person[known])
        people_of = {
            (d["home"].value((int(pk) >> 20) - 1) or "UNKNOWN", d["host"].value(int(pk) & 0xFFFFF) or ""): int(n)
            for pk, n in per_pair.items()
        }
        overall = [
            {"home_trust": h, "host_trust": t, "shifts": n, "people": people_of.get((h, t), 0)}
            for (h, t), n in sorted(totals.items())
        ]
        return {
            "cells": overall,
            "by_shift_type": sorted(by_type, key=lambda c: (c["home_trust"], c["host_trust"], c["shift_type"])),
        }

    def open_now(self, f: KpiFilter, now: datetime) -> list[dict[str, Any]]:
        """Shifts needed, not filled and not yet started, per current release tier (the period is ignored)."""
        now_ms = int(now.timestamp() * 1000)
        counts: dict[str, int] = {}
        today = now.astimezone(LONDON).date()
        g = replace(f, start=min(f.start, today - timedelta(days=1)), end=date(9999, 1, 1))
        for block in self.store.months(today - timedelta(days=1), date(9998, 12, 1)):
            mask = self._mask(block, g.clipped(block.month))
            mask &= block.col("posted") & ~block.col("withdrawn") & ~block.col("filled")
            mask &= block.col("start_ms") > now_ms
            tiers, n = np.unique(block.col("tier")[mask], return_counts=True)
            for code, k in zip(tiers.tolist(), n.tolist(), strict=True):
                tier = self.store.dims["tier"].value(code) or "UNKNOWN"
                counts[tier] = counts.get(tier, 0) + k
        return [{"tier": t, "open_shifts": n} for t, n in sorted(counts.items())]

    def clearance(self, f: KpiFilter) -> dict[str, Any]:
        """Time from a person's first credential to the first decision that had them cleared at a trust."""
        s = self.store
        start_ms = _london_ms(f.start)
        end_ms = _london_ms(f.end)
        values = []
        for (person, trust), cleared in s.cleared.items():
            if not start_ms <= cleared < end_ms or (f.trusts is not None and trust not in f.trusts):
                continue
            first = s.first_credential.get(person)
            if first is not None:
                values.append(max(0, (cleared - first) // 1000))
        arr = np.array(values, dtype=np.int64)
        return {"cleared": len(arr), "p50_s": nearest_rank(arr, 50), "p90_s": nearest_rank(arr, 90)}

    def shifts(self, f: KpiFilter, metric: str, limit: int = 200, offset: int = 0) -> dict[str, Any]:
        """The shifts behind a figure, by day: shift and booking ids and dimensions, never a name."""
        pick = DRILL[metric]
        found: list[tuple[Block, np.ndarray]] = []
        for block in self.store.months(f.start, f.end - timedelta(days=1)):
            mask = self._mask(block, f.clipped(block.month)) & pick(self.store, block)
            rows = np.nonzero(mask)[0]
            if metric == "cross_trust" and len(rows):
                rows = np.array([r for r in rows.tolist() if _cross(self.store, block, r)], dtype=np.int64)
            if len(rows):
                found.append((block, rows[np.argsort(block.col("day")[rows], kind="stable")]))
        total = sum(len(rows) for _, rows in found)
        out: list[dict[str, Any]] = []
        skip = offset
        for block, rows in found:  # blocks are in month order, rows in day order
            if skip >= len(rows):
                skip -= len(rows)
                continue
            for r in rows[skip : skip + limit - len(out)].tolist():
                out.append(_shift_row(block, r, self.store.dims))
            skip = 0
            if len(out) >= limit:
                break
        return {"metric": metric, "total": total, "offset": offset, "shifts": out}

    def break_glass(self, f: KpiFilter) -> list[dict[str, Any]]:
        """Every break-glass fill of the period with who authorised it (a staff user id)."""
        rows = self.shifts(f, "break_glass", limit=100_000)["shifts"]
        return [{k: r[k] for k in ("day", "host_trust", "shift_id", "booking_id", "authoriser")} for r in rows]


def _distinct_per(key: np.ndarray, person: np.ndarray) -> dict[int, int]:
    """Distinct people per key, with one sort (no unique over rows of pairs, which is several times slower)."""
    if not len(key):
        return {}
    order = np.lexsort((person, key))
    k, p = key[order], person[order]
    first = np.ones(len(k), dtype=bool)
    first[1:] = (k[1:] != k[:-1]) | (p[1:] != p[:-1])
    keys, counts = np.unique(k[first], return_counts=True)
    return dict(zip(keys.tolist(), counts.tolist(), strict=True))


def _cross(s: KpiStore, b: Block, r: int) -> bool:
    return s.dims["home"].value(int(b.col("home")[r])) != s.dims["host"].value(int(b.col("host")[r]))


def _london_ms(d: date) -> int:
    return to_ms(datetime(d.year, d.month, d.day, tzinfo=LONDON))


def _time_groups(block: Block, grain: str) -> tuple[np.ndarray, list[str]]:
    """Group codes per row for day/week/month, and their labels (ISO dates: the day, Monday, first of month)."""
    if grain == "month":
        return np.zeros(block.rows.n, dtype=np.int64), [date(block.month // 100, block.month % 100, 1).isoformat()]
    col = block.col("day" if grain == "day" else "week")
    values, group = np.unique(col, return_inverse=True)
    return group.astype(np.int64), [(_EPOCH + timedelta(days=int(v))).isoformat() for v in values]


def _shift_row(block: Block, r: int, d: dict[str, Interner]) -> dict[str, Any]:
    c = block.rows.cols
    day = _EPOCH + timedelta(days=int(c["day"][r]))
    return {
        "shift_id": c["shift_id"][r],
        "booking_id": c["booking_id"][r],
        "day": day.isoformat(),
        "host_trust": d["host"].value(int(c["host"][r])),
        "home_trust": d["home"].value(int(c["home"][r])),
        "ward": d["ward"].value(int(c["ward"][r])),
        "staff_group": d["staff_group"].value(int(c["staff_group"][r])),
        "grade": d["grade"].value(int(c["grade"][r])),
        "shift_type": d["shift_type"].value(int(c["shift_type"][r])),
        "tier": d["fill_tier"].value(int(c["fill_tier"][r])) or d["tier"].value(int(c["tier"][r])),
        "membership": d["membership"].value(int(c["membership"][r])),
        "paid_hours": round(int(c["minutes"][r]) / 60, 2),
        "time_to_fill_s": None if c["ttf"][r] < 0 else int(c["ttf"][r]),
        "cost": None if not c["cost_known"][r] else f"{int(c['cost'][r]) / 100:.2f}",
        "authoriser": c["authoriser"][r],
    }


def _needed(b: Block) -> np.ndarray:
    needed: np.ndarray = b.col("posted") & ~b.col("withdrawn")  # numpy types its operators' results as Any
    return needed


def _filled(b: Block) -> np.ndarray:
    filled: np.ndarray = _needed(b) & b.col("filled")
    return filled


def _membership(value: str) -> Callable[[KpiStore, Block], np.ndarray]:
    def pick(s: KpiStore, b: Block) -> np.ndarray:
        picked: np.ndarray = _filled(b) & (b.col("membership") == s.code_of("membership", value))
        return picked

    return pick


#: Drill-down metrics: which rows of a block stand behind a figure.
DRILL: dict[str, Callable[[KpiStore, Block], np.ndarray]] = {
    "posted": lambda s, b: b.col("posted"),
    "needed": lambda s, b: _needed(b),
    "filled": lambda s, b: _filled(b),
    "unfilled": lambda s, b: _needed(b) & ~b.col("filled"),
    "withdrawn": lambda s, b: b.col("posted") & b.col("withdrawn"),
    "bank": _membership("BANK"),
    "agency": _membership("AGENCY"),
    "cross_trust": lambda s, b: _filled(b) & (b.col("home") >= 0),  # narrowed to home != host in shifts()
    "break_glass": lambda s, b: _filled(b) & b.col("break_glass"),
    "above_cap": lambda s, b: _filled(b) & (b.col("above") > 0) & ~b.col("no_show"),
    "framework_not_approved": lambda s, b: _filled(b) & (b.col("framework") == 0),
    "moonlighting": lambda s, b: _filled(b) & b.col("moonlighting"),
    "no_show": lambda s, b: _filled(b) & b.col("no_show"),
}
