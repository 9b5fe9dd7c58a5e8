"""Writer schemas on the compacted ``_rosterhub.schemas`` topic.

Every producer publishes the schemas it writes with (key: fingerprint hex, value: the
standalone schema JSON) before its first event, so a consumer that meets an unknown
fingerprint - an older or newer producer - can fetch the schema instead of failing.
Compaction keeps exactly one record per fingerprint forever.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable

from kafka import KafkaProducer

from rosterhub.codec.catalogue import EventSchema
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.follow import Record, read_once

__all__ = ["SchemaTopicReader", "publish_schemas"]


def publish_schemas(producer: KafkaProducer, topic: str, schemas: Iterable[EventSchema]) -> int:
    """Publish each writer schema (idempotent: same key and value every time); returns how many."""
    futures = [
        producer.send(
            topic,
            key=s.fingerprint_hex.encode(),
            value=json.dumps(s.source, sort_keys=True).encode(),
            headers=[("full_name", s.full_name.encode()), ("canonical_form", s.canonical.encode())],
        )
        for s in schemas
    ]
    for f in futures:
        f.get(timeout=30)
    return len(futures)


class SchemaTopicReader:
    """Reads the schemas topic to its end on demand; usable as a ``SchemaLookup``."""

    def __init__(self, kafka: KafkaAccess, topic: str) -> None:
        self.kafka = kafka
        self.topic = topic
        self._known: dict[bytes, str] = {}
        self._lock = threading.Lock()

    def refresh(self, timeout: float = 60.0) -> int:
        """Read the topic to the end offsets counted now (the shared follower's one-shot read); how many known."""
        read_once(self.kafka, self.topic, self._fold, name="rosterhub-schemas", timeout=timeout)
        return len(self._known)

    def _fold(self, r: Record) -> None:
        if r.key and r.value:
            self._known[bytes.fromhex(r.key.decode())] = r.value.decode()

    def __call__(self, fingerprint: bytes) -> str | None:
        with self._lock:
            if fingerprint not in self._known:
                self.refresh()
            return self._known.get(fingerprint)
