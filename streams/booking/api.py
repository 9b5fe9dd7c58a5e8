"""HTTP API of booking decisions, mounted by ``rosterhub.api.create_api``: ``GET /bookings/{id}/explain``.

The answer is read from events.booking by :class:`~.decision_reader.DecisionReader` (booking id
-> offset index, record fetched on demand), so it is the decision the trusts received, explained
from the rule results it carries: JSON by default (every rule with its reason code's meaning, and
the text ``rosterhub explain`` prints); ``?format=text`` gives only the text.

An explanation names the worker (name, register numbers), so only a ``trust_user`` of a trust the
booking concerns may read it: the host trust, or the trust whose platform made the request (the
booking id's trust); another trust gets 403. Each read states its purpose and is audited, keyed by
the worker's person id.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from rosterhub.auth.caller import Caller
from rosterhub.auth.roles import Role
from rosterhub.auth.web import Authenticate, audit, forbidden
from rosterhub.codec.wire import EventCodec
from rosterhub.errors import InputError
from rosterhub.kafka.access import KafkaAccess
from rosterhub.lifespan import running
from rosterhub.runtime import TopicNames
from rosterhub.streams.booking.decision_reader import DecisionReader
from rosterhub.streams.booking.decisions import decision_document

__all__ = ["booking_router", "concerned_trusts"]

_READER = Security(Authenticate(audit="booking-explain", person_param=None), scopes=[Role.TRUST_USER])


def concerned_trusts(doc: dict[str, Any]) -> set[str]:
    """The trusts a decision concerns: the host trust and the trust whose platform asked (pure)."""
    host = (doc.get("host_trust") or {}).get("ods_code")
    parts = str(doc.get("booking_id") or "").split(":")
    return {t for t in (host, parts[1] if len(parts) > 2 else None) if t}


def booking_router(kafka: KafkaAccess, names: TopicNames, codec: EventCodec) -> APIRouter:
    reader = DecisionReader(kafka, names.events("booking"), codec)

    router = APIRouter(prefix="/bookings", tags=["bookings"], lifespan=running(reader))

    @router.get("/{booking_id}/explain", summary="Why a booking was confirmed or rejected: every rule's result")
    async def explain(
        request: Request,
        booking_id: str,
        format: Annotated[Literal["json", "text"], Query()] = "json",
        caller: Caller = _READER,
    ) -> Any:
        try:
            found = await run_in_threadpool(reader.lookup, booking_id, timeout=30.0)
        except TimeoutError as exc:
            raise HTTPException(503, str(exc)) from exc
        except InputError as exc:  # the record is there but cannot be decoded: say which and why
            raise HTTPException(502, f"the decision for booking {booking_id} cannot be decoded: {exc}") from exc
        if found is None:
            raise HTTPException(
                404, f"no decision for booking {booking_id!r} on {names.events('booking')}: unknown or not decided yet"
            )
        doc = decision_document(*found)
        person = (doc.get("worker") or {}).get("person_id") or ""
        if caller.trust not in concerned_trusts(doc):
            await audit(request, 403, "refused: other_trust", person=person)
            raise forbidden(
                "other_trust", f"booking {booking_id} does not concern {caller.trust}", frozenset({Role.TRUST_USER})
            )
        await audit(request, 200, doc["outcome"], person=person)
        if format == "text":
            return PlainTextResponse(doc["explanation"] + "\n")
        return doc

    return router
