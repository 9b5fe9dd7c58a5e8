"""A consumer of the hub's canonical topics that trusts nothing the hub wrote about itself.

kafka-python reads the records; writer schemas come from ``_rosterhub.schemas`` as any consumer
would fetch them; the spec-only reader (tests/conformance/avro_spec_reader.py) computes each
schema's canonical form and CRC-64-AVRO itself and decodes every sampled body. Per record it checks
what the docs promise (docs/events.md, docs/topics.md):

* the value is single-object encoded and its 8 fingerprint bytes are those of the writer schema,
  whose ``_rosterhub.schemas`` key is the hex of those 8 little-endian bytes;
* ``ce_type`` is the schema's full name and ``ce_dataschema`` names the same fingerprint;
* the Kafka key is the value of the schema's ``rosterhub.key`` field, and ``ce_subject`` the value of
  its ``rosterhub.subject`` field;
* the body decodes to the last byte, and to what the hub's own codec (fastavro) reads.

No tests here; used by tests/integration/test_hub_command.py on a real end-to-end run.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from tests.conformance.avro_spec_reader import (
    AvroReadError,
    Schema,
    canonical_form,
    fingerprint64,
    parse,
    read_single_object,
)

__all__ = ["TopicReport", "check_topic", "read_schemas"]


@dataclass
class WriterSchema:
    source: dict[str, Any]
    tree: Schema
    canonical: str


@dataclass
class TopicReport:
    topic: str
    records: int = 0  # on the topic
    sampled: int = 0  # read
    decoded: int = 0  # read and decoded
    types: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def _consumer(bootstrap: str) -> KafkaConsumer:
    return KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, client_id="independent-consumer")


def _read_all(
    consumer: KafkaConsumer, topic: str, limit: int | None = None, ends: dict[TopicPartition, int] | None = None
) -> list[Any]:
    """Every record of ``topic`` up to ``ends`` (default: its end offsets when called; at most ``limit`` per
    partition). A topic the hub is still writing is read to the offsets it was counted at."""
    partitions = consumer.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    if not tps:
        return []
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    ends = ends if ends is not None else consumer.end_offsets(tps)
    out: list[Any] = []
    wanted = {tp: ends[tp] if limit is None else min(ends[tp], limit) for tp in tps}
    while any(consumer.position(tp) < wanted[tp] for tp in tps):
        for tp, records in consumer.poll(timeout_ms=1000).items():
            out += [r for r in records if r.offset < wanted[tp]]
    return out


def record_count(consumer: KafkaConsumer, topic: str) -> tuple[int, dict[TopicPartition, int]]:
    """How many records ``topic`` holds now, and the end offsets they were counted to."""
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or set())]
    if not tps:
        return 0, {}
    begins, ends = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
    return sum(ends[tp] - begins[tp] for tp in tps), ends


def read_schemas(bootstrap: str, topic: str) -> tuple[dict[bytes, WriterSchema], list[str]]:
    """Writer schemas by their 8 wire bytes, from the schemas topic; and what was wrong with any of them."""
    consumer = _consumer(bootstrap)
    problems: list[str] = []
    found: dict[bytes, WriterSchema] = {}
    try:
        for r in _read_all(consumer, topic):
            source = json.loads(r.value)
            canonical = canonical_form(source)
            crc = fingerprint64(canonical.encode())
            wire = crc.to_bytes(8, "little")
            key = r.key.decode()
            if key != wire.hex():
                problems.append(f"schema {source.get('name')}: key {key}, hex of the wire bytes is {wire.hex()}")
            headers = {k: v.decode() for k, v in r.headers or []}
            if headers.get("canonical_form") != canonical:
                problems.append(f"schema {source.get('name')}: canonical_form header differs from the spec's form")
            found[wire] = WriterSchema(source, parse(source), canonical)
    finally:
        consumer.close()
    return found, problems


def check_topic(
    bootstrap: str,
    topic: str,
    schemas: dict[bytes, WriterSchema],
    *,
    sample_per_partition: int = 2000,
    hub_decode: Any = None,
) -> TopicReport:
    """Decode up to ``sample_per_partition`` records of each partition and check each (module docstring)."""
    report = TopicReport(topic)
    consumer = _consumer(bootstrap)
    try:
        report.records, ends = record_count(consumer, topic)
        trees = {fp: ws.tree for fp, ws in schemas.items()}
        for r in _read_all(consumer, topic, sample_per_partition, ends):
            report.sampled += 1
            where = f"{topic}[{r.partition}]@{r.offset}"
            headers = {k: v.decode() for k, v in r.headers or []}
            try:
                obj = read_single_object(r.value, trees)
            except AvroReadError as exc:
                report.problems.append(f"{where}: {exc}")
                continue
            writer = schemas[obj.fingerprint].source
            report.decoded += 1
            report.types[writer["name"]] += 1
            full = f"{writer['namespace']}.{writer['name']}"
            value = obj.value
            expect = {
                "ce_type": full,
                "ce_dataschema": f"urn:avro:crc64:{obj.fingerprint.hex()}",
                "ce_subject": str(value[writer["rosterhub.subject"]]),
            }
            for header, wanted in expect.items():
                if headers.get(header) != wanted:
                    report.problems.append(f"{where} {full}: {header} is {headers.get(header)!r}, expected {wanted!r}")
            key = str(value[writer["rosterhub.key"]])
            if (r.key or b"").decode() != key:
                report.problems.append(f"{where} {full}: key {r.key!r}, expected {key!r} ({writer['rosterhub.key']})")
            if hub_decode is not None and hub_decode(r.value) != value:
                report.problems.append(f"{where} {full}: the hub's codec reads something else")
    finally:
        consumer.close()
    return report
