"""Outbound beyond bookings: the payroll processor's update kinds, who gets them, what each platform is
sent, and what each simulated platform makes of it (the query shows on the platform)."""

from __future__ import annotations

import importlib
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from rosterhub.connectors.outbound.contract import Destination, FileDrop, HttpCall, Update, wire_headers
from rosterhub.connectors.outbound.kinds import declared
from rosterhub.connectors.outbound.routing import route_outcome
from rosterhub.connectors.simulators.esr import EsrSimulator, parse_pay
from rosterhub.connectors.simulators.files import trusts_named
from rosterhub.connectors.simulators.healthroster import HealthRosterSimulator
from rosterhub.connectors.simulators.locums_nest import LocumsNestSimulator
from rosterhub.connectors.simulators.nhsp import NhspSimulator
from rosterhub.connectors.simulators.patchwork import create_patchwork_platform
from rosterhub.envelope import Envelope
from tests.unit.connectors.outbound_builders import dest
from tests.unit.streams.payroll_harness import Pipeline, local

START, END = local("2026-03-24 20:00"), local("2026-03-25 08:00")
DESTS = [
    dest("pw-RCU", "RCU", "patchwork"),
    dest("pw-RHQ", "RHQ", "patchwork"),
    dest("esr-RCU", "RCU", "esr"),
    dest("esr-RHQ", "RHQ", "esr"),
    dest("hr-RHQ", "RHQ", "healthroster"),
    dest("outcomes-RCU", "RCU", "outcomes", options={"all_platforms": True}),
]


def adapter(platform: str) -> Any:
    return importlib.import_module(f"rosterhub.connectors.outbound.adapters.{platform}").ADAPTER


def _queried(timesheet: str, booking: str = "patchwork:RCU:PB1") -> Envelope:
    """The hub's query of a timesheet whose finish is 40 minutes past its booking (a real stage 2 output)."""
    p = Pipeline()
    p.shift("healthroster:RHQ:D1", "RHQ", START, END)
    p.book(booking, "healthroster:RHQ:D1", "RHQ", START, END)
    p.submit(timesheet, booking, "healthroster:RHQ:D1", START, END + timedelta(minutes=40))
    [query] = p.of_type("TimesheetQueried")
    return query


def _paid() -> Pipeline:
    p = Pipeline()
    p.shift("healthroster:RHQ:D1", "RHQ", START, END)
    p.book("patchwork:RCU:PB1", "healthroster:RHQ:D1", "RHQ", START, END)
    p.submit("patchwork:RCU:TS1", "patchwork:RCU:PB1", "healthroster:RHQ:D1", START, END)
    p.close("RCU", "RCU-BANK-2026-W13", local("2026-03-30 10:00"))
    return p


def _update(env: Envelope, kind: str, destination: str, key: str = "key-1") -> Update:
    order = env.data.get(declared()[kind].order_field) or ""
    return Update(key, destination, kind, order, order, env)


def test_every_kind_is_declared_once_by_the_processor_that_emits_it() -> None:
    kinds = declared()
    assert {"timesheet_queried", "timesheet_approved", "pay_line", "pay_batch_closed"} <= set(kinds)
    assert kinds["pay_line"].order_field == "batch_id" and kinds["timesheet_queried"].source == "/rosterhub/payroll"
    assert kinds["booking_confirmed"].source == "/rosterhub/booking"


def test_a_query_goes_back_to_the_platform_and_trust_the_timesheet_came_from() -> None:
    routed = {(r.destination, r.kind) for r in route_outcome(_queried("patchwork:RCU:TS1"), None, DESTS)}
    assert routed == {("pw-RCU", "timesheet_queried")}
    vendor_query = replace(_queried("patchwork:RCU:TS1"), source="/vendors/patchwork/RCU")
    assert route_outcome(vendor_query, None, DESTS) == []  # the platform's own query is an input, not news


def test_pay_lines_go_to_the_employing_trusts_destinations_ordered_by_batch() -> None:
    p = _paid()
    line = next(e for e in p.payroll if e.type.endswith("PayrollLineIssued"))
    routed = {(r.destination, r.kind) for r in route_outcome(line, None, DESTS)}
    # every destination at the employing trust; the router then queues it only where the adapter takes it
    assert routed == {("pw-RCU", "pay_line"), ("esr-RCU", "pay_line"), ("outcomes-RCU", "pay_line")}
    assert "pay_line" in adapter("esr").kinds
    assert "pay_line" not in adapter("patchwork").kinds and "pay_line" not in adapter("outcomes").kinds
    assert _update(line, "pay_line", "esr-RCU").order_key == "RCU-BANK-2026-W13"


def test_patchwork_is_sent_the_query_in_its_own_words_and_shows_it() -> None:
    query = _queried("patchwork:RCU:TS1")
    call = adapter("patchwork").render(
        _update(query, "timesheet_queried", "pw-RCU"), dest("pw-RCU", "RCU", "patchwork")
    )
    assert isinstance(call, HttpCall)
    app = create_patchwork_platform(b"s3cret")
    signed = Destination("pw-RCU", "RCU", "patchwork", url="x", secret="s3cret")
    headers = wire_headers(call, signed, "key-1", time.time())
    with TestClient(app) as client:
        assert client.post("/webhooks/rosterhub", content=call.body, headers=headers).status_code == 204
        shown = client.get("/timesheets").json()
    assert shown["patchwork:RCU:TS1"]["status"] == "queried"
    assert shown["patchwork:RCU:TS1"]["reason"] == "hours_differ"  # Patchwork's label, from its mapping
    assert "40 min later" in shown["patchwork:RCU:TS1"]["detail"]


