"""FHIR R4 inbound endpoint, served by ``rosterhub serve`` (docs/vendors/fhir.md, "Transport").

Routes (``{trust}`` is the sending trust's ODS code; without it the trust comes from the
Bundle's Organization ODS code, else the ``default_trust`` option)::

    GET  /fhir[/{trust}]/R4/metadata          CapabilityStatement
    POST /fhir[/{trust}]/R4                   Bundle: transaction | batch | collection
    POST /fhir[/{trust}]/R4/{type}            create one resource
    PUT  /fhir[/{trust}]/R4/{type}/{id}       update one resource
    anything else under /fhir[/{trust}]/R4    405 and an OperationOutcome (not-supported): write-only

Who may post: a bearer token with the role ``trust_integration``; every event is the token's trust's.
A ``{trust}`` in the URL must be it (403); without one, the trust a Bundle's Organization (or
Location site) names must be it (403). Refused: nothing written. No credentials or a bad token ->
401, nothing written. ``metadata`` is public.

Order of work, and what the sender hears: over ``max_payload_bytes`` -> 413, wrong
content type -> 415, bad trust in the URL -> 400 (each refused before the raw write, kept
on ``dlq.ingest``); otherwise the untouched body goes to ``raw.fhir`` first, then it is
read and checked (:mod:`.read`, :mod:`.bundle`) and mapped through
``mapping/vendors/fhir.yaml``. A transaction publishes all its events or none; a batch
or collection publishes its good entries. Every refusal is an OperationOutcome, and the
refused payload or entry is dead-lettered with its original bytes and the reason.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, Security
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rosterhub.auth.caller import Caller
from rosterhub.auth.roles import Role
from rosterhub.auth.web import Authenticate
from rosterhub.connectors import metrics
from rosterhub.connectors.kinds.fhir.bundle import (
    FhirRequest,
    bundle_trusts,
    collection_bytes,
    plan_request,
    remember_mapping_input,
)
from rosterhub.connectors.kinds.fhir.outcome import (
    EntryOutcome,
    capability_statement,
    entry_index,
    http_status_for,
    mapping_issue,
    operation_outcome,
    response_bundle,
)
from rosterhub.connectors.kinds.fhir.read import FhirRequestError, Issue, media_type, read_document
from rosterhub.connectors.pipeline import (
    SENDER_TRUST,
    IngestContext,
    IngestResult,
    internal_error,
    map_and_publish,
    publish_rejects,
)
from rosterhub.connectors.receipt import refused, write_raw
from rosterhub.errors import BrokerUnavailable, ConfigError, MappingError, ParseError, PayloadTooLarge, RosterhubError
from rosterhub.mapping.engine import apply_mapping
from rosterhub.mapping.engine.redact import drop_sensitive
from rosterhub.ods import ODS, ODS_PATTERN
from rosterhub.settings import Settings

__all__ = ["FhirCall", "FhirEndpoint", "FhirOptions", "Reply", "fhir_router"]

log = logging.getLogger(__name__)

ACCEPTED_MEDIA = frozenset(
    {"application/fhir+json", "application/json", "application/fhir+xml", "application/xml", "text/xml"}
)
_Trust = Annotated[str, Path(description="The sending trust's ODS code: the caller's own (403 otherwise).")]


class FhirOptions(BaseModel):
    """``[connectors.fhir]`` options (``ROSTERHUB_CONNECTORS='{"fhir": {...}}'``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_trust: str | None = Field(
        None, pattern=ODS_PATTERN, description="Trust for requests whose URL and Bundle name none."
    )
    max_entries: int = Field(1000, ge=1, description="Bundle entries per request; more is refused (413, too-costly).")


def parse_options(raw: dict[str, Any]) -> FhirOptions:
    try:
        return FhirOptions.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"invalid [connectors.fhir] options: {exc}") from None


