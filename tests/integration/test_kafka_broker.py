"""The broker itself, and both Python clients plus Kafka's own console tools against it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aiokafka
import pytest
from kafka import KafkaConsumer, KafkaProducer

from rosterhub.codec.catalogue import SchemaCatalogue, default_catalogue
from rosterhub.codec.schema_topic import SchemaTopicReader, publish_schemas
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import Envelope, decode_record, encode_event
from rosterhub.errors import UnknownSchemaError
from rosterhub.kafka.admin import api_version, ensure_topics, topic_counts
from rosterhub.kafka.resolve import Resolved
from rosterhub.settings import KAFKA_VERSION, Settings
from rosterhub.topics import SCHEMAS, TopicSpec
from tests.integration.helpers import console_consume_one

pytestmark = pytest.mark.integration

NEW_YEAR = datetime(2026, 1, 1, tzinfo=UTC)


def booking_requested(
    at: datetime,
    ids: tuple[str, str, str] = ("b1", "s1", "patchwork"),
    source: str = "/vendors/patchwork/RHQ",
    subject: str | None = "b1",
) -> Envelope:
    """A request of booking ``ids`` (booking, shift, vendor), by default Patchwork's of b1 on shift s1 at RHQ, by a
    worker not yet identified."""
    booking, shift, vendor = ids
    data = {
        "booking_id": booking,
        "shift_id": shift,
        "vendor": vendor,
        "requested_at": at,
        "worker": {"person_id": None, "identifiers": [], "display_name": None},
    }
    return Envelope(type="rosterhub.booking.v1.BookingRequested", source=source, subject=subject, data=data)


def test_broker_speaks_the_pinned_version(kafka: Resolved) -> None:
    protocol = api_version(kafka.access)
    if kafka.origin == "local":
        assert kafka.version == KAFKA_VERSION
        assert protocol == ".".join(KAFKA_VERSION.split(".")[:2])
    else:
        assert int(protocol.split(".")[0]) >= 3


def test_topics_are_created_idempotently_with_their_configs(kafka: Resolved, unique: str) -> None:
    specs = [SCHEMAS.prefixed(f"t{unique}."), TopicSpec(f"t{unique}.events.x", partitions=2)]
    assert ensure_topics(kafka.access, specs, default_partitions=1, replication_factor=1) == [s.name for s in specs]
    assert ensure_topics(kafka.access, specs, default_partitions=1, replication_factor=1) == []
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        described = admin.describe_topics([specs[1].name])
        assert len(described[0]["partitions"]) == 2
    finally:
        admin.close()


def test_kafka_python_and_aiokafka_interoperate(kafka: Resolved, unique: str) -> None:
    topic = f"t{unique}.interop"
    ensure_topics(kafka.access, [TopicSpec(topic, partitions=1)], default_partitions=1, replication_factor=1)
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    producer.send(topic, key=b"k", value=b"from kafka-python", headers=[("ce_id", b"1")]).get(timeout=30)
    producer.close()

    async def aio() -> tuple[bytes, list[tuple[str, bytes]]]:
        consumer = aiokafka.AIOKafkaConsumer(
            topic, bootstrap_servers=kafka.bootstrap, group_id=f"g{unique}", auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            msg = await asyncio.wait_for(consumer.getone(), 30)
            out = aiokafka.AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
            await out.start()
            await out.send_and_wait(topic, b"from aiokafka", key=b"k", headers=[("ce_id", b"2")])
            await out.stop()
            return msg.value, list(msg.headers)
        finally:
            await consumer.stop()

    value, headers = asyncio.run(aio())
    assert value == b"from kafka-python" and headers == [("ce_id", b"1")]
    consumer = KafkaConsumer(
        topic, bootstrap_servers=kafka.bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=10000
    )
    assert [m.value for m in consumer] == [b"from kafka-python", b"from aiokafka"]
    consumer.close()


def test_kafkas_own_console_consumer_reads_our_events(kafka: Resolved, unique: str) -> None:
    """An independent client (Kafka's ConsoleConsumer, from the broker's jars) sees our CloudEvents headers."""
    cat = default_catalogue()
    codec = SingleObjectCodec(cat)
    topic = f"t{unique}.events.booking"
    ensure_topics(kafka.access, [TopicSpec(topic, partitions=1)], default_partitions=1, replication_factor=1)
    env = booking_requested(datetime.now(UTC))
    rec = encode_event(env, cat.get(env.type), codec, topic)
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap)
    producer.send(topic, key=rec.key, value=rec.value, headers=rec.headers).get(timeout=30)
    producer.close()
    stdout = console_consume_one(kafka.bootstrap, topic, check=True)
    assert "ce_type:rosterhub.booking.v1.BookingRequested" in stdout
    assert f"ce_id:{env.id}" in stdout
    assert "\ts1\t" in stdout  # the key is the shift id


def test_unknown_fingerprint_is_resolved_from_the_schemas_topic(kafka: Resolved, unique: str) -> None:
    full = default_catalogue()
    topic = f"t{unique}._rosterhub.schemas"
    ensure_topics(kafka.access, [SCHEMAS.prefixed(f"t{unique}.")], default_partitions=1, replication_factor=1)
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap)
    assert publish_schemas(producer, topic, list(full)) == len(full)
    producer.close()
    schema = full.get("rosterhub.booking.v1.BookingRequested")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    data = {
        "booking_id": "b1",
        "shift_id": "s1",
        "vendor": "patchwork",
        "requested_at": at,
        "worker": {"person_id": "p1", "identifiers": [], "display_name": None},
    }
    body = SingleObjectCodec(full).encode(schema, data)

    empty = SchemaCatalogue({})  # a consumer that ships none of our schemas
    with pytest.raises(UnknownSchemaError, match=schema.fingerprint_hex):
        SingleObjectCodec(empty).decode(body)
    decoded = SingleObjectCodec(empty, SchemaTopicReader(kafka.access, topic)).decode(body)
    assert decoded.full_name == schema.full_name
    assert decoded.record == SingleObjectCodec(full).decode(body).record  # as a consumer shipping the schema reads it
    assert _sent(decoded.record, data)
    assert topic_counts(kafka.access, [topic])[0].messages == len(full)


def test_decode_record_through_the_schemas_topic(kafka: Resolved) -> None:
    # decode_record is the consumer path: headers + body; covered above for the body, here for symmetry
    cat = default_catalogue()
    env = booking_requested(NEW_YEAR, ("b", "s", "v"), source="/x", subject=None)
    rec = encode_event(env, cat.get(env.type), SingleObjectCodec(cat), "x")
    assert _sent(decode_record(rec.value, rec.headers, SingleObjectCodec(cat)).data, env.data)


def test_confluent_wire_format_through_the_broker(kafka: Resolved, unique: str) -> None:
    """SCHEMA_REGISTRY_URL set: bodies are Confluent-framed; confluent-kafka's own deserializer reads them."""
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    from rosterhub.runtime import Encoder, TopicNames, make_codec

    settings = Settings(
        kafka_bootstrap_servers=kafka.bootstrap, topic_prefix=f"t{unique}.", schema_registry_url=f"mock://{unique}"
    )
    names = TopicNames(settings.topic_prefix)
    ensure_topics(
        kafka.access, [TopicSpec(names.events("booking"), partitions=1)], default_partitions=1, replication_factor=1
    )
    codec = make_codec(settings, kafka.access)
    cat = default_catalogue()
    env = booking_requested(NEW_YEAR)
    rec = Encoder(codec, names, cat).encode(env)
    assert rec.value[:1] == b"\x00" and dict(rec.headers)["ce_dataschema"].startswith(b"urn:confluent:schema-id:")
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap)
    producer.send(rec.topic, key=rec.key, value=rec.value, headers=rec.headers).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(
        rec.topic, bootstrap_servers=kafka.bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=10000
    )
    [msg] = list(consumer)
    consumer.close()
    assert _sent(decode_record(msg.value, msg.headers, codec).data, env.data)
    theirs = AvroDeserializer(codec.client)  # type: ignore[attr-defined]
    decoded = theirs(msg.value, SerializationContext(rec.topic, MessageField.VALUE))
    assert decoded["booking_id"] == "b1" and decoded["requested_at"] == NEW_YEAR


def _sent(decoded: dict, sent: dict) -> bool:
    """What was sent comes back unchanged; optional fields left out come back at their schema defaults."""
    assert {k: decoded[k] for k in sent} == sent
    assert all(decoded[k] in (None, False, []) for k in decoded.keys() - sent.keys()), decoded
    return True
