"""No loss and no duplicate when the connector dies in the middle of publishing a file.

The dedupe store claims an event id *before* the event is sent (so that two copies of a
file can never both publish it) and confirms the claim once the broker acknowledged it;
a failed send releases its claims, and claims left unconfirmed by a crash are dropped
when the store is opened again. That never loses an event, but a batch that died half
way was partly acknowledged: republishing all of it repeats those events (consumers
drop them by id, but the topic then holds them twice).

The fence makes the broker the judge, as Kafka Connect's exactly-once sources do:

1. :class:`InflightClaims` stands in for the dedupe store while one file is published.
   Every key it claims is first written to an *in-flight record* for that file (keyed
   by its content hash), and it never releases claims itself.
2. When the file is finished, the in-flight record is cleared.
3. When a file with an in-flight record is picked up again (after a crash, or after a
   broker error on an earlier attempt), :func:`recover` reads the canonical topics from
   the time of the failed attempt and collects the ``ce_id`` of every event there. The
   claims are then set to what the broker holds: events found are claimed and confirmed,
   the others released, so reprocessing publishes exactly the missing ones. Dead letters
   carry no id: if all of the failed attempt's dead letters are on ``dlq.mapping`` their
   claims are kept, otherwise released (a repeated dead letter beats a lost one).

Reading back costs one scan of the canonical topics from the failed attempt onwards,
only on recovery; normal processing pays one small SQLite write per claim call.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from rosterhub.connectors.state import Dedupe
from rosterhub.envelope import headers_dict
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.position import next_offset
from rosterhub.runtime import TopicNames
from rosterhub.topics import CANONICAL

__all__ = ["InflightClaims", "Recovery", "clear_inflight", "load_inflight", "recover"]

log = logging.getLogger(__name__)

_REJECT_PREFIX = "reject:"
_CLOCK_MARGIN_MS = 10_000  # producer timestamps vs this host's clock


def _name(sha256: str) -> str:
    return f"inflight:{sha256}"


@dataclass
class Inflight:
    started_ms: int
    raw: tuple[str, int, int] | None = None
    events: list[str] = field(default_factory=list)
    rejects: list[str] = field(default_factory=list)

    def dumps(self) -> str:
        return json.dumps(
            {"started_ms": self.started_ms, "raw": self.raw, "events": self.events, "rejects": self.rejects}
        )


def load_inflight(state: Dedupe, vendor: str, sha256: str) -> Inflight | None:
    text = state.position(vendor, _name(sha256))
    if not text:
        return None
    data = json.loads(text)
    raw = tuple(data["raw"]) if data.get("raw") else None
    return Inflight(data["started_ms"], raw, list(data["events"]), list(data["rejects"]))


def clear_inflight(state: Dedupe, vendor: str, sha256: str) -> None:
    state.set_position(vendor, _name(sha256), "")


class InflightClaims:
    """A :class:`Dedupe` for publishing one file: claims are recorded with the file, releases deferred."""

    def __init__(self, state: Dedupe, vendor: str, sha256: str, *, now_ms: int | None = None) -> None:
        self._state = state
        self._vendor = vendor
        self._sha = sha256
        self.inflight = Inflight(now_ms if now_ms is not None else int(time.time() * 1000))
        self._save()

    def _save(self) -> None:
        self._state.set_position(self._vendor, _name(self._sha), self.inflight.dumps())

    def set_raw(self, raw: tuple[str, int, int]) -> None:
        self.inflight.raw = raw
        self._save()

    def claim(self, vendor: str, keys: Sequence[str]) -> list[str]:
        fresh = self._state.claim(vendor, keys)
        if fresh:
            for key in fresh:
                (self.inflight.rejects if key.startswith(_REJECT_PREFIX) else self.inflight.events).append(key)
            self._save()
        return fresh

    def confirm(self, vendor: str, keys: Iterable[str]) -> None:
        self._state.confirm(vendor, keys)

    def release(self, vendor: str, keys: Iterable[str]) -> None:
        """Deliberately nothing: whether these were published is decided by :func:`recover` from the broker."""

    def seen(self, vendor: str, key: str) -> bool:
        return self._state.seen(vendor, key)

    def position(self, vendor: str, name: str) -> str | None:
        return self._state.position(vendor, name)

    def set_position(self, vendor: str, name: str, value: str) -> None:
        self._state.set_position(vendor, name, value)

    def done(self) -> None:
        clear_inflight(self._state, self._vendor, self._sha)


@dataclass(frozen=True, slots=True)
class Recovery:
    found_events: int
    released_events: int
    dead_letters_found: int
    released_rejects: int


def _scan(
    consumer: KafkaConsumer, topics: Sequence[str], since_ms: int
) -> Iterable[tuple[str, list[tuple[str, bytes]]]]:
    tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
    if not tps:
        return
    consumer.assign(tps)
    ends = consumer.end_offsets(tps)
    starts = consumer.offsets_for_times({tp: since_ms for tp in tps})
    remaining = set()
    for tp in tps:
        found = starts.get(tp)
        if found is None or found.offset >= ends[tp]:
            continue
        consumer.seek(tp, found.offset)
        remaining.add(tp)
    consumer.pause(*[tp for tp in tps if tp not in remaining])
    while remaining:
        for tp, batch in consumer.poll(timeout_ms=1000).items():
            for rec in batch:
                if rec.offset < ends[tp]:
                    yield tp.topic, rec.headers
            if next_offset(consumer, tp) >= ends[tp]:
                remaining.discard(tp)
                consumer.pause(tp)


def recover(
    state: Dedupe, vendor: str, sha256: str, inflight: Inflight, *, kafka: KafkaAccess, names: TopicNames
) -> Recovery:
    """Set a failed attempt's claims to what the broker holds (found: kept, missing: released); clear its record."""
    events_wanted = set(inflight.events)
    found: set[str] = set()
    dead_letters = 0
    dlq = names.dlq("mapping")
    origin = inflight.raw
    consumer = KafkaConsumer(**kafka.kafka_python(), enable_auto_commit=False, client_id="rosterhub-fence")
    try:
        topics = [names.events(d) for d in CANONICAL]
        if inflight.rejects:
            topics.append(dlq)
        for topic, raw_headers in _scan(consumer, topics, inflight.started_ms - _CLOCK_MARGIN_MS):
            headers = headers_dict(raw_headers)
            if topic == dlq:
                dead_letters += origin is not None and _from_origin(headers, vendor, origin)
                continue
            ce_id = headers.get("ce_id", b"").decode()
            if ce_id in events_wanted:
                found.add(ce_id)
    finally:
        consumer.close()
    unsent = [k for k in inflight.events if k not in found]
    all_dead_letters_sent = dead_letters >= len(inflight.rejects)
    kept = [k for k in inflight.events if k in found] + (inflight.rejects if all_dead_letters_sent else [])
    released = unsent + ([] if all_dead_letters_sent else inflight.rejects)
    state.claim(vendor, kept)  # a reopened store dropped them as unconfirmed: the broker says they were sent
    state.confirm(vendor, kept)
    state.release(vendor, released)
    clear_inflight(state, vendor, sha256)
    result = Recovery(len(found), len(unsent), dead_letters, len(released) - len(unsent))
    log.warning(
        "recovered an interrupted file",
        extra={"vendor": vendor, "sha256": sha256, **{k: getattr(result, k) for k in result.__slots__}},
    )
    return result


def _from_origin(headers: dict[str, bytes], vendor: str, origin: tuple[Any, ...]) -> bool:
    return (
        headers.get("dlq_connector") == vendor.encode()
        and headers.get("dlq_origin_topic") == str(origin[0]).encode()
        and headers.get("dlq_origin_partition") == str(origin[1]).encode()
        and headers.get("dlq_origin_offset") == str(origin[2]).encode()
    )