@dataclass(frozen=True, slots=True)
class FhirCall:
    """One request to the endpoint, HTTP aside: what the router hands :meth:`FhirEndpoint.process`.

    ``trust`` is the URL's (None when posted without one); ``sender_trust`` the trust the sender
    authenticated for (None for callers that authenticated nobody, such as tools)."""

    body: bytes
    content_type: str
    trust: str | None
    interaction: str  # bundle | create | update
    rtype: str | None
    rid: str | None
    correlation_id: str
    sender_trust: str | None = None


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    location: str | None = None
    allow: str | None = None  # the Allow header of a 405


class FhirEndpoint:
    """The endpoint's work, HTTP aside: usable from tests and other hosts as well as the router."""

    def __init__(self, settings: Settings, ctx: IngestContext, vendor: str = "fhir") -> None:
        self.settings, self.ctx, self.vendor = settings, ctx, vendor
        self.options = parse_options(settings.connectors.get(vendor, {}))

    def refusal(
        self, body: bytes, content_type: str, trust: str | None
    ) -> tuple[str, int, Issue, RosterhubError] | None:
        """Why the request is refused before its raw write (reason, status, issue, error), or None."""
        if len(body) > self.settings.max_payload_bytes:
            msg = f"payload of {len(body)} bytes is over the limit of {self.settings.max_payload_bytes}"
            return "too_large", 413, Issue("error", "too-costly", msg), PayloadTooLarge(msg, vendor=self.vendor)
        if media_type(content_type) not in ACCEPTED_MEDIA:
            msg = f"content type {content_type or '(none)'!r} is not FHIR; send application/fhir+json or +xml"
            return "content_type", 415, Issue("error", "not-supported", msg), ParseError(msg)
        if trust is not None and not ODS.match(trust.upper()):
            msg = f"{trust!r} in the URL is not an ODS code (3 to 5 letters or digits)"
            return "trust", 400, Issue("error", "value", msg, ("trust",)), ParseError(msg)
        return None

    def process(self, call: FhirCall) -> Reply:
        """Blocking: read (pure), raw write, mapping, publishing. Runs in a worker thread.

        Reading comes before the raw write only to learn the trust for the raw record's
        headers (so a replay maps it for the same trust); nothing is published before it.
        ``call.sender_trust``: the trust the sender authenticated for, and the trust of every event; posted
        without a trust in the URL, a request whose Organization (or Location site) names other trusts
        only is refused (403) before anything is written.
        """
        received_at = datetime.now(UTC)
        body, content_type, correlation_id = call.body, call.content_type, call.correlation_id
        plan, failure, trust = self._plan(call)
        if failure is not None and failure.status == 403:  # another trust's request: refused, nothing written
            metrics.REFUSED.labels(self.vendor, "other_trust").inc()
            return Reply(403, operation_outcome(failure.issues))
        extra = {
            k: v
            for k, v in {
                "fhir_interaction": call.interaction,
                "fhir_type": call.rtype,
                "fhir_id": call.rid,
                SENDER_TRUST: call.sender_trust,
            }.items()
            if v
        }
        key = trust.encode() if trust else None  # one trust's payloads stay in order on one partition
        received = write_raw(
            self.ctx,
            self.vendor,
            body,
            key=key,
            trust=trust,
            content_type=content_type,
            received_at=received_at,
            correlation_id=correlation_id,
            extra=extra,
        )
        raw, origin, kept = received.record, received.origin, received.kept.value
        offset = origin[2]

        def refuse(status: int, issues: list[Issue], error: RosterhubError) -> Reply:
            publish_rejects(self.ctx, self.vendor, [(error, kept, "payload")], origin, raw.headers, IngestResult())
            for i in issues:
                metrics.REJECTED.labels(self.vendor, i.code).inc()
            log.info(
                "fhir request refused",
                extra={"vendor": self.vendor, "correlation_id": correlation_id, "status": status, "raw_offset": offset},
            )
            return Reply(status, operation_outcome(issues))

        if failure is not None or plan is None or trust is None:
            failure = failure or FhirRequestError(500, [Issue("fatal", "exception", "request not planned")])
            return refuse(failure.status, failure.issues, ParseError(f"not a FHIR request the hub takes: {failure}"))
        if plan.kind == "transaction" and plan.problems:
            return refuse(
                http_status_for(plan.problems),
                plan.problems,
                ParseError(f"transaction rejected: {'; '.join(i.diagnostics for i in plan.problems)}"),
            )
        try:
            outcomes = self._dry_run(plan, body, raw.headers, trust, received_at)
        except RosterhubError as exc:
            return refuse(500, [Issue("fatal", "exception", f"the hub could not map this request: {exc}")], exc)
        except Exception as exc:  # a bug: the request is kept (raw.fhir) and dead-lettered with the reason
            log.error("FHIR request could not be mapped", exc_info=True, extra={"correlation_id": correlation_id})
            error = internal_error(exc, "mapping")
            return refuse(500, [Issue("fatal", "exception", str(error))], error)
        if plan.kind == "transaction" and any(not o.ok for o in outcomes):
            issues = [i for o in outcomes for i in o.issues]
            text = "; ".join(i.diagnostics for i in issues)
            return refuse(422, issues, MappingError(f"transaction rejected: {text}", record="payload"))
        try:
            result = map_and_publish(
                self.ctx,
                self.vendor,
                body,
                trust=trust,
                received_at=received_at,
                origin=origin,
                original_headers=raw.headers,
                kept=kept,
            )
        except BrokerUnavailable:
            raise
        except Exception as exc:  # a bug after the raw write: never a 500 that keeps nothing
            log.error("FHIR request could not be published", exc_info=True, extra={"correlation_id": correlation_id})
            error = internal_error(exc, "publishing")
            return refuse(500, [Issue("fatal", "exception", str(error))], error)
        self._settle(outcomes, result)
        self._dead_letter_entries(plan, trust, origin, raw.headers)
        metrics.MAPPED.labels(self.vendor).inc(len(result.event_ids))
        metrics.DUPLICATES.labels(self.vendor).inc(result.duplicates)
        for o in outcomes:
            for i in o.issues:
                if i.severity in {"error", "fatal"}:
                    metrics.REJECTED.labels(self.vendor, i.code).inc()
        log.info(
            "fhir request",
            extra={
                "vendor": self.vendor,
                "correlation_id": correlation_id,
                "kind": plan.kind,
                "events": len(result.event_ids),
                "duplicates": result.duplicates,
                "rejected": sum(not o.ok for o in outcomes),
                "raw_offset": offset,
            },
        )
        return _answer(plan, outcomes, received_at)

    def _plan(self, call: FhirCall) -> tuple[FhirRequest | None, FhirRequestError | None, str | None]:
        """Read and check the request (pure) and settle its trust: (plan, why it is refused, trust).

        Posted without a trust in the URL by a sender authenticated for ``call.sender_trust``, a request whose
        Organization (or Location site) names other trusts only is refused with 403; otherwise it is the
        sender's."""
        trust, sender_trust = call.trust, call.sender_trust
        plan: FhirRequest | None = None
        try:
            plan = plan_request(
                read_document(call.body, call.content_type),
                call.interaction,
                type_=call.rtype,
                id_=call.rid,
                max_entries=self.options.max_entries,
            )
        except FhirRequestError as exc:
            return None, exc, trust
        except Exception as exc:  # a bug must not lose the request: kept on raw.fhir with this reason
            log.error("FHIR request could not be read", exc_info=True, extra={"correlation_id": call.correlation_id})
            return (
                None,
                FhirRequestError(500, [Issue("fatal", "exception", str(internal_error(exc, "reading")))]),
                trust,
            )
        if trust is None and sender_trust is not None:
            named = bundle_trusts(plan)
            if named and sender_trust not in named:
                msg = (
                    f"the request names {', '.join(sorted(named))}; the sender is authenticated for {sender_trust} only"
                )
                return plan, FhirRequestError(403, [Issue("error", "forbidden", msg)]), None
            trust = sender_trust
        if trust is not None:
            return plan, None, trust
        found = bundle_trusts(plan) or ({self.options.default_trust} if self.options.default_trust else set())
        if len(found) == 1:
            return plan, None, found.pop()
        msg = (
            "no trust: post to /fhir/{ODS}/R4 or include the sending trust's Organization with its ODS code"
            if not found
            else f"the Bundle names several trusts ({', '.join(sorted(found))}); post to /fhir/{{ODS}}/R4"
        )
        return plan, FhirRequestError(422, [Issue("error", "required" if not found else "business-rule", msg)]), None

    def _dead_letter_entries(
        self, plan: FhirRequest, trust: str, origin: tuple[str, int, int], headers: list[tuple[str, bytes]]
    ) -> None:
        """Refused entries of a batch or collection, each dead-lettered alone (personal elements taken out)."""
        sensitive = self.ctx.mapping_for(self.vendor, trust).sensitive
        bad_entries: list[tuple[RosterhubError, bytes, str]] = [
            (
                ParseError("; ".join(i.diagnostics for i in e.issues)),
                json.dumps(drop_sensitive(e.resource if e.resource is not None else {}, sensitive)[0]).encode(),
                f"Bundle.entry[{e.index}]",
            )
            for e in plan.entries
            if not e.ok
        ]
        if bad_entries:
            publish_rejects(self.ctx, self.vendor, bad_entries, origin, headers, IngestResult())

    def _dry_run(
        self, plan: FhirRequest, body: bytes, headers: list[tuple[str, bytes]], trust: str, received_at: datetime
    ) -> list[EntryOutcome]:
        """Map without publishing (pure), to know each entry's fate before anything is published."""
        outcomes = [EntryOutcome(e.index, e.method, None, None, list(e.issues)) for e in plan.entries]
        accepted = [o for o, e in zip(outcomes, plan.entries, strict=True) if e.ok]
        collection = collection_bytes(plan)
        remember_mapping_input(body, headers, collection)  # the pipeline's mapping_input call finds it
        mapped = json.loads(collection)["entry"]
        for o, item in zip(accepted, mapped, strict=True):
            o.reference = f"{item['resource']['resourceType']}/{item['resource']['id']}"
            o.version = item["resource"]["meta"]["versionId"]
        spec = self.ctx.mapping_for(self.vendor, trust)
        result = apply_mapping(spec, collection, received_at=received_at, trust=trust, secrets=self.ctx.secrets)
        for s in result.skipped:
            k = entry_index(s.record_ref)
            if k is not None and k < len(accepted):
                accepted[k].skipped = s.reason
        for r in result.rejected:
            k = entry_index(r.record_ref)
            if k is not None and k < len(accepted):
                at = f"Bundle.entry[{accepted[k].index}].resource"
                accepted[k].issues += [mapping_issue(e, at) for e in r.errors]  # every problem of the resource
        for ev in result.events:
            k = entry_index(ev.record_ref)
            if k is not None and k < len(accepted):
                accepted[k].event_ids.append(ev.id)
        return outcomes

    def _settle(self, outcomes: list[EntryOutcome], result: IngestResult) -> None:
        """Split each entry's events into new and already published, from what the pipeline did."""
        fresh = set(result.event_ids)
        for o in outcomes:
            o.published = sum(eid in fresh for eid in o.event_ids)
            o.duplicates = len(o.event_ids) - o.published
        rejected = {r.record for r in result.rejected}  # failures the dry run could not see (an event that
        accepted = [o for o in outcomes if o.ok]  # does not encode): the entry is reported as rejected
        for ref in rejected:
            k = entry_index(ref)
            if k is not None and k < len(accepted):
                accepted[k].issues.append(
                    Issue(
                        "error",
                        "exception",
                        f"{ref}: the mapped event was refused",
                        (f"Bundle.entry[{accepted[k].index}].resource",),
                    )
                )


