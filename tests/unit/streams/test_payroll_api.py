"""The payroll API's rules: only the employing trust's payroll role reads its batches, a statement only by its two
trusts, an approval only by the host trust's named role; and nobody at all until callers can be verified."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import KafkaRecord, decode_record
from rosterhub.runtime import Encoder, TopicNames
from rosterhub.streams.payroll.access import Caller, current_caller
from rosterhub.streams.payroll.api import payroll_router
from rosterhub.streams.payroll.ledger import Ledger
from tests.unit.streams.payroll_harness import REPO, Pipeline, local

CODEC = SingleObjectCodec(default_catalogue())
NAMES = TopicNames("")
BATCH = "RCU-BANK-2026-W13"


class _Ready:
    """A ledger reader that has read everything already (what the API waits for)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def current(self, read: Any, *, timeout: float) -> Any:
        return read(self.ledger)


class _Sent:
    def __init__(self) -> None:
        self.records: list[KafkaRecord] = []

    def send(self, records: list[KafkaRecord]) -> list[tuple[int, int]]:
        self.records += records
        return [(0, n) for n in range(len(records))]


@pytest.fixture
def api() -> tuple[FastAPI, _Sent]:
    p = Pipeline()
    start, end = local("2026-03-24 20:00"), local("2026-03-25 08:00")
    p.shift("healthroster:RHQ:D1", "RHQ", start, end)
    p.book("patchwork:RCU:PB1", "healthroster:RHQ:D1", "RHQ", start, end)
    p.submit("patchwork:RCU:TS1", "patchwork:RCU:PB1", "healthroster:RHQ:D1", start, end)
    ledger = Ledger()
    for env in [*p.payroll, *p.recharges]:
        ledger.apply(env)
    sent = _Sent()
    encoder = Encoder(CODEC, NAMES, default_catalogue())
    app = FastAPI()
    router = payroll_router("unused:9092", NAMES, CODEC, sent, encoder, REPO / "policies" / "payroll", _Ready(ledger))  # type: ignore[arg-type]
    app.include_router(router)
    return app, sent


def _as(app: FastAPI, trust: str | None, *roles: str) -> TestClient:
    app.dependency_overrides[current_caller] = lambda: Caller(f"user-at-{trust}", trust, frozenset(roles))
    return TestClient(app)


def test_nothing_is_served_until_callers_can_be_verified(api: tuple[FastAPI, _Sent]) -> None:
    answer = TestClient(api[0]).get("/payroll/batches", params={"trust": "RCU"})
    assert answer.status_code == 503 and answer.json()["detail"]["code"] == "access_control_unavailable"


def test_only_the_employing_trusts_payroll_reads_its_batch(api: tuple[FastAPI, _Sent]) -> None:
    app, _ = api
    mine = _as(app, "RCU", "payroll")
    [summary] = mine.get("/payroll/batches").json()
    assert (summary["batch_id"], summary["lines"], summary["status"]) == (BATCH, 3, "open")
    lines = mine.get(f"/payroll/batches/{BATCH}").json()["lines"]
    assert [d["pay_code"] for d in lines] == ["BASIC", "NIGHT", "HOLIDAY_PAY"]
    csv = mine.get(f"/payroll/batches/{BATCH}", params={"format": "csv"}).text
    assert csv.splitlines()[0].startswith("batch_id,line_number,line_id") and len(csv.splitlines()) == 4
    # the host trust's payroll, RCU's staff without the payroll role: refused
    assert _as(app, "RHQ", "payroll").get(f"/payroll/batches/{BATCH}").status_code == 403
    assert _as(app, "RHQ", "payroll").get("/payroll/batches", params={"trust": "RCU"}).status_code == 403
    assert _as(app, "RCU", "trust_user").get(f"/payroll/batches/{BATCH}").status_code == 403


def test_a_statement_is_shown_to_its_two_trusts_only(api: tuple[FastAPI, _Sent]) -> None:
    app, _ = api
    for trust, other in (("RHQ", "RCU"), ("RCU", "RHQ")):
        [statement] = _as(app, trust, "payroll").get("/payroll/statements/2026-03", params={"with": other}).json()
        assert (statement["raised_by"], statement["charged_to"], statement["recharges"]) == ("RCU", "RHQ", 3)
    # RFR asks about RCU: its own pair with RCU has nothing; RCU and RHQ's pair is not shown to it
    assert _as(app, "RFR", "payroll").get("/payroll/statements/2026-03", params={"with": "RCU"}).json() == []
    assert _as(app, "RFR", "trust_user").get("/payroll/statements/2026-03", params={"with": "RCU"}).status_code == 403


def test_an_approval_needs_the_host_trusts_named_role_and_carries_who_gave_it(api: tuple[FastAPI, _Sent]) -> None:
    app, sent = api
    body = {
        "booking_id": "patchwork:RCU:PB2",
        "shift_id": "healthroster:RFR:D2",
        "host_trust": "RFR",
        "step": 2,
        "approved_hours": "11.00",
    }
    assert (
        _as(app, "RFR", "ward_manager").post("/payroll/timesheets/patchwork:RCU:TS2/approvals", json=body).status_code
        == 403
    )
    assert (
        _as(app, "RCU", "bank_office").post("/payroll/timesheets/patchwork:RCU:TS2/approvals", json=body).status_code
        == 403
    )
    answer = _as(app, "RFR", "bank_office").post("/payroll/timesheets/patchwork:RCU:TS2/approvals", json=body)
    assert answer.status_code == 202 and answer.json()["role"] == "bank_office"
    [record] = sent.records
    env = decode_record(record.value, record.headers, CODEC)
    assert record.topic == "events.timesheet" and record.key == b"patchwork:RCU:PB2"
    assert (env.source, env.data["approver"], env.data["approver_role"], env.data["approver_trust"]) == (
        "/rosterhub/api/payroll",
        "user-at-RFR",
        "bank_office",
        "RFR",
    )
    assert env.data["approval_step"] == 2 and env.data["final_approval"] is True
    third = {**body, "step": 3}
    assert _as(app, "RFR", "bank_office").post("/payroll/timesheets/x/approvals", json=third).status_code == 422
