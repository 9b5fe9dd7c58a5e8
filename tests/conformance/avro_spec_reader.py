"""An Avro reader written from the Avro 1.12.0 specification alone (tests/conformance/data/avro/).

Deliberately independent of the hub: no fastavro, nothing from ``rosterhub.codec``. It is what a
consumer in another team would write from the spec to read the hub's topics, so the tests use it
to check what the hub writes, not what the hub believes it writes. Sections followed:

* "Parsing Canonical Form for Schemas": PRIMITIVES, FULLNAMES, STRIP, ORDER, STRINGS, INTEGERS,
  WHITESPACE (:func:`canonical_form`);
* "Schema Fingerprints": the 64-bit Rabin fingerprint, CRC-64-AVRO (:func:`fingerprint64`);
* "Single-object encoding": ``C3 01``, the 8-byte *little-endian* fingerprint, the binary body
  (:func:`read_single_object`);
* "Binary Encoding" for every type, and the logical types decimal, uuid, date, time-*,
  timestamp-*, local-timestamp-* (:func:`decode`). Unknown logical types read as their
  underlying type, as the spec requires.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

__all__ = ["AvroReadError", "Schema", "canonical_form", "decode", "fingerprint64", "parse", "read_single_object"]

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED = frozenset({"record", "error", "enum", "fixed"})
MAGIC = b"\xc3\x01"
_ORDER = ("name", "type", "fields", "symbols", "items", "values", "size")
_EMPTY = 0xC15D213AA4D7A795
_MASK = (1 << 64) - 1


class AvroReadError(ValueError):
    """The bytes do not decode with the schema (truncated, trailing bytes, bad index, bad UTF-8...)."""


# --- fingerprint ------------------------------------------------------------------------------------


def _table() -> list[int]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (_EMPTY & -(fp & 1) & _MASK)
        table.append(fp)
    return table


_FP_TABLE = _table()


def fingerprint64(data: bytes) -> int:
    """CRC-64-AVRO of ``data`` as an unsigned 64-bit number (the spec's ``fingerprint64``)."""
    fp = _EMPTY
    for byte in data:
        fp = (fp >> 8) ^ _FP_TABLE[(fp ^ byte) & 0xFF]
    return fp


# --- names and Parsing Canonical Form ------------------------------------------------------------------


def _fullname(name: str, namespace: str | None) -> str:
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def _own_namespace(schema: dict[str, Any], enclosing: str | None) -> tuple[str, str | None]:
    """(fullname, namespace for names inside it) of a named type, per the spec's "Names" rules."""
    name = schema["name"]
    if "." in name:
        return name, name.rsplit(".", 1)[0]
    ns = schema.get("namespace", enclosing)
    ns = ns or None
    return _fullname(name, ns), ns


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))  # STRINGS, WHITESPACE


def canonical_form(schema: Any, namespace: str | None = None) -> str:
    """The schema's Parsing Canonical Form (``schema`` is the parsed JSON)."""
    if isinstance(schema, str):
        return _json(schema if schema in PRIMITIVES else _fullname(schema, namespace))  # FULLNAMES
    if isinstance(schema, list):
        return "[" + ",".join(canonical_form(s, namespace) for s in schema) + "]"
    kind = schema["type"]
    if isinstance(kind, list | dict):
        return canonical_form(kind, namespace)
    if kind in PRIMITIVES:
        return _json(kind)  # PRIMITIVES (and STRIP: logicalType and the rest go)
    if kind not in NAMED and kind not in {"array", "map"}:
        return _json(_fullname(kind, namespace))  # {"type": "SomeNamedType"}
    parts: dict[str, str] = {}
    inner = namespace
    if kind in NAMED:
        full, inner = _own_namespace(schema, namespace)
        parts["name"] = _json(full)
    parts["type"] = _json("record" if kind == "error" else kind)
    if kind in {"record", "error"}:
        fields = [
            "{" + f'"name":{_json(f["name"])},"type":{canonical_form(f["type"], inner)}' + "}" for f in schema["fields"]
        ]
        parts["fields"] = "[" + ",".join(fields) + "]"
    elif kind == "enum":
        parts["symbols"] = _json(list(schema["symbols"]))
    elif kind == "array":
        parts["items"] = canonical_form(schema["items"], namespace)
    elif kind == "map":
        parts["values"] = canonical_form(schema["values"], namespace)
    elif kind == "fixed":
        parts["size"] = str(int(schema["size"]))  # INTEGERS
    return "{" + ",".join(f'"{k}":{parts[k]}' for k in _ORDER if k in parts) + "}"  # ORDER


