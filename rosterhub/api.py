"""The hub's HTTP face: vendor ingress, health, topic counts, Prometheus metrics, booking explanations, KPIs and
the programme managers' dashboard.

Built by :func:`create_api` from settings and the resolved Kafka access, so tests
and ``rosterhub serve`` build exactly the same application. Beyond this module's own routes, each
feature mounts the routers it declares (:mod:`rosterhub.features`). Every route but ``/health`` and
FHIR ``metadata`` needs a bearer token (:mod:`rosterhub.auth`; who may call what:
docs/security.md); reads of personal data are audited on ``_rosterhub.audit``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from rosterhub.auth.audit import AuditRecord
from rosterhub.auth.roles import Role
from rosterhub.auth.tokens import TokenVerifier
from rosterhub.auth.web import Access, Authenticate, install_access
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.schema_topic import publish_schemas
from rosterhub.connectors.pipeline import IngestContext
from rosterhub.connectors.runtime import mapping_secrets
from rosterhub.connectors.state import ConnectorState, state_file
from rosterhub.dashboard.router import mount_dashboard
from rosterhub.envelope import KafkaRecord
from rosterhub.features import HubApi, hub_routers
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.admin import topic_counts
from rosterhub.kafka.producer import EventSink
from rosterhub.runtime import Encoder, TopicNames, make_codec
from rosterhub.settings import Settings

__all__ = ["create_api"]


def create_api(settings: Settings, kafka: KafkaAccess) -> FastAPI:
    names = TopicNames(settings.topic_prefix)
    catalogue = default_catalogue()
    sink = EventSink(kafka, client_id="rosterhub-ingress")
    encoder = Encoder(make_codec(settings, kafka, catalogue), names, catalogue)
    ctx = IngestContext(
        sink=sink,
        encoder=encoder,
        names=names,
        state=ConnectorState(state_file(settings.state_dir, "ingress")),
        secrets=mapping_secrets(),
    )
    hub = HubApi(settings, kafka, names, encoder, sink, ctx)  # what the features' routers are built from

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not settings.schema_registry_url:
            await run_in_threadpool(publish_schemas, sink.producer, names.schemas, list(catalogue))
        for start in hub.starts:
            start()
        yield
        for stop in reversed(hub.stops):
            stop()
        await run_in_threadpool(sink.close)

    async def write_audit(record: AuditRecord) -> None:
        key, value = record.encode()
        await run_in_threadpool(sink.send, [KafkaRecord(names.audit, key, value, [])])  # acknowledged

    app = FastAPI(title="rosterhub", version="0.1.0", lifespan=lifespan)
    served_by = f"http://{settings.http_host}:{settings.http_port}"
    install_access(app, Access(TokenVerifier.from_settings(settings), served_by, write_audit))
    operator = Security(Authenticate(), scopes=[Role.OPERATOR])
    for declared in hub_routers():  # each feature's own (rosterhub/features.py)
        app.include_router(declared.build(hub))
    mount_dashboard(app)

    @app.get("/health", summary="Liveness (no credentials needed)")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/status/topics", summary="Records per hub topic", dependencies=[operator])
    async def status_topics() -> dict[str, int]:
        from rosterhub.connectors.registry import connectors
        from rosterhub.topics import declared_topics

        topics = [t.name for t in declared_topics(connectors(), settings.topic_prefix)]
        counts = await run_in_threadpool(topic_counts, kafka, topics)
        return {c.topic: c.messages for c in counts}

    @app.get("/metrics", summary="Prometheus metrics", dependencies=[operator], response_class=PlainTextResponse)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

    return app
