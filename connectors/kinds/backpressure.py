"""Backpressure: how far behind the stream workers are, so inputs slow down instead of piling up.

When vendors send faster than the hub decides, the backlog sits on the broker (durable, in order) and the
workers drain it at their pace (docs/benchmarks.md, "Overload"). What must not happen is that the ingress or a
connector keeps accepting or reading without bound: the ingress's threads and memory fill, and a bulk load
makes every later booking request wait behind it. So:

* :class:`HubLag` asks the broker, every ``ingress_lag_poll_s``, how many records of the booking path
  (``events.booking``, ``events.shift``) the workers have not yet committed: the slowest of the app's worker
  groups that read them (one group per processor set, decision 0017);
* the webhook ingress answers **429** with ``Retry-After`` while that lag is over ``ingress_max_lag`` or its
  own requests in progress are over ``ingress_max_in_flight`` (nothing is read or written for a refused
  request; the sender keeps the payload and sends it again, as HTTP says);
* polling and file connectors wait (:func:`wait_for_room`) before each cycle or file while the lag is over the
  limit, instead of reading more into a backlog.

The lag is a broker-side number and cheap to ask for; if the broker cannot say, nobody is held back.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rosterhub.connectors.pipeline import IngestContext
    from rosterhub.kafka.access import KafkaAccess
    from rosterhub.settings import Settings

__all__ = ["Admission", "HubLag", "hub_lag", "lag_for", "retry_after", "wait_for_room"]

log = logging.getLogger(__name__)


def retry_after(excess: int, drain_per_s: float, *, floor_s: int = 1, ceiling_s: int = 60) -> int:
    """Seconds to wait for ``excess`` records over the limit to drain at ``drain_per_s`` (bounded both ways)."""
    if drain_per_s <= 0:
        return ceiling_s
    return max(floor_s, min(ceiling_s, math.ceil(excess / drain_per_s)))


@dataclass
class HubLag:
    """The workers' uncommitted records on the booking path, polled in a background thread."""

    read_lag: Callable[[], int | None]  # the broker question; None when it cannot be answered
    limit: int
    poll_s: float = 2.0
    lag: int = 0
    drain_per_s: float = 0.0  # how fast the lag fell lately (records/s), for Retry-After
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> HubLag:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="rosterhub-hub-lag", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        last: tuple[float, int] | None = None
        while not self._stop.is_set():
            try:
                lag = self.read_lag()
            except Exception as exc:  # the broker is away: hold nobody back on a guess
                log.debug("hub lag unavailable: %s", exc)
                lag = None
            now = time.monotonic()
            if lag is not None:
                if last is not None and now > last[0]:
                    fell = (last[1] - lag) / (now - last[0])
                    self.drain_per_s = max(0.0, 0.5 * self.drain_per_s + 0.5 * fell) if fell > 0 else self.drain_per_s
                self.lag, last = lag, (now, lag)
            else:
                self.lag = 0
            self._stop.wait(self.poll_s)

    def behind(self) -> int | None:
        """Seconds a sender should wait before sending more; None when the workers keep up."""
        excess = self.lag - self.limit
        return retry_after(excess, self.drain_per_s) if excess > 0 else None


@dataclass
class Admission:
    """The ingress's gate: a bounded number of requests in progress, and the hub's lag."""

    max_in_flight: int
    lag: HubLag | None = None
    in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self) -> int | None:
        """Take a place (None), or the seconds to tell the sender to wait (nothing taken)."""
        wait = self.lag.behind() if self.lag is not None else None
        if wait is not None:
            return wait
        with self._lock:
            if self.in_flight >= self.max_in_flight:
                return 1
            self.in_flight += 1
        return None

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def wait_for_room(lag: HubLag | None, stop: threading.Event, *, who: str = "connector") -> None:
    """Block while the workers are too far behind (a connector's cycle waits rather than reading more)."""
    while lag is not None and not stop.is_set():
        wait = lag.behind()
        if wait is None:
            return
        log.info("%s: the hub is %d records behind; waiting %d s", who, lag.lag, wait)
        stop.wait(wait)