def fhir_router(settings: Settings, ctx: IngestContext, vendor: str = "fhir") -> APIRouter:
    """Routes of the module docstring, for ``rosterhub serve`` (mounted by ``rosterhub.api``)."""
    endpoint = FhirEndpoint(settings, ctx, vendor)
    router = APIRouter(tags=["fhir"])
    sender = Security(Authenticate(trust_param="trust", render=_refusal), scopes=[Role.TRUST_INTEGRATION])

    def metadata(request: Request, trust: str | None = None) -> Response:
        base = str(request.url).removesuffix("/metadata")
        cs = capability_statement(
            base, now=datetime.now(UTC), max_entries=endpoint.options.max_entries, max_bytes=settings.max_payload_bytes
        )
        return _render(request, Reply(200, cs))

    async def receive(
        request: Request, caller: Caller, interaction: str, rtype: str | None, rid: str | None
    ) -> Response:
        started = time.perf_counter()
        correlation_id = request.headers.get("X-Correlation-Id") or str(uuid.uuid4())
        body = await request.body()
        metrics.RECEIVED.labels(vendor).inc()
        content_type = request.headers.get("content-type", "")
        trust = caller.trust if "trust" in request.path_params else None  # the URL's is the caller's (Authenticate)
        refusal = endpoint.refusal(body, content_type, trust)
        if refusal is not None:
            reason, status, issue, error = refusal
            record = await run_in_threadpool(
                refused,
                ctx,
                vendor,
                body,
                error,
                trust=trust.upper() if trust and status != 400 else None,
                content_type=content_type,
                received_at=datetime.now(UTC),
                correlation_id=correlation_id,
            )
            await run_in_threadpool(ctx.sink.send, [record])
            metrics.REFUSED.labels(vendor, reason).inc()
            return _render(request, Reply(status, operation_outcome([issue])), correlation_id)
        try:
            call = FhirCall(body, content_type, trust, interaction, rtype, rid, correlation_id, caller.trust)
            reply = await run_in_threadpool(endpoint.process, call)
        except BrokerUnavailable as exc:  # nothing could be kept: the sender keeps the request and retries
            metrics.REFUSED.labels(vendor, "broker").inc()
            outcome = operation_outcome([Issue("fatal", "transient", f"the hub cannot store requests now: {exc}")])
            return _render(request, Reply(503, outcome), correlation_id)
        metrics.LATENCY.labels(vendor).observe(time.perf_counter() - started)
        return _render(request, reply, correlation_id)

    # Posted under /fhir/{trust}/R4, the URL's trust must be the caller's (Authenticate's trust_param); the
    # parameter is declared, so the OpenAPI document shows which operations are trust-scoped.
    async def bundle(request: Request, caller: Caller = sender) -> Response:
        return await receive(request, caller, "bundle", None, None)

    async def bundle_at(request: Request, trust: _Trust, caller: Caller = sender) -> Response:
        return await receive(request, caller, "bundle", None, None)

    async def create(request: Request, rtype: str, caller: Caller = sender) -> Response:
        return await receive(request, caller, "create", rtype, None)

    async def create_at(request: Request, rtype: str, trust: _Trust, caller: Caller = sender) -> Response:
        return await receive(request, caller, "create", rtype, None)

    async def update(request: Request, rtype: str, rid: str, caller: Caller = sender) -> Response:
        return await receive(request, caller, "update", rtype, rid)

    async def update_at(request: Request, rtype: str, rid: str, trust: _Trust, caller: Caller = sender) -> Response:
        return await receive(request, caller, "update", rtype, rid)

    # What the endpoint does not serve (reads, searches, deletes, ...) is answered with 405 and an
    # OperationOutcome, to the same callers as the rest: an unauthenticated probe learns nothing.
    def not_supported(request: Request, rest: str = "", caller: Caller = sender) -> Response:
        return _render(request, _not_supported(request.method, request.url.path, rest))

    def not_supported_at(request: Request, trust: _Trust, rest: str = "", caller: Caller = sender) -> Response:
        return _render(request, _not_supported(request.method, request.url.path, rest))

    anything = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    unsupported = "Not supported (write-only endpoint): 405 with an OperationOutcome"
    for prefix, post, one, put, other in (
        ("/fhir/R4", bundle, create, update, not_supported),
        ("/fhir/{trust}/R4", bundle_at, create_at, update_at, not_supported_at),
    ):
        router.add_api_route(f"{prefix}/metadata", metadata, methods=["GET"], summary="CapabilityStatement")
        router.add_api_route(prefix, post, methods=["POST"], summary="Post a transaction, batch or collection")
        router.add_api_route(f"{prefix}/{{rtype}}", one, methods=["POST"], summary="Create one resource")
        router.add_api_route(f"{prefix}/{{rtype}}/{{rid}}", put, methods=["PUT"], summary="Update one resource")
        # last, so they only answer what the routes above do not serve; one route per method, so that each
        # operation has its own id in the OpenAPI document
        for method in anything:
            named = f"{other.__name__}_{method.lower()}"
            if method != "POST":
                router.add_api_route(prefix, other, methods=[method], summary=unsupported, name=named)
            router.add_api_route(f"{prefix}/{{rest:path}}", other, methods=[method], summary=unsupported, name=named)
    return router