# --- schema tree ----------------------------------------------------------------------------------


@dataclass
class Schema:
    """A parsed schema: ``kind`` is a primitive or record/enum/array/map/union/fixed/ref."""

    kind: str
    name: str | None = None
    logical: dict[str, Any] | None = None
    fields: list[tuple[str, Schema]] | None = None
    symbols: list[str] | None = None
    items: Schema | None = None
    branches: list[Schema] | None = None
    size: int | None = None
    registry: dict[str, Schema] | None = None
    source: Any = None  # the JSON it came from (for rosterhub.* attributes)


def parse(schema: Any) -> Schema:
    """Parse a schema (JSON already loaded) into a tree whose named references resolve by full name."""
    registry: dict[str, Schema] = {}
    return _parse(schema, None, registry)


def _parse(schema: Any, namespace: str | None, registry: dict[str, Schema]) -> Schema:
    if isinstance(schema, str):
        if schema in PRIMITIVES:
            return Schema(schema)
        return Schema("ref", name=_fullname(schema, namespace), registry=registry)
    if isinstance(schema, list):
        return Schema("union", branches=[_parse(s, namespace, registry) for s in schema])
    kind = schema["type"]
    if isinstance(kind, list | dict):
        return _parse(kind, namespace, registry)
    logical = {k: v for k, v in schema.items() if k in {"logicalType", "precision", "scale"}} or None
    if kind in PRIMITIVES:
        return Schema(kind, logical=logical, source=schema)
    if kind in {"array", "map"}:
        inner = schema["items"] if kind == "array" else schema["values"]
        return Schema(kind, items=_parse(inner, namespace, registry), source=schema)
    if kind not in NAMED:
        return Schema("ref", name=_fullname(kind, namespace), registry=registry)
    full, inner_ns = _own_namespace(schema, namespace)
    node = Schema("record" if kind == "error" else kind, name=full, logical=logical, source=schema)
    registry[full] = node  # before the fields: a record may refer to itself
    if kind in {"record", "error"}:
        node.fields = [(f["name"], _parse(f["type"], inner_ns, registry)) for f in schema["fields"]]
    elif kind == "enum":
        node.symbols = list(schema["symbols"])
    else:
        node.size = int(schema["size"])
    return node


# --- binary decoding ------------------------------------------------------------------------------


