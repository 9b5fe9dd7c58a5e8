"""HealthRoster-style e-rostering: an XML booking-import file per update
(docs/vendors/healthroster.md, "Updates from the hub").

HealthRoster is where a trust's duties live; bank workers book them elsewhere, or on its own
bank module (BankStaff). So it is told what happened to its own duties: filled (by whom, through
which booking), re-opened or cancelled after a cancellation, a no-show; and a BankStaff booking
the hub refused (``Reject``, with the reason codes: the duty is the bank's to fill again); and what
the hub made of a timesheet it exported (queried, with the reason, or authorised). A
confirmed BankStaff booking needs no word of its own: the ``Fill`` of the duty says it. Offers
and withdrawals are for the platforms workers book on (None here), and so is anything about
another system's shifts.

The file (``BankBookingUpdates``, namespace ``urn:rosterhub:vendor:healthroster:booking-import:1``)
carries the update key as ``Update/@reference``; HealthRoster keeps it on the duty and exports it
as ``<HubReference>``, which the export mapping recognises as an echo.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from rosterhub.connectors.outbound.adapters._facts import Facts, facts, local, local_id
from rosterhub.connectors.outbound.adapters._files import drop_name
from rosterhub.connectors.outbound.adapters._timesheet import TIMESHEET_KINDS, TimesheetFacts, timesheet_facts
from rosterhub.connectors.outbound.contract import Destination, FileDrop, Update
from rosterhub.xml_bytes import xml_bytes

__all__ = ["ACTIONS", "ADAPTER", "NS", "HealthRosterAdapter", "document"]

NS = "urn:rosterhub:vendor:healthroster:booking-import:1"
PLATFORM = "healthroster"
ACTIONS = {"shift_filled": "Fill", "no_show": "NoShow"}  # booking_cancelled: Reopen or Cancel


def _action(f: Facts) -> str | None:
    if f.kind == "booking_cancelled":
        return "Reopen" if f.shift_reopened else "Cancel"
    if f.kind == "booking_rejected":  # a booking made on its own bank module (BankStaff): undo it there
        return "Reject" if local_id(f.booking_id, PLATFORM) else None
    return ACTIONS.get(f.kind)


def document(f: Facts, duty: str, action: str) -> bytes:
    """One ``BankBookingUpdates`` document with one ``Update``."""
    created = local(f.at)
    attrs = {
        "xmlns": NS,
        "trustCode": f.trust or "",
        "system": "rosterhub",
        "createdAt": "" if created is None else created.isoformat(),
    }
    root = ET.Element("BankBookingUpdates", attrs)
    el = ET.SubElement(root, "Update", {"reference": f.key, "action": action})
    values = [("DutyId", duty), ("HubShiftId", f.shift_id), ("BookingReference", f.booking_id or "")]
    for tag, text in values:
        ET.SubElement(el, tag).text = text
    if action in ("Fill", "NoShow"):
        register = f.register()
        attrs = {
            "gmc": f.worker_ids.get("gmc", ""),
            "nmc": f.worker_ids.get("nmc", ""),
            "hcpc": f.worker_ids.get("hcpc", ""),
        }
        ET.SubElement(el, "Person", attrs).text = f.worker_name or (register[1] if register else "")
    if action == "Reject":
        ET.SubElement(el, "Reasons").text = " ".join(f.reason_codes)
    if action in ("Reopen", "Cancel"):
        ET.SubElement(el, "Reason").text = f.cancel_reason or ""
        ET.SubElement(el, "NoticeHours").text = "" if f.notice_hours is None else f"{f.notice_hours:.2f}"
    start = local(f.start)
    if start is not None:
        ET.SubElement(el, "DutyDate").text = start.strftime("%d/%m/%Y")
    ET.indent(root)
    return xml_bytes(root, "UTF-8", xml_declaration=True) + b"\n"


def timesheet_document(t: TimesheetFacts) -> bytes:
    """A timesheet the hub queried or approved: ``Update`` with action ``QueryTimesheet`` / ``AuthoriseTimesheet``."""
    created = local(t.at)
    attrs = {"xmlns": NS, "trustCode": t.trust or "", "system": "rosterhub", "createdAt": created.isoformat()}
    root = ET.Element("BankBookingUpdates", attrs)
    action = "QueryTimesheet" if t.kind == "timesheet_queried" else "AuthoriseTimesheet"
    el = ET.SubElement(root, "Update", {"reference": t.key, "action": action})
    values = [("TimesheetId", t.own_timesheet or ""), ("HubShiftId", t.shift_id), ("BookingReference", t.booking_id)]
    if t.kind == "timesheet_queried":
        values += [("Reason", t.reason or ""), ("Comment", t.detail or "")]
    else:
        values += [("AuthorisedHours", "" if t.hours is None else f"{t.hours:.2f}")]
    for tag, text in values:
        ET.SubElement(el, tag).text = text
    ET.indent(root)
    return xml_bytes(root, "UTF-8", xml_declaration=True) + b"\n"


class HealthRosterAdapter:
    platform = PLATFORM
    kinds = frozenset({"shift_filled", "booking_cancelled", "booking_rejected", "no_show", *TIMESHEET_KINDS})

    def render(self, update: Update, destination: Destination) -> FileDrop | None:
        if update.kind in TIMESHEET_KINDS:
            t = timesheet_facts(update, PLATFORM)
            if t is None:
                return None
            return FileDrop(drop_name("hub_booking_updates", t.at, t.key, "xml"), timesheet_document(t))
        if update.kind not in self.kinds:
            return None
        f = facts(update)
        duty, action = f.own_shift(PLATFORM), _action(f)
        if duty is None or action is None:
            return None
        return FileDrop(drop_name("hub_booking_updates", f.at, f.key, "xml"), document(f, duty, action))


ADAPTER = HealthRosterAdapter()
