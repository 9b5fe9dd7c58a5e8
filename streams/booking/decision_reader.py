"""Find a booking's decision on ``events.booking`` by booking id (the API's and the CLI's way in).

A background thread follows every partition of events.booking from the beginning into a
:class:`~rosterhub.streams.booking.decisions.DecisionIndex` (headers only, no body decoded);
:meth:`DecisionReader.lookup` fetches and decodes the one record it names. A booking id
not (yet) in the index is looked up again once the follower has read everything that was
on the topic when the question was asked, so a decision that is on the broker is never
reported unknown because the follower lags: "unknown" means "not decided as of now".

Blocking kafka-python clients: the API calls in through a threadpool, the CLI directly.
"""

from __future__ import annotations

import logging
import threading
import time

from kafka import KafkaConsumer, TopicPartition

from rosterhub.codec.wire import EventCodec
from rosterhub.envelope import Envelope, decode_record
from rosterhub.kafka.access import KafkaAccess
from rosterhub.streams.booking.decisions import DecisionIndex, DecisionRef

__all__ = ["DecisionReader"]

log = logging.getLogger(__name__)


class DecisionReader:
    """``start()`` before use, ``stop()`` after (or use as a context manager)."""

    def __init__(self, kafka: KafkaAccess, topic: str, codec: EventCodec) -> None:
        self._kafka, self._topic, self._codec = kafka, topic, codec
        self._index = DecisionIndex()
        self._positions: dict[int, int] = {}  # partition -> next offset the follower will read
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._fetch_lock = threading.Lock()
        self._fetcher: KafkaConsumer | None = None
        self._thread = threading.Thread(target=self._follow, name="booking-decisions", daemon=True)

    def __enter__(self) -> DecisionReader:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> DecisionReader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
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
            ends = self._end_offsets()
            deadline = time.monotonic() + timeout
            with self._changed:
                while not all(self._positions.get(p, 0) >= end for p, end in ends.items()):
                    left = deadline - time.monotonic()
                    if left <= 0 or self._stop.is_set():
                        raise TimeoutError(f"{self._topic} could not be read up to now within {timeout}s")
                    self._changed.wait(min(left, 0.5))
                ref = self._index.get(booking_id)
            if ref is None:
                return None
        record = self._fetch(ref)
        return decode_record(record.value, record.headers, self._codec), ref

    def indexed(self) -> int:
        """How many booking ids have a decision in the index (for status and tests)."""
        with self._changed:
            return len(self._index)

    def _ref(self, booking_id: str) -> DecisionRef | None:
        with self._changed:
            return self._index.get(booking_id)

    def _consumer(self) -> KafkaConsumer:
        if self._fetcher is None:
            self._fetcher = KafkaConsumer(**self._kafka.kafka_python(), enable_auto_commit=False, group_id=None)
        return self._fetcher

    def _end_offsets(self) -> dict[int, int]:
        with self._fetch_lock:
            consumer = self._consumer()
            parts = consumer.partitions_for_topic(self._topic) or set()
            ends = consumer.end_offsets([TopicPartition(self._topic, p) for p in parts])
        return {tp.partition: end for tp, end in ends.items()}

    def _fetch(self, ref: DecisionRef):  # -> kafka ConsumerRecord
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

    def _follow(self) -> None:
        consumer = KafkaConsumer(**self._kafka.kafka_python(), enable_auto_commit=False, group_id=None)
        try:
            parts: set[int] | None = None
            while not parts and not self._stop.is_set():
                parts = consumer.partitions_for_topic(self._topic)
                if not parts:
                    time.sleep(0.5)
            tps = [TopicPartition(self._topic, p) for p in sorted(parts or ())]
            if not tps:
                return
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            while not self._stop.is_set():
                batches = consumer.poll(timeout_ms=200)
                positions = {tp.partition: consumer.position(tp) for tp in tps}
                with self._changed:
                    for tp, records in batches.items():
                        for r in records:
                            self._index.apply(tp.partition, r.offset, r.headers)
                    self._positions.update(positions)
                    self._changed.notify_all()
        except Exception:  # the reader must say why it stopped; lookups then time out with a clear message
            log.exception("following %s stopped", self._topic)
        finally:
            consumer.close()