def _not_supported(method: str, path: str, rest: str) -> Reply:
    """405 with an OperationOutcome: the endpoint is write-only (its CapabilityStatement says so)."""
    depth = len([p for p in rest.split("/") if p])
    allow = {0: "POST", 1: "POST", 2: "PUT"}.get(depth, "")
    text = (
        f"{method} {path}: not supported; this FHIR endpoint is write-only (POST a Bundle to the base, POST "
        "[base]/{type}, PUT [base]/{type}/{id}); it offers no read or search, see [base]/metadata"
    )
    return Reply(405, operation_outcome([Issue("error", "not-supported", text)]), allow=allow or None)


_ISSUE_OF_STATUS = {401: "login", 403: "forbidden"}


def _refusal(status: int, code: str, message: str) -> Response:
    """An access refusal as FHIR clients expect it: an OperationOutcome."""
    body = operation_outcome([Issue("error", _ISSUE_OF_STATUS.get(status, "required"), f"{code}: {message}")])
    return Response(json.dumps(body).encode(), status_code=status, media_type="application/fhir+json")


def _answer(plan: FhirRequest, outcomes: list[EntryOutcome], now: datetime) -> Reply:
    if plan.kind in {"transaction", "batch"}:
        return Reply(200, response_bundle(plan.kind, outcomes, now=now))
    if plan.kind in {"create", "update"}:
        [o] = outcomes
        issues = o.issues if not o.ok else [o.note()]
        location = o.response_entry(with_outcome=False)["response"].get("location")
        return Reply(o.status, operation_outcome(issues), location)
    issues = [i for o in outcomes for i in o.issues] + [o.note() for o in outcomes if o.ok]
    return Reply(200 if all(o.ok for o in outcomes) else 422, operation_outcome(issues))


def _render(request: Request, reply: Reply, correlation_id: str | None = None) -> Response:
    """FHIR JSON, or XML when the client asks for it (``Accept`` or ``_format``)."""
    wants = (request.query_params.get("_format") or request.headers.get("accept") or "").lower()
    headers = {"X-Correlation-Id": correlation_id} if correlation_id else {}
    if reply.location:
        headers["Location"] = reply.location
    if reply.status == 405:
        headers["Allow"] = reply.allow or ""
    if "xml" in wants and "json" not in wants:
        from fhir.resources.R4B import get_fhir_model_class

        model = get_fhir_model_class(reply.body["resourceType"]).model_validate(reply.body)
        return Response(
            model.model_dump_xml(), status_code=reply.status, headers=headers, media_type="application/fhir+xml"
        )
    content = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
    return Response(content, status_code=reply.status, headers=headers, media_type="application/fhir+json")
