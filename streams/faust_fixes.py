"""Corrections to faust-streaming that the hub cannot run safely without.

**The first bug: records skipped after recovery.** In faust-streaming 0.15.3,
``Recovery.on_recovery_completed`` resumes the stream partitions *before* it seeks them to
their committed offsets, while the fetcher is already running (it was started to read the
changelogs). The fetcher then starts
delivering records from where the consumer happened to be; the seek lands in the
middle of that, and faust's read-offset bookkeeping (``Consumer._read_offset``) ends up
ahead of what the agents actually received. Records between the two are dropped as
"already read" and never processed: a worker that restarts or takes over a partition
can silently skip a handful of input records. Seen here as a restarted identity
resolver skipping identity-in offsets 94-95 and 143-159 (PersonLinked events lost,
tests/integration/test_identity.py restart test), most often on a loaded machine.

faust-streaming fixed the same race in the other branch, ``_resume_streams``
(faust-streaming/faust#216, PR #217: "if the consumer starts fetching again before
seeking back to the last committed offset, a gap appears in the processing"); the
``on_recovery_completed`` branch still has the old order.

**The fix.** Hold deliveries to the agents (suspend the app's flow control, which the
conductor waits on) from the moment the stream partitions resume until the seek has
landed. What really lost the records was faust's ``flow_control.resume()`` at the end,
which clears the agents' queues after deliveries had begun (their offsets already counted
as read). Everything else in the method is faust's own code, in faust's order. (A first
form, seeking before resuming the partitions, sometimes left a restarted worker
processing nothing.)

**The second bug: a stop or a rebalance waits for ever** (issue #17: a worker hung on
``wait_empty: Waiting for tasks [...]`` until SIGKILLed; another hung in a rebalance for 2.5 min
with every agent idle, holding up the whole consumer group). Before a worker gives up its
partitions faust suspends the flow, *clears every agent's input queue* and then waits
(``Consumer.wait_empty``) until every message a stream has started is acked. The conductor
counts one reference per agent reading the topic (``events.booking`` feeds four); a copy cleared
from a queue is never processed, so never acked, so the message never is, and ``wait_empty``
loops until the process is killed. The fix counts the copies a queue clear drops, and
``wait_empty`` stops waiting for a message once every reference left on it is a dropped copy; it
also stops waiting after a bound (half of ``stop_timeout_s``) whatever is in flight. Either way
the message is *not* acked: its offset is not committed, so it is read again after the restart
or by the partition's new owner (processors are idempotent, docs/decisions/0004).

**The third bug: a commit that failed is remembered as made** (a KPI worker that took its partitions back
after a second worker left never committed the end of its input: ``tests/integration/test_kpi_crash.py``
waited 600 s in CI). ``Consumer._commit_offsets`` records the offsets it tried in ``_committed_offset``
whether or not the broker took them. A commit that meets a rebalance fails quietly (the aiokafka driver
returns False for "already rebalanced"), and when its ``await`` spans the rebalance, the stale offset also
overwrites the one the rebalance's seek has just read from the broker. ``ack`` then ignores every record
below it, and the partition's records re-read from the broker's committed offset are never committed. When no
newer record comes (the end of a backlog), the group's lag never reaches zero, although every record was
processed (a restart processes them again). The fix records an offset only when the commit happened.

**The fourth: a commit that runs on under load.** Before committing, faust flushes its producer until its
buffer is empty, which under a steady overload it seldom is (commits of up to 33 s). The replaced ``_commit_offsets``
waits instead for the records queued before it (:mod:`rosterhub.streams.faust_flush`).

The replacements are applied only to the faust version they were written against; another
version logs a warning and is left alone, and ``tests/unit/streams/test_faust_fixes.py`` fails
until someone re-checks the new version's code (pinned in ``requirements.lock``).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Mapping
from typing import Any, cast

import faust
from faust.tables import recovery as _recovery
from faust.transport import consumer as _consumer
from faust.types import TP
from mode import flight_recorder
from mode.utils import queues as _queues

from rosterhub.streams import faust_flush

__all__ = ["FIXED_FAUST_VERSION", "applied", "apply"]

log = logging.getLogger(__name__)

#: The faust-streaming release whose ``Recovery.on_recovery_completed`` this module replaces.
FIXED_FAUST_VERSION = "0.15.3"

_original = _recovery.Recovery.on_recovery_completed
_original_wait_empty = _consumer.Consumer.wait_empty
_original_commit_offsets = _consumer.Consumer._commit_offsets
_original_clears = {cls: cls.__dict__["clear"] for cls in (_queues.FlowControlQueue, _queues.ThrowableQueue)}

#: Copies of a message dropped from agents' input queues by a flow-control clear, per message.
_dropped: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
#: How long ``wait_empty`` waits at most for records agents have started (set by :func:`apply`).
_wait_limit_s: list[float] = [15.0]


async def _on_recovery_completed(self: Any, generation_id: int = 0) -> None:
    """faust 0.15.3's ``Recovery.on_recovery_completed`` holding deliveries to the agents until the seek landed."""
    consumer = self.app.consumer
    self.log.info("Restore complete!")
    await self.app.on_rebalance_complete.send()
    self._set_recovery_ended()
    callback_coros = [
        asyncio.ensure_future(
            table.on_recovery_completed(self.actives_for_table[table], self.standbys_for_table[table])
        )
        for table in self.tables.values()
    ]
    if callback_coros:
        await asyncio.wait(callback_coros)
    assignment = consumer.assignment()
    if self.app.consumer_generation_id != generation_id:
        self.log.warning(f"Recovery rebalancing again app id {self.app.consumer_generation_id} param {generation_id}")
        return
    stream_tps = {tp for tp in assignment if not self._is_changelog_tp(tp)}
    # rosterhub: hold deliveries to the agents (the conductor waits on the app's flow control) from the moment the
    # stream partitions resume until the seek has landed; faust's ``flow_control.resume()`` below clears the agents'
    # queues, which dropped records delivered in between for good (their offsets already counted as read).
    self.app.flow_control.suspend()
    consumer.resume_partitions(stream_tps)
    if assignment:
        self.log.info("Seek stream partitions to committed offsets.")
        await self._wait(consumer.perform_seek(), timeout=self.app.conf.broker_request_timeout)
    self.completed.set()
    self.log.dev("Resume stream partitions")
    self.app.flow_control.resume()
    consumer.resume_flow()
    await cast(Any, self.app)._fetcher.maybe_start()
    self.tables.on_actives_ready()
    if not self.app.assignor.assigned_standbys():
        self.tables.on_standbys_ready()
    self.app.on_rebalance_end()
    self.log.info("Worker ready")


