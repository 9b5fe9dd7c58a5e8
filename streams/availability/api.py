"""The availability queries over HTTP, on the stream workers' own web server (faust web).

Every worker answers the shift lists from its read model of views.availability (the
whole topic). A worker's own list needs their passport, which lives in the passport
table partition of one worker: that request is forwarded to the owner of the person's
partition (faust's table router, as the passport API does), which holds the whole view
too, so clearance is computed next to the passport and nothing is copied.

Routes (docs/availability.md has examples):

* ``GET /availability/shifts?trust=&ward=&staff_group=&grade=&from=&to=``: open shifts.
* ``GET /availability/shifts/{shift_id}``: one shift's view, whatever its status.
* ``GET /availability/workers/{person}/shifts?staff_group=&grade=&home_trust=[&membership=]
  [&agency=][&substantive_employer=][&from=&to=]``: open shifts this worker may book.
  Needs the caller headers of the passport API (``X-Rosterhub-Trust``, ``-User``,
  ``-Purpose``) and leaves an audit record, since it reads the person's passport.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from faust.exceptions import SameNode
from faust.web.exceptions import ServiceUnavailable

from rosterhub.events.codes import GRADES
from rosterhub.events.models.common import MembershipType, StaffGroup
from rosterhub.instants import parse_instant
from rosterhub.streams.availability.query import ShiftFilter, WorkerProfile, as_json, open_shifts, worker_verdict
from rosterhub.streams.booking.rules.passport import Clearance
from rosterhub.streams.passport.audit import AuditRecord
from rosterhub.streams.passport.clearance import clearance
from rosterhub.streams.passport.state import Passport

if TYPE_CHECKING:
    from rosterhub.streams.availability.agents import AvailabilityRuntime

__all__ = ["register"]

log = logging.getLogger(__name__)

CALLER = ("X-Rosterhub-Trust", "X-Rosterhub-User", "X-Rosterhub-Purpose")


class _BadQuery(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.body = status, {"code": code, "message": message}


def _instant(query: dict[str, str], name: str) -> datetime | None:
    text = query.get(name)
    if not text:
        return None
    try:
        return parse_instant(text, name)
    except ValueError as exc:
        raise _BadQuery(400, "bad_query", str(exc)) from None


def _filter(query: dict[str, str]) -> ShiftFilter:
    group = query.get("staff_group") or None
    if group is not None and group not in StaffGroup.__members__:
        raise _BadQuery(400, "bad_query", f"staff_group={group!r} is not a canonical staff group (docs/events.md)")
    return ShiftFilter(
        trust=query.get("trust") or None,
        ward=query.get("ward") or None,
        staff_group=group,
        grade=query.get("grade") or None,
        start_from=_instant(query, "from"),
        start_to=_instant(query, "to"),
    )


def _worker(person: str, query: dict[str, str]) -> WorkerProfile:
    group, grade = query.get("staff_group", ""), query.get("grade", "")
    if group not in StaffGroup.__members__ or not GRADES.accepts(grade):
        raise _BadQuery(400, "bad_query", "the worker's staff_group and grade are required canonical codes")
    membership = query.get("membership", "BANK")
    if membership not in ("BANK", "SUBSTANTIVE", "AGENCY"):
        raise _BadQuery(400, "bad_query", f"membership={membership!r}: BANK, SUBSTANTIVE or AGENCY")
    home = query.get("home_trust") or None
    if membership != "AGENCY" and not home and not query.get("substantive_employer"):
        raise _BadQuery(400, "bad_query", "a bank or substantive worker needs home_trust (ODS code)")
    if membership == "AGENCY" and not query.get("agency"):
        raise _BadQuery(400, "bad_query", "an agency worker needs agency (agency id)")
    return WorkerProfile(
        person_id=person,
        staff_group=StaffGroup(group),
        grade=grade,
        membership=MembershipType(membership),
        home_trust=home,
        substantive_employer=query.get("substantive_employer") or None,
        agency=query.get("agency") or None,
    )


def register(rt: AvailabilityRuntime) -> None:
    app, store = rt.app, rt.store

    def not_ready(web: Any) -> Any:
        return web.json(
            {"code": "unavailable", "message": "availability view still loading; retry"},
            status=503,
            headers={"Retry-After": "1"},
        )

    @app.page("/availability/shifts")
    async def list_shifts(web: Any, request: Any) -> Any:
        if not store.ready:
            return not_ready(web)
        try:
            f = _filter(dict(request.query))
        except _BadQuery as bad:
            return web.json(bad.body, status=bad.status)
        shifts = open_shifts(store.all(), f, now=datetime.now(UTC))
        return web.json({"shifts": [as_json(v) for v in shifts], "count": len(shifts)})

    @app.page("/availability/shifts/{shift_id}")
    async def one_shift(web: Any, request: Any, shift_id: str) -> Any:
        if not store.ready:
            return not_ready(web)
        view = store.get(shift_id)
        if view is None:
            return web.json({"code": "unknown_shift", "message": f"no shift {shift_id}"}, status=404)
        return web.json(as_json(view))

    @app.page("/availability/workers/{person}/shifts")
    async def worker_shifts(web: Any, request: Any, person: str) -> Any:
        if rt.passport is None:
            return await _worker_shifts(rt, web, request, person)
        try:
            return await app.router.route_req(rt.passport.table.name, person.encode(), web.web, request)
        except SameNode:
            return await _worker_shifts(rt, web, request, person)
        except (KeyError, TypeError, ServiceUnavailable, OSError) as exc:  # no owner known (yet)
            log.info("availability request for %s not routable yet: %r", person, exc)
            return web.json(
                {"code": "unavailable", "message": "partition owner not known yet; retry"},
                status=503,
                headers={"Retry-After": "1"},
            )


async def _worker_shifts(rt: AvailabilityRuntime, web: Any, request: Any, person: str) -> Any:
    """Answer on the worker that owns the person's passport partition."""
    query = dict(request.query)
    caller = tuple((request.headers.get(h) or "").strip() for h in CALLER)
    try:
        if not all(caller):
            raise _BadQuery(400, "caller_unidentified", f"headers {', '.join(CALLER)} are required")
        if not rt.store.ready:
            raise _BadQuery(503, "unavailable", "availability view still loading; retry")
        f, worker = _filter(query), _worker(person, query)
    except _BadQuery as bad:
        await _audit(rt, person, caller, query, bad.status, f"refused: {bad.body['code']}")
        return web.json(bad.body, status=bad.status)
    passport = _passport(rt, person)
    shown, excluded = [], Counter[str]()
    for view in open_shifts(rt.store.all(), f, now=datetime.now(UTC)):
        failed = worker_verdict(view, worker, rt.policy.booking, _clearance(rt, passport, person, view))
        if failed:
            excluded.update(r.reason_code or r.rule for r in failed[:1])
        else:
            shown.append(as_json(view))
    await _audit(rt, person, caller, query, 200, f"{len(shown)} shifts")
    return web.json({"person": person, "shifts": shown, "count": len(shown), "excluded": dict(excluded)})


