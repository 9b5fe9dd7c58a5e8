"""ConfluentCodec round trip through confluent-kafka's in-process registry (``mock://``).

confluent-kafka's own ``AvroDeserializer`` decodes our bytes as an independent check
that the framing (magic byte, 4-byte schema id) and the registered schema are what any
Confluent consumer expects - including logical types (instants, decimals, dates).
"""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from rosterhub.codec.catalogue import EventSchema, SchemaCatalogue
from rosterhub.codec.wire import ConfluentCodec
from rosterhub.errors import DecodeError, UnknownSchemaError
from rosterhub.events import EVENT_MODELS, AvroEvent
from rosterhub.events.examples import example_events
from rosterhub.topics import canonical_topic


def _topic(es: EventSchema) -> str:
    return canonical_topic(es.domain).name


@pytest.fixture
def registry() -> SchemaRegistryClient:
    # ``new_client`` turns a mock:// URL into confluent-kafka's in-memory MockSchemaRegistryClient (the plain
    # constructor would try HTTP). Each URL is its own registry; a fresh one per test keeps ids independent.
    return SchemaRegistryClient.new_client({"url": f"mock://{uuid.uuid4().hex}"})


@pytest.mark.parametrize("name", sorted(example_events()))
def test_confluent_round_trip(
    name: str, catalogue: SchemaCatalogue, examples: dict[str, AvroEvent], registry: SchemaRegistryClient
) -> None:
    es, event = catalogue.get(name), examples[name]
    codec = ConfluentCodec(catalogue, registry, _topic)
    data = codec.encode(es, event.to_avro())
    assert data[0] == 0
    schema_id = int.from_bytes(data[1:5], "big")
    assert codec.dataschema(es) == f"urn:confluent:schema-id:{schema_id}"
    assert registry.get_latest_version(f"{_topic(es)}-{name}").schema_id == schema_id

    ours = codec.decode(data)
    assert ours.full_name == name and ours.record == event.to_avro()
    # A second codec (a consumer that never produced) must fetch the schema from the registry.
    fresh = ConfluentCodec(catalogue, registry, _topic).decode(data)
    assert EVENT_MODELS[name].from_avro(fresh.record) == event

    theirs = AvroDeserializer(registry)(data, SerializationContext(_topic(es), MessageField.VALUE))
    assert EVENT_MODELS[name].from_avro(theirs) == event


def test_unknown_schema_id(catalogue: SchemaCatalogue, registry: SchemaRegistryClient) -> None:
    codec = ConfluentCodec(catalogue, registry, _topic)
    with pytest.raises(UnknownSchemaError):
        codec.decode(b"\x00" + (4242).to_bytes(4, "big") + b"\x02")


def test_not_confluent_framed(catalogue: SchemaCatalogue, registry: SchemaRegistryClient) -> None:
    with pytest.raises(DecodeError):
        ConfluentCodec(catalogue, registry, _topic).decode(b"\xc3\x01\x00")
