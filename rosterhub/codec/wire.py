"""Avro bodies on the wire: single-object encoding, or the Confluent format with a registry.

* Single-object encoding (Avro spec 1.12, "Single object encoding"): ``C3 01`` marker,
  the writer schema's CRC-64-AVRO fingerprint (8 bytes, little-endian), then the Avro
  binary body. Writer schemas are published to the compacted ``_rosterhub.schemas``
  topic keyed by fingerprint, so any consumer can resolve a fingerprint it has never seen.
* Confluent wire format: magic byte ``00``, the registry's 4-byte big-endian schema id,
  then the body. Used when ``SCHEMA_REGISTRY_URL`` is set.

Both codecs decode into the *reader's* version of a schema when it knows one with the
same full name (Avro schema resolution), so producers and consumers can be upgraded
independently within the compatibility rules enforced by the tests.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from fastavro import schemaless_reader, schemaless_writer
from fastavro.validation import ValidationError, validate

from rosterhub.codec.catalogue import EventSchema, SchemaCatalogue, parse_record_schema, schema_fingerprint
from rosterhub.errors import DecodeError, EncodeError, UnknownSchemaError

__all__ = [
    "CONFLUENT_MAGIC",
    "SINGLE_OBJECT_MARKER",
    "ConfluentCodec",
    "Decoded",
    "EventCodec",
    "SingleObjectCodec",
]

SINGLE_OBJECT_MARKER = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"

#: Looks up a writer schema (as JSON text) by fingerprint; returns None when unknown.
SchemaLookup = Callable[[bytes], str | None]


@dataclass(frozen=True, slots=True)
class Decoded:
    full_name: str  # Avro full name of the writer schema == the event's ce_type
    record: dict[str, Any]
    writer_id: str  # fingerprint hex or registry id, for diagnostics


class EventCodec(Protocol):
    """What producers and consumers need from a body encoding."""

    content_type: str

    def encode(self, schema: EventSchema, record: dict[str, Any], *, validate: bool = True) -> bytes: ...

    def decode(self, data: bytes) -> Decoded: ...

    def dataschema(self, schema: EventSchema) -> str: ...


def _problems(exc: ValidationError) -> list[str]:
    """fastavro >= 1.10 puts the errors in ``args[0]`` as a JSON list (older ones had ``error_list``)."""
    listed = getattr(exc, "error_list", None)
    if listed is not None:
        return [str(e) for e in listed]
    text = str(exc.args[0]) if exc.args else str(exc)
    try:
        parsed = json.loads(text)
    except ValueError:
        return [text]
    return [str(e) for e in parsed] if isinstance(parsed, list) else [text]


#: id(schema as parsed without fastavro's hints) -> (that schema, kept alive so the id stays its own; the same
#: schema parsed with them). See :func:`_ready`.
_READY: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}


def _ready(parsed: dict[str, Any]) -> dict[str, Any]:
    """The schema as fastavro's readers, writers and validator take it without parsing it again.

    The catalogue parses with ``_write_hint=False`` (no ``__fastavro_parsed`` / ``__named_schemas`` keys in
    schemas we print, fingerprint and publish), but fastavro then re-parses the whole schema on every
    ``schemaless_writer``, ``schemaless_reader`` and ``validate`` call: about half the cost of an encode or a
    decode. Parsing once with the hints gives the same reads and writes (parsing is deterministic).
    """
    hit = _READY.get(id(parsed))
    if hit is None or hit[0] is not parsed:
        hit = _READY[id(parsed)] = (parsed, parse_record_schema(parsed))
    return hit[1]


def _write_body(schema: EventSchema, record: dict[str, Any], check: bool = True) -> bytes:
    """The Avro body. ``check=False`` skips the validation pass, for records a processor builds itself from
    typed code whose shape its unit tests check against the schema (the KPI view: ~90 us a record); fastavro's
    writer still refuses a value of the wrong type, with a terser error."""
    ready = _ready(schema.parsed)
    # A cheap yes/no first: with raise_errors=True fastavro builds (json.dumps) a ValidationError for every union
    # branch a value does not take, even when the record is valid. Only a record that does not fit pays for
    # the worded errors, and gets exactly the same ones.
    if check and not validate(record, ready, raise_errors=False):
        try:
            validate(record, ready, raise_errors=True)
        except ValidationError as exc:
            problems = "; ".join(_problems(exc))
            raise EncodeError(
                f"{schema.full_name} does not fit its schema: {problems}", event=schema.full_name
            ) from exc
    buf = io.BytesIO()
    schemaless_writer(buf, ready, record)
    return buf.getvalue()


def _read_body(body: bytes, writer: dict[str, Any], reader: dict[str, Any] | None, writer_id: str) -> dict[str, Any]:
    buf = io.BytesIO(body)
    writer = _ready(writer)
    try:
        record = (
            schemaless_reader(buf, writer, _ready(reader)) if reader is not None else schemaless_reader(buf, writer)
        )
    except Exception as exc:  # fastavro raises EOFError, ValueError, IndexError... on corrupt bytes
        raise DecodeError(f"corrupt Avro body for writer schema {writer_id}: {exc!r}", writer=writer_id) from exc
    if buf.tell() != len(body):
        raise DecodeError(
            f"corrupt Avro body for writer schema {writer_id}: {len(body) - buf.tell()} trailing bytes",
            writer=writer_id,
        )
    if not isinstance(record, dict):
        raise DecodeError(f"writer schema {writer_id} is not a record schema", writer=writer_id)
    return record


class SingleObjectCodec:
    """Avro single-object encoding, resolving unknown fingerprints through ``lookup`` (the schemas topic)."""

    content_type = "application/avro"

    def __init__(self, catalogue: SchemaCatalogue, lookup: SchemaLookup | None = None) -> None:
        self.catalogue = catalogue
        self._lookup = lookup
        self._writers: dict[bytes, tuple[str, dict[str, Any]]] = {}

    def dataschema(self, schema: EventSchema) -> str:
        return f"urn:avro:crc64:{schema.fingerprint_hex}"

    def encode(self, schema: EventSchema, record: dict[str, Any], *, validate: bool = True) -> bytes:
        return SINGLE_OBJECT_MARKER + schema.fingerprint + _write_body(schema, record, validate)

    def _writer(self, fp: bytes) -> tuple[str, dict[str, Any]]:
        known = self.catalogue.by_fingerprint(fp)
        if known is not None:
            return known.full_name, known.parsed
        if fp in self._writers:
            return self._writers[fp]
        text = self._lookup(fp) if self._lookup else None
        if text is None:
            raise UnknownSchemaError(
                f"unknown writer schema fingerprint {fp.hex()}: not shipped with this version and not on the "
                "schemas topic",
                fingerprint=fp.hex(),
            )
        parsed = parse_record_schema(json.loads(text), write_hint=False)
        _, actual = schema_fingerprint(parsed)
        if actual != fp:
            raise UnknownSchemaError(
                f"schema published under fingerprint {fp.hex()} actually has fingerprint {actual.hex()}",
                fingerprint=fp.hex(),
            )
        self._writers[fp] = (parsed["name"], parsed)
        return self._writers[fp]

    def decode(self, data: bytes) -> Decoded:
        if len(data) < 10 or data[:2] != SINGLE_OBJECT_MARKER:
            raise DecodeError(
                f"not an Avro single-object message: starts with {data[:2].hex() or 'nothing'}, expected c301",
                length=len(data),
            )
        fp = data[2:10]
        name, writer = self._writer(fp)
        reader = _reader_for(self.catalogue, name, fp)
        return Decoded(name, _read_body(data[10:], writer, reader, fp.hex()), fp.hex())


def _reader_for(catalogue: SchemaCatalogue, full_name: str, writer_fp: bytes) -> dict[str, Any] | None:
    """Our own schema of that name when it differs from the writer's (schema resolution), else None."""
    try:
        mine = catalogue.get(full_name)
    except KeyError:
        return None
    return None if mine.fingerprint == writer_fp else mine.parsed


