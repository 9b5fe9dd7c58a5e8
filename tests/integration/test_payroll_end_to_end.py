"""Issue #14's "done when", end to end on the real broker, under the distributed and the lead-employer models.

A night shift posted at trust A (RHQ, HealthRoster file export) is released to the collaborative
bank and booked through Patchwork by a nurse of trust B (RCU). After the shift:

1. the nurse submits a timesheet through Patchwork finishing 45 minutes late: the hub queries it
   (A allows 15 minutes) and the query shows on Patchwork's side, in Patchwork's words;
2. the nurse corrects it and A's ward manager approves it in Patchwork (A's policy: one named step);
3. the employing trust pays it in its batch, at its own rate with the night enhancement, and its ESR
   interface receives the pay files; the batch is closed with ``rosterhub payroll close`` and ESR
   gets the control totals;
4. the employing trust's line is recharged to A in the month's statement (``rosterhub payroll
   statement``), line by line; ``rosterhub payroll resend`` changes nothing ESR holds, and the example
   consumer writes the same lines to CSV from the topic.

Distributed: B (RCU) employs its bank nurse and pays weekly at its rate. Lead employer: C (RFR) employs
every bank worker and pays monthly, at the worker's own grade, at its rate.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from rosterhub.auth.roles import Role
from rosterhub.connectors.simulators.esr import EsrSimulator
from rosterhub.connectors.simulators.files import trusts_named
from rosterhub.connectors.simulators.healthroster import HealthRosterSimulator
from rosterhub.connectors.simulators.patchwork import (
    timesheet_approved,
    timesheet_submitted,
)
from rosterhub.connectors.simulators.platform_state import PlatformState
from rosterhub.envelope import Envelope
from rosterhub.instants import LONDON
from rosterhub.kafka.resolve import Resolved
from rosterhub.streams.identity.match import person_id_for
from rosterhub.streams.payroll.hours import bank_holiday
from tests.integration.connectors.filedrop_support import connect_roster, prepare
from tests.integration.helpers import run_cli, settings_env, wait_for
from tests.integration.independent_consumer import check_topic, read_schemas
from tests.integration.market_support import approve_for_bank, nurse_asks, open_market, outbound_env, post_patchwork
from tests.integration.test_booking_saga import SagaHub

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
A, B, C = "RHQ", "RCU", "RFR"
PW_SECRET = "pw-payroll-secret"
NMC = "31D4567E"
NURSE = "Grace Mensah"


@dataclass(frozen=True)
class Model:
    name: str
    employment: str  # the collaborative file's employment block
    payer: str
    cycle: str
    basic: str  # the payer's band 5 rate
    night: str  # Annex 5 weekday nights: 30 % of it


MODELS = {
    "distributed": Model("distributed", "  model: distributed", B, "WEEKLY", "18.20", "5.46"),
    "lead_employer": Model(
        "lead_employer", f"  model: lead_employer\n  lead_employer: {C}", C, "MONTHLY", "17.90", "5.37"
    ),
}


@dataclass
class Payroll:
    model: Model
    hub: SagaHub
    ingress: str
    sftp: Path
    roster: HealthRosterSimulator
    patchwork: PlatformState
    esr_out: Path  # the payer's ESR drop folder
    env: dict[str, str]  # a CLI process's environment (same settings as the worker)


def _policies(tmp: Path, model: Model) -> Path:
    """The shipped payroll policies, with A signing timesheets off in one named step (so Patchwork's approval
    is the one that pays) and the collaborative's employment model."""
    folder = tmp / "payroll"
    shutil.copytree(REPO / "policies" / "payroll", folder)
    collab = folder / "collaborative.yaml"
    collab.write_text(collab.read_text().replace("  model: distributed", model.employment))
    rhq = folder / f"{A}.yaml"
    rhq.write_text(rhq.read_text() + "\napproval:\n  mode: steps\n  steps: [ward_manager]\n")
    return folder


