"""Counts of what flows through the hub, per connector, for the status line of ``rosterhub run``.

Reads only headers: canonical events are attributed by ``ce_source``
(``/vendors/<vendor>/<trust>``), dead letters by ``dlq_connector``, raw payloads by topic.
The hub's own outputs are counted by ``ce_type``: the booking processor's decisions
(confirmed, rejected) and fills, and the outbound delivery receipts, so the line shows the
shift market working, not only traffic. One consumer, assigned (no group), polled briefly
once per status line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from kafka import KafkaConsumer, TopicPartition

from rosterhub.envelope import headers_dict
from rosterhub.kafka.access import KafkaAccess
from rosterhub.streams.booking.outcome import SOURCE as BOOKING_SOURCE

__all__ = ["FlowCounter"]


class FlowCounter:
    def __init__(self, kafka: KafkaAccess, *, events: Iterable[str], dlq: Iterable[str], raw: dict[str, str]) -> None:
        self.consumer = KafkaConsumer(**kafka.kafka_python(), enable_auto_commit=False, client_id="rosterhub-flow")
        self.raw_topics = raw  # topic -> vendor
        self.event_topics = set(events)
        self.dlq_topics = set(dlq)
        tps = [
            TopicPartition(t, p)
            for t in (*self.event_topics, *self.dlq_topics, *self.raw_topics)
            for p in sorted(self.consumer.partitions_for_topic(t) or ())
        ]
        self.consumer.assign(tps)
        self.consumer.seek_to_beginning(*tps)
        self.raw: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.dead: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()  # the booking processor's outputs by event name
        self.receipts: Counter[str] = Counter()  # outbound delivery receipts by event name

    @property
    def decisions(self) -> int:
        """Booking requests decided (confirmed or rejected)."""
        return self.outcomes["BookingConfirmed"] + self.outcomes["BookingRejected"]

    def poll(self, timeout_ms: int = 300) -> None:
        while batches := self.consumer.poll(timeout_ms=timeout_ms, max_records=5000):
            for tp, records in batches.items():
                for rec in records:
                    self._count(tp.topic, headers_dict(rec.headers))
            timeout_ms = 0

    def _count(self, topic: str, headers: dict[str, bytes]) -> None:
        if topic in self.raw_topics:
            self.raw[self.raw_topics[topic]] += 1
        elif topic in self.dlq_topics:
            self.dead[headers.get("dlq_connector", b"?").decode().split(":")[0]] += 1
        else:
            source = headers.get("ce_source", b"").decode()
            parts = source.strip("/").split("/")
            if parts[:1] == ["vendors"] and len(parts) > 1:
                self.events[parts[1]] += 1
            elif source == BOOKING_SOURCE:
                self.outcomes[headers.get("ce_type", b"").decode().rsplit(".", 1)[-1]] += 1
            elif source == "/rosterhub/outbound":
                self.receipts[headers.get("ce_type", b"").decode().rsplit(".", 1)[-1]] += 1

    def line(self, vendors: Iterable[str], received: Mapping[str, int] | None = None) -> str:
        """One cell per connector (``upd=``: hub updates its simulator applied, when known), then the market."""
        got = received or {}
        cells = [
            f"{v} raw={self.raw[v]} ev={self.events[v]} dlq={self.dead[v]}" + (f" upd={got[v]}" if v in got else "")
            for v in vendors
        ]
        out, rec = self.outcomes, self.receipts
        market = (
            f"decisions={self.decisions} confirmed={out['BookingConfirmed']} rejected={out['BookingRejected']} "
            f"filled={out['ShiftFilled']} delivered={rec['DeliverySucceeded']} failed={rec['DeliveryFailed']}"
        )
        return " | ".join(cells) + " | " + market

    def close(self) -> None:
        self.consumer.close()