class ConfluentCodec:
    """Confluent wire format against a Confluent-compatible registry (subject = ``<topic>-<full name>``).

    ``client`` is a ``confluent_kafka.schema_registry.SchemaRegistryClient``;
    ``SchemaRegistryClient.new_client({"url": "mock://..."})`` gives confluent-kafka's
    in-process registry, useful in tests.
    """

    content_type = "application/avro"

    def __init__(self, catalogue: SchemaCatalogue, client: Any, topic_of: Callable[[EventSchema], str]) -> None:
        self.catalogue = catalogue
        self.client = client
        self._topic_of = topic_of
        self._ids: dict[str, int] = {}
        self._writers: dict[int, tuple[str, dict[str, Any]]] = {}

    def _id_for(self, schema: EventSchema) -> int:
        if schema.full_name not in self._ids:
            from confluent_kafka.schema_registry import Schema

            subject = f"{self._topic_of(schema)}-{schema.full_name}"
            # The full standalone schema, not the Parsing Canonical Form: PCF strips logicalType, and a
            # consumer reading with the registered schema would get epoch ints and raw bytes instead of
            # instants and decimals.
            text = json.dumps(schema.source, sort_keys=True)
            self._ids[schema.full_name] = self.client.register_schema(subject, Schema(text, "AVRO"))
        return self._ids[schema.full_name]

    def dataschema(self, schema: EventSchema) -> str:
        return f"urn:confluent:schema-id:{self._id_for(schema)}"

    def encode(self, schema: EventSchema, record: dict[str, Any], *, validate: bool = True) -> bytes:
        return CONFLUENT_MAGIC + self._id_for(schema).to_bytes(4, "big") + _write_body(schema, record, validate)

    def decode(self, data: bytes) -> Decoded:
        if len(data) < 5 or data[:1] != CONFLUENT_MAGIC:
            raise DecodeError(
                f"not a Confluent-framed message: starts with {data[:1].hex() or 'nothing'}, expected 00",
                length=len(data),
            )
        schema_id = int.from_bytes(data[1:5], "big")
        if schema_id not in self._writers:
            try:
                registered = self.client.get_schema(schema_id)
            except Exception as exc:
                raise UnknownSchemaError(
                    f"schema id {schema_id} is unknown to the registry: {exc}", schema_id=schema_id
                ) from exc
            parsed = parse_record_schema(json.loads(registered.schema_str), write_hint=False)
            self._writers[schema_id] = (parsed["name"], parsed)
        name, writer = self._writers[schema_id]
        _, writer_fp = schema_fingerprint(writer)
        reader = _reader_for(self.catalogue, name, writer_fp)
        return Decoded(name, _read_body(data[5:], writer, reader, f"id:{schema_id}"), f"id:{schema_id}")
