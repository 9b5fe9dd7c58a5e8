"""The availability queries over HTTP, on the stream workers' own web server (:mod:`rosterhub.streams.web`).

Every worker that follows views.availability (the whole topic) answers the shift lists from its read model.
A worker's own list needs their passport, which lives in the passport table partition of one worker: that
route is served by the ``open-shifts`` processor, which runs where passport runs (its ``needs``), and a
request is forwarded to the owner of the person's partition (as the passport API does), which holds the
whole view too, so clearance is computed next to the passport and nothing is copied. A worker that runs
availability without ``open-shifts`` (a views worker, issue #16) refuses that route with
``404 not_served_here``, naming the workers that serve it, rather than answer without the passport.

Every route needs a bearer token with the role ``trust_user``; a trust sees its own shifts and the
ones released to it (``visible_to``). Routes (docs/availability.md has examples):

* ``GET /availability/shifts?trust=&ward=&staff_group=&grade=&from=&to=``: open shifts.
* ``GET /availability/shifts/{shift_id}``: one shift's view, whatever its status; it may name the
  booked worker, so the caller states a purpose and a shown worker is audited.
* ``GET /availability/workers/{person}/shifts?staff_group=&grade=&home_trust=[&membership=]
  [&agency=][&substantive_employer=][&from=&to=]``: open shifts this worker may book. It reads the
  person's passport: the caller states a purpose and the read is audited.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request, Security
from fastapi.responses import JSONResponse, Response

from rosterhub.auth.caller import Caller
from rosterhub.auth.roles import Role
from rosterhub.auth.web import Authenticate, audit
from rosterhub.events.codes import GRADES
from rosterhub.events.models.common import MembershipType, StaffGroup
from rosterhub.streams.availability.query import (
    ShiftFilter,
    WorkerProfile,
    as_json,
    open_shifts,
    seen_by,
    worker_verdict,
)
from rosterhub.streams.booking.rules.passport import Clearance
from rosterhub.streams.passport.clearance import clearance
from rosterhub.streams.passport.state import Passport
from rosterhub.streams.web import Refused, query_instant, unavailable

if TYPE_CHECKING:
    from rosterhub.streams.availability.open_shifts import OpenShifts
    from rosterhub.streams.availability.readmodel import ViewStore
    from rosterhub.streams.web import WorkerWeb

__all__ = ["register"]

log = logging.getLogger(__name__)

_LIST = Security(Authenticate(), scopes=[Role.TRUST_USER])
_ONE = Security(Authenticate(audit="shift", person_param=None), scopes=[Role.TRUST_USER])
_WORKER = Security(Authenticate(audit="availability"), scopes=[Role.TRUST_USER])
_Q = Annotated[str | None, Query()]


def _filter(query: dict[str, str]) -> ShiftFilter:
    group = query.get("staff_group") or None
    if group is not None and group not in StaffGroup.__members__:
        raise Refused(400, "bad_query", f"staff_group={group!r} is not a canonical staff group (docs/events.md)")
    return ShiftFilter(
        trust=query.get("trust") or None,
        ward=query.get("ward") or None,
        staff_group=group,
        grade=query.get("grade") or None,
        start_from=query_instant(query.get("from"), "from"),
        start_to=query_instant(query.get("to"), "to"),
    )


def _worker(person: str, query: dict[str, str]) -> WorkerProfile:
    group, grade = query.get("staff_group", ""), query.get("grade", "")
    if group not in StaffGroup.__members__ or not GRADES.accepts(grade):
        raise Refused(400, "bad_query", "the worker's staff_group and grade are required canonical codes")
    membership = query.get("membership", "BANK")
    if membership not in ("BANK", "SUBSTANTIVE", "AGENCY"):
        raise Refused(400, "bad_query", f"membership={membership!r}: BANK, SUBSTANTIVE or AGENCY")
    home = query.get("home_trust") or None
    if membership != "AGENCY" and not home and not query.get("substantive_employer"):
        raise Refused(400, "bad_query", "a bank or substantive worker needs home_trust (ODS code)")
    if membership == "AGENCY" and not query.get("agency"):
        raise Refused(400, "bad_query", "an agency worker needs agency (agency id)")
    return WorkerProfile(
        person_id=person,
        staff_group=StaffGroup(group),
        grade=grade,
        membership=MembershipType(membership),
        home_trust=home,
        substantive_employer=query.get("substantive_employer") or None,
        agency=query.get("agency") or None,
    )


#: The answer while the read model is still reading events.availability-view up to its end.
_LOADING = "availability view still loading; retry"


#: Where the worker route is served, in a views worker's refusal (docs/deploy.md, Worker layout).
_NOT_SERVED = (
    "this worker runs availability without open-shifts: a worker's open shifts are served by the workers that run "
    "open-shifts with passport (docs/deploy.md, Worker layout)"
)


def register(web: WorkerWeb, store: ViewStore, open_shifts: OpenShifts | None) -> None:
    """The availability routes of one worker, once: the shift lists from ``store``, and the worker's own list from
    ``open_shifts`` when that processor runs here (else a refusal naming where it is served)."""
    router = availability_router(store)
    if open_shifts is not None:
        _worker_route(router, open_shifts)
    else:
        _not_served_route(router)
    web.include_router(router)


def availability_router(store: ViewStore) -> APIRouter:
    router = APIRouter(prefix="/availability", tags=["availability"])

    @router.get("/shifts", summary="Open shifts the caller's trust can see, earliest first")
    async def list_shifts(
        request: Request,
        trust: Annotated[str | None, Query(description="Host trust (ODS code) of the shifts.")] = None,
        ward: _Q = None,
        staff_group: _Q = None,
        grade: _Q = None,
        from_: Annotated[str | None, Query(alias="from")] = None,
        to: _Q = None,
        caller: Caller = _LIST,
    ) -> Response:
        if not store.ready:
            return unavailable(_LOADING)
        try:
            f = _filter(dict(request.query_params))
        except Refused as bad:
            return JSONResponse(bad.body(), status_code=bad.status)
        shifts = [v for v in open_shifts(store.all(), f, now=datetime.now(UTC)) if seen_by(v, caller.trust)]
        return JSONResponse({"shifts": [as_json(v) for v in shifts], "count": len(shifts)})

    @router.get("/shifts/{shift_id}", summary="One shift's view, whatever its status (own trust's, or released to it)")
    async def one_shift(request: Request, shift_id: str, caller: Caller = _ONE) -> Response:
        if not store.ready:
            return unavailable(_LOADING)
        view = store.get(shift_id)
        if view is None:
            return JSONResponse({"code": "unknown_shift", "message": f"no shift {shift_id}"}, status_code=404)
        shown = (view.get("filled_by") or {}).get("person_id") or ""
        if not seen_by(view, caller.trust):
            await audit(request, 403, "refused: other_trust", person=shown)
            return JSONResponse(
                {"code": "other_trust", "message": f"shift {shift_id} is not {caller.trust}'s nor released to it"},
                status_code=403,
            )
        if view.get("filled_by"):
            await audit(request, 200, f"shift {shift_id} filled", person=shown)
        return JSONResponse(as_json(view))

    return router


def _worker_route(router: APIRouter, rt: OpenShifts) -> None:
    @router.get("/workers/{person}/shifts", summary="Open shifts this worker may book (reads their passport)")
    async def worker_shifts(
        request: Request,
        person: str,
        staff_group: _Q = None,
        grade: _Q = None,
        home_trust: _Q = None,
        membership: _Q = None,
        agency: _Q = None,
        substantive_employer: _Q = None,
        caller: Caller = _WORKER,
    ) -> Response:
        forwarded = await rt.web.owner_or_forward(request, rt.passport.table, person.encode())
        if forwarded is not None:
            return forwarded
        return await _worker_shifts(rt, request, person)


def _not_served_route(router: APIRouter) -> None:
    @router.get(
        "/workers/{person}/shifts",
        summary="Open shifts this worker may book: not served by this worker (no passport here), refused",
    )
    async def worker_shifts_elsewhere(request: Request, person: str, caller: Caller = _WORKER) -> Response:
        await audit(request, 404, "refused: not_served_here", person=person)
        return JSONResponse({"code": "not_served_here", "message": _NOT_SERVED}, status_code=404)


async def _worker_shifts(rt: OpenShifts, request: Request, person: str) -> Response:
    """Answer on the worker that owns the person's passport partition."""
    query = dict(request.query_params)
    try:
        if not rt.store.ready:
            raise Refused(503, "unavailable", _LOADING)
        f, worker = _filter(query), _worker(person, query)
    except Refused as bad:
        await audit(request, bad.status, f"refused: {bad.code}", person=person)
        return JSONResponse(bad.body(), status_code=bad.status)
    passport = _passport(rt, person)
    shown, excluded = [], Counter[str]()
    for view in open_shifts(rt.store.all(), f, now=datetime.now(UTC)):
        failed = worker_verdict(view, worker, rt.booking, _clearance(rt, passport, person, view))
        if failed:
            excluded.update(r.reason_code or r.rule for r in failed[:1])
        else:
            shown.append(as_json(view))
    await audit(request, 200, f"{len(shown)} shifts", person=person)
    return JSONResponse({"person": person, "shifts": shown, "count": len(shown), "excluded": dict(excluded)})


def _passport(rt: OpenShifts, person: str) -> Passport | None:
    return Passport.from_table(rt.passport.table.get(person.encode()))


def _clearance(rt: OpenShifts, passport: Passport | None, person: str, view: dict[str, Any]) -> Clearance | None:
    """The passport's verdict for this shift's role and times at its host trust, as the booking rule takes it."""
    policy = rt.passport.policies.get(view["trust"]["ods_code"])
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
