"""The conventions every .avsc file follows (schemas/avro/common/README in test form).

Namespaced and versioned names, Kafka binding attributes that point at real string
fields, a doc on every field, a default on every enum (so adding a symbol never breaks
an older reader), millisecond instants, decimals for money, and no personal data
fields at all.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from rosterhub.codec.catalogue import EventSchema, SchemaCatalogue
from rosterhub.events.codes import CODE_LISTS
from rosterhub.topics import CANONICAL

_PERSONAL = re.compile(r"(^|_)(ni|nino|national_insurance|dob|birth|address|postcode|phone|email)($|_)")


def _walk(schema: Any, path: str = ""):
    """Yield (path, node, is_field) for every schema node, fields included."""
    if isinstance(schema, list):
        for b in schema:
            yield from _walk(b, path)
    elif isinstance(schema, dict):
        yield path, schema, False
        for f in schema.get("fields", []):
            fpath = f"{path}.{f['name']}".lstrip(".")
            yield fpath, f, True
            yield from _walk(f["type"], fpath)
        for key in ("items", "values"):
            if key in schema:
                yield from _walk(schema[key], path)


def _events(catalogue: SchemaCatalogue) -> list[EventSchema]:
    return list(catalogue)


def test_event_names_and_bindings(catalogue: SchemaCatalogue) -> None:
    for es in _events(catalogue):
        assert es.domain in CANONICAL, f"{es.name}: rosterhub.topic {es.domain!r} is not a canonical domain"
        assert re.fullmatch(rf"rosterhub\.{es.domain}\.v[1-9][0-9]*\.[A-Z][A-Za-z]+", es.full_name), es.full_name
        fields = {f["name"]: f for f in es.source["fields"]}
        for attr in (es.key_field, es.subject_field):
            assert attr in fields, f"{es.name}: {attr} is not a field"
            assert fields[attr]["type"] == "string", f"{es.name}.{attr}: key/subject fields are required strings"
        if es.domain in ("shift", "booking"):
            assert es.key_field == "shift_id", f"{es.name}: shift and booking events are keyed by shift_id"


def test_shared_types_are_common(catalogue: SchemaCatalogue) -> None:
    for full in catalogue.shared_types:
        assert full.startswith("rosterhub.common.v1."), full


@pytest.mark.parametrize("kind", ["events", "shared"])
def test_every_node_follows_the_conventions(catalogue: SchemaCatalogue, kind: str) -> None:
    roots = (
        [(es.name, es.source) for es in _events(catalogue)]
        if kind == "events"
        else [(full, raw) for full, raw in catalogue.shared_types.items()]
    )
    for name, root in roots:
        assert root.get("doc"), f"{name}: no doc"
        for path, node, is_field in _walk(root):
            where = f"{name}.{path}" if path else name
            if is_field:
                assert node.get("doc"), f"{where}: every field has a doc"
                assert not _PERSONAL.search(node["name"]), f"{where}: personal data never goes on a topic"
                codes = node.get("rosterhub.codes")
                assert codes is None or codes in CODE_LISTS, f"{where}: unknown code list {codes}"
            if node.get("type") == "enum":
                assert "default" in node and node["default"] in node["symbols"], f"{where}: enum needs a default"
                assert node.get("doc"), f"{where}: enum needs a doc"
            if node.get("logicalType", "").startswith("timestamp"):
                assert node["logicalType"] == "timestamp-millis", f"{where}: instants are timestamp-millis"
            if node.get("logicalType") == "decimal":
                assert node["type"] == "bytes" and node.get("scale") == 2, f"{where}: money/hours are decimal(p,2)"
            assert node.get("type") not in ("float", "double"), f"{where}: no floats (money and hours are decimals)"
