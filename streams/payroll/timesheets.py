"""Stage 2 of payroll: each booking's timesheets, matched, approved and priced. Pure.

One writer per booking (events.timesheet and _rosterhub.payroll-bookings are both keyed by
booking id). For every timesheet:

1. **match** it with its confirmed booking (:mod:`.matching`, the host trust's tolerances). A
   difference, no booking (after ``unmatched_grace_hours``: the booking may still be on its way),
   a cancelled booking or a no-show: the hub sends a ``TimesheetQueried`` (source
   ``/rosterhub/payroll``), which outbound routes back to the platform it came from. A second
   timesheet for a booking already being paid is queried ``DUPLICATE``.
2. **approve** it per the host trust's policy (:mod:`.approval`): within tolerance under ``auto``
   the hub approves it (a ``TimesheetApproved`` of its own); otherwise approvals arrive from the
   platform or the API, step by step. Only a complete approval pays.
3. **price** it from the employing trust's policy (:mod:`.priced`) and hand the lines to the
   batch stage, keyed by the employing trust. A later approval with other hours prices again:
   the batch stage reverses the old lines and issues the new ones.

A confirmed booking whose shift ended ``missing_after_days`` ago with no timesheet is reported
once (``TimesheetMissing``). Ids derive from the inputs, so a replay repeats them exactly.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from rosterhub.envelope import Envelope, event_id
from rosterhub.events.models.timesheet import (
    TimesheetApproved,
    TimesheetMissing,
    TimesheetQueried,
    TimesheetSubmitted,
)
from rosterhub.instants import to_ms
from rosterhub.streams.payroll import approval, priced
from rosterhub.streams.payroll.batches import SOURCE  # the payroll processor's events: declared once, re-exported
from rosterhub.streams.payroll.load import PayrollPolicies
from rosterhub.streams.payroll.matching import match
from rosterhub.streams.payroll.policy import TimesheetRules
from rosterhub.streams.payroll.state import BookingSheets, Stage2

__all__ = ["API_SOURCE", "HUB_USER", "SOURCE", "BookingSheets", "Stage2", "due_ms", "step", "tick"]

API_SOURCE = "/rosterhub/api/payroll"
HUB_USER = "rosterhub"
_DEFAULT_RULES = TimesheetRules()


def step(
    state: BookingSheets | None, item: Envelope | dict[str, Any], *, policies: PayrollPolicies, now: datetime
) -> Stage2:
    """One input: a booking-facts message from stage 1, or a timesheet event."""
    if isinstance(item, dict):
        st = state or BookingSheets(str(item["booking_id"]))
        return _booking(st, item, policies, now)
    if item.source == SOURCE:
        return Stage2(state)  # our own queries and approvals, read back
    data = item.data
    st = state or BookingSheets(str(data["booking_id"]))
    if item.type == TimesheetSubmitted.AVRO_NAME:
        return _submitted(st, item, policies, now)
    if item.type == TimesheetApproved.AVRO_NAME:
        return _approved(st, item, policies, now)
    if item.type == TimesheetQueried.AVRO_NAME:
        sheet = st.sheets.get(str(data["timesheet_id"]))
        if sheet is None:
            return Stage2(state)
        sheet = {**sheet, "status": "queried", "query": {"reason": data["reason"], "by": data["queried_by"]}}
        return Stage2(_put(st, sheet))
    return Stage2(state)


def _put(st: BookingSheets, sheet: dict[str, Any]) -> BookingSheets:
    return replace(st, sheets={**st.sheets, sheet["timesheet_id"]: sheet})


def _rules(st: BookingSheets, policies: PayrollPolicies, host: str | None = None) -> TimesheetRules:
    policy = policies.get(host or (st.booking or {}).get("host"))
    return policy.timesheets if policy else _DEFAULT_RULES


# --- inputs -------------------------------------------------------------------------------------------


def _booking(st: BookingSheets, msg: dict[str, Any], policies: PayrollPolicies, now: datetime) -> Stage2:
    old = st.booking
    if old is not None and int(msg["seq"]) <= int(old["seq"]):
        return Stage2(st)  # a repeat (or older) message
    st = replace(st, booking=msg)
    out = Stage2(st)
    if msg["status"] == "cancelled" and msg.get("fee_hours"):
        out = _merge(out, priced.fee(st, msg, policies, now))
    current = out.state or st
    sheet = current.sheets.get(current.active or "")
    # only the timesheet being paid is matched again: a duplicate stays queried, whatever the booking does
    if sheet is not None and (
        sheet["status"] in ("unmatched", "received") or (sheet["status"] == "queried" and sheet.get("by_hub"))
    ):
        out = _merge(out, _evaluate(current, sheet, policies, now))
    return out


def _submitted(st: BookingSheets, env: Envelope, policies: PayrollPolicies, now: datetime) -> Stage2:
    d = env.data
    ts_id = str(d["timesheet_id"])
    old = st.sheets.get(ts_id)
    if old is not None and old["submission"] == env.id:
        return Stage2(st)  # the same submission again
    sheet = {
        "timesheet_id": ts_id,
        "shift_id": d["shift_id"],
        "vendor": d["vendor"],
        "host": (d.get("host_trust") or {}).get("ods_code"),
        "worker": d.get("worker") or {},
        "actual_start": d["actual_start"].isoformat(),
        "actual_end": d["actual_end"].isoformat(),
        "break_minutes": int(d.get("break_minutes") or 0),
        "hours": str(d["hours"]),
        "submitted_at": d["submitted_at"].isoformat(),
        "submission": env.id,
        "round": (old or {}).get("round", 0) + 1,
        "status": "received",
        "approvals": {},
    }
    other = st.active if st.active not in (None, ts_id) else None
    if other is not None and st.sheets[other]["status"] != "queried":
        st = _put(st, {**sheet, "status": "queried", "by_hub": True})
        detail = f"booking {st.booking_id} already has timesheet {other}"
        return Stage2(st, [_query(st, sheet, "DUPLICATE", detail, now)])
    st = replace(_put(st, sheet), active=ts_id, missing_reported=st.missing_reported)
    early = [a for a in st.early if a["timesheet_id"] == ts_id]
    if early:
        sheet = {**sheet, "approvals": {str(a["step"]): a for a in early}}
        st = replace(_put(st, sheet), early=tuple(a for a in st.early if a["timesheet_id"] != ts_id))
    return _evaluate(st, sheet, policies, now)


def _approved(st: BookingSheets, env: Envelope, policies: PayrollPolicies, now: datetime) -> Stage2:
    ts_id = str(env.data["timesheet_id"])
    entry = approval.entry(env)
    sheet = st.sheets.get(ts_id)
    if sheet is None:
        if any(a["event"] == env.id for a in st.early):
            return Stage2(st)
        return Stage2(replace(st, early=(*st.early, entry)))
    host = _host(st, sheet)
    if not approval.accepts(policies.get(host), entry, via_api=env.source == API_SOURCE, host=host):
        return Stage2(st)
    if (sheet["approvals"].get(str(entry["step"])) or {}).get("event") == env.id:
        return Stage2(st)
    sheet = {**sheet, "approvals": {**sheet["approvals"], str(entry["step"]): entry}}
    st = _put(st, sheet)
    if sheet["status"] == "unmatched" or st.active != ts_id:
        return Stage2(st)  # paid once its booking is known; a duplicate is never paid
    return _evaluate(st, sheet, policies, now)


def tick(state: BookingSheets, *, policies: PayrollPolicies, now: datetime) -> Stage2:
    """The timer's look at one booking: unmatched timesheets past their grace, a missing timesheet."""
    out = Stage2(state)
    for sheet in sorted(state.sheets.values(), key=lambda s: s["timesheet_id"]):
        if sheet["status"] == "unmatched":
            out = _merge(out, _evaluate(out.state or state, sheet, policies, now))
    st = out.state or state
    b = st.booking
    if b is not None and b["status"] == "confirmed" and st.active is None and not st.missing_reported:
        due = _missing_due(st, policies)
        if due is not None and now >= due:
            missing = Envelope(
                type=TimesheetMissing.AVRO_NAME,
                source=SOURCE,
                id=event_id("timesheet-missing", st.booking_id),
                subject=st.booking_id,
                time=now,
                data={
                    "booking_id": st.booking_id,
                    "shift_id": b["shift_id"],
                    "worker": b["worker"],
                    "host_trust": {"ods_code": b["host"], "name": b.get("host_name")},
                    "vendor": b.get("vendor"),
                    "shift_end": datetime.fromisoformat(b["end"]),
                    "due_by": due,
                    "reported_at": now,
                },
            )
            out = _merge(out, Stage2(replace(st, missing_reported=True), [missing]))
    return out