def _counting(original: Any) -> Any:
    def clear(self: Any) -> None:
        """The queue's own ``clear``, after counting the faust events it drops, per message."""
        for item in list(self._queue):
            message = getattr(item, "message", None)
            if message is not None:
                _dropped[message] = _dropped.get(message, 0) + 1
        original(self)

    return clear


#: faust's channels use ``ThrowableQueue``, which has its own ``clear``; both are replaced.
_clears = {cls: _counting(original) for cls, original in _original_clears.items()}


def idle(message: Any) -> bool:
    """No stream holds this un-acked message any more: every reference left is a dropped queue copy."""
    return not message.acked and message.refcount <= _dropped.get(message, 0)


async def _wait_empty(self: Any) -> None:
    """faust 0.15.3's ``Consumer.wait_empty``, not waiting for messages only dropped copies hold, nor for longer
    than the bound: what is still un-acked then is left un-committed, to be read again."""
    wait_count = 0
    deadline = time.monotonic() + _wait_limit_s[0]
    while not self.should_stop and self._unacked_messages:
        self._unacked_messages -= {m for m in self._unacked_messages if idle(m)}
        if not self._unacked_messages:
            break
        if time.monotonic() >= deadline:
            left = sorted((m.topic, m.partition, m.offset) for m in self._unacked_messages)
            self.log.warning(
                "wait_empty: stopped waiting after %.0f s for %d record(s) agents had started %s; not committed, "
                "they are read again (after a restart, or by the partition's new owner)",
                _wait_limit_s[0],
                len(left),
                left[:10],
            )
            self._unacked_messages.clear()
            break
        wait_count += 1
        if not wait_count % 10:
            remaining = [(m.refcount, m) for m in self._unacked_messages]
            self.log.warning("wait_empty: Waiting for tasks %r", remaining)
            self.log.info("Agent tracebacks:\n%s", self.app.agents.human_tracebacks())
        await self.commit()
        if not self._unacked_messages:
            break
        await self._wait_for_ack(timeout=1)
        self._clean_unacked_messages()
    await self.commit_and_end_transactions()


