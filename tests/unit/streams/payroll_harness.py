"""The three payroll stages chained in memory, as the agents chain them through topics (no broker).

Every event a stage emits is validated by its generated model and written and read back with
fastavro (its writer schema), so a test sees what a consumer of the topic would read. Internal
messages (booking facts, priced lines) go through JSON, as on their topics.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastavro import schemaless_reader, schemaless_writer

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.envelope import Envelope, event_id
from rosterhub.events.codes import IDENTIFIER_SYSTEMS, vendor_system
from rosterhub.events.models import EVENT_MODELS
from rosterhub.instants import LONDON
from rosterhub.streams.booking.outcome import SOURCE as HUB
from rosterhub.streams.payroll import batches, bookings, timesheets
from rosterhub.streams.payroll.load import PayrollPolicies, load_payroll_policies
from rosterhub.streams.payroll.state import BookingSheets
from rosterhub.streams.payroll.timesheets import API_SOURCE

__all__ = ["API_SOURCE", "REPO", "Pipeline", "local", "nurse", "repo_policies"]

REPO = Path(__file__).resolve().parents[3]
CATALOGUE = default_catalogue()


def repo_policies() -> PayrollPolicies:
    return load_payroll_policies([REPO / "policies" / "payroll"])


def local(text: str) -> datetime:
    """``"2026-03-24 20:00"`` in Europe/London."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def _wire(env: Envelope) -> Envelope:
    """The event as a consumer reads it: validated by its model, through Avro and back."""
    model = EVENT_MODELS[env.type].model_validate(env.data)
    schema = CATALOGUE.get(env.type)
    buf = io.BytesIO()
    schemaless_writer(buf, schema.parsed, model.to_avro())
    buf.seek(0)
    data = schemaless_reader(buf, schema.parsed, schema.parsed)
    return Envelope(type=env.type, source=env.source, data=data, id=env.id, subject=env.subject, time=env.time)


def nurse(nmc: str = "71A2998E", person: str = "person:aa11") -> dict[str, Any]:
    return {
        "person_id": person,
        "identifiers": [
            {"system": IDENTIFIER_SYSTEMS["nmc"], "value": nmc},
            {"system": vendor_system("patchwork", "RCU"), "value": f"w-{nmc}"},
        ],
        "display_name": "Amara Okafor",
    }


