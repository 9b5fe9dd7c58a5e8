"""A correction to faust-streaming's table recovery that the hub cannot run safely without.

**The bug.** In faust-streaming 0.15.3, ``Recovery.on_recovery_completed`` resumes the
stream partitions *before* it seeks them to their committed offsets, while the fetcher
is already running (it was started to read the changelogs). The fetcher then starts
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
processing nothing.) The replacement is applied only to the faust version it was written against; another version logs a
warning and is left alone, and ``tests/unit/streams/test_faust_fixes.py`` fails until
someone re-checks the new version's code (pinned in ``uv.lock``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import faust
from faust.tables import recovery as _recovery

__all__ = ["FIXED_FAUST_VERSION", "applied", "apply"]

log = logging.getLogger(__name__)

#: The faust-streaming release whose ``Recovery.on_recovery_completed`` this module replaces.
FIXED_FAUST_VERSION = "0.15.3"

_original = _recovery.Recovery.on_recovery_completed


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


def applied() -> bool:
    return _recovery.Recovery.on_recovery_completed is _on_recovery_completed  # type: ignore[comparison-overlap]


def apply() -> bool:
    """Install the corrected method (idempotent); False, with a warning, on a faust version it was not written for."""
    if faust.__version__ != FIXED_FAUST_VERSION:
        log.warning(
            "faust-streaming %s is not %s: recovery seek-order fix not applied; re-check "
            "Recovery.on_recovery_completed (streams/faust_fixes.py)",
            faust.__version__,
            FIXED_FAUST_VERSION,
        )
        return False
    _recovery.Recovery.on_recovery_completed = _on_recovery_completed  # type: ignore[method-assign]
    return True