def test_locums_nest_nhsp_and_healthroster_show_the_query_on_their_own_timesheets(tmp_path: Path) -> None:
    # Locum's Nest: POST /api/v2/timesheets/{id}/query with its label
    ln = LocumsNestSimulator(["RCU"], seed=3, initial_changes=0)
    state = ln.platform.orgs["RCU"]
    state.timesheets["ts_9"] = {"id": "ts_9", "booking_id": "bk_1", "status": "submitted"}
    query = _queried("locums_nest:RCU:ts_9", "locums_nest:RCU:bk_1")
    call = adapter("locums_nest").render(
        _update(query, "timesheet_queried", "ln-RCU"), dest("ln-RCU", "RCU", "locums_nest")
    )
    assert isinstance(call, HttpCall) and call.path == "/api/v2/timesheets/ts_9/query"
    with TestClient(ln.app) as client:
        answer = client.post(
            call.path,
            content=call.body,
            headers={"Authorization": f"Bearer {ln.key_for('RCU')}", "Idempotency-Key": "k1"},
        )
    assert (
        answer.status_code == 200 and ln.platform.state.timesheets["locums_nest:RCU:ts_9"]["reason"] == "hours differ"
    )

    # NHSP: a hub_timesheets_*.csv file naming its own timesheet id
    nhsp = NhspSimulator(trusts_named(["RCU", "RHQ"]), seed=2, count=2)
    for _ in range(3):
        nhsp.step()
    ts_id = next(iter(nhsp.timesheets))
    query = _queried(f"nhsp:RCU:{ts_id}", "nhsp:RCU:BK1")
    drop = adapter("nhsp").render(_update(query, "timesheet_queried", "nhsp-RCU"), dest("nhsp-RCU", "RCU", "nhsp"))
    assert isinstance(drop, FileDrop) and drop.name.startswith("hub_timesheets_")
    (tmp_path / "nhsp").mkdir()
    (tmp_path / "nhsp" / drop.name).write_bytes(drop.content)
    assert nhsp.receive_outbound(tmp_path / "nhsp") == 1
    assert nhsp.timesheets[ts_id].hub_status == {
        "status": "queried",
        "reason": "Hours differ",
        "detail": query.data["detail"],
    }

    # HealthRoster: a QueryTimesheet update on the duty's timesheet
    hr = HealthRosterSimulator(trusts_named(["RHQ"]), seed=1, count=1)
    hr.step()
    duty = next(iter(hr.duties.values()))
    duty.state, duty.timesheet = "Filled", {"id": f"HRT-{duty.id}", "hub_status": None}
    query = _queried(f"healthroster:RHQ:HRT-{duty.id}")
    query.data["shift_id"] = f"healthroster:RHQ:{duty.id}"
    drop = adapter("healthroster").render(
        _update(query, "timesheet_queried", "hr-RHQ"), dest("hr-RHQ", "RHQ", "healthroster")
    )
    assert isinstance(drop, FileDrop)
    (tmp_path / "hr").mkdir()
    (tmp_path / "hr" / drop.name).write_bytes(drop.content)
    assert hr.receive_outbound(tmp_path / "hr") == 1 and duty.timesheet["hub_status"]["reason"] == "HOURS_DIFFER"


def test_esr_writes_a_pay_file_per_line_and_a_control_file_per_closed_batch(tmp_path: Path) -> None:
    p = _paid()
    esr, mine, other = adapter("esr"), dest("esr-RCU", "RCU", "esr"), dest("esr-RHQ", "RHQ", "esr")
    esr_sim = EsrSimulator(trusts_named(["RCU"]), seed=1, count=1)
    (tmp_path / "esr").mkdir()
    for n, env in enumerate(p.payroll):
        kind = "pay_line" if env.type.endswith("PayrollLineIssued") else "pay_batch_closed"
        upd = _update(env, kind, "esr-RCU", key=f"k{n}")
        assert esr.render(upd, other) is None  # another trust's payroll is not told
        drop = esr.render(upd, mine)
        assert isinstance(drop, FileDrop) and parse_pay(drop.content)
        (tmp_path / "esr" / drop.name).write_bytes(drop.content)
    esr_sim.receive_outbound(tmp_path / "esr")
    lines, control = esr_sim.batch("RCU-BANK-2026-W13")
    assert [(r["pay_code"], r["hours"], r["rate"]) for r in lines] == [
        ("BASIC", "11.00", "18.20"),
        ("NIGHT", "9.00", "5.46"),
        ("HOLIDAY_PAY", "", ""),
    ]
    assert control is not None and control["line_count"] == "3"
    assert control["amount"] == f"{sum(float(r['amount']) for r in lines):.2f}"
    assert all(r["register"] == "NMC" and r["registration_number"] == "71A2998E" for r in lines)