def _passport(rt: AvailabilityRuntime, person: str) -> Passport | None:
    if rt.passport is None:
        return None
    return Passport.from_table(rt.passport.table.get(person.encode()))


def _clearance(
    rt: AvailabilityRuntime, passport: Passport | None, person: str, view: dict[str, Any]
) -> Clearance | None:
    """The passport's verdict for this shift's role and times at its host trust, as the booking rule takes it."""
    policy = rt.passport.policies.get(view["trust"]["ods_code"]) if rt.passport else None
    if policy is None:
        return None  # passport_clearance: PASSPORT_UNKNOWN
    result = clearance(
        passport,
        policy,
        staff_group=view["staff_group"],
        grade=view["grade"],
        start=view["start"],
        end=view["end"],
        person=person,
    )
    unmet = tuple((r.requirement, r.reason or "NOT_MET") for r in result.requirements if not r.met)
    if not result.cleared and not unmet:
        unmet = tuple(("passport", reason) for reason in result.reasons)
    return Clearance(cleared=result.cleared, unmet=unmet)


async def _audit(
    rt: AvailabilityRuntime, person: str, caller: tuple[str, ...], query: dict[str, str], status: int, outcome: str
) -> None:
    if rt.passport is None:
        return
    trust, user, purpose = caller
    rec = AuditRecord(
        person=person,
        trust=trust,
        user=user,
        purpose=purpose,
        resource="availability",
        at=datetime.now(UTC),
        status=status,
        outcome=outcome,
        query=query,
        served_by=str(rt.app.conf.canonical_url),
    )
    key, value = rec.encode()
    fut = await rt.passport.topic(rt.ctx.names.audit).send(key=key, value=value)
    await fut  # on the audit trail before the answer leaves, as for the passport API
