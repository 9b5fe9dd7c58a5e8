"""The KPI read model: every shift's latest ShiftKpi in numpy columns, in one block per month.

Readers (the HTTP API and dashboard, the monthly report) follow views.kpi from the beginning, as any
consumer of the view would, and keep the record with the highest revision per shift. Figures are
sums over the columns (:mod:`.query`), so a changed record replaces the shift's row and every
figure follows, whichever period it moved from or to.

Why columns in month blocks: a year of ten trusts is ~2 million shifts. Python objects per shift would
cost gigabytes and a full scan per question tens of milliseconds; numpy columns of small integers cost
about a hundred bytes per shift, and a question about a period touches only the months it spans. Each
block counts its changes (``version``), so an answer computed for a month that has not changed since is
reused (:class:`.query.KpiQueries` caches per block), and live updates only invalidate the current
month. A shift re-timed into another month leaves a dead row behind in the old block (``alive`` false);
blocks compact themselves when half their rows are dead.

Money is kept in pence (int64): every amount on the record has two decimal places, so sums are exact and
turned back into Decimal at the edge. Not thread-safe: one event loop applies and queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from rosterhub.events.base import symbol

__all__ = ["DIMS", "Block", "Interner", "KpiStore", "day_number", "month_key"]

_EPOCH = date(1970, 1, 1)

#: Coded (interned) dimensions: column name -> numpy dtype.
DIMS: dict[str, Any] = {
    "collaborative": np.int16,
    "host": np.int16,
    "site": np.int16,
    "ward": np.int32,
    "staff_group": np.int16,
    "grade": np.int16,
    "shift_type": np.int16,
    "tier": np.int16,
    "fill_tier": np.int16,
    "membership": np.int16,
    "home": np.int16,
    "person": np.int32,
}
_COLUMNS: dict[str, Any] = {
    **DIMS,
    "alive": np.bool_,
    "revision": np.int64,
    "day": np.int32,
    "week": np.int32,
    "start_ms": np.int64,
    "minutes": np.int32,
    "posted": np.bool_,
    "withdrawn": np.bool_,
    "filled": np.bool_,
    "ttf": np.int64,
    "cost": np.int64,
    "cost_known": np.bool_,
    "above": np.int64,
    "savings": np.int64,
    "savings_known": np.bool_,
    "framework": np.int8,
    "break_glass": np.bool_,
    "moonlighting": np.bool_,
    "no_show": np.bool_,
}
_OBJECTS = ("shift_id", "booking_id", "authoriser")
#: Outcome rows: rejections (one row per reason code, ``first`` on the booking's first), cancellations, no-shows.
REJECTION, CANCELLATION, NO_SHOW = 0, 1, 2
_OUTCOMES: dict[str, Any] = {
    "slot": np.int32,
    "kind": np.int8,
    "code": np.int16,
    "first": np.bool_,
    "late": np.bool_,
    "by": np.int16,
    "alive": np.bool_,
}


def day_number(d: date) -> int:
    return (d - _EPOCH).days


def month_key(d: date) -> int:
    return d.year * 100 + d.month


def _pence(v: Decimal | None) -> int:
    return 0 if v is None else int((v * 100).to_integral_value())


class Interner:
    """Small integer codes for the values of one dimension (-1: none)."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.values: list[str] = []

    def code(self, value: str | None) -> int:
        if value is None:
            return -1
        found = self.codes.get(value)
        if found is None:
            found = self.codes[value] = len(self.values)
            self.values.append(value)
        return found

    def get(self, value: str) -> int | None:
        return self.codes.get(value)

    def value(self, code: int) -> str | None:
        return None if code < 0 else self.values[code]


class _Table:
    """Growable numpy columns (capacity doubles); ``n`` rows used."""

    def __init__(self, columns: dict[str, Any], objects: Iterable[str] = (), capacity: int = 256) -> None:
        self.n = 0
        self.cols: dict[str, np.ndarray] = {k: np.zeros(capacity, dtype=t) for k, t in columns.items()}
        for name in objects:
            self.cols[name] = np.empty(capacity, dtype=object)

    def append(self) -> int:
        cap = len(self.cols["alive"])
        if self.n == cap:
            for k, a in self.cols.items():
                grown = np.empty(cap * 2, dtype=a.dtype) if a.dtype == object else np.zeros(cap * 2, dtype=a.dtype)
                grown[:cap] = a
                self.cols[k] = grown
        self.n += 1
        return self.n - 1

    def view(self, name: str) -> np.ndarray:
        return self.cols[name][: self.n]