async def _commit_offsets(self: Any, offsets: Mapping[TP, int], start_new_transaction: bool = True) -> bool:
    """faust 0.15.3's ``Consumer._commit_offsets`` (less its dev-level log table), recording the offsets as committed
    only when they were."""
    assignment = self.assignment()
    committable_offsets: dict[TP, int] = {}
    revoked: dict[TP, int] = {}
    for tp, offset in offsets.items():
        if tp in assignment:
            committable_offsets[tp] = offset
        else:
            revoked[tp] = offset
    if revoked:
        self.log.info("Discarded commit for revoked partitions that will be eventually processed again: %r", revoked)
    if not committable_offsets:
        return False
    with flight_recorder(self.log, timeout=300.0) as on_timeout:
        did_commit = False
        on_timeout.info("+consumer.commit()")
        if self.in_transaction:
            did_commit = await self.transactions.commit(
                committable_offsets, start_new_transaction=start_new_transaction
            )
        else:
            await faust_flush.flush_queued(self.app.producer)  # rosterhub: was self.app.producer.flush()
            did_commit = await self._commit(committable_offsets)
        on_timeout.info("-consumer.commit()")
        if did_commit:
            on_timeout.info("+tables.on_commit")
            self.app.tables.on_commit(committable_offsets)
            on_timeout.info("-tables.on_commit")
    if not did_commit:  # rosterhub: the broker has the offsets it had; so must the bookkeeping ``ack`` reads
        self.log.info("Commit not made (a rebalance, most likely); the records are committed later: %r", offsets)
        return False
    self._committed_offset.update(committable_offsets)
    self.app.monitor.on_tp_commit(committable_offsets)
    return True


def applied() -> bool:
    return (
        _recovery.Recovery.on_recovery_completed is _on_recovery_completed
        and _consumer.Consumer.wait_empty is _wait_empty
        and _consumer.Consumer._commit_offsets is _commit_offsets
        and all(cls.clear is clear for cls, clear in _clears.items())
    )


def apply(wait_limit_s: float = 15.0) -> bool:
    """Install the corrected methods (idempotent); False, with a warning, on a faust version they were not
    written for. ``wait_limit_s`` bounds how long a stop or a rebalance waits for records agents have started."""
    _wait_limit_s[0] = wait_limit_s
    if faust.__version__ != FIXED_FAUST_VERSION:
        log.warning(
            "faust-streaming %s is not %s: the recovery seek-order, wait_empty and commit fixes not applied; re-check "
            "Recovery.on_recovery_completed, Consumer.wait_empty and Consumer._commit_offsets (streams/faust_fixes.py)",
            faust.__version__,
            FIXED_FAUST_VERSION,
        )
        return False
    _recovery.Recovery.on_recovery_completed = _on_recovery_completed  # type: ignore[method-assign]
    _consumer.Consumer.wait_empty = _wait_empty  # type: ignore[method-assign]
    _consumer.Consumer._commit_offsets = _commit_offsets  # type: ignore[method-assign]
    for cls, clear in _clears.items():
        cls.clear = clear  # type: ignore[method-assign]
    return True
