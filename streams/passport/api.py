"""The passport's HTTP API, served by the stream workers' own web server (:mod:`rosterhub.streams.web`).

Why on the worker: the passport lives in the workers' RocksDB tables, partitioned by person. Each
worker serves ``/passport/{person}/...``; a request for a person whose partition another worker
owns is forwarded there (with the caller's own token), so any worker can be asked and the answer
always comes from the one writer of that passport, with no second copy to keep in step.

Who asks is the bearer token's caller (:mod:`rosterhub.auth`), never a header: reads need the role
``trust_user`` and answer for the token's trust only (clearance at itself; FHIR without partners'
evidence); presenting a verifiable credential needs ``trust_integration``. The caller states why
in ``X-Rosterhub-Purpose``, and every request from an authenticated caller, answered or refused,
is written to ``_rosterhub.audit`` before the answer goes.

Routes:

* ``GET /passport/{person}/clearance?staff_group=&grade=&at=[&end=][&trust=]``
* ``GET /passport/{person}/fhir``
* ``POST /passport/credentials/vc`` (body: the ``vc+jwt`` token, or JSON ``{"jwt": ...}``)
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request, Security
from fastapi.responses import Response

from rosterhub.auth.caller import Caller
from rosterhub.auth.roles import Role
from rosterhub.auth.web import Authenticate, audit
from rosterhub.events.codes import GRADES
from rosterhub.streams.passport.clearance import clearance, required_types
from rosterhub.streams.passport.fhir_export import passport_bundle
from rosterhub.streams.passport.policy import STAFF_GROUPS
from rosterhub.streams.passport.state import Passport
from rosterhub.streams.passport.vc import VcRejected, credential_events, keyring, verify_vc_jwt
from rosterhub.streams.web import Refused, query_instant

if TYPE_CHECKING:
    from rosterhub.streams.passport.agents import PassportRuntime

__all__ = ["register"]

log = logging.getLogger(__name__)

_CLEARANCE = Security(Authenticate(trust_param="trust", audit="clearance"), scopes=[Role.TRUST_USER])
_FHIR = Security(Authenticate(audit="fhir"), scopes=[Role.TRUST_USER])
_VC = Security(Authenticate(audit="vc", person_param=None), scopes=[Role.TRUST_INTEGRATION])
_Text = Annotated[str | None, Query()]


def _instant(text: str | None, name: str, default: datetime | None = None) -> datetime:
    """:func:`query_instant`, or ``default`` when not given; without a default the parameter is required."""
    found = query_instant(text, name)
    if found is not None:
        return found
    if default is None:
        raise Refused(400, "bad_query", f"{name} is required (ISO 8601 date-time with offset)")
    return default


async def _answer(
    request: Request, person: str, body: Any, status: int, outcome: str, content_type: str = "application/json"
) -> Response:
    await audit(request, status, outcome, person=person)
    return Response(json.dumps(body).encode(), status_code=status, media_type=content_type)


async def _refuse(request: Request, person: str, refused: Refused) -> Response:
    """Audited as ``refused: <code>``, so the audit trail says why a person's data was not shown."""
    return await _answer(request, person, refused.body(), refused.status, f"refused: {refused.code}")


def register(rt: PassportRuntime) -> None:
    rt.ctx.web.include_router(passport_router(rt))


def passport_router(rt: PassportRuntime) -> APIRouter:
    table, web = rt.table, rt.ctx.web
    router = APIRouter(prefix="/passport", tags=["passport"])

    @router.get("/{person}/clearance", summary="Is the person cleared for a role at the caller's trust")
    async def get_clearance(
        request: Request,
        person: str,
        staff_group: _Text = None,
        grade: _Text = None,
        at: Annotated[str | None, Query(description="Shift start, ISO 8601 with offset (default: now).")] = None,
        end: Annotated[str | None, Query(description="Shift end (default: at).")] = None,
        trust: Annotated[str | None, Query(description="The caller's own trust, if given (403 otherwise).")] = None,
        caller: Caller = _CLEARANCE,
    ) -> Response:
        if (forwarded := await web.owner_or_forward(request, table, person.encode())) is not None:
            return forwarded
        try:
            policy = rt.policies.get(caller.trust or "")
            if policy is None:
                raise Refused(404, "unknown_trust", f"no policy for trust {caller.trust}")
            group, grade_ = staff_group or "", grade or ""
            if group not in STAFF_GROUPS or not GRADES.accepts(grade_):
                raise Refused(400, "bad_query", "staff_group and grade must be canonical codes (docs/events.md)")
            start = _instant(at, "at", datetime.now(UTC))
            finish = _instant(end, "end", start)
            if finish < start:
                raise Refused(400, "bad_query", "end is before at")
        except Refused as r:
            return await _refuse(request, person, r)
        passport = Passport.from_table(table.get(person.encode()), types=required_types(policy, group, grade_))
        result = clearance(passport, policy, staff_group=group, grade=grade_, start=start, end=finish, person=person)
        body = {**result.as_dict(), "passport_version": passport.version if passport else None}
        outcome = "cleared" if result.cleared else "not cleared: " + ",".join(result.reasons)
        return await _answer(request, person, body, 200, outcome)

    @router.get("/{person}/fhir", summary="The passport as FHIR (the caller's trust sees only its own evidence)")
    async def get_fhir(request: Request, person: str, caller: Caller = _FHIR) -> Response:
        if (forwarded := await web.owner_or_forward(request, table, person.encode())) is not None:
            return forwarded
        if rt.policies.get(caller.trust or "") is None:
            refused = Refused(403, "unknown_trust", f"trust {caller.trust} is not a member (no policy)")
            return await _refuse(request, person, refused)
        passport = Passport.from_table(table.get(person.encode()))
        if passport is None:
            return await _refuse(request, person, Refused(404, "no_passport", "no passport for this person"))
        bundle = passport_bundle(passport, viewer=caller.trust or "")
        outcome = f"{len(passport.credentials)} credentials"
        return await _answer(request, person, bundle, 200, outcome, "application/fhir+json")

    keys = keyring(rt.policies)

    @router.post(
        "/credentials/vc",
        status_code=202,
        summary="Present a verifiable credential (vc+jwt); a verified one becomes credential events",
    )
    async def post_vc(request: Request, _caller: Caller = _VC) -> Response:
        raw = (await request.body()).decode("utf-8", "replace").strip()
        try:
            token = json.loads(raw).get("jwt", "") if raw.startswith("{") else raw
        except (ValueError, AttributeError):
            token = ""
        now = datetime.now(UTC)
        try:
            events = credential_events(verify_vc_jwt(token, keys, now=now), now=now)
        except VcRejected as exc:
            body: dict[str, Any] = {"code": exc.code, "reason": exc.reason, "message": exc.message}
            log.warning("verifiable credential rejected: %s", exc)
            return await _answer(request, "", body, 422, f"rejected: {exc.reason}")
        for env in events:
            await rt.send(env, wait=True)
        issued = events[0].data
        body = {
            "credential_id": issued["credential_id"],
            "local_worker": issued["person_id"],
            "event_ids": [e.id for e in events],
        }
        return await _answer(request, issued["person_id"], body, 202, "accepted")

    return router
