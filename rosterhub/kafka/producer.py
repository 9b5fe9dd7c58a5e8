"""The hub's synchronous producer (kafka-python): idempotent, acks=all, ordered per key.

Connectors call :meth:`EventSink.send` and then :meth:`EventSink.flush`, so a vendor is
only told "accepted" after every record of its request is durably on the broker.
"""

from __future__ import annotations

from collections.abc import Iterable

from kafka import KafkaProducer
from kafka.errors import KafkaError

from rosterhub.envelope import KafkaRecord
from rosterhub.errors import BrokerUnavailable
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.limits import MAX_RECORD_BYTES

__all__ = ["EventSink", "PartialSend", "make_producer"]


class PartialSend(BrokerUnavailable):
    """Some records of one send were acknowledged (``acked``: their indexes), the others not."""

    def __init__(self, message: str, *, acked: list[int]) -> None:
        super().__init__(message, acknowledged=len(acked))
        self.acked = acked


def make_producer(kafka: KafkaAccess, client_id: str = "rosterhub") -> KafkaProducer:
    return KafkaProducer(
        **kafka.kafka_python(),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_request_size=MAX_RECORD_BYTES,
    )


class EventSink:
    """Sends :class:`KafkaRecord` s and waits for their acknowledgements.

    ``kafka`` is kept so that what a connector does beside sending (a fence read) uses the same access.
    ``producer``: share one already made with that access (a wrapper around another sink).
    """

    def __init__(
        self,
        kafka: KafkaAccess,
        *,
        client_id: str = "rosterhub",
        timeout_s: float = 30.0,
        producer: KafkaProducer | None = None,
    ) -> None:
        self.kafka = kafka
        self.producer = producer if producer is not None else make_producer(kafka, client_id=client_id)
        self.timeout_s = timeout_s

    def send(self, records: Iterable[KafkaRecord]) -> list[tuple[int, int]]:
        """Send and wait; returns (partition, offset) of each record, in order.

        When some records were acknowledged and others not, :class:`PartialSend` says which,
        so callers can keep what is durably written and retry only the rest.
        """
        futures = [self.producer.send(r.topic, key=r.key, value=r.value, headers=r.headers) for r in records]
        metas = []
        try:
            metas = [f.get(timeout=self.timeout_s) for f in futures]
        except KafkaError as exc:
            self.producer.flush(timeout=self.timeout_s)
            acked = [i for i, f in enumerate(futures) if f.is_done and f.succeeded()]
            raise PartialSend(f"Kafka did not acknowledge a write: {exc}", acked=acked) from exc
        return [(m.partition, m.offset) for m in metas]

    def close(self) -> None:
        self.producer.flush(timeout=self.timeout_s)
        self.producer.close(timeout=self.timeout_s)
