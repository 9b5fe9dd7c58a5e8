"""A commit waits for the records queued before it, not for every record the agents queue while it waits.

Before it commits offsets, faust-streaming 0.15.3 flushes its producer (``Producer.flush``): it drains the buffer of
table writes (``ProducerBuffer.flush``) until the buffer is *empty*, then waits for aiokafka's batches. Under a steady
overload the agents keep writing to their tables while the commit waits, so the buffer is seldom empty and the
commit runs on: commits of up to 33 s were logged ("Timer commit is overlapping", interval 2.8 s), and faust's
fetch loop, which commits inline every ``broker_commit_every`` records, waits behind one. Its per-record wait
gives up after 0.1 s without a record handed over, so a slow send can end the flush with table writes unsent, and
the offsets whose writes they are then committed: a worker that dies just then leaves the changelog without them.

A commit only needs what was written for the offsets it commits, and those writes were all queued before it began:
an agent writes its table, then acks its record. So a marker goes into the buffer behind everything already queued;
faust's sender hands the buffer to aiokafka in order, so when it reaches the marker all of that is in aiokafka's
batches, and aiokafka's own flush then waits for the batches it holds at that moment. The wait is bounded by what
was queued before the commit, and nothing queued before it is left out.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["flush_queued"]

#: How often a flush waiting for its marker checks that faust's sender is still running.
CHECK_S = 1.0


class _Marker:
    """Takes a queued record's place in faust's producer buffer: ``ProducerBuffer._send_pending`` calls
    ``fut.message.channel.publish_message(fut, wait=False)``, which here sends nothing and notes that it was reached."""

    def __init__(self) -> None:
        self.reached: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.message = self
        self.channel = self

    async def publish_message(self, fut: Any, wait: bool = False) -> None:
        if not self.reached.done():
            self.reached.set_result(None)


async def flush_queued(producer: Any) -> None:
    """Deliver every record ``producer`` (faust's aiokafka ``Producer``) was given before this call."""
    if producer.app.conf.producer_threaded:  # the buffer is a queue of the producer thread's: faust's own flush
        await producer.flush()
        return
    buffer = producer.buffer
    marker = _Marker()
    buffer.put(marker)
    while not marker.reached.done():
        await asyncio.wait([marker.reached], timeout=CHECK_S)
        if not marker.reached.done() and buffer.should_stop:
            raise RuntimeError("Cannot flush: Producer not Running")  # faust's own flush says the same
    aio = [p for p in (producer._producer, *producer._transaction_producers.values()) if p is not None]
    for p in aio:
        await p.flush()
