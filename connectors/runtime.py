"""Builds what a running connector needs: producer, encoder, topic names, dedupe/position state."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.schema_topic import publish_schemas
from rosterhub.connectors.pipeline import IngestContext
from rosterhub.connectors.state import ConnectorState, state_file
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.producer import EventSink
from rosterhub.runtime import Encoder, TopicNames, make_codec
from rosterhub.settings import Settings

__all__ = ["SECRET_ENV_PREFIX", "connector_context", "mapping_secrets"]

#: Where the secrets mappings declare are found: ROSTERHUB_MAPPING_SECRET_<NAME> (as for `rosterhub mapping`).
SECRET_ENV_PREFIX = "ROSTERHUB_MAPPING_SECRET_"  # noqa: S105  (a variable-name prefix, not a secret)


def mapping_secrets(environ: Mapping[str, str] | None = None) -> dict[str, bytes]:
    """Every mapping secret the environment holds, by the name mappings declare (``esr_identity``), so the
    ingress and ``rosterhub replay`` map ESR pushes and raw copies with the collaborative's key."""
    env = os.environ if environ is None else environ
    return {
        k[len(SECRET_ENV_PREFIX) :].lower(): v.encode() for k, v in env.items() if k.startswith(SECRET_ENV_PREFIX) and v
    }


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
