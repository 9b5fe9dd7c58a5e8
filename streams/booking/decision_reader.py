"""Find a booking's decision on ``events.booking`` by booking id (the API's and the CLI's way in).

A follower in a background thread (:mod:`rosterhub.kafka.follow`) reads every partition of
events.booking from the beginning into a
:class:`~rosterhub.streams.booking.decisions.DecisionIndex` (headers only, no body decoded);
:meth:`DecisionReader.lookup` fetches and decodes the one record it names. A booking id
not (yet) in the index is looked up again once the follower has read everything that was
on the topic when the question was asked, so a decision that is on the broker is never
reported unknown because the follower lags: "unknown" means "not decided as of now".

Blocking calls: the API calls in through a threadpool, the CLI directly. The one record a lookup
needs is fetched by a kafka-python consumer (a seek, not a follow).
"""

from __future__ import annotations

import logging
import threading
import time

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from rosterhub.codec.wire import EventCodec
from rosterhub.envelope import Envelope, decode_record
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.follow import BackgroundReader, Follower, Record
from rosterhub.streams.booking.decisions import DecisionIndex, DecisionRef

__all__ = ["DecisionReader"]

log = logging.getLogger(__name__)


class DecisionReader(BackgroundReader):
    """``start()`` before use, ``stop()`` after (or use as a context manager)."""

    def __init__(self, kafka: KafkaAccess, topic: str, codec: EventCodec) -> None:
        self._kafka, self._topic, self._codec = kafka, topic, codec
        self._index = DecisionIndex()
        self._fetch_lock = threading.Lock()
        self._fetcher: KafkaConsumer | None = None
        self._follower = Follower(kafka, topic, self._fold, name="rosterhub-booking-decisions")

    def stop(self) -> None:
        """Stop following, and close the consumer that fetched the records looked up."""
        super().stop()
        with self._fetch_lock:
            if self._fetcher is not None:
                self._fetcher.close()
                self._fetcher = None

    def lookup(self, booking_id: str, *, timeout: float = 30.0) -> tuple[Envelope, DecisionRef] | None:
        """The latest decision for ``booking_id`` and where it is; None when none is on the topic now.

        Raises TimeoutError when the topic cannot be read up to now within ``timeout``.
        """
        ref = self._ref(booking_id)
        if ref is None:
            self._follower.wait_until_now(timeout)
            ref = self._ref(booking_id)
            if ref is None:
                return None
        record = self._fetch(ref)
        return decode_record(record.value, record.headers, self._codec), ref

    def indexed(self) -> int:
        """How many booking ids have a decision in the index (for status and tests)."""
        with self._follower.progress.lock:
            return len(self._index)

    def _ref(self, booking_id: str) -> DecisionRef | None:
        with self._follower.progress.lock:
            return self._index.get(booking_id)

    def _fold(self, rec: Record) -> None:
        self._index.apply(rec.partition, rec.offset, rec.headers)

    def _consumer(self) -> KafkaConsumer:
        if self._fetcher is None:
            self._fetcher = KafkaConsumer(**self._kafka.kafka_python(), enable_auto_commit=False, group_id=None)
        return self._fetcher

    def _fetch(self, ref: DecisionRef) -> ConsumerRecord:
        tp = TopicPartition(self._topic, ref.partition)
        with self._fetch_lock:
            consumer = self._consumer()
            consumer.assign([tp])
            consumer.seek(tp, ref.offset)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                for record in consumer.poll(timeout_ms=500, max_records=1).get(tp, []):
                    if record.offset == ref.offset:
                        return record
                    raise LookupError(f"offset {ref.offset} of {self._topic}[{ref.partition}] holds no record")
        raise TimeoutError(f"offset {ref.offset} of {self._topic}[{ref.partition}] could not be read")
