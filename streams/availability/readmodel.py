"""The queries' read model: every shift's latest view, read from the compacted views.availability topic.

The processor's own table is partitioned by shift id across workers, but a query ("open
shifts at RHQ") spans every shift. So each worker also follows the *whole* view topic
(all partitions, no consumer group, from the beginning) into memory, exactly as any
other consumer of the view would, and answers queries from it. Records with a revision
at or below the one held are ignored (a view redelivered after a crash). Until the
follower has read up to the end offsets it found at start, ``ready`` is false and the
HTTP API answers 503 rather than a partial list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rosterhub.codec.wire import EventCodec
from rosterhub.envelope import Envelope
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.follow import Follower, envelopes
from rosterhub.streams import faust_typed

if TYPE_CHECKING:
    import faust

    from rosterhub.streams.app import StreamContext

__all__ = ["ViewStore", "follow", "follow_in_worker"]

log = logging.getLogger(__name__)


@dataclass
class ViewStore:
    """Latest ShiftAvailability record per shift id (decoded Avro dicts)."""

    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    ready: bool = False

    def apply(self, view: dict[str, Any]) -> bool:
        """Keep ``view`` if it is newer than the one held; True when it was kept."""
        held = self.views.get(view["shift_id"])
        if held is not None and held["revision"] >= view["revision"]:
            return False
        self.views[view["shift_id"]] = view
        return True

    def get(self, shift_id: str) -> dict[str, Any] | None:
        return self.views.get(shift_id)

    def all(self) -> list[dict[str, Any]]:
        return list(self.views.values())


async def follow(store: ViewStore, *, kafka: KafkaAccess, topic: str, codec: EventCodec) -> None:
    """Read ``topic`` from the beginning into ``store`` for as long as the worker runs (the shared follower)."""

    def caught_up() -> None:
        store.ready = True
        log.info("availability read model caught up: %d shifts", len(store.views))

    def fold(env: Envelope) -> None:
        store.apply(env.data)

    follower = Follower(
        kafka,
        topic,
        fold,
        name="rosterhub-availability-view",
        decode=envelopes(codec),
        on_caught_up=caught_up,
        fetch_max_wait_ms=500,
        poll_ms=500,
    )
    await follower.run()


def follow_in_worker(app: faust.App, ctx: StreamContext) -> ViewStore:
    """A store this worker fills from the whole view topic, in a task started with the worker: one per worker (the
    ``open-shifts`` processor's, reused by availability's when both run there)."""
    store = ViewStore()

    @faust_typed.task(app)
    async def read_model() -> None:
        log.info(
            "availability read model: following %s at %s", ctx.names.availability_view, ctx.kafka.bootstrap_servers
        )
        await follow(store, kafka=ctx.kafka, topic=ctx.names.availability_view, codec=ctx.codec)

    return store
