"""Hub events and destinations for outbound engine tests (unit and integration)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from rosterhub.connectors.outbound.contract import Destination, HttpCall, Rendered, Update
from rosterhub.envelope import Envelope, event_id
from rosterhub.streams.booking.outcome import SOURCE as HUB

T0 = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # the night before the spring clock change


def worker(person: str = "p-1") -> dict[str, Any]:
    return {"person_id": person, "identifiers": [], "display_name": "A Nurse"}


def org(ods: str) -> dict[str, Any]:
    return {"ods_code": ods, "name": None}


def outcome(
    kind: str, shift: str, booking: str, host: str = "RHQ", *, n: int = 0, source: str = HUB, **extra: Any
) -> Envelope:
    """A hub outcome (``kind``: BookingConfirmed, BookingRejected, ShiftFilled, BookingCancelled, NoShow)."""
    common = {"booking_id": booking, "shift_id": shift, "worker": worker()}
    end = T0 + timedelta(hours=11)
    data: dict[str, Any]
    if kind == "BookingConfirmed":
        data = {**common, "host_trust": org(host), "start": T0, "end": end, "rule_results": [], "decided_at": T0}
    elif kind == "BookingRejected":
        data = {
            **common,
            "host_trust": org(host),
            "reason_codes": ["SHIFT_ALREADY_FILLED"],
            "rule_results": [],
            "decided_at": T0,
        }
    elif kind == "ShiftFilled":
        data = {
            **common,
            "host_trust": org(host),
            "staff_group": "NURSING_MIDWIFERY_REGISTERED",
            "shift_type": "NIGHT",
            "tier": "OWN_BANK",
            "start": T0,
            "end": end,
            "filled_at": T0,
        }
    elif kind == "BookingCancelled":
        data = {
            **common,
            "host_trust": org(host),
            "cancelled_by": "TRUST",
            "start": T0,
            "cancelled_at": T0,
            "notice_hours": Decimal("0.00"),
        }
    elif kind == "NoShow":
        data = {**common, "host_trust": org(host), "start": T0, "recorded_at": T0}
    else:
        raise ValueError(kind)
    data.update(extra)
    return Envelope(
        type=f"rosterhub.booking.v1.{kind}",
        source=source,
        data=data,
        id=event_id(kind, shift, booking, n),
        subject=booking,
        time=T0,
    )


def view(
    shift: str,
    revision: int,
    *,
    version: int = 1,
    open_: bool = True,
    visible_to: tuple[str, ...] = ("RHQ",),
    host: str = "RHQ",
    vendor: str = "healthroster",
    status: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A ``rosterhub.view.v1.ShiftAvailability`` record (fields as in common.md); ``fields`` set any other field,
    so that every test's view record is this one record."""
    return {
        "shift_id": shift,
        "version": version,
        "revision": revision,
        "status": status or ("POSTED" if open_ else "FILLED"),
        "open": open_,
        "tier": "OWN_BANK" if visible_to == (host,) else "COLLABORATIVE_BANK",
        "trust": org(host),
        "vendor": vendor,
        "vendor_shift_id": shift.rsplit(":", 1)[-1],
        "ward": "Ward 3B",
        "staff_group": "NURSING_MIDWIFERY_REGISTERED",
        "grade": "BAND_5",
        "shift_type": "NIGHT",
        "start": T0,
        "end": T0 + timedelta(hours=11),
        "hourly_rate": None,
        "booking_id": None,
        "filled_by": None,
        "filled_via": None,
        "next_release_at": None,
        "visible_to": list(visible_to) if open_ else [],
        "agency_visible": False,
        "updated_at": T0,
        **fields,
    }


OFFER_AT = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)


def offer_view(
    shift_id: str,
    staff_group: str = "NURSING_MIDWIFERY_REGISTERED",
    grade: str = "BAND_5",
    *,
    ward: str = "Ward 7 Acute Medicine",
    **extra: Any,
) -> dict[str, Any]:
    """The availability view of ``shift_id`` (``vendor:trust:own``) as partner platforms are offered it: a
    collaborative-bank night, Sat 24 - Sun 25 Oct 2026, at 24.50 an hour."""
    vendor, trust, own = shift_id.split(":")
    return {
        "shift_id": shift_id,
        "vendor": vendor,
        "vendor_shift_id": own,
        "trust": {"ods_code": trust, "name": None},
        "ward": ward,
        "staff_group": staff_group,
        "grade": grade,
        "shift_type": "NIGHT",
        "start": datetime(2026, 10, 24, 19, tzinfo=UTC),
        "end": datetime(2026, 10, 25, 8, tzinfo=UTC),
        "hourly_rate": Decimal("24.50"),
        "tier": "COLLABORATIVE_BANK",
        **extra,
    }


def open_offer(
    shift_id: str, staff_group: str = "NURSING_MIDWIFERY_REGISTERED", grade: str = "BAND_5", **kw: Any
) -> Update:
    """The hub's ``shift_open`` update of ``shift_id``, its availability view (``offer_view``) as the event."""
    view = offer_view(shift_id, staff_group, grade, **kw)
    env = Envelope(
        type="rosterhub.view.v1.ShiftAvailability",
        source="/rosterhub/availability",
        data=view,
        id="ev-open",
        time=OFFER_AT,
    )
    return Update(f"k-open-{shift_id}", "dest", "shift_open", shift_id, shift_id, env, view)  # type: ignore[arg-type]


def view_event(data: Mapping[str, Any]) -> Envelope:
    shift = data["shift_id"]
    return Envelope(
        type="rosterhub.view.v1.ShiftAvailability",
        source="/rosterhub/availability",
        data=dict(data),
        id=event_id("view", shift, data["revision"]),
        subject=shift,
        time=T0,
    )


def dest(name: str, trust: str, platform: str, **kw: Any) -> Destination:
    return Destination(name=name, trust=trust, platform=platform, url=kw.pop("url", f"http://{name}.test"), **kw)


class EchoAdapter:
    """A test adapter: POST the update's kind and shift as JSON to ``/updates``; ignores nothing."""

    platform = "echo"

    def render(self, update: Update, destination: Destination) -> Rendered | None:
        import json

        body = {
            "key": update.key,
            "kind": update.kind,
            "shift_id": update.shift_id,
            "event": update.event.id,
            "type": update.event.type,
        }
        return HttpCall("POST", "/updates", json.dumps(body).encode())
