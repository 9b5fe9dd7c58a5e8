"""Follow events.payroll and events.recharge into a :class:`~.ledger.Ledger` (the API's and the CLI's way in).

A follower in a background thread (:mod:`rosterhub.kafka.follow`) reads every partition of both
topics from the beginning (no consumer group: every reader sees everything, as any consumer of
the topics would), once both exist. :meth:`current`
answers only once the follower has read everything that was on the topics when it was asked,
so a line that is on the broker is never missing from an answer because the follower lags.
Blocking calls: the API calls in through a threadpool, the CLI directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from rosterhub.codec.wire import EventCodec
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.follow import BackgroundReader, Follower, envelopes
from rosterhub.streams.payroll.ledger import Ledger

__all__ = ["LedgerReader", "read_ledger"]

T = TypeVar("T")


class LedgerReader(BackgroundReader):
    """``start()`` before use, ``stop()`` after (or use as a context manager)."""

    def __init__(self, kafka: KafkaAccess, topics: list[str], codec: EventCodec) -> None:
        self._ledger = Ledger()
        self._follower = Follower(
            kafka, topics, self._ledger.apply, name="rosterhub-payroll-ledger", decode=envelopes(codec)
        )

    def current(self, read: Callable[[Ledger], T], *, timeout: float = 30.0) -> T:
        """``read(ledger)`` once the ledger holds everything on the topics now (TimeoutError otherwise)."""
        self._follower.wait_until_now(timeout)
        with self._follower.progress.lock:
            return read(self._ledger)


def read_ledger(kafka: KafkaAccess, topics: list[str], codec: EventCodec, *, timeout: float = 60.0) -> Ledger:
    """Everything on the topics now, folded (the CLI's one-shot read)."""
    with LedgerReader(kafka, topics, codec) as reader:
        return reader.current(lambda ledger: ledger, timeout=timeout)
