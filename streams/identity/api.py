"""HTTP API of identity resolution, mounted by ``rosterhub.api.create_api`` under ``/identity``.

Reads come from a view of ``events.identity`` followed by a background consumer
(:mod:`.client`); merges and splits are sent as commands to ``_rosterhub.identity-in``
and answered with the worker's PersonsMerged / PersonSplit once it appears (``wait``
seconds; 202 with the command id if the worker has not answered yet). The view checks a
command before it is sent, so a typo is a 404/409 here rather than a refusal in the
worker's log; the worker checks again against its own state, which is authoritative.

Every route needs the role ``identity_admin`` (docs/security.md). Reads show who a person is across
trusts, so each states its purpose and is audited per person it shows; a merge or split is recorded
as requested by the token's subject (a ``requested_by`` in the body is ignored).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rosterhub.auth.caller import Caller
from rosterhub.auth.roles import Role
from rosterhub.auth.web import Authenticate, audit
from rosterhub.codec.wire import EventCodec
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.producer import EventSink
from rosterhub.lifespan import running
from rosterhub.runtime import TopicNames
from rosterhub.streams.identity.client import IdentityClient
from rosterhub.streams.identity.commands import MergeCommand, SplitCommand
from rosterhub.streams.identity.view import IdentityView

__all__ = ["identity_router"]

T = TypeVar("T")

_Text = Annotated[str, Field(min_length=1, max_length=500)]
#: How long a merge or split waits for the worker's answer before it answers 202 with the command id.
_Wait = Annotated[float, Query(ge=0, le=60)]


class MergeRequest(BaseModel):
    into: _Text = Field(description="Surviving person id.")
    merge: _Text = Field(description="Person id merged away (becomes an alias of `into`).")
    reason: _Text


class SplitRequest(BaseModel):
    person: _Text = Field(description="Person id to split.")
    records: Annotated[list[_Text], Field(min_length=1, description="Local worker ids that leave the person.")]
    reason: _Text


#: reads: personal data across trusts, audited per person shown
_READ = Security(Authenticate(audit="identity", person_param="person_id"), scopes=[Role.IDENTITY_ADMIN])
_DECIDE = Security(Authenticate(), scopes=[Role.IDENTITY_ADMIN])


def identity_router(kafka: KafkaAccess, names: TopicNames, codec: EventCodec, sink: EventSink) -> APIRouter:
    client = IdentityClient(kafka, names.events("identity"), names.identity_in, codec, sink, "/rosterhub/api")

    router = APIRouter(prefix="/identity", tags=["identity"], lifespan=running(client))

    async def read(fn: Callable[[IdentityView], T]) -> T:
        try:
            return await run_in_threadpool(client.read, fn, timeout=30.0)
        except TimeoutError as exc:
            raise HTTPException(503, str(exc)) from exc

    @router.get("/conflicts", summary="Open identity conflicts, oldest first", dependencies=[_READ])
    async def conflicts(request: Request, person: str | None = None) -> dict[str, Any]:
        found = await read(lambda v: v.open_conflicts(person))
        shown = sorted({p for c in found for p in c["person_ids"]})
        for p in shown:
            await audit(request, 200, f"in {sum(p in c['person_ids'] for c in found)} open conflict(s)", person=p)
        return {"conflicts": found}

    @router.get(
        "/persons/{person_id}", summary="A person's records, merge status and open conflicts", dependencies=[_READ]
    )
    async def person(request: Request, person_id: str) -> dict[str, Any]:
        found = await read(lambda v: v.person(person_id))
        if found is None:
            await audit(request, 404, "unknown person", person=person_id)
            raise HTTPException(404, f"unknown person {person_id}")
        await audit(request, 200, f"{len(found['records'])} record(s)", person=person_id)
        return found

    @router.get("/records/{worker_id}", summary="The person a local worker record belongs to", dependencies=[_READ])
    async def record(request: Request, worker_id: str) -> dict[str, Any]:
        person_id = await read(lambda v: v.person_of(worker_id))
        if person_id is None:
            await audit(request, 404, f"unknown record {worker_id}", person="")
            raise HTTPException(404, f"unknown record {worker_id}")
        await audit(request, 200, f"record {worker_id}", person=person_id)
        return {"worker_id": worker_id, "person_id": person_id}

    async def submit(cmd: MergeCommand | SplitCommand, refusal: str | None, wait: float) -> JSONResponse:
        if refusal:
            raise HTTPException(404 if refusal.startswith("unknown") else 409, refusal)
        command_id = await run_in_threadpool(client.send, cmd)
        result = await run_in_threadpool(client.result, command_id, wait) if wait > 0 else None
        if result is None:
            return JSONResponse({"command_id": command_id, "status": "sent"}, status_code=202)
        return JSONResponse({"command_id": command_id, "status": "done", "result": result})

    @router.post("/merge", summary="Merge two people (reversible by a split)")
    async def merge(body: MergeRequest, wait: _Wait = 10.0, caller: Caller = _DECIDE) -> JSONResponse:
        refusal = await read(lambda v: v.check_merge(body.into, body.merge))
        return await submit(MergeCommand(**body.model_dump(), requested_by=caller.subject), refusal, wait)

    @router.post("/split", summary="Split records off a person (reversible by a merge)")
    async def split(body: SplitRequest, wait: _Wait = 10.0, caller: Caller = _DECIDE) -> JSONResponse:
        refusal = await read(lambda v: v.check_split(body.person, body.records))
        return await submit(SplitCommand(**body.model_dump(), requested_by=caller.subject), refusal, wait)

    return router
