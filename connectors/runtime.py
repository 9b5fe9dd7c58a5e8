"""Builds what a running connector needs: producer, encoder, topic names, dedupe/position state."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.schema_topic import publish_schemas
from rosterhub.connectors.pipeline import IngestContext
from rosterhub.connectors.state import ConnectorState, state_file
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.producer import EventSink
from rosterhub.runtime import Encoder, TopicNames, make_codec
from rosterhub.settings import Settings

__all__ = ["connector_context"]


@contextmanager
def connector_context(
    settings: Settings,
    kafka: KafkaAccess,
    *,
    client_id: str = "rosterhub",
    owner: str | None = None,
    recover: bool = True,
) -> Iterator[IngestContext]:
    names = TopicNames(settings.topic_prefix)
    catalogue = default_catalogue()
    sink = EventSink(kafka, client_id=client_id)
    state = ConnectorState(state_file(settings.state_dir, owner), recover=recover)
    if not settings.schema_registry_url:
        publish_schemas(sink.producer, names.schemas, list(catalogue))
    state.prune(settings.connector_state_retention_days * 86400)
    ctx = IngestContext(
        sink=sink,
        encoder=Encoder(make_codec(settings, kafka, catalogue), names, catalogue),
        names=names,
        state=state,
    )
    try:
        yield ctx
    finally:
        sink.close()
        state.close()