# --- matching and approval ----------------------------------------------------------------------------


def _host(st: BookingSheets, sheet: dict[str, Any]) -> str | None:
    return (st.booking or {}).get("host") or sheet.get("host")


#: Reasons no approval can override: without a live booking the hub cannot know who pays, or at what rate.
_UNPAYABLE = frozenset({"NO_BOOKING", "BOOKING_CANCELLED", "NOT_WORKED"})


def _evaluate(st: BookingSheets, sheet: dict[str, Any], policies: PayrollPolicies, now: datetime) -> Stage2:
    """Match, then approve (the hub under ``auto`` within tolerance; people otherwise) or query."""
    policy = policies.get(_host(st, sheet))
    rules = policy.timesheets if policy else _DEFAULT_RULES
    actual = {
        "actual_start": datetime.fromisoformat(sheet["actual_start"]),
        "actual_end": datetime.fromisoformat(sheet["actual_end"]),
        "break_minutes": sheet["break_minutes"],
    }
    if st.booking is None:
        grace = datetime.fromisoformat(sheet["submitted_at"]) + timedelta(hours=rules.unmatched_grace_hours)
        if now < grace:
            return Stage2(_put(st, {**sheet, "status": "unmatched", "due": grace.isoformat()}))
    mismatch = match(actual, st.booking, rules)
    people = approval.final(policy, sheet["approvals"], by_hub=False)
    if mismatch is not None and (people is None or mismatch.reason in _UNPAYABLE):
        asked = {"reason": mismatch.reason, "by": HUB_USER, "round": sheet["round"]}
        if sheet["status"] == "queried" and sheet.get("query") == asked:
            return Stage2(st)
        st = _put(st, {**sheet, "status": "queried", "by_hub": True, "query": asked})
        return Stage2(st, [_query(st, sheet, mismatch.reason, mismatch.detail, now)])
    final = people or approval.final(policy, sheet["approvals"], by_hub=True)
    if final is None:
        return Stage2(_put(st, {**sheet, "status": "approving", "by_hub": False}))
    return _approve(st, sheet, final, policies, now, emit=bool(final.get("by_hub")))


