"""views.kpi records, byte for byte as :func:`rosterhub.envelope.encode_event` writes them, for less per record.

The KPI agent publishes one record per change of a shift: after the table, that was the processor's largest
cost per event. Through ``encode_event`` each record built a CloudEvent (the SDK validates every attribute),
mapped it to Kafka headers, encoded the same constant attributes again (type, source, content type, data
schema, spec version) and made its UUIDv5 id through a :class:`uuid.UUID`. Here:

* the first record of each type goes through ``encode_event`` itself, and its headers become that type's
  template: the constant headers are kept as the bytes the CloudEvents SDK made, in its order; only ``ce_id``,
  ``ce_time`` and ``ce_subject`` are put in per record, as the SDK's Kafka binding writes them (UTF-8 text,
  the time in ISO 8601 with ``Z`` for UTC);
* the id comes from :func:`rosterhub.envelope.event_ids` (the same UUIDv5 as ``event_id("kpi", type, key,
  revision)``, the prefix hashed once);
* the Avro body is the codec's (decimals included). One thing is said to it up front: which branch of a
  nullable record field a value takes (fastavro's tuple notation, ``(record name, value)``). Without it
  fastavro validates the whole nested record (a ShiftKpi's ``fill``) against the branch before writing it,
  a third of a filled shift's body; the branch, and so the bytes, are the same.

tests/unit/streams/test_kpi_records.py checks every record of a generated month against ``encode_event``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rosterhub.codec.catalogue import EventSchema
from rosterhub.envelope import Envelope, KafkaRecord, encode_event, event_ids
from rosterhub.runtime import Encoder

__all__ = ["ViewRecords"]

_PER_RECORD = ("ce_id", "ce_time", "ce_subject")


def _time_text(at: datetime) -> bytes:
    """``ce_time`` as the CloudEvents SDK's Kafka binding writes a datetime."""
    text = at.isoformat()
    return (text[:-6] + "Z" if text.endswith("+00:00") else text).encode()


class _Template:
    """One event type's records: the constant headers as first encoded, and where the per-record ones go."""

    def __init__(self, schema: EventSchema, first: KafkaRecord, ids: Callable[..., str]) -> None:
        self.schema = schema
        self.ids = ids
        self.headers = list(first.headers)
        self.slots = {name: i for i, (name, _) in enumerate(self.headers) if name in _PER_RECORD}
        self.complete = len(self.slots) == len(_PER_RECORD)
        self.branches = _record_branches(schema.parsed)

    def body(self, encoder: Encoder, data: dict[str, Any]) -> bytes:
        named = {f: (name, data[f]) for f, name in self.branches if data.get(f) is not None}
        return encoder.codec.encode(self.schema, {**data, **named} if named else data, validate=False)


def _record_branches(parsed: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """(field, record full name) of each top-level field typed ``["null", record]``."""
    return tuple(
        (f["name"], t[1]["name"])
        for f in parsed["fields"]
        if isinstance(t := f["type"], list) and len(t) == 2 and t[0] == "null" and _is_record(t[1])
    )


def _is_record(t: object) -> bool:
    return isinstance(t, dict) and t.get("type") == "record"


class ViewRecords:
    """Encodes the KPI processor's records (``type``, ``data``, event id parts) for views.kpi."""

    def __init__(self, encoder: Encoder, source: str, topic: str) -> None:
        self._encoder = encoder
        self._source = source
        self._topic = topic
        self._templates: dict[str, _Template] = {}

    def record(
        self, type_: str, data: dict[str, Any], key: str, revision: int, at: datetime | None = None
    ) -> KafkaRecord:
        """The record whose ce_id is ``event_id("kpi", type_, key, revision)``, sent ``at`` (``ce_time``: now)."""
        at = at or datetime.now(UTC)
        template = self._templates.get(type_)
        if template is None or not template.complete:
            ids = template.ids if template is not None else event_ids("kpi", type_)
            first = self._reference(type_, data, ids(key, revision), key, at)
            if template is None:
                self._templates[type_] = _Template(self._encoder.schema(type_), first, ids)
            return first
        schema = template.schema
        subject = data.get(schema.subject_field)
        headers = template.headers.copy()
        slots = template.slots
        headers[slots["ce_id"]] = ("ce_id", template.ids(key, revision).encode())
        headers[slots["ce_time"]] = ("ce_time", _time_text(at))
        headers[slots["ce_subject"]] = ("ce_subject", str(subject if subject is not None else key).encode())
        body = template.body(self._encoder, data)  # not validated: view.py's tests check the shape
        record_key = data.get(schema.key_field)
        return KafkaRecord(self._topic, str(record_key).encode() if record_key is not None else None, body, headers)

    def _reference(self, type_: str, data: dict[str, Any], id_: str, key: str, at: datetime) -> KafkaRecord:
        env = Envelope(type_, self._source, data, id_, subject=key, time=at)
        return encode_event(env, self._encoder.schema(type_), self._encoder.codec, self._topic, validate=False)
