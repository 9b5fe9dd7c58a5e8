"""FHIR R4 roster: one transaction Bundle per update (docs/vendors/fhir.md, "Updates from the hub").

``POST`` to the destination's base URL (``.../fhir/R4``), ``application/fhir+json``: a Bundle of
type ``transaction`` whose ``identifier`` is the update key (system
``https://rosterhub.org/Id/update``), so the server dedupes a redelivered Bundle, and whose
entries are ``PUT``s with ids derived from hub ids, so applying one twice changes nothing. Each
entry's ``fullUrl`` is the resource's URL on the destination (``<base>/Slot/<id>``), so the
Appointment's relative ``Slot/<id>`` reference resolves inside the Bundle (HAPI FHIR refuses a
relative reference in a Bundle whose entries have no ``fullUrl``); every resource carries a
generated narrative:

| update | entries |
|---|---|
| shift_open | Slot ``free`` |
| shift_withdrawn | Slot ``busy-unavailable`` |
| shift_filled | Slot ``busy`` + Appointment ``booked`` (the worker as a logical Practitioner reference) |
| booking_cancelled | Appointment ``cancelled`` + Slot ``free`` (shift re-opened) or ``busy-unavailable`` |
| no_show | Appointment ``noshow`` |
| booking_confirmed, booking_rejected | None: no booking requests arrive through FHIR |

A Slot the FHIR system posted keeps its id (``fhir:<trust>:<id>``); a partner's shift offered to
it gets ``rh-<hash of the hub shift id>``. Slots use the hub's grade / rate extensions and staff
group coding, as the inbound mapping reads them. Pure; validated in tests with fhir.resources.
"""

from __future__ import annotations

from typing import Any

from rosterhub.connectors.outbound.adapters._facts import REGISTERS, Facts, facts, short_hash
from rosterhub.connectors.outbound.adapters._json import dumps
from rosterhub.connectors.outbound.contract import Destination, HttpCall, Update
from rosterhub.fhir_narrative import narrative

__all__ = ["ADAPTER", "UPDATE_SYSTEM", "FhirAdapter", "appointment_id", "bundle", "slot_id"]

PLATFORM = "fhir"
UPDATE_SYSTEM = "https://rosterhub.org/Id/update"
HUB_SHIFT = "https://rosterhub.org/Id/shift"
HUB_BOOKING = "https://rosterhub.org/Id/booking"
EXT = "https://rosterhub.org/fhir/StructureDefinition/"
STAFF_GROUP = "https://rosterhub.org/CodeSystem/staff-group"
SLOT_STATUS = {"shift_open": "free", "shift_withdrawn": "busy-unavailable", "shift_filled": "busy"}
APPOINTMENT_STATUS = {"shift_filled": "booked", "booking_cancelled": "cancelled", "no_show": "noshow"}


def slot_id(f: Facts) -> str:
    return f.own_shift(PLATFORM) or f"rh-{short_hash(f.shift_id, 16)}"


def appointment_id(booking_id: str) -> str:
    return f"rh-{short_hash(booking_id, 16)}"


def _slot(f: Facts, status: str) -> dict[str, Any]:
    ext: list[dict[str, Any]] = []
    if f.grade:
        ext.append({"url": f"{EXT}grade", "valueCode": f.grade})
    if f.hourly_rate is not None:
        ext.append({"url": f"{EXT}hourly-rate", "valueMoney": {"value": float(f.hourly_rate), "currency": "GBP"}})
    slot: dict[str, Any] = {
        "resourceType": "Slot",
        "id": slot_id(f),
        "identifier": [{"system": HUB_SHIFT, "value": f.shift_id}],
        "status": status,
        "schedule": {
            "identifier": {"system": "https://rosterhub.org/Id/ward", "value": f"{f.trust}|{f.ward}"},
            "display": f.ward,
        },
        "start": f.start.isoformat() if f.start else None,
        "end": f.end.isoformat() if f.end else None,
    }
    if ext:
        slot["extension"] = ext
    if f.staff_group:
        slot["serviceCategory"] = [{"coding": [{"system": STAFF_GROUP, "code": f.staff_group}]}]
    slot["text"] = narrative(
        [
            f"Shift {f.shift_id}: {status}",
            f"{f.ward or ''} {f.trust or ''}".strip(),
            " ".join(x for x in (f.staff_group, f.grade) if x),
            f"{slot.get('start', '')} to {slot.get('end', '')}" if f.start and f.end else "",
        ]
    )
    return {k: v for k, v in slot.items() if v is not None}


def _appointment(f: Facts, status: str) -> dict[str, Any]:
    register = f.register()
    actor: dict[str, Any] = {"display": f.worker_name or "bank worker"}
    if register:
        actor["identifier"] = {"system": REGISTERS[register[0]], "value": register[1]}
    appt: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": appointment_id(f.booking_id or f.shift_id),
        "status": status,
        "identifier": [{"system": HUB_BOOKING, "value": f.booking_id or ""}],
        "slot": [{"reference": f"Slot/{slot_id(f)}"}],
        "participant": [{"actor": {**actor, "type": "Practitioner"}, "status": "accepted"}],
    }
    if f.start and f.end:
        appt["start"], appt["end"] = f.start.isoformat(), f.end.isoformat()
    if status == "cancelled" and f.cancel_reason:
        appt["cancelationReason"] = {"text": f.cancel_reason}
    appt["text"] = narrative(
        [
            f"Booking {f.booking_id or ''} of shift {f.shift_id}: {status}",
            f"Worker: {actor['display']}",
            f"{appt['start']} to {appt['end']}" if "start" in appt else "",
            f"Reason: {f.cancel_reason}" if status == "cancelled" and f.cancel_reason else "",
        ]
    )
    return appt


def _entries(f: Facts) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = []
    if f.kind in SLOT_STATUS:
        resources.append(_slot(f, SLOT_STATUS[f.kind]))
    if f.kind in APPOINTMENT_STATUS and f.booking_id:
        resources.append(_appointment(f, APPOINTMENT_STATUS[f.kind]))
    if f.kind == "booking_cancelled":
        resources.append(_slot(f, "free" if f.shift_reopened else "busy-unavailable"))
    return resources


def bundle(f: Facts, base: str) -> dict[str, Any] | None:
    """The transaction Bundle for one update to the FHIR server at ``base`` (``.../fhir/R4``), or None."""
    resources = _entries(f)
    if not resources:
        return None
    base = base.rstrip("/")
    entries = []
    for r in resources:
        url = f"{r['resourceType']}/{r['id']}"
        entries.append({"fullUrl": f"{base}/{url}", "resource": r, "request": {"method": "PUT", "url": url}})
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "identifier": {"system": UPDATE_SYSTEM, "value": f.key},
        "timestamp": f.at.isoformat(),
        "entry": entries,
    }


class FhirAdapter:
    platform = PLATFORM
    kinds = frozenset({*SLOT_STATUS, *APPOINTMENT_STATUS})

    def render(self, update: Update, destination: Destination) -> HttpCall | None:
        if update.kind not in self.kinds:
            return None
        doc = bundle(facts(update), destination.url or "")
        if doc is None:
            return None
        return HttpCall("POST", "", dumps(doc), content_type="application/fhir+json")


ADAPTER = FhirAdapter()
