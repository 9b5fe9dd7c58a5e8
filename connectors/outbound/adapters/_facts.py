"""What every adapter needs to know about an update, read once from the hub event and the shift view.

Adapters differ in how they say things, not in what they read: a booking outcome, a fill, a
cancellation all come down to the same few facts (which shift, whose, which booking, which
worker, when). Reading them here keeps the six adapters to formatting only. Pure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, overload

from rosterhub.connectors.outbound.contract import Update
from rosterhub.instants import LONDON

__all__ = ["REGISTERS", "SHIFT_KINDS", "WORKER_KINDS", "Facts", "facts", "local", "local_id", "short_hash"]

UK_CORE = "https://fhir.hl7.org.uk/Id/"
#: register -> UK Core identifier system (WorkerRef.identifiers)
REGISTERS = {r: f"{UK_CORE}{r}-number" for r in ("gmc", "nmc", "hcpc", "gphc")}
#: The update kinds about a shift and its bookings, which :func:`facts` reads: what a platform that hosts
#: shifts or books workers is told (its adapter adds the kinds it takes besides, e.g. timesheets).
SHIFT_KINDS = frozenset(
    {
        "shift_open",
        "shift_withdrawn",
        "booking_confirmed",
        "booking_rejected",
        "shift_filled",
        "booking_cancelled",
        "no_show",
    }
)
#: The update kinds that name the worker booked (JSON bodies carry :meth:`Facts.worker_json`).
WORKER_KINDS = frozenset({"booking_confirmed", "shift_filled", "booking_cancelled", "no_show"})


def local_id(hub_id: str | None, platform: str) -> str | None:
    """The platform's own id inside a hub id ``<vendor>:<trust>:<id>``, when the id is that platform's."""
    if not hub_id:
        return None
    vendor, sep, rest = hub_id.partition(":")
    trust, sep2, own = rest.partition(":")
    return own if sep and sep2 and vendor == platform and trust and own else None


def short_hash(text: str, n: int = 12) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


@dataclass(frozen=True, slots=True)
class Facts:
    key: str
    kind: str
    at: datetime  # when the hub decided / recorded it (the event's time)
    shift_id: str
    trust: str | None  # host trust ODS code
    vendor: str | None  # host platform
    vendor_shift_id: str | None
    booking_id: str | None
    worker_name: str | None
    worker_ids: Mapping[str, str]  # register (gmc, nmc, ...) or "system:<uri>" -> value
    start: datetime | None
    end: datetime | None
    ward: str | None
    staff_group: str | None
    grade: str | None
    shift_type: str | None
    hourly_rate: Decimal | None
    tier: str | None
    reason_codes: tuple[str, ...]
    shift_reopened: bool
    cancel_reason: str | None
    notice_hours: float | None
    late_fee: bool

    def own_shift(self, platform: str) -> str | None:
        """The platform's id for the shift when it hosts it (else None: a partner's shift offered to it)."""
        return self.vendor_shift_id if self.vendor == platform else None

    def register(self) -> tuple[str, str] | None:
        """The worker's first professional register entry (register, number), if any."""
        for reg in REGISTERS:
            if reg in self.worker_ids:
                return reg, self.worker_ids[reg]
        return None

    def worker_json(self) -> dict[str, str | None]:
        """The worker as the hub's JSON update bodies name them: name, register and number (null if unknown)."""
        register = self.register()
        return {
            "name": self.worker_name,
            "register": register[0] if register else None,
            "registration_number": register[1] if register else None,
        }

    def cancellation_json(self, reason: str | None) -> dict[str, Any]:
        """A cancellation as the hub's JSON update bodies tell it; ``reason`` in the platform's own label."""
        return {
            "reason": reason,
            "shift_reopened": self.shift_reopened,
            "notice_hours": self.notice_hours,
            "late_cancellation_fee": self.late_fee,
        }


def _worker(ref: Mapping[str, Any] | None) -> tuple[str | None, dict[str, str]]:
    if not ref:
        return None, {}
    ids: dict[str, str] = {}
    by_system = {v: k for k, v in REGISTERS.items()}
    for ident in ref.get("identifiers") or []:
        system, value = str(ident.get("system", "")), str(ident.get("value", ""))
        ids.setdefault(by_system.get(system, f"system:{system}"), value)
    if ref.get("person_id"):
        ids.setdefault("person_id", str(ref["person_id"]))
    return ref.get("display_name"), ids


def _code(value: Any) -> str | None:
    return None if value is None else str(value)


def facts(update: Update) -> Facts:
    """Everything the adapters read from ``update``: event data first, the shift view for what it lacks."""
    data: Mapping[str, Any] = update.event.data
    shift: Mapping[str, Any] = update.shift or {}
    if update.event.type.endswith("ShiftAvailability") and not shift:
        shift = data
    host = data.get("host_trust") or shift.get("trust") or data.get("trust") or {}
    worker = data.get("worker") or shift.get("filled_by")
    name, ids = _worker(worker)
    notice = data.get("notice_hours")
    rate = shift.get("hourly_rate", data.get("hourly_rate"))
    return Facts(
        key=update.key,
        kind=update.kind,
        at=update.event.time,
        shift_id=update.shift_id,
        trust=host.get("ods_code"),
        vendor=shift.get("vendor") or (update.shift_id.partition(":")[0] if update.shift_id.count(":") >= 2 else None),
        vendor_shift_id=shift.get("vendor_shift_id") or update.shift_id.split(":", 2)[-1],
        booking_id=data.get("booking_id") or shift.get("booking_id"),
        worker_name=name,
        worker_ids=ids,
        start=data.get("start") or shift.get("start"),
        end=data.get("end") or shift.get("end"),
        ward=shift.get("ward"),
        staff_group=_code(shift.get("staff_group") or data.get("staff_group")),
        grade=_code(shift.get("grade")),
        shift_type=_code(shift.get("shift_type") or data.get("shift_type")),
        hourly_rate=None if rate is None else Decimal(str(rate)),
        tier=_code(shift.get("tier") or data.get("tier")),
        reason_codes=tuple(str(c) for c in data.get("reason_codes") or ()),
        shift_reopened=bool(data.get("shift_reopened", False)),
        cancel_reason=_code(data.get("reason")),
        notice_hours=None if notice is None else float(notice),
        late_fee=bool(data.get("late_cancellation_fee", False)),
    )


@overload
def local(value: datetime) -> datetime: ...
@overload
def local(value: datetime | None) -> datetime | None: ...
def local(value: datetime | None) -> datetime | None:
    """An instant as Europe/London wall-clock time (what most trust systems show)."""
    return None if value is None else value.astimezone(LONDON)
