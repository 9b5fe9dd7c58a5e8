"""The connector runtime: builds what a running connector needs (producer, encoder, topic names,
dedupe/position state), runs a transport, and records the transport's progress.

Progress is the runtime's, not the transport's, as in Kafka Connect (a ``SourceTask`` returns
``SourceRecord``s carrying their source offset; the worker commits offsets once the records are
written): a transport yields a :class:`~rosterhub.connectors.base.SourceOffset` once what it read
before it is on the broker, and :func:`store_progress` stores it before the transport goes on.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.schema_topic import publish_schemas
from rosterhub.connectors.base import ConnectorSpec, SourceOffset
from rosterhub.connectors.pipeline import IngestContext
from rosterhub.connectors.state import ConnectorState, Dedupe, state_file
from rosterhub.errors import ConfigError
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.producer import EventSink
from rosterhub.runtime import Encoder, TopicNames, make_codec
from rosterhub.settings import Settings

__all__ = ["SECRET_ENV_PREFIX", "connector_context", "mapping_secrets", "run_connector", "store_progress"]

T = TypeVar("T")

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


def store_progress(state: Dedupe | None, vendor: str, source: Generator[SourceOffset, None, T]) -> T:
    """Drive ``source``, storing each offset it yields before resuming it; returns what it returns.

    An offset's position is stored first, then its key marked seen: a crash between the two leaves the
    position findable (a finished file's details), never a bare "seen" mark. A crash before the store
    makes the transport read that unit again; the dedupe store makes the repeat publish nothing twice.
    """
    try:
        offset = next(source)
        while True:
            if state is None:
                raise ConfigError(f"connector {vendor!r} needs durable state to keep its progress", vendor=vendor)
            if offset.value is not None:
                state.set_position(vendor, offset.key, offset.value)
            if offset.done:
                state.claim(vendor, [offset.key])
                state.confirm(vendor, [offset.key])
            offset = source.send(None)
    except StopIteration as end:
        return cast(T, end.value)  # typeshed types StopIteration.value as Any: here it is what source returns


def run_connector(
    spec: ConnectorSpec,
    ctx: IngestContext,
    options: Mapping[str, Any],
    stop: threading.Event,
    *,
    once: bool = False,
    **seams: Any,
) -> None:
    """Run ``spec``'s transport (``rosterhub connect <vendor>``) until ``stop`` is set, or drained (``once``),
    storing its progress. ``seams`` go to the transport (tests: an HTTP client)."""
    from rosterhub.connectors.registry import transport  # the registry imports every kind, and kinds import this

    store_progress(ctx.state, spec.id, transport(spec.kind).run(spec, ctx, options, stop, once=once, **seams))
