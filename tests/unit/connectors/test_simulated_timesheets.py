"""The simulators produce timesheets for the bookings they hold, in a shape their mapping files read cleanly:
HealthRoster's export, Locum's Nest's feed, Patchwork's webhooks."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rosterhub.connectors.pipeline import packaged_mapping
from rosterhub.connectors.simulators.files import trusts_named
from rosterhub.connectors.simulators.healthroster import HealthRosterSimulator
from rosterhub.connectors.simulators.locums_nest_platform import Platform, organisations
from rosterhub.connectors.simulators.patchwork import PatchworkSimulator
from rosterhub.connectors.simulators.platform_state import PlatformState
from rosterhub.mapping.engine import apply_mapping


def _events(mapping: str, payload: bytes, trust: str | None = None) -> list[Any]:
    out = apply_mapping(packaged_mapping(mapping, trust), payload, received_at=datetime.now(UTC), trust=trust)
    assert not out.rejected, [r.error for r in out.rejected][:3]
    return out.events


def test_healthroster_exports_a_timesheet_for_a_filled_duty_once_it_is_over_then_authorises_it(tmp_path: Path) -> None:
    sim = HealthRosterSimulator(trusts_named(["RHQ"]), seed=4, start=date(2026, 3, 20), count=3)
    sim.step()
    duty = min(sim.duties.values(), key=lambda d: d.id)
    duty.code, duty.day, duty.state = "N", date(2026, 3, 24), "Filled"
    duty.booked_by, duty.filled_by, duty.filled_nmc = "patchwork:RCU:PB-1", "Amara Okafor", "31D4567E"
    for _ in range(8):  # the 26th (05:40, the night ended at 08:00 the day before): submitted; the 27th: authorised
        sim.step()
        files = [f for f in sim.export(tmp_path / f"out{sim.today}") if f.name.startswith("timesheets_")]
        for f in files:
            events = _events("healthroster_timesheets", f.read_bytes(), "RHQ")
            mine = [e for e in events if e.data["booking_id"] == "patchwork:RCU:PB-1"]
            assert all(e.data["shift_id"] == f"healthroster:RHQ:{duty.id}" for e in mine)
    assert duty.timesheet is not None and duty.timesheet["status"] in ("Authorised", "Queried")
    submitted = next(
        e
        for f in sorted(tmp_path.rglob("timesheets_*.csv"))
        for e in _events("healthroster_timesheets", f.read_bytes(), "RHQ")
        if e.type.endswith("TimesheetSubmitted")
    )
    assert submitted.data["break_minutes"] == 60 and submitted.data["hours"] >= Decimal("11.00")


def test_locums_nest_doctors_submit_timesheets_for_confirmed_bookings_that_are_over() -> None:
    clock = [datetime(2026, 10, 1, 9, tzinfo=UTC)]
    platform = Platform(organisations(1), seed=3, clock=lambda: clock[0])
    trust = next(iter(platform.orgs))
    platform.generate(trust, 60)
    state = platform.orgs[trust]
    booking = next(b for b in state.bookings.values() if b.get("shift_id") is not None)
    booking["status"] = "confirmed"
    shift = state.shifts[booking["shift_id"]]
    assert platform.submit_timesheets() == []  # the shift is still ahead
    clock[0] = datetime.fromisoformat(shift["end"]).replace(tzinfo=UTC) + timedelta(days=1)
    made = platform.submit_timesheets()
    assert [(c["resource"], c["action"]) for c in made] == [("timesheet", "submitted"), ("timesheet", "approved")]
    page = platform.page(trust, cursor=f"chg_{made[0]['change_id'] - 1}", since=None, limit=10)
    events = _events("locums_nest", json.dumps(page).encode())
    assert [e.type.rsplit(".", 1)[-1] for e in events] == ["TimesheetSubmitted", "TimesheetApproved"]
    assert events[0].data["booking_id"] == f"locums_nest:{trust}:{booking['id']}"
    assert platform.submit_timesheets() == []  # once per booking


def test_patchwork_sends_a_timesheet_and_its_approval_steps_for_a_confirmed_booking_that_is_over() -> None:
    state = PlatformState()
    sim = PatchworkSimulator("http://hub", b"s", ("RCU",), platform=state, approval_steps=2)
    sent: list[tuple[str, dict[str, Any]]] = []
    sim.post = lambda trust, payload: sent.append((trust, payload)) or 202  # type: ignore[method-assign]
    start = datetime(2026, 3, 24, 20, tzinfo=UTC)
    worker = {"id": "w-1", "name": "Amara Okafor", "nmc_pin": "31D4567E"}
    sim.requests["patchwork:RCU:PB-1"] = (
        "RCU",
        "PB-1",
        "healthroster:RHQ:D1",
        start,
        start + timedelta(hours=12),
        worker,
    )
    state.bookings["patchwork:RCU:PB-1"] = "confirmed"
    assert sim.timesheets(now=start) == 0
    assert sim.timesheets(now=start + timedelta(days=1)) == 1 and sim.timesheets(now=start + timedelta(days=2)) == 0
    kinds = []
    for trust, payload in sent:
        [event] = _events("patchwork", json.dumps(payload).encode(), trust)
        kinds.append((event.type.rsplit(".", 1)[-1], event.data.get("approval_step"), event.data.get("final_approval")))
        assert event.data["shift_id"] == "healthroster:RHQ:D1" and event.data["booking_id"] == "patchwork:RCU:PB-1"
    assert kinds == [
        ("TimesheetSubmitted", None, None),
        ("TimesheetApproved", 1, False),
        ("TimesheetApproved", 2, True),
    ]
