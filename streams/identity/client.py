"""The API's and the CLI's way in: follow ``events.identity`` into an :class:`IdentityView`, and send
merge/split commands to ``_rosterhub.identity-in`` (then wait for the worker's answer on events.identity).

Blocking kafka-python clients in a background thread: the API calls in through a
threadpool, the CLI directly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kafka import KafkaConsumer, TopicPartition

from rosterhub.codec.wire import EventCodec
from rosterhub.envelope import decode_record
from rosterhub.errors import InputError
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.producer import EventSink
from rosterhub.streams.identity.commands import MergeCommand, SplitCommand, command_record
from rosterhub.streams.identity.view import IdentityView

__all__ = ["IdentityClient"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class IdentityClient:
    """Keeps a view of events.identity current; sends commands. ``start()`` before use, ``stop()`` after."""

    def __init__(
        self, kafka: KafkaAccess, identity_topic: str, identity_in: str, codec: EventCodec, sink: EventSink, source: str
    ) -> None:
        self._kafka, self._topic, self._in, self._codec = kafka, identity_topic, identity_in, codec
        self._sink, self._source = sink, source
        self._view = IdentityView()
        self._changed = threading.Condition()
        self._caught_up = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="identity-view", daemon=True)

    def start(self) -> IdentityClient:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def read(self, fn: Callable[[IdentityView], T], *, timeout: float = 30.0) -> T:
        """``fn`` over the view once it has read everything that was on the topic at start."""
        if not self._caught_up.wait(timeout):
            raise TimeoutError(f"{self._topic} could not be read within {timeout}s")
        with self._changed:
            return fn(self._view)

    def send(self, cmd: MergeCommand | SplitCommand) -> str:
        command_id, record = command_record(cmd, self._in, source=self._source)
        self._sink.send([record])
        return command_id

    def result(self, command_id: str, timeout: float) -> dict[str, Any] | None:
        """The PersonsMerged/PersonSplit the worker emitted for this command, once seen (None: not yet)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while command_id not in self._view.results:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)
            return self._view.results[command_id]

    def _follow(self) -> None:
        consumer = KafkaConsumer(**self._kafka.kafka_python(), enable_auto_commit=False, group_id=None)
        try:
            parts = None
            while not parts and not self._stop.is_set():
                parts = consumer.partitions_for_topic(self._topic)
                if not parts:
                    time.sleep(0.5)
            tps = [TopicPartition(self._topic, p) for p in sorted(parts or ())]
            if not tps:  # stopped before the topic existed (e.g. the process failed to bind its port)
                return
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            ends = consumer.end_offsets(tps)
            while not self._stop.is_set():
                batches = consumer.poll(timeout_ms=200)
                with self._changed:
                    for records in batches.values():
                        for r in records:
                            self._apply(r.value, r.headers)
                    self._changed.notify_all()
                if not self._caught_up.is_set() and all(consumer.position(tp) >= ends[tp] for tp in tps):
                    self._caught_up.set()
        finally:
            consumer.close()

    def _apply(self, value: bytes, headers: Any) -> None:
        try:
            self._view.apply(decode_record(value, headers, self._codec))
        except InputError as exc:  # not ours to fix here: the view skips it
            log.warning("skipping an undecodable record on %s: %s", self._topic, exc)