@pytest.fixture(scope="module", params=list(MODELS))
def payroll(
    request: pytest.FixtureRequest, kafka: Resolved, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Payroll]:
    model = MODELS[request.param]
    tmp = tmp_path_factory.mktemp(f"payroll-{model.name}")
    now = datetime.now(UTC)
    roster = HealthRosterSimulator(trusts_named([A]), seed=11, count=1, formats="xml")
    policies = _policies(tmp, model)
    esr = {t: tmp / "out" / f"esr-{t}" for t in (A, B, C)}
    with ExitStack() as stack:
        bank = open_market(
            stack, kafka, tmp, host=A, release_after="3s", employer=B, secret=PW_SECRET, nmc=NMC, now=now
        )
        hub = bank.hub
        destinations = [
            {"name": f"healthroster-{A}", "trust": A, "platform": "healthroster", "folder": str(tmp / "out" / "hr")},
            bank.patchwork_destination,
            *({"name": f"esr-{t}", "trust": t, "platform": "esr", "folder": str(folder)} for t, folder in esr.items()),
        ]
        url = stack.enter_context(
            hub.worker(
                **bank.cascade,
                **outbound_env(destinations),
                ROSTERHUB_PAYROLL_POLICY_DIR=str(policies),
                ROSTERHUB_PAYROLL_TIMER_INTERVAL_S="1",
            )
        )
        hub.wait_cleared(url, [NMC], A, now + timedelta(days=14))
        yield Payroll(
            model,
            hub,
            bank.ingress,
            tmp / "sftp",
            roster,
            bank.patchwork,
            esr[model.payer],
            settings_env(hub.settings, ROSTERHUB_PAYROLL_POLICY_DIR=str(policies)),
        )


def _night(today: date) -> date:
    """A weekday night 12+ days ahead (Monday to Thursday, no bank holiday either side): only the night
    enhancement applies."""
    day = today + timedelta(days=12)
    while day.weekday() > 3 or bank_holiday(day) or bank_holiday(day + timedelta(days=1)):
        day += timedelta(days=1)
    return day


def _post(p: Payroll, payload: dict[str, Any]) -> None:
    answer = post_patchwork(p.ingress, PW_SECRET, payload)
    assert answer.status_code == 202 and answer.json()["accepted"] == 1, answer.text


def _cli(p: Payroll, *args: str) -> str:
    return run_cli(p.env, "payroll", *args)


def _book(p: Payroll) -> tuple[str, str, datetime, datetime]:
    """A's roster posts a Band 5 night; it is released; the nurse books it through Patchwork at B."""
    p.roster.step()
    duty = min(p.roster.duties.values(), key=lambda d: d.id)
    approve_for_bank(duty, "N", _night(p.roster.today))
    duty.changed = datetime.now(LONDON).replace(second=0, microsecond=0)
    connect_roster(prepare(p.hub.settings), p.roster, p.sftp, A)
    sid = f"healthroster:{A}:{duty.id}"
    wait_for(lambda: sid in p.patchwork.open_shifts(), timeout=60, what=f"{sid} offered to Patchwork at {B}")
    booking = f"PB-{uuid.uuid4().hex[:6]}"
    _post(p, nurse_asks(booking, B, NMC, NURSE, sid))
    booking_id = f"patchwork:{B}:{booking}"
    decision = p.hub.wait_decided([booking_id], timeout=60)[booking_id]
    assert decision.type.endswith("BookingConfirmed"), decision.data.get("reason_codes")
    return sid, booking, decision.data["start"], decision.data["end"]


def _lines(p: Payroll, booking_id: str) -> list[Envelope]:
    return [
        e
        for e in p.hub.events(p.hub.names.events("payroll"), timeout=2)
        if e.type.endswith("PayrollLineIssued") and e.data["booking_id"] == booking_id
    ]


