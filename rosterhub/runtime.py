"""What every hub process builds once at start: resolved topic names and the event codec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import overload

from rosterhub.codec.catalogue import EventSchema, SchemaCatalogue, default_catalogue
from rosterhub.codec.schema_topic import SchemaTopicReader
from rosterhub.codec.wire import ConfluentCodec, EventCodec, SingleObjectCodec
from rosterhub.envelope import Envelope, KafkaRecord, encode_event
from rosterhub.kafka.access import KafkaAccess
from rosterhub.settings import Settings
from rosterhub.topics import (
    AUDIT,
    AVAILABILITY_TICKS,
    BOOKING_PERSON,
    BOOKING_REQUESTS,
    BOOKING_TICKS,
    IDENTITY_CROSSWALK,
    IDENTITY_IN,
    OUTBOUND_BLOCKS,
    PASSPORT_IN,
    SCHEMAS,
    TopicSpec,
    canonical_topic,
    dlq_topic,
    outbound_topic,
    raw_topic,
)

__all__ = ["Encoder", "TopicNames", "make_codec"]


class _Prefixed:
    """An attribute of :class:`TopicNames` that reads as one declared topic's name with the prefix: the internal
    topics are listed once, as a table of these, instead of one property each."""

    def __init__(self, spec: TopicSpec) -> None:
        self.spec = spec

    @overload
    def __get__(self, names: None, owner: type[TopicNames]) -> _Prefixed: ...
    @overload
    def __get__(self, names: TopicNames, owner: type[TopicNames]) -> str: ...
    def __get__(self, names: TopicNames | None, owner: type[TopicNames]) -> str | _Prefixed:
        return self if names is None else names.of(self.spec)


@dataclass(frozen=True, slots=True)
class TopicNames:
    """Topic names with the configured prefix applied."""

    prefix: str = ""

    schemas = _Prefixed(SCHEMAS)
    booking_ticks = _Prefixed(BOOKING_TICKS)
    booking_requests = _Prefixed(BOOKING_REQUESTS)
    booking_person = _Prefixed(BOOKING_PERSON)
    identity_in = _Prefixed(IDENTITY_IN)
    identity_crosswalk = _Prefixed(IDENTITY_CROSSWALK)
    passport_in = _Prefixed(PASSPORT_IN)
    audit = _Prefixed(AUDIT)
    availability_ticks = _Prefixed(AVAILABILITY_TICKS)
    outbound_blocks = _Prefixed(OUTBOUND_BLOCKS)

    @property
    def availability_view(self) -> str:
        """``views.availability``: the compacted ShiftAvailability view (schema domain ``view``)."""
        return self.events("view")

    @property
    def kpi_view(self) -> str:
        """``views.kpi``: the compacted ShiftKpi / PersonKpi facts (schema domain ``kpi``)."""
        return self.events("kpi")

    def of(self, spec: TopicSpec) -> str:
        """Any declared topic's name with the prefix (an internal topic needs no attribute of its own)."""
        return self.prefix + spec.name

    def raw(self, vendor: str) -> str:
        return self.of(raw_topic(vendor))

    def events(self, domain: str) -> str:
        return self.of(canonical_topic(domain))

    def dlq(self, stage: str) -> str:
        return self.of(dlq_topic(stage))

    def outbound(self, destination: str) -> str:
        return self.of(outbound_topic(destination))


def make_codec(settings: Settings, kafka: KafkaAccess, catalogue: SchemaCatalogue | None = None) -> EventCodec:
    """Confluent wire format when a registry is configured, else single-object encoding."""
    catalogue = catalogue or default_catalogue()
    names = TopicNames(settings.topic_prefix)
    if settings.schema_registry_url:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        # new_client: a mock:// URL gives confluent-kafka's in-process registry (tests, demos).
        client = SchemaRegistryClient.new_client({"url": settings.schema_registry_url})
        return ConfluentCodec(catalogue, client, topic_of=lambda s: names.events(s.domain))
    return SingleObjectCodec(catalogue, SchemaTopicReader(kafka, names.schemas))


@dataclass(frozen=True, slots=True)
class Encoder:
    """Encodes envelopes for their declared topic (``events.<domain>`` of the schema)."""

    codec: EventCodec
    names: TopicNames
    catalogue: SchemaCatalogue

    def schema(self, full_name: str) -> EventSchema:
        return self.catalogue.get(full_name)

    def encode(self, env: Envelope, *, validate: bool = True) -> KafkaRecord:
        schema = self.catalogue.get(env.type)
        return encode_event(env, schema, self.codec, self.names.events(schema.domain), validate=validate)
