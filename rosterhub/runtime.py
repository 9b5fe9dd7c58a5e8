"""What every hub process builds once at start: resolved topic names and the event codec."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class TopicNames:
    """Topic names with the configured prefix applied."""

    prefix: str = ""

    @property
    def schemas(self) -> str:
        return self.prefix + SCHEMAS.name

    @property
    def booking_ticks(self) -> str:
        return self.prefix + BOOKING_TICKS.name

    @property
    def booking_requests(self) -> str:
        return self.prefix + BOOKING_REQUESTS.name

    @property
    def booking_person(self) -> str:
        return self.prefix + BOOKING_PERSON.name

    @property
    def identity_in(self) -> str:
        return self.prefix + IDENTITY_IN.name

    @property
    def identity_crosswalk(self) -> str:
        return self.prefix + IDENTITY_CROSSWALK.name

    @property
    def passport_in(self) -> str:
        return self.prefix + PASSPORT_IN.name

    @property
    def audit(self) -> str:
        return self.prefix + AUDIT.name

    @property
    def availability_ticks(self) -> str:
        return self.prefix + AVAILABILITY_TICKS.name

    @property
    def availability_view(self) -> str:
        """``views.availability``: the compacted ShiftAvailability view (schema domain ``view``)."""
        return self.events("view")

    @property
    def kpi_view(self) -> str:
        """``views.kpi``: the compacted ShiftKpi / PersonKpi facts (schema domain ``kpi``)."""
        return self.events("kpi")

    def of(self, spec: TopicSpec) -> str:
        """Any declared topic's name with the prefix (internal topics need no property of their own)."""
        return self.prefix + spec.name

    def raw(self, vendor: str) -> str:
        return self.prefix + raw_topic(vendor).name

    def events(self, domain: str) -> str:
        return self.prefix + canonical_topic(domain).name

    def dlq(self, stage: str) -> str:
        return self.prefix + dlq_topic(stage).name

    def outbound(self, destination: str) -> str:
        return self.prefix + outbound_topic(destination).name

    @property
    def outbound_blocks(self) -> str:
        return self.prefix + OUTBOUND_BLOCKS.name


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
