"""docs/asyncapi.yaml is fresh, valid AsyncAPI 3.0 (JSON Schema and the official parser), and complete.

The official parser (``@asyncapi/parser`` plus the Avro schema parser, pinned by
``rosterhub/tools/asyncapi-parser/package-lock.json``) is installed from npm into the cache by
``rosterhub tools fetch`` (``./dev test`` runs it; :mod:`rosterhub.tools.asyncapi`). These tests
FAIL, never skip, when node or npm are missing: an unvalidated contract is not a passing one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from rosterhub.codec.catalogue import SchemaCatalogue
from rosterhub.errors import ToolUnavailable
from rosterhub.events.asyncapi import AVRO_FORMAT, asyncapi_document, render_asyncapi, to_json_value
from rosterhub.events.base import AvroEvent
from rosterhub.tools import asyncapi
from rosterhub.topics import CANONICAL, SCHEMAS

REPO = Path(__file__).resolve().parents[3]
DOC = REPO / "docs" / "asyncapi.yaml"


def test_committed_document_is_fresh(catalogue: SchemaCatalogue) -> None:
    assert DOC.read_text(encoding="utf-8") == render_asyncapi(catalogue), "run `rosterhub schemas gen`"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return yaml.safe_load(DOC.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(conformance: Path) -> jsonschema.Draft7Validator:
    schema = json.loads((conformance / "asyncapi" / "3.0.0-without-id.json").read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def test_valid_against_the_asyncapi_3_json_schema(document: dict[str, Any], validator) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
    assert not errors, "\n".join(errors[:20])


def test_json_schema_check_is_not_vacuous(document: dict[str, Any], validator) -> None:
    broken = json.loads(json.dumps(document))
    broken["channels"]["EventsShift"]["bindings"]["kafka"]["partitions"] = 0
    del broken["operations"]["publishEventsShift"]["action"]
    assert len(list(validator.iter_errors(broken))) >= 2


def test_every_topic_and_event_is_described(document: dict[str, Any], catalogue: SchemaCatalogue) -> None:
    addresses = {c["address"]: c for c in document["channels"].values()}
    assert {s.name for s in CANONICAL.values()} | {SCHEMAS.name} <= set(addresses)
    messages = document["components"]["messages"]
    for es in catalogue:
        channel = addresses[CANONICAL[es.domain].name]
        assert channel["messages"][es.name] == {"$ref": f"#/components/messages/{es.name}"}
        message = messages[es.name]
        assert message["payload"] == {"schemaFormat": AVRO_FORMAT, "schema": es.source}
        assert message["headers"]["properties"]["ce_type"]["const"] == es.full_name
        assert es.key_field in message["bindings"]["kafka"]["key"]["description"]
    for spec in CANONICAL.values():
        binding = addresses[spec.name]["bindings"]["kafka"]
        assert binding["topic"] == spec.name
        assert binding["topicConfiguration"]["cleanup.policy"] == [spec.configs()["cleanup.policy"]]
    actions = {(op["channel"]["$ref"], op["action"]) for op in document["operations"].values()}
    assert len(actions) == 2 * len(document["channels"])


def test_examples_are_the_encoded_examples(document: dict[str, Any], examples: dict[str, AvroEvent]) -> None:
    messages = document["components"]["messages"]
    for name, event in examples.items():
        example = messages[event.AVRO_NAME.rsplit(".", 1)[1]]["examples"][0]
        assert example["payload"] == to_json_value(event.to_avro())
        assert example["headers"]["ce_type"] == name


def test_document_is_json_serialisable(catalogue: SchemaCatalogue) -> None:
    json.dumps(asyncapi_document(catalogue))


def _validate(path: Path) -> asyncapi.Diagnostics:
    try:
        return asyncapi.validate(path)
    except ToolUnavailable as exc:
        pytest.fail(f"the AsyncAPI parser is needed to validate {path.name}: {exc}")


def test_official_parser_accepts_the_document() -> None:
    """Zero errors and zero warnings; information and hints are printed (e.g. 'AsyncAPI 3.1.0 exists')."""
    result = _validate(DOC)
    print(result.output)
    assert result.returncode == 0, result.output
    assert (result.errors, result.warnings) == (0, 0), result.output


def test_official_parser_accepts_streetlights(conformance: Path) -> None:
    """Positive control: the AsyncAPI 3.0.0 Kafka example from the spec repository."""
    result = _validate(conformance / "asyncapi" / "streetlights-kafka-asyncapi.yml")
    assert result.returncode == 0 and result.errors == 0, result.output


def test_official_parser_reports_errors(document: dict[str, Any], tmp_path: Path) -> None:
    """Negative control: a bad Kafka binding and a bad Avro type are both reported, with their path."""
    broken = json.loads(json.dumps(document))
    broken["channels"]["EventsShift"]["bindings"]["kafka"]["partitions"] = 0
    broken["components"]["messages"]["ShiftPosted"]["payload"]["schema"]["fields"][0]["type"] = "strang"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken, sort_keys=False), encoding="utf-8")
    result = _validate(path)
    assert result.returncode == 1 and result.errors >= 2, result.output
    assert "channels.EventsShift.bindings.kafka.partitions" in result.output
    assert "components.messages.ShiftPosted.payload.schema" in result.output
