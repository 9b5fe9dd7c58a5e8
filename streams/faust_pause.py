"""Holding a worker's partitions back and resuming them without losing a record faust had already fetched.

faust-streaming 0.15.3's own ``Consumer.pause_partitions`` takes partitions out of the set its fetcher delivers
from. A batch the fetcher is already handing out then skips the paused partitions' records, though the consumer's
position is past them; once resumed, the next record delivered comes after a gap, which faust acks as if the
records in it had been processed, and commits past them. A first try at holding the booking worker's input back
(streams/booking/admission.py) that way lost ten thousand requests in a two-minute overload. faust pauses
partitions itself only around table recovery, and seeks afterwards.

So the pause here is aiokafka's (``AIOKafkaConsumer.pause``), one level down: aiokafka stops fetching the
partitions and drops what it had fetched of them without returning it, so its position stays at the first record
faust has not been given; faust delivers every record it was given, in order, and after ``resume`` aiokafka
fetches again from that position. Nothing is skipped and nothing is delivered twice. aiokafka runs in faust's
consumer thread, so both calls are made there.

Written for the faust version it names (``_thread`` and ``_ensure_consumer`` are faust's aiokafka driver's): on
another, :func:`hold` holds nothing back (a warning says so) and an upgrade re-examines it
(tests/integration/test_faust_pause.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import faust
from aiokafka import TopicPartition

__all__ = ["PAUSE_FAUST_VERSION", "hold", "release", "supported"]

log = logging.getLogger(__name__)

#: The faust-streaming version whose aiokafka driver this reaches into (``Consumer._thread``)
PAUSE_FAUST_VERSION = "0.15.3"


def supported() -> bool:
    return faust.__version__ == PAUSE_FAUST_VERSION


async def hold(consumer: Any, tps: Iterable[Any]) -> None:
    """Stop fetching ``tps`` (faust ``TP``s); what faust was given of them it still delivers."""
    if not supported():
        log.warning("faust %s is not %s: input is not held back", faust.__version__, PAUSE_FAUST_VERSION)
        return
    await _in_thread(consumer, "pause", tps)


async def release(consumer: Any, tps: Iterable[Any]) -> None:
    """Fetch ``tps`` again, from the first record faust was not given."""
    if supported():
        await _in_thread(consumer, "resume", tps)


async def _in_thread(consumer: Any, verb: str, tps: Iterable[Any]) -> None:
    thread = consumer._thread  # faust's aiokafka driver: the service thread aiokafka's consumer runs in
    wanted = [TopicPartition(tp.topic, tp.partition) for tp in tps]

    async def call() -> None:
        aio = thread._ensure_consumer()
        assigned = aio.assignment()  # a partition revoked meanwhile is neither paused nor resumed
        getattr(aio, verb)(*(tp for tp in wanted if tp in assigned))

    await thread.call_thread(call)
