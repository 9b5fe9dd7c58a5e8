"""Generate ``docs/asyncapi.yaml`` (AsyncAPI 3.0) from ``rosterhub/topics.py`` and the schema catalogue.

Nothing in the document is written by hand: channels come from the declared topics
(address, partitions, cleanup policy, what the key is), messages from the event
schemas (the standalone Avro schema as payload, with its Kafka key and CloudEvents
subject), examples from :mod:`rosterhub.events.examples`. The tests validate the
result against the AsyncAPI 3.0.0 JSON Schema and with the official ``@asyncapi/parser``
(``rosterhub/tools/asyncapi-parser``, run by ``rosterhub tools asyncapi-validate``), and fail
when the committed file is stale.

CloudEvents attributes travel as Kafka headers (binary content mode, see
:mod:`rosterhub.envelope`), so every canonical message declares them as ``headers``,
with ``ce_type`` fixed to the event's Avro full name.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from importlib import metadata
from typing import Any

import yaml

from rosterhub.codec.catalogue import EventSchema, SchemaCatalogue
from rosterhub.events.base import AvroEvent
from rosterhub.events.examples import example_events
from rosterhub.leaves import map_leaves
from rosterhub.settings import KAFKA_VERSION, Settings
from rosterhub.topics import CANONICAL, DLQ_STAGES, SCHEMAS, TopicSpec, dlq_topic, raw_topic

__all__ = ["AVRO_FORMAT", "CLOUDEVENTS_HEADERS", "asyncapi_document", "render_asyncapi", "to_json_value"]

AVRO_FORMAT = "application/vnd.apache.avro;version=1.9.0"
_KAFKA_BINDING = "0.5.0"
# Per-vendor and per-stage topics, described once with an address parameter.
_RAW = TopicSpec(
    "raw.{vendor}",
    key=raw_topic("x").key,
    doc="Untouched payloads received from one vendor, with receipt metadata in headers; replayable.",
)
_DLQ = TopicSpec(
    "dlq.{stage}",
    key=dlq_topic(DLQ_STAGES[0]).key,
    doc="Records a stage could not handle: the original bytes plus dlq_* reason headers.",
)
_VENDOR_PARAM = "Vendor id (healthroster, patchwork, locums_nest...)."

#: CloudEvents 1.0 Kafka binary-mode headers (after the AsyncAPI CloudEvents trait).
CLOUDEVENTS_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 attributes in Kafka headers (binary content mode).",
    "required": ["ce_id", "ce_source", "ce_specversion", "ce_type", "content-type"],
    "properties": {
        "ce_id": {
            "type": "string",
            "minLength": 1,
            "description": "Event id; deterministic (UUIDv5) when the "
            "input has an identity, so a redelivered input carries the same id and is deduplicated.",
        },
        "ce_source": {
            "type": "string",
            "format": "uri-reference",
            "minLength": 1,
            "description": "Producer: /vendors/<vendor>/<trust ods> or /rosterhub/<stage>.",
        },
        "ce_specversion": {"type": "string", "enum": ["1.0"]},
        "ce_type": {"type": "string", "minLength": 1, "description": "Avro full name of the body's schema."},
        "ce_time": {"type": "string", "format": "date-time", "description": "When the event was produced (RFC 3339)."},
        "ce_subject": {"type": "string", "description": "Value of the event's subject field."},
        "ce_dataschema": {
            "type": "string",
            "description": "Writer schema of the body: urn:avro:crc64:<fingerprint hex> (single-object "
            "encoding; the hex of the 8 little-endian fingerprint bytes as on the wire, not of the CRC's numeric "
            "value) or urn:confluent:schema-id:<id> (registry).",
        },
        "content-type": {"type": "string", "enum": ["application/avro"]},
    },
}


def _json_leaf(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.astimezone(UTC).timestamp() * 1000)
    if isinstance(value, date):
        return (value - date(1970, 1, 1)).days
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def to_json_value(value: Any) -> Any:
    """An Avro datum as the JSON an AsyncAPI example shows: instants as epoch milliseconds, decimals as strings."""
    return map_leaves(value, _json_leaf)


def _channel_id(spec: TopicSpec) -> str:
    cleaned = spec.name.replace("_", ".").replace("{", "").replace("}", "")
    return "".join(part.capitalize() for part in cleaned.split("."))


def _kafka_channel(spec: TopicSpec, partitions: int) -> dict[str, Any]:
    configs = spec.configs()
    topic_config: dict[str, Any] = {"cleanup.policy": [configs["cleanup.policy"]]}
    if "retention.ms" in configs:
        topic_config["retention.ms"] = int(configs["retention.ms"])
    binding: dict[str, Any] = {"partitions": spec.partitions or partitions, "topicConfiguration": topic_config}
    if "{" not in spec.name:
        binding = {"topic": spec.name, **binding}
    return {"kafka": {**binding, "bindingVersion": _KAFKA_BINDING}}


def _first_sentence(doc: str) -> str:
    head = doc.split(". ", 1)[0].strip()
    return head if head.endswith(".") else head + "."


def _event_message(es: EventSchema, spec: TopicSpec, example: AvroEvent | None) -> dict[str, Any]:
    headers = copy.deepcopy(CLOUDEVENTS_HEADERS)
    headers["properties"]["ce_type"]["const"] = es.full_name
    headers["properties"]["ce_subject"]["description"] = f"Value of the {es.subject_field} field."
    message: dict[str, Any] = {
        "name": es.name,
        "title": es.name,
        "summary": _first_sentence(es.doc),
        "description": f"{es.doc}\n\nKey: `{es.key_field}` ({spec.key}). CloudEvents subject: `{es.subject_field}`. "
        f"Avro full name: `{es.full_name}`; CRC-64-AVRO fingerprint `{es.fingerprint_hex}`.",
        "contentType": "application/avro",
        "headers": headers,
        "payload": {"schemaFormat": AVRO_FORMAT, "schema": copy.deepcopy(es.source)},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"{spec.key} (the event's {es.key_field} field)"},
                "bindingVersion": _KAFKA_BINDING,
            }
        },
    }
    if example is not None:
        message["examples"] = [_example(es, example)]
    return message


def _example(es: EventSchema, event: AvroEvent) -> dict[str, Any]:
    return {
        "name": f"{es.name}Example",
        "summary": f"A realistic {es.name} (values from rosterhub.events.examples).",
        "headers": {
            "ce_id": "0b6e0a64-5d3c-5a57-9f0e-2f3f6c9b1a10",
            "ce_source": "/rosterhub/examples",
            "ce_specversion": "1.0",
            "ce_type": es.full_name,
            "ce_time": "2026-03-29T08:40:00Z",
            "ce_subject": str(getattr(event, es.subject_field)),
            "ce_dataschema": f"urn:avro:crc64:{es.fingerprint_hex}",
            "content-type": "application/avro",
        },
        "payload": to_json_value(event.to_avro()),
    }


def _opaque_message(name: str, summary: str, key: str) -> dict[str, Any]:
    return {
        "name": name,
        "summary": summary,
        "contentType": "application/octet-stream",
        "payload": {"type": "string", "format": "binary", "description": "Bytes as received or as they failed."},
        "bindings": {"kafka": {"key": {"type": "string", "description": key}, "bindingVersion": _KAFKA_BINDING}},
    }


def _schemas_message() -> dict[str, Any]:
    return {
        "name": "WriterSchema",
        "summary": "One writer schema, published before the first event written with it.",
        "contentType": "application/json",
        "headers": {
            "type": "object",
            "properties": {
                "full_name": {"type": "string", "description": "Avro full name of the schema."},
                "canonical_form": {"type": "string", "description": "Its Parsing Canonical Form."},
            },
        },
        "payload": {"type": "object", "description": "The standalone Avro schema (JSON), shared types inlined."},
        "bindings": {
            "kafka": {"key": {"type": "string", "description": SCHEMAS.key}, "bindingVersion": _KAFKA_BINDING}
        },
    }


def asyncapi_document(catalogue: SchemaCatalogue, settings: Settings | None = None) -> dict[str, Any]:
    """The AsyncAPI 3.0 document as a plain dict (ready for YAML or JSON Schema validation)."""
    partitions = settings.default_partitions if settings else Settings.model_fields["default_partitions"].default
    port = settings.kafka_port if settings else Settings.model_fields["kafka_port"].default
    examples = example_events()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}

    def add_channel(spec: TopicSpec, msgs: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
        cid = _channel_id(spec)
        messages.update(msgs)
        channels[cid] = {
            "address": spec.name,
            "title": spec.name,
            "description": f"{spec.doc}\n\nMessage key: {spec.key}.",
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in msgs},
            **(extra or {}),
            "bindings": _kafka_channel(spec, partitions),
        }
        refs = [{"$ref": f"#/channels/{cid}/messages/{n}"} for n in msgs]
        for action, verb in (("send", "publish"), ("receive", "consume")):
            operations[f"{verb}{cid}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{cid}"},
                "summary": f"{verb.capitalize()} {spec.name}.",
                "messages": refs,
            }

    for domain, spec in CANONICAL.items():
        events = [e for e in catalogue if e.domain == domain]
        add_channel(spec, {e.name: _event_message(e, spec, examples.get(e.full_name)) for e in events})
    add_channel(SCHEMAS, {"WriterSchema": _schemas_message()})
    raw_message = _opaque_message("RawPayload", "A vendor payload as received.", _RAW.key)
    add_channel(_RAW, {"RawPayload": raw_message}, {"parameters": {"vendor": {"description": _VENDOR_PARAM}}})
    dlq_message = _opaque_message("DeadLetter", "A record that failed at a stage.", _DLQ.key)
    stage = {"enum": list(DLQ_STAGES), "description": "Stage that failed."}
    add_channel(_DLQ, {"DeadLetter": dlq_message}, {"parameters": {"stage": stage}})
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "rosterhub canonical events",
            "version": metadata.version("rosterhub"),
            "description": "Event-driven hub between NHS trusts' rostering and staff-bank platforms. Canonical "
            "events are Avro (single-object encoding, or the Confluent format with a registry) in CloudEvents "
            "binary mode. Generated by `rosterhub schemas gen`; the human-readable catalogue is docs/events.md.",
            "license": {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
        },
        "defaultContentType": "application/avro",
        "servers": {
            "local": {
                "host": f"localhost:{port}",
                "protocol": "kafka",
                "protocolVersion": KAFKA_VERSION,
                "description": "The single-node KRaft broker started by `rosterhub kafka start` (PLAINTEXT).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render_asyncapi(catalogue: SchemaCatalogue) -> str:
    """``docs/asyncapi.yaml`` text (stable key order, so diffs show real changes)."""
    header = "# Generated by `rosterhub schemas gen` from rosterhub/topics.py and schemas/avro: do not edit.\n"
    body = yaml.safe_dump(
        asyncapi_document(catalogue), sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )
    return header + body
