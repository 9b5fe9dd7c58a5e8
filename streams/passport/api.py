"""The passport's HTTP API, served by the stream workers' own web server (faust web).

Why on the worker: the passport lives in the workers' RocksDB tables, partitioned by
person. Each worker serves ``/passport/{person}/...``; a request for a person whose
partition another worker owns is forwarded there by faust's table router (headers
included), so any worker can be asked and the answer always comes from the one writer
of that passport, with no second copy to keep in step.

Every request names its caller in headers (behind the trust's authenticating gateway):
``X-Rosterhub-Trust`` (ODS code), ``X-Rosterhub-User`` and ``X-Rosterhub-Purpose``. A
trust sees only its own view (clearance at itself; FHIR without partners' evidence), and
every read, answered or refused, is written to ``_rosterhub.audit`` before the answer goes.

Routes:

* ``GET /passport/{person}/clearance?staff_group=&grade=&at=[&end=][&trust=]``
* ``GET /passport/{person}/fhir``
* ``POST /passport/credentials/vc`` (body: the ``vc+jwt`` token, or JSON ``{"jwt": ...}``)
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from faust.exceptions import SameNode
from faust.web import View
from faust.web.exceptions import ServiceUnavailable

from rosterhub.events.codes import GRADES
from rosterhub.instants import parse_instant
from rosterhub.streams.passport.audit import AuditRecord
from rosterhub.streams.passport.clearance import clearance, required_types
from rosterhub.streams.passport.fhir_export import passport_bundle
from rosterhub.streams.passport.policy import STAFF_GROUPS
from rosterhub.streams.passport.state import Passport
from rosterhub.streams.passport.vc import VcRejected, credential_events, keyring, verify_vc_jwt

if TYPE_CHECKING:
    from rosterhub.streams.passport.agents import PassportRuntime

__all__ = ["register"]

log = logging.getLogger(__name__)

TRUST, USER, PURPOSE = "X-Rosterhub-Trust", "X-Rosterhub-User", "X-Rosterhub-Purpose"


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def _caller(request: Any) -> tuple[str, str, str]:
    values = tuple((request.headers.get(h) or "").strip() for h in (TRUST, USER, PURPOSE))
    if not all(values):
        raise _Refused(400, "caller_unidentified", f"headers {TRUST}, {USER} and {PURPOSE} are required")
    return values  # type: ignore[return-value]


def _instant(text: str | None, name: str, default: datetime | None = None) -> datetime:
    if not text:
        if default is None:
            raise _Refused(400, "bad_query", f"{name} is required (ISO 8601 date-time with offset)")
        return default
    try:
        return parse_instant(text, name)
    except ValueError as exc:
        raise _Refused(400, "bad_query", str(exc)) from None


def _routed(rt: PassportRuntime, fun: Any) -> Any:
    """Like faust's ``table_route``: answer here when this worker owns the person, else forward the request
    (headers included) to the owner; while the partition map is not known yet (start, rebalance): 503."""

    async def view(web: Any, request: Any, person: str) -> Any:
        try:
            return await rt.app.router.route_req(rt.table.name, person.encode(), web.web, request)
        except SameNode:
            return await fun(web, request, person)
        except (KeyError, TypeError, ServiceUnavailable, OSError) as exc:  # no owner known (yet)
            log.info("passport request for %s not routable yet: %r", person, exc)
            return web.json(
                {"code": "unavailable", "message": "partition owner not known yet; retry"},
                status=503,
                headers={"Retry-After": "1"},
            )

    view.__name__ = fun.__name__
    return view


def register(rt: PassportRuntime) -> None:
    app, table = rt.app, rt.table

    async def audit(
        person: str,
        caller: tuple[str, str, str] | None,
        resource: str,
        status: int,
        outcome: str,
        query: dict[str, str],
    ) -> None:
        trust, user, purpose = caller or ("", "", "")
        rec = AuditRecord(
            person=person,
            trust=trust,
            user=user,
            purpose=purpose,
            resource=resource,
            at=datetime.now(UTC),
            status=status,
            outcome=outcome,
            query=query,
            served_by=str(app.conf.canonical_url),
        )
        key, value = rec.encode()
        fut = await rt.topic(rt.ctx.names.audit).send(key=key, value=value)
        await fut  # the read is on the audit trail before the answer leaves

    async def answer(
        web: Any,
        person: str,
        caller: tuple[str, str, str] | None,
        resource: str,
        query: dict[str, str],
        body: Any,
        status: int,
        outcome: str,
        content_type: str = "application/json",
    ) -> Any:
        await audit(person, caller, resource, status, outcome, query)
        return web.bytes(json.dumps(body).encode(), content_type=content_type, status=status)

    @app.page("/passport/{person}/clearance")
    @partial(_routed, rt)
    async def get_clearance(web: Any, request: Any, person: str) -> Any:
        query = dict(request.query)
        caller = None
        try:
            caller = _caller(request)
            trust = query.get("trust") or caller[0]
            if trust != caller[0]:
                raise _Refused(403, "other_trust", "a trust may ask for clearance at itself only")
            policy = rt.policies.get(trust)
            if policy is None:
                raise _Refused(404, "unknown_trust", f"no policy for trust {trust}")
            group, grade = query.get("staff_group", ""), query.get("grade", "")
            if group not in STAFF_GROUPS or not GRADES.accepts(grade):
                raise _Refused(400, "bad_query", "staff_group and grade must be canonical codes (docs/events.md)")
            start = _instant(query.get("at"), "at", datetime.now(UTC))
            end = _instant(query.get("end"), "end", start)
            if end < start:
                raise _Refused(400, "bad_query", "end is before at")
        except _Refused as r:
            return await answer(web, person, caller, "clearance", query, r.body(), r.status, f"refused: {r.code}")
        passport = Passport.from_table(table.get(person.encode()), types=required_types(policy, group, grade))
        result = clearance(passport, policy, staff_group=group, grade=grade, start=start, end=end, person=person)
        body = {**result.as_dict(), "passport_version": passport.version if passport else None}
        outcome = "cleared" if result.cleared else "not cleared: " + ",".join(result.reasons)
        return await answer(web, person, caller, "clearance", query, body, 200, outcome)

    @app.page("/passport/{person}/fhir")
    @partial(_routed, rt)
    async def get_fhir(web: Any, request: Any, person: str) -> Any:
        query = dict(request.query)
        try:
            caller = _caller(request)
        except _Refused as r:
            return await answer(web, person, None, "fhir", query, r.body(), r.status, f"refused: {r.code}")
        if rt.policies.get(caller[0]) is None:
            r = _Refused(403, "unknown_trust", f"trust {caller[0]} is not a member (no policy)")
            return await answer(web, person, caller, "fhir", query, r.body(), r.status, f"refused: {r.code}")
        passport = Passport.from_table(table.get(person.encode()))
        if passport is None:
            r = _Refused(404, "no_passport", "no passport for this person")
            return await answer(web, person, caller, "fhir", query, r.body(), r.status, f"refused: {r.code}")
        bundle = passport_bundle(passport, viewer=caller[0])
        return await answer(
            web,
            person,
            caller,
            "fhir",
            query,
            bundle,
            200,
            f"{len(passport.credentials)} credentials",
            "application/fhir+json",
        )

    _register_vc(rt, keyring(rt.policies), answer)


def _register_vc(rt: PassportRuntime, keys: Any, answer: Any) -> None:
    app = rt.app

    @app.page("/passport/credentials/vc")
    class VcIngress(View):
        """Verify a verifiable credential and, if it passes, publish it as credential events."""

        async def post(self, request: Any) -> Any:
            raw = (await self.read_request_content(request)).decode("utf-8", "replace").strip()
            try:
                caller = _caller(request)
                token = json.loads(raw).get("jwt", "") if raw.startswith("{") else raw
            except _Refused as r:
                return await answer(self, "", None, "vc", {}, r.body(), r.status, f"refused: {r.code}")
            except (ValueError, AttributeError):
                token = ""
            now = datetime.now(UTC)
            try:
                events = credential_events(verify_vc_jwt(token, keys, now=now), now=now)
            except VcRejected as exc:
                body = {"code": exc.code, "reason": exc.reason, "message": exc.message}
                log.warning("verifiable credential rejected: %s", exc)
                return await answer(self, "", caller, "vc", {}, body, 422, f"rejected: {exc.reason}")
            for env in events:
                await rt.send(env, wait=True)
            issued = events[0].data
            body = {
                "credential_id": issued["credential_id"],
                "local_worker": issued["person_id"],
                "event_ids": [e.id for e in events],
            }
            return await answer(self, issued["person_id"], caller, "vc", {}, body, 202, "accepted")