@dataclass
class Block:
    """The shifts of one Europe/London month."""

    month: int
    rows: _Table = field(default_factory=lambda: _Table(_COLUMNS, _OBJECTS))
    outcomes: _Table = field(default_factory=lambda: _Table(_OUTCOMES, ("booking",)))
    dead: int = 0
    version: int = 0

    def col(self, name: str) -> np.ndarray:
        return self.rows.view(name)

    def out(self, name: str) -> np.ndarray:
        return self.outcomes.view(name)


class KpiStore:
    """Latest ShiftKpi per shift (month blocks) and first-credential instants per person."""

    def __init__(self) -> None:
        self.blocks: dict[int, Block] = {}
        self.where: dict[str, tuple[int, int]] = {}  # shift id -> (month, row)
        self.dims: dict[str, Interner] = {name: Interner() for name in DIMS}
        self.codes = Interner()  # rejection reason codes
        self.parties = Interner()  # cancelling parties
        self.first_credential: dict[str, int] = {}  # person id -> ms
        self.collaboratives: dict[str, str] = {}  # host trust -> its collaborative, as the records say
        self.cleared: dict[tuple[str, str], int] = {}  # (person id, trust) -> earliest decision seen cleared (ms)
        self.version = 0  # bumps on every applied change: what live pages wait for
        self.ready = False

    def __len__(self) -> int:
        return len(self.where)

    # ------------------------------------------------------------------ applying records

    def apply(self, type_: str, record: dict[str, Any]) -> bool:
        """Apply one views.kpi record (decoded Avro); True when it changed the store."""
        if type_.endswith(".PersonKpi"):
            return self._person(record)
        return self._shift(record)

    def _person(self, r: dict[str, Any]) -> bool:
        ms = _ms(r["first_credential_at"])
        held = self.first_credential.get(r["person_id"])
        if held is not None and held <= ms:
            return False
        self.first_credential[r["person_id"]] = ms
        self.version += 1
        return True

    def _shift(self, r: dict[str, Any]) -> bool:
        sid = r["shift_id"]
        at = self.where.get(sid)
        if at is not None and self.blocks[at[0]].col("revision")[at[1]] >= r["revision"]:
            return False
        d: date = r["day"]
        month = month_key(d)
        if at is not None and at[0] != month:
            self._kill(*at)
            at = None
        block = self.blocks.get(month)
        if block is None:
            block = self.blocks[month] = Block(month)
        row = block.rows.append() if at is None else at[1]
        if at is not None:
            self._drop_outcomes(block, row)
        self.where[sid] = (month, row)
        self._write(block, row, r, d)
        if r.get("collaborative"):
            self.collaboratives[r["host_trust"]] = r["collaborative"]
        for c in r.get("cleared") or ():
            key = (c["person_id"], r["host_trust"])
            ms = _ms(c["decided_at"])
            if key not in self.cleared or ms < self.cleared[key]:
                self.cleared[key] = ms
        block.version += 1
        self.version += 1
        if block.dead > 1024 and block.dead * 2 > block.rows.n:
            self._compact(block)
        return True

    def _write(self, block: Block, row: int, r: dict[str, Any], d: date) -> None:
        c, dims = block.rows.cols, self.dims
        fill = r.get("fill")
        day = day_number(d)
        c["alive"][row] = True
        c["revision"][row] = r["revision"]
        c["collaborative"][row] = dims["collaborative"].code(r.get("collaborative"))
        c["host"][row] = dims["host"].code(r["host_trust"])
        c["site"][row] = dims["site"].code(r.get("site"))
        c["ward"][row] = dims["ward"].code(r.get("ward") or None)
        c["staff_group"][row] = dims["staff_group"].code(symbol(r["staff_group"]))
        c["grade"][row] = dims["grade"].code(r.get("grade") or None)
        c["shift_type"][row] = dims["shift_type"].code(symbol(r["kpi_shift_type"]))
        c["tier"][row] = dims["tier"].code(symbol(r["tier"]))
        c["day"][row] = day
        c["week"][row] = day - d.weekday()
        c["start_ms"][row] = _ms(r["start"])
        c["minutes"][row] = r["paid_minutes"]
        c["posted"][row] = r["posted"]
        c["withdrawn"][row] = r["withdrawn"]
        c["shift_id"][row] = r["shift_id"]
        c["filled"][row] = fill is not None
        if fill is None:
            for name in ("fill_tier", "membership", "home", "person", "ttf", "framework"):
                c[name][row] = -1
            for name in ("cost", "above", "savings"):
                c[name][row] = 0
            for name in ("cost_known", "savings_known", "break_glass", "moonlighting", "no_show"):
                c[name][row] = False
            c["booking_id"][row] = c["authoriser"][row] = None
        else:
            c["fill_tier"][row] = dims["fill_tier"].code(symbol(fill["tier"]))
            c["membership"][row] = dims["membership"].code(symbol(fill["membership"]))
            c["home"][row] = dims["home"].code(fill.get("home_trust"))
            c["person"][row] = dims["person"].code(fill.get("person_id"))
            ttf = fill.get("time_to_fill_s")
            c["ttf"][row] = -1 if ttf is None else ttf
            c["cost"][row] = _pence(fill.get("cost"))
            c["cost_known"][row] = fill.get("cost") is not None
            c["above"][row] = _pence(fill.get("above_cap"))
            c["savings"][row] = _pence(fill.get("savings"))
            c["savings_known"][row] = fill.get("savings") is not None
            approved = fill.get("framework_approved")
            c["framework"][row] = -1 if approved is None else int(approved)
            c["break_glass"][row] = bool(fill.get("break_glass"))
            c["moonlighting"][row] = bool(fill.get("moonlighting"))
            c["no_show"][row] = bool(fill.get("no_show"))
            c["booking_id"][row] = fill["booking_id"]
            c["authoriser"][row] = fill.get("break_glass_authoriser")
        for rej in r.get("rejections") or ():
            for i, code in enumerate(rej["reason_codes"] or ["UNKNOWN"]):
                self._outcome(block, row, REJECTION, rej["booking_id"], code=self.codes.code(code), first=i == 0)
        for can in r.get("cancellations") or ():
            by = self.parties.code(symbol(can["cancelled_by"]))
            self._outcome(block, row, CANCELLATION, can["booking_id"], late=bool(can["late"]), by=by)
        for booking in r.get("no_shows") or ():
            self._outcome(block, row, NO_SHOW, booking)

    def _outcome(
        self,
        block: Block,
        row: int,
        kind: int,
        booking: str,
        *,
        code: int = -1,
        first: bool = True,
        late: bool = False,
        by: int = -1,
    ) -> None:
        o = block.outcomes
        i = o.append()
        c = o.cols
        c["slot"][i], c["kind"][i], c["code"][i], c["first"][i] = row, kind, code, first
        c["late"][i], c["by"][i], c["alive"][i], c["booking"][i] = late, by, True, booking

    def _drop_outcomes(self, block: Block, row: int) -> None:
        slots = block.out("slot")
        block.out("alive")[slots == row] = False

    def _kill(self, month: int, row: int) -> None:
        block = self.blocks[month]
        block.col("alive")[row] = False
        self._drop_outcomes(block, row)
        block.dead += 1
        block.version += 1

    def _compact(self, block: Block) -> None:
        """Rewrite a block without its dead rows (and their outcomes), renumbering rows."""
        keep = np.nonzero(block.col("alive"))[0]
        fresh = Block(block.month, version=block.version + 1)
        remap = np.full(block.rows.n, -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        size = max(256, len(keep))
        fresh.rows = _Table(_COLUMNS, _OBJECTS, capacity=size)
        for k in fresh.rows.cols:
            fresh.rows.cols[k][: len(keep)] = block.col(k)[keep]
        fresh.rows.n = len(keep)
        alive = np.nonzero(block.out("alive"))[0]
        fresh.outcomes = _Table(_OUTCOMES, ("booking",), capacity=max(256, len(alive)))
        for k in fresh.outcomes.cols:
            fresh.outcomes.cols[k][: len(alive)] = block.out(k)[alive]
        fresh.outcomes.n = len(alive)
        fresh.outcomes.cols["slot"][: len(alive)] = remap[block.out("slot")[alive]]
        for row in range(len(keep)):
            self.where[fresh.rows.cols["shift_id"][row]] = (block.month, row)
        self.blocks[block.month] = fresh

    # ------------------------------------------------------------------ lookups for queries

    def collaborative_of(self, trust: str) -> str | None:
        return self.collaboratives.get(trust)

    def code_of(self, dim: str, value: str) -> int:
        """The code of ``value`` in ``dim``; -2 (matches nothing) when never seen."""
        found = self.dims[dim].get(value)
        return -2 if found is None else found

    def months(self, start: date, end: date) -> list[Block]:
        """Blocks of the months overlapping [start, end)."""
        lo, hi = month_key(start), month_key(end)
        return [b for m, b in sorted(self.blocks.items()) if lo <= m <= hi]


def _ms(v: datetime | int) -> int:
    if isinstance(v, int):
        return v
    if v.tzinfo is None:
        v = v.replace(tzinfo=UTC)
    return int(v.timestamp() * 1000)