def test_a_night_at_a_booked_through_patchwork_is_queried_approved_paid_in_batch_and_recharged(
    payroll: Payroll,
) -> None:
    p, m = payroll, payroll.model
    sid, booking, start, end = _book(p)
    booking_id, ts = f"patchwork:{B}:{booking}", f"TS-{booking}"
    worker_ref = {"id": f"w-{NMC}", "name": NURSE, "nmc_pin": NMC}

    # 1. 45 minutes late by the timesheet: outside A's 15 minutes, queried back on Patchwork
    late = timesheet_submitted(ts, booking, B, start, end + timedelta(minutes=45), worker=worker_ref, hub_shift_id=sid)
    _post(p, late)
    shown = wait_for(
        lambda: p.patchwork.timesheets.get(f"patchwork:{B}:{ts}"), timeout=60, what="the hub's query on Patchwork"
    )
    assert (shown["status"], shown["reason"]) == ("queried", "hours_differ")
    assert "45 min later" in shown["detail"] and "15 min allowed" in shown["detail"]

    # 2. corrected (5 minutes late: within tolerance) and approved by A's ward manager in Patchwork
    fixed_at = end + timedelta(hours=3)
    fixed = timesheet_submitted(
        ts, booking, B, start, end + timedelta(minutes=5), worker=worker_ref, hub_shift_id=sid, submitted_at=fixed_at
    )
    _post(p, fixed)
    _post(
        p,
        timesheet_approved(
            ts, booking, B, "11.08", fixed_at + timedelta(hours=1), role="ward_manager", hub_shift_id=sid
        ),
    )

    # 3. paid by the employing trust, at its rate, with the night enhancement
    lines = wait_for(lambda: (got := _lines(p, booking_id)) and len(got) >= 3 and got, timeout=60, what="pay lines")
    data = sorted((e.data for e in lines), key=lambda d: d["line_number"])
    assert {(d["employing_trust"]["ods_code"], d["host_trust"]["ods_code"], d["cycle"]) for d in data} == {
        (m.payer, A, m.cycle)
    }
    assert [(d["pay_code"], str(d["hours"]), str(d["rate"])) for d in data[:2]] == [
        ("BASIC", "11.08", m.basic),
        ("NIGHT", "9.00", m.night),
    ]
    assert data[2]["pay_code"] == "HOLIDAY_PAY" and data[0]["worker"]["person_id"] == person_id_for(f"reg:nmc:{NMC}")
    batch = data[0]["batch_id"]
    assert batch.startswith(f"{m.payer}-BANK-")
    total = sum((d["amount"] for d in data), Decimal(0))

    esr = EsrSimulator(trusts_named([m.payer]), seed=1, count=1)

    def esr_has(count: int) -> list[dict[str, str]] | None:
        esr.receive_outbound(p.esr_out)
        got = [r for r in esr.batch(batch)[0] if r["booking_id"] == booking_id]
        return got if len(got) >= count else None

    held = wait_for(lambda: esr_has(3), timeout=60, what=f"{m.payer}'s ESR pay files")
    assert [(r["pay_code"], r["hours"], r["rate"], r["registration_number"]) for r in held[:2]] == [
        ("BASIC", "11.08", m.basic, NMC),
        ("NIGHT", "9.00", m.night, NMC),
    ]

    # the payroll office sees the batch and exports it
    [listed] = [b for b in json.loads(_cli(p, "list", "--trust", m.payer, "--json")) if b["batch_id"] == batch]
    assert (listed["status"], listed["cycle"]) == ("open", m.cycle) and Decimal(listed["amount"]) >= total
    exported = list(csv.DictReader(_cli(p, "export", batch).splitlines()))
    assert [r["line_id"] for r in exported if r["booking_id"] == booking_id] == [d["line_id"] for d in data]

    # the batch closed by its payroll office: ESR gets the control totals
    out = _cli(p, "close", batch, "--by", "payroll-officer-7", "--wait", "60")
    assert f"{batch} closed by payroll-officer-7" in out

    def control() -> dict[str, str] | None:
        esr.receive_outbound(p.esr_out)
        return esr.batch(batch)[1]

    ctl = wait_for(control, timeout=60, what=f"{batch}'s control file at ESR")
    held_lines, _ = esr.batch(batch)
    assert ctl["line_count"] == str(len(held_lines)) and Decimal(ctl["amount"]) == sum(
        (Decimal(r["amount"]) for r in held_lines), Decimal(0)
    )

    # 4. recharged to A on the month's statement, line by line
    month = f"{data[0]['period_end']:%Y-%m}"
    [statement] = json.loads(_cli(p, "statement", "--between", m.payer, A, "--month", month, "--json"))
    assert (statement["raised_by"], statement["charged_to"]) == (m.payer, A)
    mine = [r for r in statement["lines"] if r["booking_id"] == booking_id]
    assert [r["line_id"] for r in mine] == [d["line_id"] for d in data]
    assert sum((Decimal(r["pay_amount"]) for r in mine), Decimal(0)) == total

    # over HTTP, with the hub's tokens: each trust's payroll sees its own pair and its own batches only
    third = ({A, B, C} - {A, m.payer}).pop()

    def api(trust: str, path: str, **params: str) -> httpx.Response:
        headers = {**p.hub.tokens.bearer(Role.PAYROLL, trust), "X-Rosterhub-Purpose": "payroll"}
        return httpx.get(f"{p.ingress}/payroll/{path}", params=params, headers=headers, timeout=60)

    [seen_by_a] = api(A, f"statements/{month}", **{"with": m.payer}).json()
    assert seen_by_a["statement_id"] == statement["statement_id"] and seen_by_a["amount"] == statement["amount"]
    assert api(third, f"statements/{month}", **{"with": A}).json() == []  # not its pair
    assert api(A, f"batches/{batch}").status_code == 403  # the host reads the recharge, not the pay lines
    lines_by_api = api(m.payer, f"batches/{batch}").json()["lines"]
    assert [d["line_id"] for d in lines_by_api if d["booking_id"] == booking_id] == [d["line_id"] for d in data]

    # a re-sent batch changes nothing ESR holds (same keys: repeats), and the example consumer's CSV agrees
    before = (esr.batch(batch), esr.repeats)
    _cli(p, "resend", batch)
    wait_for(lambda: esr.receive_outbound(p.esr_out) or esr.repeats > before[1], timeout=60, what="the re-sent files")
    assert esr.batch(batch) == before[0] and esr.repeats > before[1]
    consumer = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / "payroll_csv.py"),
            "--bootstrap",
            p.hub.settings.kafka_bootstrap_servers or "",
            "--topic",
            p.hub.names.events("payroll"),
            "--schemas-topic",
            p.hub.names.schemas,
            "--batch",
            batch,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = [r for r in csv.DictReader(consumer.stdout.splitlines()) if r["booking_id"] == booking_id]
    assert [(r["line_id"], r["pay_code"], r["amount"]) for r in rows] == [
        (d["line_id"], d["pay_code"], f"{d['amount']:.2f}") for d in data
    ]

    # a consumer that trusts nothing the hub wrote about itself reads the payroll topics (the spec-only Avro reader)
    schemas, problems = read_schemas(p.hub.settings.kafka_bootstrap_servers or "", p.hub.names.schemas)
    assert not problems, problems
    reports = {
        domain: check_topic(p.hub.settings.kafka_bootstrap_servers or "", p.hub.names.events(domain), schemas)
        for domain in ("payroll", "recharge", "timesheet")
    }
    assert {d: r.problems[:3] for d, r in reports.items() if r.problems} == {}
    assert all(r.decoded == r.records > 0 for r in reports.values()), reports
    assert {"PayrollLineIssued", "PayrollBatchClosed"} <= set(reports["payroll"].types)
    assert set(reports["recharge"].types) == {"RechargeLineRaised"}
    assert {"TimesheetSubmitted", "TimesheetQueried", "TimesheetApproved"} <= set(reports["timesheet"].types)
