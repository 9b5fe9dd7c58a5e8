"""A commit's flush (streams/faust_flush.py) against faust's own producer buffer, while agents keep writing.

Each record takes a millisecond to hand over and the agents queue three in that time, as the table writes of an
overloaded worker come: faust's own flush waits for the buffer to empty, so it does not end while they keep coming;
the commit's flush ends once what was queued before it is handed over, and asks aiokafka to deliver then.

The tests run on looptime's virtual clock (``run``): faust's flush gives up after 0.1 s without a record handed
over, and on the wall clock a loaded machine pausing the test process for that long ended it at random (twice in
CI). On the virtual clock time moves only when every task waits, so the timings below are exactly what they say.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any, TypeVar

import looptime
import pytest
from faust.transport.producer import ProducerBuffer

from rosterhub.streams import faust_flush

SEND_S = 0.001
WRITE_EVERY_S = 0.001
WRITES_PER_WAKE = 3


T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on an event loop whose clock jumps to the next timer whenever every task waits."""
    with asyncio.Runner(loop_factory=looptime.new_event_loop) as runner:
        return runner.run(main)


class _Aiokafka:
    """aiokafka's producer as the flush sees it: what had been handed over when it was asked to deliver."""

    def __init__(self, handed: list[int]) -> None:
        self.handed, self.at_flush = handed, list[int]()

    async def flush(self) -> None:
        self.at_flush = list(self.handed)


@asynccontextmanager
async def _overloaded(
    send_s: float = SEND_S, write_every_s: float | None = WRITE_EVERY_S, queued: int = 50
) -> AsyncIterator[tuple[Any, Callable[[], int]]]:
    """faust's buffer, running, with ``queued`` writes queued and agents writing faster than it hands them over
    (``write_every_s`` None: no more writes)."""
    handed: list[int] = []
    numbers = itertools.count()

    class Channel:
        async def publish_message(self, fut: Any, wait: bool = False) -> None:
            await asyncio.sleep(send_s)
            handed.append(fut.n)

    channel = Channel()

    def write() -> int:
        n = next(numbers)
        buffer.put(SimpleNamespace(n=n, message=SimpleNamespace(channel=channel)))
        return n

    buffer = ProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))
    await buffer.start()
    for _ in range(queued):
        write()

    async def agents() -> None:
        while write_every_s is not None:
            for _ in range(WRITES_PER_WAKE):
                write()
            await asyncio.sleep(write_every_s)

    writing = asyncio.create_task(agents())
    try:
        producer = SimpleNamespace(
            buffer=buffer, app=buffer.app, _producer=_Aiokafka(handed), _transaction_producers={}
        )
        yield producer, write
    finally:
        writing.cancel()
        await _stop(buffer)


async def _stop(buffer: Any) -> None:
    """Stop faust's buffer without its final flush (which refuses a stopping buffer with records left)."""
    while not buffer.pending.empty():
        buffer.pending.get_nowait()
    await buffer.stop()


def test_a_commit_waits_for_what_was_queued_before_it_and_not_for_what_comes_after() -> None:
    async def commit_flush() -> tuple[list[int], int, list[int]]:
        async with _overloaded() as (producer, write):
            await asyncio.sleep(0.05)
            last_before = write()
            await asyncio.wait_for(faust_flush.flush_queued(producer), timeout=30)
            return producer._producer.at_flush, last_before, [m.n for m in producer.buffer.pending._queue]

    at_flush, last_before, still_queued = run(commit_flush())
    assert set(range(last_before + 1)) <= set(at_flush), "a record queued before the commit was not handed over"
    assert still_queued and min(still_queued) > last_before, "the commit waited for records queued after it"


def test_faust_s_own_flush_does_not_end_while_agents_keep_writing() -> None:
    """Why the commit does not call it: the reason for streams/faust_flush.py, re-checked on a faust upgrade."""

    async def faust_flush_under_load() -> None:
        async with _overloaded() as (producer, _):
            await asyncio.wait_for(producer.buffer.flush(), timeout=1.5)

    with pytest.raises(TimeoutError):
        run(faust_flush_under_load())


def test_faust_s_own_flush_ends_with_writes_unsent_when_a_send_is_slow_and_the_commit_s_does_not() -> None:
    """faust's flush gives up after 0.1 s without a record handed over: a commit after it could commit offsets whose
    table writes were still queued."""

    async def flushes() -> tuple[int, list[int], list[int]]:
        async with _overloaded(send_s=0.15, write_every_s=None, queued=4) as (producer, write):
            last = write()
            await producer.buffer.flush()
            left_by_faust = producer.buffer.size
            await faust_flush.flush_queued(producer)
            return left_by_faust, producer._producer.at_flush, list(range(last + 1))

    left_by_faust, at_flush, queued = run(flushes())
    assert left_by_faust > 0
    assert at_flush == queued


def test_a_flush_whose_sender_stopped_says_so_rather_than_waiting() -> None:
    async def flush_stopped() -> None:
        async with _overloaded() as (producer, _):
            await _stop(producer.buffer)
            await asyncio.wait_for(faust_flush.flush_queued(producer), timeout=10)

    with pytest.raises(RuntimeError, match="not Running"):
        run(flush_stopped())
