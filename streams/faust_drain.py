"""faust's fetcher loop without four asyncio tasks per record, keeping the guarantee they were there for.

**The cost.** faust-streaming 0.15.3's ``Consumer._drain_messages`` hands every record to the conductor with
``await self.wait_first(callback(message), self.suspend_flow.wait())``. mode's ``wait_first`` wraps the
callback, the suspend event, and the consumer's ``stopped`` and ``crashed`` events in four tasks, runs
``asyncio.wait`` and cancels the three losers: for every record, although the callback nearly always finishes
without waiting for anything (it decodes nothing, the hub's values are raw bytes, and puts the event on the
agents' queues). Measured in ``bench/hop_ceiling.py`` (docs/benchmarks.md, "Per-hop cost").

**The guarantee.** The race was added by faust-streaming PR #223 (issue #221: a record prefetched before a
rebalance reached the agent after it, out of order). When a callback is *blocked* (an agent's queue is full,
the app's flow control is held, the producer buffer is full) and the consumer suspends its flow for a
rebalance, the blocked delivery is cancelled instead of landing after the rebalance.

**The change.** :func:`deliver` runs the callback's first step in place. A callback that finishes without
suspending was never blocked, nothing else ran while it did (one thread, no ``await`` that yielded), so no
suspension can have begun during it: the result is the one ``wait_first`` gives when the callback wins. A
callback that suspends is handed, where it stopped, to faust's own ``wait_first`` race against
``suspend_flow``, exactly as before. Everything else in the method is faust's code in faust's order.

Applied by :func:`apply` only to the faust version it was written for (a test fails on another version, and on
any change to the method's source, so an upgrade re-examines it).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator
from typing import Any, cast

import faust
from faust.transport import consumer as _consumer
from faust.types import TP, Message

__all__ = ["ORIGINAL_SHA256", "PATCHED_FAUST_VERSION", "applied", "apply", "deliver", "original_sha256"]

log = logging.getLogger(__name__)

#: The faust-streaming release whose ``Consumer._drain_messages`` this module replaces, and that method's source.
PATCHED_FAUST_VERSION = "0.15.3"
ORIGINAL_SHA256 = "44a2500309e83c630493f6828af50166ec8d96a0b3e4fb2bab735f704ae93417"

_original = _consumer.Consumer._drain_messages


def original_sha256() -> str:
    return hashlib.sha256(inspect.getsource(_original).encode()).hexdigest()


class _Resumed:
    """An awaitable that carries on a coroutine already started by hand, from the point where it suspended."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self.coro, self.first = coro, first

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self.coro, self.first
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation (the race was lost) goes into the callback
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


async def deliver(consumer: Any, callback: Callable[[Any], Awaitable[Any]], message: Any) -> None:
    """Hand one record to the conductor: in place when it does not have to wait, else faust's race (#221)."""
    coro = cast(Coroutine[Any, Any, Any], callback(message))
    try:
        first = coro.send(None)
    except StopIteration:
        return  # delivered without waiting: no suspension can have begun meanwhile
    await consumer.wait_first(_Resumed(coro, first), consumer.suspend_flow.wait())


async def _drain_messages(self: Any, fetcher: Any) -> None:  # noqa: PLR0915 (faust's method, kept as it is)
    """faust 0.15.3's ``Consumer._drain_messages``, delivering through :func:`deliver` (the one change)."""
    callback = self.callback
    getmany = self.getmany
    consumer_should_stop = self._stopped.is_set
    fetcher_should_stop = fetcher._stopped.is_set

    get_read_offset = self._read_offset.__getitem__
    set_read_offset = self._read_offset.__setitem__
    flag_consumer_fetching = _consumer.CONSUMER_FETCHING
    set_flag = self.diag.set_flag
    unset_flag = self.diag.unset_flag
    commit_every = self._commit_every
    acks_enabled_for = self.app.topics.acks_enabled_for

    yield_every = 100
    num_since_yield = 0
    sleep = asyncio.sleep

    try:
        while not (consumer_should_stop() or fetcher_should_stop()):
            set_flag(flag_consumer_fetching)
            ait = cast("AsyncIterator[tuple[TP, Message]]", getmany(timeout=1.0))

            # Sleeping because sometimes getmany is called in a loop
            # never releasing to the event loop
            await self.sleep(0)
            if not self.should_stop:
                async for tp, message in ait:
                    num_since_yield += 1
                    if num_since_yield > yield_every:
                        await sleep(0)
                        num_since_yield = 0

                    offset = message.offset
                    r_offset = get_read_offset(tp)
                    if r_offset is None or offset >= r_offset:
                        gap = offset - (r_offset or 0)
                        # We have a gap in income messages
                        if gap > 1 and r_offset:
                            acks_enabled = acks_enabled_for(message.topic)
                            if acks_enabled:
                                await self._add_gap(tp, r_offset + 1, offset)
                        if commit_every is not None and self._n_acked >= commit_every:
                            self._n_acked = 0
                            await self.commit()
                        await deliver(self, callback, message)  # rosterhub: was wait_first(callback(...), ...)
                        set_read_offset(tp, offset)
                    else:
                        self.log.dev(
                            "DROPPED MESSAGE ROFF %r: k=%r v=%r",
                            offset,
                            message.key,
                            message.value,
                        )
                unset_flag(flag_consumer_fetching)

    except self.consumer_stopped_errors:
        if self.transport.app.should_stop:
            # we're already stopping so ignore
            self.log.info("Broker stopped consumer, shutting down...")
            return
        raise
    except asyncio.CancelledError:
        if self.transport.app.should_stop:
            # we're already stopping so ignore
            self.log.info("Consumer shutting down for user cancel.")
            return
        raise
    except Exception as exc:
        self.log.exception("Drain messages raised: %r", exc)
        raise
    finally:
        unset_flag(flag_consumer_fetching)


def applied() -> bool:
    return _consumer.Consumer._drain_messages is _drain_messages


def apply() -> bool:
    """Install the loop (idempotent); False, with a warning, on a faust whose loop it was not written for."""
    if faust.__version__ != PATCHED_FAUST_VERSION or original_sha256() != ORIGINAL_SHA256:
        log.warning(
            "faust-streaming %s: Consumer._drain_messages is not the one streams/faust_drain.py was written for; "
            "left as it is (re-check the per-record wait_first)",
            faust.__version__,
        )
        return False
    _consumer.Consumer._drain_messages = _drain_messages  # type: ignore[method-assign]
    return True
