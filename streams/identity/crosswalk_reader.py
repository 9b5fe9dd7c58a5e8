"""Every worker's follower of ``_rosterhub.identity-crosswalk``: the fold around :class:`.crosswalk.Crosswalk`.

Why not faust's GlobalTable: it has open reports of workers that stop reading part of the changelog or hang
when several run (faust-streaming #283, #597, robinhood/faust #716), and it gives no way to apply one resolver
step whole. The Kafka side is the shared follower (:mod:`rosterhub.kafka.follow`: no group, the one partition
from the beginning, resuming after broker errors); restarts rebuild the copy from the compacted topic. Tested
with two workers and a restart (tests/integration/test_identity_crosswalk.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.follow import Follower, Record
from rosterhub.streams.identity.crosswalk import Crosswalk, decode

__all__ = ["folder", "follow"]

log = logging.getLogger(__name__)


def folder(copy: Crosswalk) -> tuple[Callable[[Record], None], Callable[[], None]]:
    """The fold of crosswalk records into ``copy``, and what to do once it has caught up (pure: no I/O)."""

    def fold(rec: Record) -> None:
        if rec.key is None or rec.value is None:
            return
        try:
            key, value = decode(rec.key, rec.value)
            copy.apply(key, value)
        except (ValueError, KeyError) as exc:
            log.warning("identity crosswalk record at offset %s unreadable: %s", rec.offset, exc)

    def caught_up() -> None:
        copy.ready = True
        log.info(
            "identity crosswalk copy caught up: %d keys, %d people, step %d",
            len(copy.owners),
            len(copy.people),
            copy.step,
        )

    return fold, caught_up


async def follow(copy: Crosswalk, *, kafka: KafkaAccess, topic: str) -> None:
    """Keep ``copy`` up to date for as long as the worker runs."""
    fold, caught_up = folder(copy)
    # fetch_max_wait_ms: a change should reach the copy quickly: the shift stage falls back until it does
    follower = Follower(
        kafka, topic, fold, name="rosterhub-identity-crosswalk", on_caught_up=caught_up, fetch_max_wait_ms=100
    )
    await follower.run()
