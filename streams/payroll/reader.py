"""Follow events.payroll and events.recharge into a :class:`~.ledger.Ledger` (the API's and the CLI's way in).

A background thread reads every partition of both topics from the beginning (no consumer
group: every reader sees everything, as any consumer of the topics would). :meth:`current`
answers only once the follower has read everything that was on the topics when it was asked,
so a line that is on the broker is never missing from an answer because the follower lags.
Blocking kafka-python clients: the API calls in through a threadpool, the CLI directly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kafka import KafkaConsumer, TopicPartition

from rosterhub.codec.wire import EventCodec
from rosterhub.envelope import decode_record
from rosterhub.errors import InputError
from rosterhub.kafka.access import KafkaAccess
from rosterhub.streams.payroll.ledger import Ledger

__all__ = ["LedgerReader", "read_ledger"]

log = logging.getLogger(__name__)


class LedgerReader:
    """``start()`` before use, ``stop()`` after (or use as a context manager)."""

    def __init__(self, kafka: KafkaAccess, topics: list[str], codec: EventCodec) -> None:
        self._kafka, self._topics, self._codec = kafka, topics, codec
        self._ledger = Ledger()
        self._positions: dict[TopicPartition, int] = {}
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="payroll-ledger", daemon=True)

    def __enter__(self) -> LedgerReader:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> LedgerReader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def current(self, read: Callable[[Ledger], object], *, timeout: float = 30.0) -> object:
        """``read(ledger)`` once the ledger holds everything on the topics now (TimeoutError otherwise)."""
        ends = self._end_offsets()
        deadline = time.monotonic() + timeout
        with self._changed:
            while not all(self._positions.get(tp, 0) >= end for tp, end in ends.items()):
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    raise TimeoutError(f"{', '.join(self._topics)} could not be read up to now within {timeout}s")
                self._changed.wait(min(left, 0.5))
            return read(self._ledger)

    def _end_offsets(self) -> dict[TopicPartition, int]:
        consumer = KafkaConsumer(enable_auto_commit=False, **self._kafka.kafka_python())
        try:
            tps = [TopicPartition(t, p) for t in self._topics for p in consumer.partitions_for_topic(t) or ()]
            return dict(consumer.end_offsets(tps)) if tps else {}
        finally:
            consumer.close()

    def _follow(self) -> None:
        consumer = KafkaConsumer(enable_auto_commit=False, **self._kafka.kafka_python())
        try:
            tps: list[TopicPartition] = []
            while not tps and not self._stop.is_set():
                tps = [TopicPartition(t, p) for t in self._topics for p in consumer.partitions_for_topic(t) or ()]
                if not tps:
                    time.sleep(0.5)
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            while not self._stop.is_set():
                batches = consumer.poll(timeout_ms=300)
                with self._changed:
                    for tp, records in batches.items():
                        for rec in records:
                            try:
                                self._ledger.apply(decode_record(rec.value, rec.headers, self._codec))
                            except InputError as exc:
                                log.warning(
                                    "payroll ledger: %s/%d@%d unreadable: %s", tp.topic, tp.partition, rec.offset, exc
                                )
                    for tp in tps:
                        self._positions[tp] = consumer.position(tp)
                    self._changed.notify_all()
        finally:
            consumer.close()


def read_ledger(kafka: KafkaAccess, topics: list[str], codec: EventCodec, *, timeout: float = 60.0) -> Ledger:
    """Everything on the topics now, folded (the CLI's one-shot read)."""
    with LedgerReader(kafka, topics, codec) as reader:
        return reader.current(lambda ledger: ledger, timeout=timeout)  # type: ignore[return-value]