def consumer_group_lag(
    kafka: KafkaAccess, group: str | Callable[[Iterable[str]], Iterable[str]], topics: Iterable[str]
) -> Callable[[], int | None]:
    """The broker question: end offsets minus the group's committed offsets, summed over ``topics``.

    ``group`` is one group's name, or a function picking, from the cluster's group names at each read, the groups
    that read these topics: the lag is then the slowest one's. Workers that run different processors are
    different groups (:func:`rosterhub.features.worker_group`), and which ones run depends on the deployment."""
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError

    admin = KafkaAdminClient(**kafka.kafka_python(), client_id="rosterhub-hub-lag")
    consumer = KafkaConsumer(**kafka.kafka_python(), client_id="rosterhub-hub-lag", enable_auto_commit=False)
    wanted = list(topics)

    def groups() -> list[str]:
        if isinstance(group, str):
            return [group]
        return list(group(g["group_id"] for g in admin.list_groups()))

    def read() -> int | None:
        tps = [TopicPartition(t, p) for t in wanted for p in sorted(consumer.partitions_for_topic(t) or ())]
        if not tps:
            return None
        ends = consumer.end_offsets(tps)
        try:
            names = groups()
            found = admin.list_group_offsets(names) if names else {}
        except KafkaError as exc:
            if getattr(exc, "retriable", False):  # e.g. no group coordinator yet on a new cluster: ask again later
                return None
            raise
        readers = [c for c in found.values() if any(tp in c for tp in tps)] or [{}]  # none yet: nothing committed
        return max(sum(max(0, ends[tp] - (c[tp].offset if tp in c else 0)) for tp in tps) for c in readers)

    return read


_shared: dict[tuple[KafkaAccess, object], HubLag] = {}
_shared_lock = threading.Lock()


def hub_lag(
    kafka: KafkaAccess,
    group: str | Callable[[Iterable[str]], Iterable[str]],
    topics: list[str],
    *,
    limit: int,
    poll_s: float,
) -> HubLag | None:
    """One lag follower per process and broker (the ingress and every connector in it share it); None: off."""
    if limit <= 0:
        return None
    with _shared_lock:
        key = (kafka, group)
        if key not in _shared:
            try:
                reader = consumer_group_lag(kafka, group, topics)
            except Exception as exc:  # no broker yet: no backpressure rather than no ingress
                log.warning("hub lag cannot be followed (%s): inputs are not paced", exc)
                return None
            _shared[key] = HubLag(reader, limit, poll_s).start()
        return _shared[key]


def lag_for(settings: Settings, ctx: IngestContext) -> HubLag | None:
    """The process's follower of the workers' lag on the booking path (None when switched off or no broker)."""
    from rosterhub.kafka.access import KafkaAccess

    kafka = getattr(ctx.sink, "kafka", None)  # the EventSink's access: the same cluster and credentials
    if not isinstance(kafka, KafkaAccess):
        return None  # a sink without Kafka (tools, tests): nothing to ask
    topics = [ctx.names.events("booking"), ctx.names.events("shift")]
    return hub_lag(
        kafka,
        _groups_of(settings.app_id),
        topics,
        limit=settings.ingress_max_lag,
        poll_s=settings.ingress_lag_poll_s,
    )


@cache
def _groups_of(app_id: str) -> Callable[[Iterable[str]], list[str]]:
    """One picker per app id, so that every connector in a process shares one lag follower (``_shared``)."""
    return partial(_worker_groups, app_id)


def _worker_groups(app_id: str, names: Iterable[str]) -> list[str]:
    """The app's stream-worker groups (one per processor set, rosterhub.features.worker_group) among ``names``."""
    from rosterhub.features import group_processors

    return [name for name in names if group_processors(app_id, name) is not None]
