"""The spec-only Avro reader (avro_spec_reader.py) against the Apache Avro vectors, then against the hub.

First the reader earns trust: the Avro project's canonical-form and fingerprint vectors, its
single-object test message, and the binary examples printed in the specification. Then it checks
the hub's own schemas and encodings (no broker here; ``tests/integration/test_hub_command.py``
runs it on a real end-to-end run's topics).
"""

from __future__ import annotations

import json
import struct
from decimal import Decimal
from pathlib import Path

import pytest

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import encode_event
from rosterhub.events.examples import example_events
from rosterhub.topics import SCHEMAS
from tests.conformance.avro_spec_reader import (
    AvroReadError,
    canonical_form,
    decode,
    fingerprint64,
    parse,
    read_single_object,
)
from tests.unit.schemas.test_wire_conformance import _vectors

DATA = Path(__file__).parent / "data" / "avro"


def _signed(n: int) -> int:
    return n - (1 << 64) if n >= 1 << 63 else n


def test_canonical_forms_and_fingerprints_of_the_avro_vectors() -> None:
    vectors = _vectors(DATA / "schema-tests.txt")
    checked = 0
    for v in vectors:
        assert canonical_form(json.loads(v.schema)) == v.canonical, f"vector {v.number}"
        if v.fingerprint is not None:
            assert _signed(fingerprint64(v.canonical.encode())) == v.fingerprint, f"vector {v.number}"
            checked += 1
    assert len(vectors) >= 30 and checked >= 20


def test_the_avro_single_object_test_message() -> None:
    schema = json.loads((DATA / "messageV1-test_schema.avsc").read_text(encoding="utf-8"))
    data = (DATA / "messageV1-test_message.bin").read_bytes()
    fp = fingerprint64(canonical_form(schema).encode()).to_bytes(8, "little")
    obj = read_single_object(data, {fp: parse(schema)})
    assert obj.value == {"id": 42, "name": "Bill", "tags": ["dog_lover", "cat_hater"]}
    assert obj.fingerprint == data[2:10] == fp


@pytest.mark.parametrize(
    ("schema", "hexed", "value"),
    [
        (
            {
                "type": "record",
                "name": "test",
                "fields": [{"name": "a", "type": "long"}, {"name": "b", "type": "string"}],
            },
            "36 06 66 6f 6f",
            {"a": 27, "b": "foo"},
        ),
        ({"type": "array", "items": "long"}, "04 06 36 00", [3, 27]),
        ({"type": "array", "items": "long"}, "03 04 06 36 00", [3, 27]),  # negative count, then byte size
        (["null", "string"], "00", None),
        (["null", "string"], "02 02 61", "a"),
        ("long", "7f", -64),
        ("long", "80 01", 64),
        ({"type": "enum", "name": "Foo", "symbols": ["A", "B", "C", "D"]}, "06", "D"),
        ({"type": "map", "values": "int"}, "02 02 6b 04 00", {"k": 2}),
        ({"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}, "04 09 29", Decimal("23.45")),
        ({"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}, "02 ff", Decimal("-0.01")),
    ],
)
def test_binary_examples(schema: object, hexed: str, value: object) -> None:
    assert decode(parse(schema), bytes.fromhex(hexed)) == value


@pytest.mark.parametrize("hexed", ["36 06 66 6f", "36 06 66 6f 6f 00", "04 c0"])
def test_bad_bytes_are_refused(hexed: str) -> None:
    record = {"type": "record", "name": "t", "fields": [{"name": "a", "type": "long"}, {"name": "b", "type": "string"}]}
    with pytest.raises(AvroReadError):
        decode(parse(record), bytes.fromhex(hexed))
    with pytest.raises(AvroReadError):
        decode(parse(["null", "string"]), bytes.fromhex("04"))  # union index 2 of 2


def test_the_hubs_schemas_fingerprints_and_their_documented_hex() -> None:
    """Defect 5d of issue 15: the hex the hub writes (docs, ``_rosterhub.schemas`` keys, ``ce_dataschema``) is
    the hex of the 8 little-endian wire bytes, not of the CRC's number; a Java-style reader printing
    ``Long.toHexString(fp)`` gets the byte-reversed string."""
    catalogue = default_catalogue()
    posted = catalogue.get("rosterhub.shift.v1.ShiftPosted")
    crc = fingerprint64(canonical_form(posted.source).encode())
    assert posted.fingerprint_hex == struct.pack("<Q", crc).hex() == "a8182e05b06da4b7"
    assert f"{crc:016x}" == "b7a46db0052e18a8" != posted.fingerprint_hex
    said = f"`{posted.fingerprint_hex}` is the number `0x{crc:016x}`"
    docs = Path(__file__).resolve().parents[2] / "docs"
    assert said in (docs / "events.md").read_text(encoding="utf-8")
    assert said in (docs / "topics.md").read_text(encoding="utf-8")
    assert "8 little-endian wire bytes" in SCHEMAS.key
    for es in catalogue:
        mine = canonical_form(es.source)
        assert mine == es.canonical, es.full_name
        assert fingerprint64(mine.encode()).to_bytes(8, "little") == es.fingerprint, es.full_name


def test_the_hubs_encoded_examples_read_back_field_for_field() -> None:
    catalogue = default_catalogue()
    codec = SingleObjectCodec(catalogue)
    schemas = {es.fingerprint: parse(es.source) for es in catalogue}
    examples = example_events()
    assert len(examples) == len(list(catalogue))
    for name, event in examples.items():
        env = event.to_envelope("/tests")
        record = encode_event(env, catalogue.get(name), codec, "t")
        obj = read_single_object(record.value, schemas)
        assert obj.value == env.data == codec.decode(record.value).record, name