class _Buffer:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise AvroReadError(f"needs {n} byte(s) at offset {self.pos}, {len(self.data) - self.pos} left")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def long(self) -> int:
        """Variable-length zig-zag: 7 bits per byte, low groups first, high bit = more."""
        shift = value = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift += 7
            if shift > 63:
                raise AvroReadError(f"varint longer than 10 bytes at offset {self.pos}")
        return (value >> 1) ^ -(value & 1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIMESTAMPS = {
    "timestamp-millis": ("aware", 1_000),
    "timestamp-micros": ("aware", 1),
    "local-timestamp-millis": ("naive", 1_000),
    "local-timestamp-micros": ("naive", 1),
}


def decode(schema: Schema, data: bytes) -> Any:
    """Decode one value; every byte must be used."""
    buf = _Buffer(data)
    value = _read(schema, buf)
    if buf.pos != len(data):
        raise AvroReadError(f"{len(data) - buf.pos} byte(s) left after the value")
    return value


def _read(s: Schema, buf: _Buffer) -> Any:
    if s.kind == "ref":
        assert s.registry is not None
        if s.name not in s.registry:
            raise AvroReadError(f"unknown named type {s.name}")
        return _read(s.registry[s.name], buf)
    if s.kind == "null":
        return None
    if s.kind == "boolean":
        b = buf.take(1)[0]
        if b not in (0, 1):
            raise AvroReadError(f"boolean byte {b}")
        return b == 1
    if s.kind in {"int", "long"}:
        value = buf.long()
        if s.kind == "int" and not -(2**31) <= value < 2**31:
            raise AvroReadError(f"int out of range: {value}")
        return _logical_number(s, value)
    if s.kind == "float":
        return struct.unpack("<f", buf.take(4))[0]
    if s.kind == "double":
        return struct.unpack("<d", buf.take(8))[0]
    if s.kind == "bytes":
        raw = buf.take(buf.long())
        return _decimal(s, raw)
    if s.kind == "string":
        try:
            return buf.take(buf.long()).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AvroReadError(f"string is not UTF-8: {exc}") from None
    if s.kind == "record":
        assert s.fields is not None
        return {name: _read(field, buf) for name, field in s.fields}
    if s.kind == "enum":
        assert s.symbols is not None
        i = buf.long()
        if not 0 <= i < len(s.symbols):
            raise AvroReadError(f"enum {s.name}: index {i} of {len(s.symbols)} symbols")
        return s.symbols[i]
    if s.kind in {"array", "map"}:
        assert s.items is not None
        items: list[Any] = []
        pairs: dict[str, Any] = {}
        while (count := buf.long()) != 0:
            if count < 0:
                count = -count
                buf.long()  # block size in bytes: only for skipping
            for _ in range(count):
                if s.kind == "array":
                    items.append(_read(s.items, buf))
                else:
                    key = buf.take(buf.long()).decode("utf-8")
                    pairs[key] = _read(s.items, buf)
        return items if s.kind == "array" else pairs
    if s.kind == "union":
        assert s.branches is not None
        i = buf.long()
        if not 0 <= i < len(s.branches):
            raise AvroReadError(f"union index {i} of {len(s.branches)} branches")
        return _read(s.branches[i], buf)
    if s.kind == "fixed":
        assert s.size is not None
        return _decimal(s, buf.take(s.size))
    raise AvroReadError(f"unknown schema kind {s.kind}")


def _logical_number(s: Schema, value: int) -> Any:
    logical = (s.logical or {}).get("logicalType")
    if logical == "date" and s.kind == "int":
        return date(1970, 1, 1) + timedelta(days=value)
    if logical in _TIMESTAMPS and s.kind == "long":
        aware, per_micro = _TIMESTAMPS[logical]
        instant = _EPOCH + timedelta(microseconds=value * per_micro)
        return instant if aware == "aware" else instant.replace(tzinfo=None)
    return value  # time-millis/micros, unknown logical types: the underlying number


def _decimal(s: Schema, raw: bytes) -> Any:
    logical = s.logical or {}
    if logical.get("logicalType") != "decimal":
        return raw
    scale = int(logical.get("scale", 0))
    precision = int(logical.get("precision", 0))
    if precision <= 0 or not 0 <= scale <= precision:
        return raw  # an invalid logical type is ignored (spec)
    return Decimal(int.from_bytes(raw, "big", signed=True)).scaleb(-scale)


# --- single-object encoding ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SingleObject:
    fingerprint: bytes  # the 8 bytes as on the wire (little-endian)
    value: Any

    @property
    def fingerprint_value(self) -> int:
        return int.from_bytes(self.fingerprint, "little")


def read_single_object(data: bytes, schema_for: dict[bytes, Schema]) -> SingleObject:
    """Check the marker, look the writer schema up by its 8 wire bytes, decode the whole body."""
    if data[:2] != MAGIC:
        raise AvroReadError(f"not single-object encoded: starts {data[:2].hex()}")
    if len(data) < 10:
        raise AvroReadError("shorter than the 10-byte header")
    fp = data[2:10]
    if fp not in schema_for:
        raise AvroReadError(f"no schema with fingerprint {fp.hex()}")
    return SingleObject(fp, decode(schema_for[fp], data[10:]))