@dataclass
class Pipeline:
    """Stage states by key, and everything the stages published, in order."""

    policies: PayrollPolicies = field(default_factory=repo_policies)
    shifts: dict[str, bookings.ShiftFacts] = field(default_factory=dict)
    sheets: dict[str, BookingSheets] = field(default_factory=dict)
    trusts: dict[str, batches.TrustBatches] = field(default_factory=dict)
    refs: dict[str, dict[str, Any]] = field(default_factory=dict)
    timesheet_events: list[Envelope] = field(default_factory=list)
    payroll: list[Envelope] = field(default_factory=list)
    recharges: list[Envelope] = field(default_factory=list)

    # --- stage plumbing -------------------------------------------------------------------------
    def _stage1(self, env: Envelope) -> None:
        key = env.data["shift_id"]
        result = bookings.step(self.shifts.get(key), _wire(env))
        if result.state is not None:
            self.shifts[key] = result.state
        for msg in result.out:
            self._stage2(json.loads(json.dumps(msg)), env.time)

    def _stage2(self, item: Envelope | dict[str, Any], now: datetime) -> None:
        key = item["booking_id"] if isinstance(item, dict) else item.data["booking_id"]
        result = timesheets.step(self.sheets.get(key), item, policies=self.policies, now=now)
        self._after2(key, result, now)

    def _after2(self, key: str, result: Any, now: datetime) -> None:
        if result.state is not None:
            self.sheets[key] = result.state
        for env in result.events:
            wired = _wire(env)
            self.timesheet_events.append(wired)
            self._stage2(wired, now)  # read back by the stage itself, as on events.timesheet
        for msg in result.priced:
            if not msg.get("error"):
                self._stage3(json.loads(json.dumps(msg)), now)

    def _stage3(self, msg: dict[str, Any], now: datetime) -> None:
        trust = msg["employer"] if msg["kind"] == "priced" else msg["trust"]
        pay = self.policies.get(trust).pay  # type: ignore[union-attr]
        state = self.trusts.get(trust) or batches.TrustBatches(trust)
        if msg["kind"] == "close":
            result = batches.close(state, msg["batch_id"], pay, by=msg["by"], now=now)
        else:
            result = batches.take(state, self.refs.get(msg["ref"]), msg, pay, now)
            if result.ref is not None:
                self.refs[msg["ref"]] = result.ref
        self.trusts[trust] = result.batches
        for env in result.events:
            wired = _wire(env)
            (self.recharges if env.type.endswith("RechargeLineRaised") else self.payroll).append(wired)

    # --- inputs, as connectors and the booking processor publish them -----------------------------------
    def shift(
        self,
        shift_id: str,
        host: str,
        start: datetime,
        end: datetime,
        *,
        grade: str = "BAND_5",
        staff_group: str = "NURSING_MIDWIFERY_REGISTERED",
        break_minutes: int = 60,
        version: int = 1,
    ) -> None:
        vendor = shift_id.split(":", maxsplit=1)[0]
        data = {
            "shift_id": shift_id,
            "version": version,
            "vendor": vendor,
            "vendor_shift_id": shift_id.rsplit(":", maxsplit=1)[-1],
            "trust": {"ods_code": host, "name": None},
            "ward": "Ward 3B",
            "staff_group": staff_group,
            "grade": grade,
            "shift_type": "NIGHT",
            "start": start,
            "end": end,
            "break_minutes": break_minutes,
        }
        kind = "ShiftPosted" if version == 1 else "ShiftUpdated"
        if version > 1:
            data |= {"changed_fields": ["start"], "updated_at": start}
        env = Envelope(f"rosterhub.shift.v1.{kind}", f"/vendors/{vendor}/{host}", data, event_id(shift_id, version))
        self._stage1(env)

    def book(
        self,
        booking_id: str,
        shift_id: str,
        host: str,
        start: datetime,
        end: datetime,
        *,
        home: str | None = None,
        worker_grade: str = "BAND_5",
        worker: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> None:
        vendor, trust, _ = booking_id.split(":", 2)
        worker = worker or nurse()
        at = at or start - timedelta(days=5)
        request = {
            "booking_id": booking_id,
            "shift_id": shift_id,
            "worker": {**worker, "person_id": None},
            "vendor": vendor,
            "requested_at": at,
            "membership": "BANK",
            "grade": worker_grade,
            "staff_group": "NURSING_MIDWIFERY_REGISTERED",
            "home_trust": home or trust,
        }
        self._stage1(Envelope("rosterhub.booking.v1.BookingRequested", f"/vendors/{vendor}/{trust}", request))
        confirmed = {
            "booking_id": booking_id,
            "shift_id": shift_id,
            "worker": worker,
            "host_trust": {"ods_code": host, "name": None},
            "start": start,
            "end": end,
            "rule_results": [],
            "decided_at": at,
            "tier": "COLLABORATIVE_BANK",
            "vendor": vendor,
        }
        env = Envelope("rosterhub.booking.v1.BookingConfirmed", HUB, confirmed, event_id("c", booking_id), time=at)
        self._stage1(env)

    def cancel(self, booking_id: str, shift_id: str, host: str, start: datetime, at: datetime, fee: str | None) -> None:
        data = {
            "booking_id": booking_id,
            "shift_id": shift_id,
            "worker": nurse(),
            "host_trust": {"ods_code": host, "name": None},
            "cancelled_by": "TRUST",
            "reason": "DEMAND_CHANGED",
            "start": start,
            "cancelled_at": at,
            "notice_hours": Decimal(str(round((start - at).total_seconds() / 3600, 2))),
            "late_cancellation_fee": fee is not None,
            "fee_hours": None if fee is None else Decimal(fee),
            "shift_reopened": False,
        }
        self._stage1(Envelope("rosterhub.booking.v1.BookingCancelled", HUB, data, event_id("x", booking_id), time=at))

    def submit(
        self,
        timesheet_id: str,
        booking_id: str,
        shift_id: str,
        start: datetime,
        end: datetime,
        *,
        break_minutes: int = 60,
        at: datetime | None = None,
        host: str = "RHQ",
    ) -> None:
        vendor = timesheet_id.split(":", maxsplit=1)[0]
        secs = (end.timestamp() - start.timestamp()) - break_minutes * 60
        data = {
            "timesheet_id": timesheet_id,
            "booking_id": booking_id,
            "shift_id": shift_id,
            "worker": nurse(),
            "host_trust": {"ods_code": host, "name": None},
            "vendor": vendor,
            "actual_start": start,
            "actual_end": end,
            "break_minutes": break_minutes,
            "hours": (Decimal(secs) / 3600).quantize(Decimal("0.01")),
            "submitted_at": at or end + timedelta(minutes=30),
        }
        ident = event_id("ts", timesheet_id, start, end, break_minutes)
        env = Envelope("rosterhub.timesheet.v1.TimesheetSubmitted", f"/vendors/{vendor}/X", data, ident)
        self._stage2(_wire(env), data["submitted_at"])

    def approve(
        self,
        timesheet_id: str,
        booking_id: str,
        shift_id: str,
        hours: str,
        at: datetime,
        *,
        step: int = 1,
        final: bool = True,
        source: str = "/vendors/patchwork/RCU",
        role: str | None = None,
        trust: str | None = None,
    ) -> None:
        data = {
            "timesheet_id": timesheet_id,
            "booking_id": booking_id,
            "shift_id": shift_id,
            "approver": "user-1",
            "approval_step": step,
            "final_approval": final,
            "approved_hours": Decimal(hours),
            "approved_at": at,
            "approver_role": role,
            "approver_trust": trust,
        }
        env = Envelope(
            "rosterhub.timesheet.v1.TimesheetApproved", source, data, event_id("ap", timesheet_id, step, hours, at)
        )
        self._stage2(_wire(env), at)

    def tick(self, booking_id: str, now: datetime) -> None:
        state = self.sheets[booking_id]
        self._after2(booking_id, timesheets.tick(state, policies=self.policies, now=now), now)

    def close(self, trust: str, batch_id: str, now: datetime) -> None:
        self._stage3({"kind": "close", "trust": trust, "batch_id": batch_id, "by": "payroll-1"}, now)

    # --- reading what came out -------------------------------------------------------------------------
    def lines(self, batch_id: str | None = None) -> list[dict[str, Any]]:
        out = [e.data for e in self.payroll if e.type.endswith("PayrollLineIssued")]
        return [d for d in out if batch_id is None or d["batch_id"] == batch_id]

    def of_type(self, name: str) -> list[Envelope]:
        return [e for e in self.timesheet_events if e.type.endswith(name)]
