"""The timesheet stage: matching within the host trust's tolerance, queries, approvals per policy, pricing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.unit.streams.payroll_harness import API_SOURCE, Pipeline, local

SID, BID, TS = "healthroster:RHQ:D1", "patchwork:RCU:PB1", "patchwork:RCU:TS1"
START, END = local("2026-03-24 20:00"), local("2026-03-25 08:00")


def booked(p: Pipeline | None = None, host: str = "RHQ", sid: str = SID, bid: str = BID) -> Pipeline:
    p = p or Pipeline()
    p.shift(sid, host, START, END)
    p.book(bid, sid, host, START, END)
    return p


def test_within_tolerance_the_hub_approves_and_the_employing_trust_pays_at_its_rate() -> None:
    p = booked()
    p.submit(TS, BID, SID, START + timedelta(minutes=10), END + timedelta(minutes=12))
    [approved] = p.of_type("TimesheetApproved")
    assert approved.source == "/rosterhub/payroll" and approved.data["approver"] == "rosterhub"
    lines = p.lines()
    assert {(d["employing_trust"]["ods_code"], d["host_trust"]["ods_code"]) for d in lines} == {("RCU", "RHQ")}
    assert [(d["pay_code"], str(d["rate"])) for d in lines] == [
        ("BASIC", "18.20"),
        ("NIGHT", "5.46"),
        ("HOLIDAY_PAY", "None"),
    ]
    assert lines[0]["batch_id"] == "RCU-BANK-2026-W13" and lines[0]["line_id"] == "RCU-BANK-2026-W13:1"


def test_a_late_finish_beyond_tolerance_is_queried_with_the_reason_and_not_paid() -> None:
    p = booked()
    p.submit(TS, BID, SID, START, END + timedelta(minutes=40))
    [query] = p.of_type("TimesheetQueried")
    assert query.data["reason"] == "HOURS_DIFFER" and "40 min later" in query.data["detail"]
    assert query.data["queried_by"] == "rosterhub" and p.lines() == []
    # the worker corrects it: a new submission within tolerance is approved and paid
    p.submit(TS, BID, SID, START, END + timedelta(minutes=5), at=END + timedelta(hours=3))
    assert len(p.of_type("TimesheetApproved")) == 1 and p.lines()


def test_a_break_that_differs_is_queried_but_a_ward_manager_may_approve_it_anyway() -> None:
    p = booked()
    p.submit(TS, BID, SID, START, END, break_minutes=0)
    assert [q.data["reason"] for q in p.of_type("TimesheetQueried")] == ["BREAK_DIFFERS"]
    p.approve(TS, BID, SID, "12.00", END + timedelta(days=1))
    assert [d["hours"] for d in p.lines() if d["pay_code"] == "BASIC"] == [Decimal("12.00")]
    assert p.of_type("TimesheetApproved") == []  # the platform approved it; the hub adds no approval of its own


def test_a_timesheet_for_no_booking_waits_for_its_grace_then_is_queried() -> None:
    p = Pipeline()
    p.submit("patchwork:RCU:TS9", "patchwork:RCU:PB9", "healthroster:RHQ:D9", START, END)
    assert p.of_type("TimesheetQueried") == []  # the booking may still be on its way
    p.tick("patchwork:RCU:PB9", END + timedelta(hours=2))
    assert p.of_type("TimesheetQueried") == []
    p.tick("patchwork:RCU:PB9", END + timedelta(hours=25))
    [query] = p.of_type("TimesheetQueried")
    assert query.data["reason"] == "NO_BOOKING"
    # an approval cannot pay it either
    p.approve("patchwork:RCU:TS9", "patchwork:RCU:PB9", "healthroster:RHQ:D9", "11.00", END + timedelta(days=2))
    assert p.lines() == []


def test_a_timesheet_arriving_before_its_booking_is_matched_when_the_booking_comes() -> None:
    p = Pipeline()
    p.submit(TS, BID, SID, START, END)
    booked(p)
    assert len(p.of_type("TimesheetApproved")) == 1 and len(p.lines()) == 3


def test_cancelled_and_no_show_bookings_are_queried() -> None:
    p = booked()
    p.cancel(BID, SID, "RHQ", START, START - timedelta(days=2), fee=None)
    p.submit(TS, BID, SID, START, END)
    assert [q.data["reason"] for q in p.of_type("TimesheetQueried")] == ["BOOKING_CANCELLED"] and p.lines() == []


def test_a_second_timesheet_for_a_booking_is_queried_as_a_duplicate() -> None:
    p = booked()
    p.submit(TS, BID, SID, START, END)
    p.submit("patchwork:RCU:TS2", BID, SID, START, END)
    assert [q.data["reason"] for q in p.of_type("TimesheetQueried")] == ["DUPLICATE"]
    # approving the duplicate, or the booking's facts changing, does not pay it
    p.approve("patchwork:RCU:TS2", BID, SID, "11.00", END + timedelta(days=1))
    p.shift(SID, "RHQ", START, END + timedelta(minutes=5), version=2)
    assert len([d for d in p.lines() if d["pay_code"] == "BASIC"]) == 1


def test_two_step_approval_pays_only_when_both_named_roles_have_approved() -> None:
    # RFR approves in two steps (ward_manager, bank_office) and is the host here; RCU pays its own worker
    sid, bid, ts = "healthroster:RFR:D2", "patchwork:RCU:PB2", "patchwork:RCU:TS2"
    p = booked(host="RFR", sid=sid, bid=bid)
    p.submit(ts, bid, sid, START, END, host="RFR")
    assert p.of_type("TimesheetApproved") == [] and p.lines() == []
    p.approve(ts, bid, sid, "11.00", END + timedelta(hours=5), step=1, final=False)
    assert p.lines() == []
    # through the API, the second step must carry its role, at the host trust
    p.approve(
        ts, bid, sid, "11.00", END + timedelta(hours=6), step=2, source=API_SOURCE, role="ward_manager", trust="RFR"
    )
    p.approve(
        ts, bid, sid, "11.00", END + timedelta(hours=6), step=2, source=API_SOURCE, role="bank_office", trust="RCU"
    )
    p.approve(ts, bid, sid, "11.00", END + timedelta(hours=6), step=3, final=True)  # no third step at RFR
    assert p.lines() == []
    p.approve(
        ts, bid, sid, "11.00", END + timedelta(hours=7), step=2, source=API_SOURCE, role="bank_office", trust="RFR"
    )
    assert [d["pay_code"] for d in p.lines()] == ["BASIC", "NIGHT", "HOLIDAY_PAY"]


def test_a_booking_with_no_timesheet_is_reported_missing_once_after_the_host_trusts_days() -> None:
    p = booked()
    p.tick(BID, END + timedelta(days=6))
    assert p.of_type("TimesheetMissing") == []
    p.tick(BID, END + timedelta(days=7, minutes=1))
    p.tick(BID, END + timedelta(days=8))
    [missing] = p.of_type("TimesheetMissing")
    assert missing.data["booking_id"] == BID and missing.data["vendor"] == "patchwork"


def test_a_late_cancellation_by_the_trust_pays_the_fee_hours() -> None:
    p = booked()
    p.cancel(BID, SID, "RHQ", START, START - timedelta(hours=3), fee="2.00")
    [fee, holiday] = p.lines()
    assert (fee["pay_code"], fee["hours"], fee["rate"], fee["amount"]) == (
        "LATE_CANCELLATION_FEE",
        Decimal("2.00"),
        Decimal("18.20"),
        Decimal("36.40"),
    )
    assert fee["timesheet_id"] is None and holiday["pay_code"] == "HOLIDAY_PAY"


def test_replayed_inputs_change_nothing() -> None:
    p = booked()
    p.submit(TS, BID, SID, START, END)
    before = (list(p.payroll), list(p.timesheet_events))
    p.submit(TS, BID, SID, START, END)  # the same submission again (same event id)
    booked(p)  # the booking facts again
    assert (p.payroll, p.timesheet_events) == before