def _approve(
    st: BookingSheets,
    sheet: dict[str, Any],
    final: dict[str, Any],
    policies: PayrollPolicies,
    now: datetime,
    *,
    emit: bool,
) -> Stage2:
    hours = final.get("hours") or sheet["hours"]
    at = final.get("at") or now.isoformat()
    if sheet["status"] == "approved" and sheet.get("approved_hours") == hours:
        return Stage2(st)
    sheet = {**sheet, "status": "approved", "approved_hours": hours, "approved_at": at}
    st = _put(st, sheet)
    events = []
    if emit:
        approved = {
            "approver": HUB_USER,
            "approval_step": 1,
            "final_approval": True,
            "approved_hours": priced.dec(hours),
            "approved_at": datetime.fromisoformat(at),
            "approver_role": None,
        }
        events.append(_sheet_event(TimesheetApproved.AVRO_NAME, st, sheet, now, approved, "payroll-approve"))
    return _merge(Stage2(st, events), priced.worked(st, sheet, policies, now))


def _query(st: BookingSheets, sheet: dict[str, Any], reason: str, detail: str, now: datetime) -> Envelope:
    queried = {"queried_by": HUB_USER, "reason": reason, "detail": detail, "queried_at": now}
    return _sheet_event(TimesheetQueried.AVRO_NAME, st, sheet, now, queried, "payroll-query", reason)


def _sheet_event(
    type_: str,
    st: BookingSheets,
    sheet: dict[str, Any],
    now: datetime,
    data: dict[str, Any],
    kind: str,
    *distinct: str,
) -> Envelope:
    """The hub's event about one round of a timesheet (its subject), ``data`` after the ids every such event
    carries. Its id is derived from ``kind``, the round and ``distinct`` (what tells two events of one round
    apart), so a redelivered input gives the same id."""
    ids = {"timesheet_id": sheet["timesheet_id"], "booking_id": st.booking_id, "shift_id": sheet["shift_id"]}
    return Envelope(
        type=type_,
        source=SOURCE,
        id=event_id(kind, sheet["timesheet_id"], sheet["round"], *distinct),
        subject=sheet["timesheet_id"],
        time=now,
        data={**ids, **data},
    )


def _merge(a: Stage2, b: Stage2) -> Stage2:
    return Stage2(b.state if b.state is not None else a.state, [*a.events, *b.events], [*a.priced, *b.priced])


def _missing_due(st: BookingSheets, policies: PayrollPolicies) -> datetime | None:
    b = st.booking
    if b is None or not b.get("end"):
        return None
    return datetime.fromisoformat(b["end"]) + timedelta(days=_rules(st, policies).missing_after_days)


def due_ms(state: BookingSheets | None, policies: PayrollPolicies) -> int | None:
    """When the timer must look at this booking again (an unmatched timesheet's grace, a missing timesheet)."""
    if state is None:
        return None
    dues = [to_ms(datetime.fromisoformat(s["due"])) for s in state.sheets.values() if s["status"] == "unmatched"]
    b = state.booking
    if b is not None and b["status"] == "confirmed" and state.active is None and not state.missing_reported:
        due = _missing_due(state, policies)
        if due is not None:
            dues.append(to_ms(due.astimezone(UTC)))
    return min(dues) if dues else None
