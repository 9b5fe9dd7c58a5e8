"""HTTP API of payroll, mounted by ``rosterhub.api.create_api`` (docs/payroll.md, "HTTP").

Reads come from a :class:`~.reader.LedgerReader` following events.payroll and events.recharge (the
lines and statements the trusts' payrolls receive). Every route needs a bearer token
(:mod:`rosterhub.auth`); who may read what is :mod:`.access`: a batch's lines (personal, financial) only
by the employing trust's ``payroll`` role, and each read is audited; a statement only by one of its two
trusts. An approval through the API is a TimesheetApproved published on events.timesheet with the
caller's subject, role and trust, which the timesheet stage checks again against the host's policy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request, Security
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from rosterhub.auth.caller import Caller
from rosterhub.auth.roles import Role
from rosterhub.auth.web import Authenticate, audit, forbidden
from rosterhub.codec.wire import EventCodec
from rosterhub.envelope import Envelope, event_id
from rosterhub.events.models.timesheet import TimesheetApproved
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.producer import EventSink
from rosterhub.lifespan import running
from rosterhub.ods import ODS_PATTERN
from rosterhub.runtime import Encoder, TopicNames
from rosterhub.streams.payroll import approval
from rosterhub.streams.payroll.access import APPROVER_ROLES, can_approve, can_read_batch, can_read_statement
from rosterhub.streams.payroll.commands import batch_trust
from rosterhub.streams.payroll.ledger import Ledger, lines_csv
from rosterhub.streams.payroll.load import PayrollPolicies, load_payroll_policies
from rosterhub.streams.payroll.reader import LedgerReader
from rosterhub.streams.payroll.timesheets import API_SOURCE

__all__ = ["ApprovalRequest", "payroll_router"]

T = TypeVar("T")

_PAYROLL = frozenset({Role.PAYROLL})

#: A batch's lines are personal and financial data: the employing trust's payroll role, each read audited.
_LINES = Security(Authenticate(trust_param="trust", audit="payroll", person_param=None), scopes=[Role.PAYROLL])
_STATEMENTS = Security(Authenticate(), scopes=[Role.PAYROLL])
_APPROVER = Security(Authenticate(), scopes=list(APPROVER_ROLES))


class ApprovalRequest(BaseModel):
    """One approval step of a timesheet, by the caller, at the host trust."""

    booking_id: str = Field(min_length=1, max_length=200)
    shift_id: str = Field(min_length=1, max_length=200)
    host_trust: str = Field(pattern=ODS_PATTERN, description="ODS code of the trust where the shift was worked.")
    step: int = Field(ge=1, le=2, description="Approval step (the host trust's policy names each step's role).")
    approved_hours: str = Field(pattern=r"^\d{1,3}(\.\d{1,2})?$", description="Hours approved, e.g. 11.25.")


def payroll_router(
    kafka: KafkaAccess,
    names: TopicNames,
    codec: EventCodec,
    sink: EventSink,
    encoder: Encoder,
    policy_dir: Path,
    reader: LedgerReader | None = None,
) -> APIRouter:
    """``reader``: where the ledger comes from (default: following the topics; tests pass one already read)."""
    reader = reader or LedgerReader(kafka, [names.events("payroll"), names.events("recharge")], codec)
    policies = load_payroll_policies([policy_dir]) if policy_dir.exists() else PayrollPolicies({})

    router = APIRouter(prefix="/payroll", tags=["payroll"], lifespan=running(reader))

    async def ledger(read: Callable[[Ledger], T]) -> T:
        try:
            return await run_in_threadpool(reader.current, read, timeout=30.0)
        except TimeoutError as exc:
            raise HTTPException(503, {"code": "not_ready", "message": str(exc)}) from exc

    @router.get("/batches", summary="The employing trust's payroll batches: status, lines, total")
    async def batches(
        request: Request, trust: Annotated[str | None, Query()] = None, caller: Caller = _LINES
    ) -> list[dict[str, Any]]:
        mine = trust or caller.trust or ""
        if not can_read_batch(caller, mine):
            await audit(request, 403, "refused: not the employing trust's payroll", person="")
            raise forbidden("other_trust", "only the employing trust's payroll role reads its batches", _PAYROLL)
        found = await ledger(lambda led: [b.summary() for b in led.of_trust(mine)])
        await audit(request, 200, f"batches of {mine}: {len(found)}", person="")
        return found

    @router.get("/batches/{batch_id}", summary="One batch with its lines, in line order (JSON or CSV)")
    async def batch(
        request: Request,
        batch_id: str,
        format: Annotated[Literal["json", "csv"], Query()] = "json",
        caller: Caller = _LINES,
    ) -> Any:
        try:
            employer = batch_trust(batch_id)
        except ValueError as exc:
            raise HTTPException(404, {"code": "not_found", "message": str(exc)}) from exc
        if not can_read_batch(caller, employer):
            await audit(request, 403, f"refused: {batch_id} is {employer}'s payroll", person="")
            raise forbidden("other_trust", f"{batch_id} is read by {employer}'s payroll role only", _PAYROLL)
        found = await ledger(lambda led: _batch(led, batch_id))
        if found is None:
            raise HTTPException(404, {"code": "not_found", "message": f"no batch {batch_id!r}"})
        summary, rows = found
        await audit(request, 200, f"batch {batch_id}: {len(rows)} lines", person="")
        if format == "csv":
            return PlainTextResponse(lines_csv(rows), media_type="text/csv")
        return {"batch": summary, "lines": rows}

    @router.get("/statements/{month}", summary="Recharge statements between the caller's trust and another")
    async def statements(
        month: Annotated[str, PathParam(pattern=r"^\d{4}-\d{2}$")],
        other: Annotated[str, Query(alias="with", pattern=ODS_PATTERN)],
        caller: Caller = _STATEMENTS,
    ) -> list[dict[str, Any]]:
        trust = caller.trust
        if trust is None or not can_read_statement(caller, trust, other):
            raise forbidden("other_trust", "a statement is shown to the payroll of its two trusts only", _PAYROLL)
        found = await ledger(lambda led: [s.document() for s in led.statements_between(trust, other, month)])
        return [s for s in found if can_read_statement(caller, s["raised_by"], s["charged_to"])]

    @router.post("/timesheets/{timesheet_id}/approvals", status_code=202, summary="Approve one step of a timesheet")
    async def approve(timesheet_id: str, body: ApprovalRequest, caller: Caller = _APPROVER) -> dict[str, Any]:
        policy = policies.get(body.host_trust)
        roles = approval.required_steps(policy)
        if policy is None or body.step > len(roles):
            raise HTTPException(422, {"code": "no_such_step", "message": f"{body.host_trust} has no step {body.step}"})
        role = roles[body.step - 1]
        if not can_approve(caller, body.host_trust, role):
            message = f"step {body.step} at {body.host_trust} is approved by {body.host_trust}'s {role} role"
            raise forbidden("wrong_role", message, frozenset({Role(role)}))
        env = _approval(timesheet_id, body, caller, role, final=body.step == len(roles))
        await run_in_threadpool(sink.send, [encoder.encode(env)])
        return {"accepted": True, "event_id": env.id, "step": body.step, "role": role}

    return router


def _approval(timesheet_id: str, body: ApprovalRequest, caller: Caller, role: str, *, final: bool) -> Envelope:
    """The TimesheetApproved an API approval publishes: the caller's subject, role and trust; its id from what
    was approved, so a retried request is the same event (the timesheet stage records it once)."""
    hours = Decimal(body.approved_hours)  # the request model's pattern lets only a decimal through
    now = datetime.now(UTC)
    return Envelope(
        type=TimesheetApproved.AVRO_NAME,
        source=API_SOURCE,
        id=event_id("api-approval", timesheet_id, body.step, caller.subject, hours),
        subject=timesheet_id,
        time=now,
        data={
            "timesheet_id": timesheet_id,
            "booking_id": body.booking_id,
            "shift_id": body.shift_id,
            "approver": caller.subject,
            "approval_step": body.step,
            "final_approval": final,
            "approved_hours": hours,
            "approved_at": now,
            "approver_role": role,
            "approver_trust": caller.trust,
        },
    )


def _batch(led: Ledger, batch_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    found = led.batches.get(batch_id)
    return None if found is None else (found.summary(), found.ordered())
