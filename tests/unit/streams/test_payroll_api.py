"""The payroll API with the hub's access control (real tokens from the local issuer): only the employing trust's
payroll role reads its batches, every read audited; a statement only by its two trusts; an approval only by the
host trust's named role; nobody without a token."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rosterhub.auth.audit import AuditRecord
from rosterhub.auth.roles import Role
from rosterhub.auth.tokens import TokenVerifier
from rosterhub.auth.web import Access, install_access
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import KafkaRecord, decode_record
from rosterhub.kafka.access import KafkaAccess
from rosterhub.runtime import Encoder, TopicNames
from rosterhub.settings import Settings
from rosterhub.streams.payroll.api import payroll_router
from rosterhub.streams.payroll.ledger import Ledger
from tests.auth_support import Tokens
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


class Api:
    def __init__(self, tmp: Path, ledger: Ledger) -> None:
        self.tokens = Tokens(tmp / "issuer")
        self.sent = _Sent()
        self.audits: list[AuditRecord] = []
        settings = Settings(state_dir=tmp, auth_issuers=[self.tokens.issuer.accepted()])
        encoder = Encoder(CODEC, NAMES, default_catalogue())
        app = FastAPI()

        async def write(record: AuditRecord) -> None:
            self.audits.append(record)

        install_access(app, Access(TokenVerifier.from_settings(settings), "test", write))
        folder = REPO / "policies" / "payroll"
        kafka = KafkaAccess("unused:9092")  # never reached: the reader is given, already read
        sent, reader = cast(Any, self.sent), cast(Any, _Ready(ledger))
        app.include_router(payroll_router(kafka, NAMES, CODEC, sent, encoder, folder, reader))
        self.client = TestClient(app)

    def get(self, path: str, role: Role, caller_trust: str | None, **params: str) -> Any:
        token = self.tokens.bearer(role, caller_trust, subject=f"user-at-{caller_trust}")
        headers = {**token, "X-Rosterhub-Purpose": "payroll"}
        return self.client.get(path, params=params, headers=headers)

    def post(self, path: str, role: Role, trust: str, body: dict[str, Any]) -> Any:
        return self.client.post(path, json=body, headers=self.tokens.bearer(role, trust, subject=f"user-at-{trust}"))


@pytest.fixture
def api(tmp_path: Path) -> Api:
    p = Pipeline()
    start, end = local("2026-03-24 20:00"), local("2026-03-25 08:00")
    p.shift("healthroster:RHQ:D1", "RHQ", start, end)
    p.book("patchwork:RCU:PB1", "healthroster:RHQ:D1", "RHQ", start, end)
    p.submit("patchwork:RCU:TS1", "patchwork:RCU:PB1", "healthroster:RHQ:D1", start, end)
    ledger = Ledger()
    for env in [*p.payroll, *p.recharges]:
        ledger.apply(env)
    return Api(tmp_path, ledger)


def test_nobody_without_a_token(api: Api) -> None:
    answer = api.client.get("/payroll/batches", params={"trust": "RCU"})
    assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer")


def test_only_the_employing_trusts_payroll_reads_its_batch_and_every_read_is_audited(api: Api) -> None:
    [summary] = api.get("/payroll/batches", Role.PAYROLL, "RCU").json()
    assert (summary["batch_id"], summary["lines"], summary["status"]) == (BATCH, 3, "open")
    lines = api.get(f"/payroll/batches/{BATCH}", Role.PAYROLL, "RCU").json()["lines"]
    assert [d["pay_code"] for d in lines] == ["BASIC", "NIGHT", "HOLIDAY_PAY"]
    csv = api.get(f"/payroll/batches/{BATCH}", Role.PAYROLL, "RCU", format="csv").text
    assert csv.splitlines()[0].startswith("batch_id,line_number,line_id") and len(csv.splitlines()) == 4
    # the host trust's payroll, RCU's staff without the payroll role: refused
    assert api.get(f"/payroll/batches/{BATCH}", Role.PAYROLL, "RHQ").status_code == 403
    assert api.get("/payroll/batches", Role.PAYROLL, "RHQ", trust="RCU").status_code == 403
    assert api.get(f"/payroll/batches/{BATCH}", Role.TRUST_USER, "RCU").status_code == 403
    assert [(a.user, a.status, a.resource) for a in api.audits] == [
        ("user-at-RCU", 200, "payroll"),
        ("user-at-RCU", 200, "payroll"),
        ("user-at-RCU", 200, "payroll"),
        ("user-at-RHQ", 403, "payroll"),
        ("user-at-RHQ", 403, "payroll"),
        ("user-at-RCU", 403, "payroll"),
    ]


def test_a_statement_is_shown_to_its_two_trusts_only(api: Api) -> None:
    for trust, other in (("RHQ", "RCU"), ("RCU", "RHQ")):
        [statement] = api.get("/payroll/statements/2026-03", Role.PAYROLL, trust, **{"with": other}).json()
        assert (statement["raised_by"], statement["charged_to"], statement["recharges"]) == ("RCU", "RHQ", 3)
    # RFR asks about RCU: its own pair with RCU has nothing; RCU and RHQ's pair is not shown to it
    assert api.get("/payroll/statements/2026-03", Role.PAYROLL, "RFR", **{"with": "RCU"}).json() == []
    assert api.get("/payroll/statements/2026-03", Role.TRUST_USER, "RFR", **{"with": "RCU"}).status_code == 403


def test_an_approval_needs_the_host_trusts_named_role_and_carries_who_gave_it(api: Api) -> None:
    sent = api.sent
    body = {
        "booking_id": "patchwork:RCU:PB2",
        "shift_id": "healthroster:RFR:D2",
        "host_trust": "RFR",
        "step": 2,
        "approved_hours": "11.00",
    }
    path = "/payroll/timesheets/patchwork:RCU:TS2/approvals"
    assert api.post(path, Role.WARD_MANAGER, "RFR", body).status_code == 403  # RFR's step 2 is the bank office's
    assert api.post(path, Role.BANK_OFFICE, "RCU", body).status_code == 403  # another trust's bank office
    assert api.post(path, Role.PAYROLL, "RFR", body).status_code == 403  # not an approver role
    answer = api.post(path, Role.BANK_OFFICE, "RFR", body)
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
    assert api.post("/payroll/timesheets/x/approvals", Role.BANK_OFFICE, "RFR", third).status_code == 422
