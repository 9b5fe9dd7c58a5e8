"""The faust application: one per worker process, with the processors the settings name.

Values are raw bytes on the wire (our codec does Avro + CloudEvents), so faust's own
serializers are set to ``raw`` and never guess. Processing guarantee is at-least-once
with idempotent processors (event ids, per-shift versions): faust's exactly-once mode
has open duplicate/crash reports (see docs/decisions/0004-stream-processing.md).

Each processor declares itself (name, install) in its own package's ``feature`` module
(:mod:`rosterhub.features`); ``worker_processors`` says which of them this worker runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import faust

from rosterhub.codec.catalogue import SchemaCatalogue, default_catalogue
from rosterhub.codec.wire import EventCodec
from rosterhub.deadletter import dead_letter
from rosterhub.envelope import Envelope, decode_record, headers_dict
from rosterhub.errors import ConfigError, InputError
from rosterhub.features import processors, unmet_needs_message, worker_group
from rosterhub.kafka.access import KafkaAccess
from rosterhub.runtime import Encoder, TopicNames, make_codec
from rosterhub.settings import Settings
from rosterhub.streams import faust_drain, faust_fixes
from rosterhub.streams.web import WorkerWeb

__all__ = ["StreamContext", "create_app", "use_event_loop"]

log = logging.getLogger(__name__)


#: How many decoded records a worker keeps for the other agents reading the same record (a few fetches' worth).
DECODED_KEPT = 4096


@dataclass(frozen=True)
class StreamContext:
    settings: Settings
    kafka: KafkaAccess  # what the worker's own clients beside faust (readers, delivery loops) connect with
    names: TopicNames
    codec: EventCodec
    catalogue: SchemaCatalogue
    encoder: Encoder
    web: WorkerWeb  # features add their HTTP routers here (served when worker_web_port is set)
    _decoded: dict[tuple[str, int, int], Envelope] = field(default_factory=dict, compare=False, repr=False)

    def decode(self, event: faust.EventT[bytes]) -> Envelope:
        """The record's envelope, decoded once per worker however many agents read it.

        events.shift and events.booking are read by the booking, availability, KPI and outbound agents; faust hands
        each the same record, and each decoded it again (Avro + CloudEvents, docs/benchmarks.md "Per-hop cost").
        Keyed by topic, partition and offset, so a redelivered record decodes to the same envelope; envelopes
        are never changed by the agents (the pure steps build new values). Raises InputError like decode_record.
        """
        msg = event.message
        key = (msg.topic, msg.partition, msg.offset)
        cache = self._decoded
        env = cache.get(key)
        if env is None:
            env = decode_record(event.value, event.headers, self.codec)
            cache[key] = env
            if len(cache) > DECODED_KEPT:
                del cache[next(iter(cache))]
        return env

    def raw_topic(self, app: faust.App, *names: str) -> faust.TopicT:
        return app.topic(*names, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")

    async def dead_letter(self, app: faust.App, event: faust.EventT[bytes], exc: InputError, processor: str) -> None:
        """Keep an undecodable record on ``dlq.decode`` (original bytes, reason, origin) and move on."""
        msg = event.message
        rec = dead_letter(
            topic=self.names.dlq("decode"),
            stage="decode",
            error=exc,
            original=event.value,
            key=event.key,
            connector=processor,
            origin=(msg.topic, msg.partition, msg.offset),
            original_headers=list(headers_dict(event.headers).items()),
        )
        await self.raw_topic(app, rec.topic).send(key=rec.key, value=rec.value, headers=rec.headers)
        log.warning("%s: undecodable record dead-lettered: %s", processor, exc)

    async def decoded(self, app: faust.App, event: faust.EventT[bytes], processor: str) -> Envelope | None:
        """The record's envelope (:meth:`decode`), or None once an undecodable one is dead-lettered.

        Every agent that reads events treats a record it cannot decode the same way: keep it on ``dlq.decode``
        under the agent's name and go on with the next, so one bad record never stops a partition.
        """
        try:
            return self.decode(event)
        except InputError as exc:
            await self.dead_letter(app, event, exc, processor)
            return None


def create_app(settings: Settings, kafka: KafkaAccess) -> tuple[faust.App, StreamContext]:
    faust_fixes.apply(wait_limit_s=settings.stop_timeout_s / 2)
    if settings.stream_fast_drain:
        faust_drain.apply()
    app = faust.App(
        worker_group(settings.app_id, settings.worker_processors),
        Table=_table_class(settings.app_id),
        **kafka.faust(),  # broker URL and broker_credentials (SASL or SSL)
        store=settings.store,
        datadir=str(settings.state_dir),
        topic_partitions=settings.default_partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger=settings.stream_producer_linger_s,
        table_standby_replicas=settings.stream_standby_replicas,
        stream_buffer_maxsize=settings.stream_buffer_maxsize,
        consumer_max_fetch_size=settings.stream_fetch_partition_bytes,
        # The worker's web server (streams/web.py: the hub's own authenticated routes, in place of faust's web
        # stack) serves the passport and availability APIs, routed to the partition owner (docs/passport.md).
        web_enabled=settings.worker_web_port is not None,
        web_port=settings.worker_web_port or 6066,
        web_bind=settings.worker_web_host,
        web_host=settings.worker_web_host,
        canonical_url=f"http://{settings.worker_web_host}:{settings.worker_web_port or 6066}",
        key_serializer="raw",
        value_serializer="raw",
        autodiscover=False,
    )
    catalogue = default_catalogue()
    names = TopicNames(settings.topic_prefix)
    codec = make_codec(settings, kafka, catalogue)
    web = WorkerWeb(app, settings, names)
    ctx = StreamContext(settings, kafka, names, codec, catalogue, Encoder(codec, names, catalogue), web)
    run = set(settings.worker_processors)
    if (unmet := unmet_needs_message(run)) is not None:  # settings refuse it too: never install one silently broken
        raise ConfigError(unmet)
    installed: dict[str, object] = {}
    for processor in processors():  # each feature declares its own (rosterhub/features.py), in install order
        if processor.name in run:
            installed[processor.name] = processor.install(app, ctx, installed)
    web.serve()
    return app, ctx


def _table_class(app_id: str) -> type[faust.Table[Any, Any]]:
    """faust's Table, with the changelog named after the hub's app id rather than the worker's group.

    A worker's group depends on the processors it runs (:func:`rosterhub.features.worker_group`); a table's
    state must not: moving the KPI processor to workers of its own keeps ``<app id>-kpi-shift-facts-changelog``,
    so the new group recovers the state the old one wrote."""

    class Table(faust.Table[Any, Any]):
        def _changelog_topic_name(self) -> str:
            return f"{app_id}-{self.name}-changelog"

    return Table


def use_event_loop(settings: Settings) -> None:
    """The worker process's event loop (``stream_event_loop``), chosen before faust's Worker creates it.

    Called by ``rosterhub worker`` only: it sets the process-wide asyncio policy, which an app made in a test
    process must not change for everything else there.
    """
    if settings.stream_event_loop != "uvloop":
        return
    try:
        import uvloop  # noqa: F401
    except ImportError:  # pragma: no cover (uvloop is a dependency; a platform without a wheel runs asyncio)
        log.warning("uvloop is not installed: the stream worker runs on asyncio's event loop")
        return
    import mode.loop

    mode.loop.use("uvloop")
