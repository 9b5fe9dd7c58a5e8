"""SingleObjectCodec and our fingerprints against the Apache Avro conformance vectors (tests/conformance/data/avro).

The vectors are read exactly as shipped. ``schema-tests.txt`` prints each CRC-64-AVRO
fingerprint as a signed Java ``long``; on the wire (and in our catalogue) the same 64
bits travel little-endian, so the comparison is ``int.from_bytes(fp, "little", signed=True)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastavro import parse_schema

from rosterhub.codec.catalogue import SchemaCatalogue, schema_fingerprint
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.errors import DecodeError, UnknownSchemaError


@dataclass(frozen=True)
class Vector:
    number: str
    schema: str
    canonical: str
    fingerprint: int | None


def _vectors(path: Path) -> list[Vector]:
    """Parse the Avro test-file format: ``// NNN`` then ``<<KEY value`` lines, or ``<<KEY`` ... ``KEY`` blocks."""
    vectors, current, lines = [], {}, path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("// ") and line[3:].strip().isdigit():
            if current:
                vectors.append(current)
            current = {"number": line[3:].strip()}
        elif line.startswith("<<"):
            key, _, value = line[2:].partition(" ")
            if not value:
                block = []
                i += 1
                while lines[i].strip() != key:
                    block.append(lines[i])
                    i += 1
                value = "\n".join(block)
            current[key] = value
        i += 1
    vectors.append(current)
    return [
        Vector(v["number"], v["INPUT"], v["canonical"], int(v["fingerprint"]) if "fingerprint" in v else None)
        for v in vectors
    ]


def test_vectors_were_read(conformance: Path) -> None:
    vectors = _vectors(conformance / "avro" / "schema-tests.txt")
    assert len(vectors) >= 30
    assert vectors[0] == Vector("000", '"null"', '"null"', 7195948357588979594)
    assert sum(v.fingerprint is not None for v in vectors) >= 20


def test_every_listed_fingerprint_matches(conformance: Path) -> None:
    checked = 0
    for v in _vectors(conformance / "avro" / "schema-tests.txt"):
        canonical, fp = schema_fingerprint(parse_schema(json.loads(v.schema), _write_hint=False))
        assert canonical == v.canonical, f"vector {v.number}: canonical form"
        _, fp_of_given = schema_fingerprint(parse_schema(json.loads(v.canonical), _write_hint=False))
        assert fp == fp_of_given, f"vector {v.number}: same canonical form, same fingerprint"
        if v.fingerprint is not None:
            assert int.from_bytes(fp, "little", signed=True) == v.fingerprint, f"vector {v.number}: fingerprint"
            checked += 1
    assert checked >= 20


def _message_codec(conformance: Path) -> SingleObjectCodec:
    schema = json.loads((conformance / "avro" / "messageV1-test_schema.avsc").read_text(encoding="utf-8"))
    text = json.dumps(schema)
    _, fp = schema_fingerprint(parse_schema(schema, _write_hint=False))
    return SingleObjectCodec(SchemaCatalogue({}), lookup=lambda f: text if f == fp else None)


def test_single_object_message_decodes(conformance: Path) -> None:
    data = (conformance / "avro" / "messageV1-test_message.bin").read_bytes()
    assert data[2:10].hex() == "a92de1f8a242f53d"
    decoded = _message_codec(conformance).decode(data)
    assert decoded.full_name == "org.apache.avro.TestMessage"
    assert decoded.record == {"id": 42, "name": "Bill", "tags": ["dog_lover", "cat_hater"]}
    assert decoded.writer_id == "a92de1f8a242f53d"


def test_unknown_fingerprint_is_unknown_schema_error(conformance: Path) -> None:
    data = bytearray((conformance / "avro" / "messageV1-test_message.bin").read_bytes())
    data[2] ^= 0xFF
    with pytest.raises(UnknownSchemaError) as err:
        _message_codec(conformance).decode(bytes(data))
    assert err.value.context["fingerprint"] == bytes(data[2:10]).hex()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d[:-3], DecodeError),  # truncated body
        (lambda d: d + b"\x00\x00", DecodeError),  # trailing bytes
        (lambda d: d[:10] + b"\xff" * 12, DecodeError),  # garbage body
        (lambda d: b"\x00\x01" + d[2:], DecodeError),  # not single-object at all
        (lambda d: d[:6], DecodeError),  # shorter than the header
    ],
)
def test_corrupt_messages_are_decode_errors(conformance: Path, mutate, expected) -> None:
    data = (conformance / "avro" / "messageV1-test_message.bin").read_bytes()
    with pytest.raises(expected):
        _message_codec(conformance).decode(mutate(data))
