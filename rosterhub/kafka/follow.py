"""Follow topics into memory: the one reader behind every in-memory model of a Kafka topic (#19).

A :class:`Follower` owns the Kafka side; its caller keeps only a pure fold. It

* waits for the topics to exist (a reader may start before the worker that creates them), and returns
  promptly when stopped before they do;
* assigns every partition, without a consumer group (every reader sees everything, as any consumer of the
  topic would), from the beginning or from given offsets;
* decodes each record with the caller's ``decode`` (an unreadable record is logged and skipped) and applies
  it to the caller's ``fold``, a batch at a time under :attr:`Progress.lock`;
* counts the end offsets once, when it first starts, and is *caught up* once it has read up to them on every
  partition (:attr:`ready`, ``on_caught_up``), so a caller answers 503 rather than from a half-read topic;
* survives broker errors: it logs, waits, and resumes from the offsets it had applied (nothing is applied
  twice, nothing is skipped);
* stops within a bounded time when asked, from any thread.

It is an asyncio reader (aiokafka). Processes that are not asyncio (the API's threadpool, the CLI) run it on
its own event loop in a daemon thread: :meth:`Follower.start_thread`, then :meth:`Follower.wait_ready` or
:meth:`Follower.wait_until_now` ("everything on the topics now is folded"), and :func:`read_once` for a one-shot
read to the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Generic, Protocol, Self, TypeVar

from rosterhub.codec.wire import EventCodec
from rosterhub.envelope import Envelope, decode_record
from rosterhub.errors import InputError
from rosterhub.kafka.access import KafkaAccess

__all__ = ["BackgroundReader", "Follower", "Progress", "Record", "envelopes", "read_once"]

log = logging.getLogger(__name__)

T = TypeVar("T")
#: (topic, partition): plain tuples, so the pure parts need no Kafka client.
Part = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Record:
    """One record as the follower hands it to ``decode`` (or to ``fold`` when there is no ``decode``)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


def envelopes(codec: EventCodec) -> Callable[[Record], Envelope]:
    """The ``decode`` for topics of CloudEvents records (raises InputError on an unreadable one)."""

    def decode(rec: Record) -> Envelope:
        return decode_record(rec.value or b"", rec.headers, codec)

    return decode


class Progress:
    """Where a follower is, and whether it has caught up. No I/O: the follower reports to it.

    ``lock`` guards the positions *and* the caller's model (the follower folds each batch while holding it),
    so a thread that reads the model under ``lock`` never sees half a batch; ``lock`` is notified after each
    batch.
    """

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.targets: dict[Part, int] | None = None  # the end offsets counted when the follower first started
        self.positions: dict[Part, int] = {}  # next offset to read, per partition
        self.caught_up = False
        self.stopped = False

    def start(self, positions: Mapping[Part, int], ends: Mapping[Part, int]) -> bool:
        """The follower is assigned; ``ends`` counts only the first time. True when this makes it caught up."""
        if self.targets is None:
            self.targets = dict(ends)
        return self.advance(positions)

    def advance(self, positions: Mapping[Part, int]) -> bool:
        """Record where the follower is; True exactly once, when it first reaches the counted end offsets."""
        self.positions.update(positions)
        if self.caught_up or self.targets is None or not self.reached(self.targets):
            return False
        self.caught_up = True
        return True

    def reached(self, ends: Mapping[Part, int]) -> bool:
        """True when every partition in ``ends`` has been read up to its offset there."""
        return all(self.positions.get(part, 0) >= end for part, end in ends.items())

    def behind(self) -> int:
        """Records between the positions and the counted end offsets (0 once caught up or before start)."""
        if self.caught_up or self.targets is None:
            return 0
        return sum(max(0, end - self.positions.get(part, 0)) for part, end in self.targets.items())

    def wait(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Block (a thread, never the event loop) until ``ready()``; else TimeoutError: "``what`` within ...s"."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0 or self.stopped:
                    raise TimeoutError(f"{what} within {timeout}s")
                self.lock.wait(min(left, 0.5))


class Consumer(Protocol):
    """The part of aiokafka's AIOKafkaConsumer the follower reads with (a test can give a fake)."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def assign(self, partitions: list[Any]) -> None: ...
    async def seek_to_beginning(self, *partitions: Any) -> Any: ...
    def seek(self, partition: Any, offset: int) -> None: ...
    async def end_offsets(self, partitions: list[Any]) -> dict[Any, int]: ...
    async def position(self, partition: Any) -> int: ...
    async def getmany(self, *partitions: Any, timeout_ms: int = 0, max_records: int | None = None) -> Any: ...


class Metadata(Protocol):
    """Which partitions the topics have, and their end offsets now (a test can give a fake)."""

    async def partitions(self, topics: Sequence[str]) -> list[Part] | None: ...
    async def ends(self, parts: Sequence[Part]) -> dict[Part, int]: ...
    async def close(self) -> None: ...


def _aiokafka(kafka: KafkaAccess, name: str, fetch_max_wait_ms: int) -> Consumer:
    from aiokafka import AIOKafkaConsumer

    consumer: Consumer = AIOKafkaConsumer(
        **kafka.aiokafka(),  # address and security: docs/kafka-security.md
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        client_id=name,
        fetch_max_wait_ms=fetch_max_wait_ms,
    )
    return consumer


def _tp(part: Part) -> Any:
    from aiokafka import TopicPartition

    return TopicPartition(*part)


class _BrokerMetadata:
    """Partitions from the admin client's describe (it never creates a topic, unlike a consumer's metadata request
    for one, and it says when a new topic's partitions have no leader yet); end offsets from a consumer."""

    def __init__(self, kafka: KafkaAccess, name: str) -> None:
        self._kafka, self._name = kafka, name
        self._admin: Any = None
        self._consumer: Consumer | None = None

    async def partitions(self, topics: Sequence[str]) -> list[Part] | None:
        if self._admin is None:
            from aiokafka.admin import AIOKafkaAdminClient

            admin = AIOKafkaAdminClient(**self._kafka.aiokafka(), client_id=self._name)
            await admin.start()
            self._admin = admin
        parts: list[Part] = []
        for topic in topics:
            (desc,) = await self._admin.describe_topics([topic])
            found = sorted(p["partition"] for p in desc.get("partitions", ()))
            if not found or desc.get("error_code"):
                return None
            parts += [(topic, p) for p in found]
        return parts

    async def ends(self, parts: Sequence[Part]) -> dict[Part, int]:
        if self._consumer is None:
            consumer = _aiokafka(self._kafka, self._name, 100)
            await consumer.start()
            self._consumer = consumer
        ends = await self._consumer.end_offsets([_tp(p) for p in parts])
        return {(tp.topic, tp.partition): end for tp, end in ends.items()}

    async def close(self) -> None:
        admin, consumer, self._admin, self._consumer = self._admin, self._consumer, None, None
        if admin is not None:
            await _bounded(admin.close())
        if consumer is not None:
            await _bounded(consumer.stop())


class Follower(Generic[T]):
    """Follow ``topics`` into a caller's model; see the module docstring.

    ``fold(item)`` gets each record, decoded by ``decode`` when given; ``decode`` raising one of ``unreadable``
    skips the record (logged). ``on_caught_up()`` runs once, when the end offsets counted at start are reached;
    ``on_batch()`` after every batch (including empty ones); both run holding :attr:`Progress.lock`.
    """

    def __init__(
        self,
        kafka: KafkaAccess,
        topics: str | Sequence[str],
        fold: Callable[[T], object],
        *,
        name: str,
        decode: Callable[[Record], T] | None = None,
        unreadable: tuple[type[Exception], ...] = (InputError,),
        start: Mapping[Part, int] | None = None,
        on_caught_up: Callable[[], None] | None = None,
        on_batch: Callable[[], None] | None = None,
        poll_ms: int = 200,
        max_records: int | None = None,
        fetch_max_wait_ms: int = 100,
        retry_s: float = 1.0,
        discover_s: float = 0.5,
        consumer: Callable[[], Consumer] | None = None,
        metadata: Callable[[], Metadata] | None = None,
    ) -> None:
        self.topics = [topics] if isinstance(topics, str) else list(topics)
        self.name = name
        self.progress = Progress()
        self._fold, self._decode, self._unreadable = fold, decode, unreadable
        self._start = dict(start or {})
        self._on_caught_up, self._on_batch = on_caught_up, on_batch
        self._poll_ms, self._max_records, self._retry_s, self._discover_s = poll_ms, max_records, retry_s, discover_s
        self._new_consumer = consumer or (lambda: _aiokafka(kafka, name, fetch_max_wait_ms))
        self._metadata = (metadata or (lambda: _BrokerMetadata(kafka, name)))()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._running = threading.Event()

    @property
    def ready(self) -> bool:
        """True once everything that was on the topics when the follower started has been folded."""
        return self.progress.caught_up

    # --- asyncio ---------------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Follow until :meth:`stop` (then return) or cancellation (then raise); errors restart the read."""
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        self._running.set()
        try:
            while not self.progress.stopped:
                try:
                    await self._follow()
                except asyncio.CancelledError:
                    if self._stopped():
                        return
                    raise
                except Exception:
                    log.exception("%s: following %s failed; resuming in %s s", self.name, self.topics, self._retry_s)
                    await asyncio.sleep(self._retry_s)
        except asyncio.CancelledError:
            if not self.progress.stopped:
                raise
        finally:
            self._task = None  # stop() cancels no more: the clean-up below is bounded by itself
            await self._metadata.close()

    def _stopped(self) -> bool:
        """Whether :meth:`stop` was called, read afresh: it may have been while :meth:`run` awaited (a method,
        not the attribute, so that the loop condition's reading is not taken to still hold after an await)."""
        return self.progress.stopped

    def stop(self, timeout: float = 10.0) -> None:
        """Stop following (from any thread); a follower in its own thread is joined for up to ``timeout`` s."""
        with self.progress.lock:
            self.progress.stopped = True
            self.progress.lock.notify_all()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(self._cancel)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _cancel(self) -> None:
        """On the follower's loop: interrupt a wait of :meth:`run` (not its clean-up, nor whoever ran it)."""
        if self._task is not None:
            self._task.cancel()

    async def _follow(self) -> None:
        parts = await self._partitions()
        if parts is None:
            return  # stopped before the topics existed
        consumer = self._new_consumer()
        await consumer.start()
        try:
            tps = {part: _tp(part) for part in parts}
            consumer.assign(list(tps.values()))
            # resume where the last attempt left off, else where the caller asked, else the beginning
            resume = {**self._start, **self.progress.positions}
            fresh = [tp for part, tp in tps.items() if part not in resume]
            if fresh:
                await consumer.seek_to_beginning(*fresh)
            for part, tp in tps.items():
                if part in resume:
                    consumer.seek(tp, resume[part])
            ends = await consumer.end_offsets(list(tps.values())) if self.progress.targets is None else {}
            positions = {part: await consumer.position(tp) for part, tp in tps.items()}
            with self.progress.lock:
                if self.progress.start(positions, {(tp.topic, tp.partition): end for tp, end in ends.items()}):
                    self._caught_up()
                self.progress.lock.notify_all()
            while not self.progress.stopped:
                batches = await consumer.getmany(timeout_ms=self._poll_ms, max_records=self._max_records)
                positions = {part: await consumer.position(tp) for part, tp in tps.items()}
                with self.progress.lock:
                    for tp, records in batches.items():
                        for rec in records:
                            self._apply(tp.topic, rec)
                    if self.progress.advance(positions):
                        self._caught_up()
                    if self._on_batch is not None:
                        self._on_batch()
                    self.progress.lock.notify_all()
        finally:
            await _bounded(consumer.stop())

    def _apply(self, topic: str, rec: Any) -> None:
        record = Record(topic, rec.partition, rec.offset, rec.key, rec.value, tuple(rec.headers or ()))
        if self._decode is None:
            self._fold(record)  # type: ignore[arg-type]  # T is Record when there is no decode
            return
        try:
            item = self._decode(record)
        except self._unreadable as exc:
            log.warning("%s: record %s/%d@%d unreadable: %s", self.name, topic, rec.partition, rec.offset, exc)
            return
        self._fold(item)

    def _caught_up(self) -> None:
        log.info("%s: caught up with %s", self.name, ", ".join(self.topics))
        if self._on_caught_up is not None:
            self._on_caught_up()

    async def _partitions(self) -> list[Part] | None:
        """Every partition of every topic, once all the topics exist; None when stopped before they did."""
        while not self.progress.stopped:
            found = await self._existing()
            if found is not None:
                return found
            await asyncio.sleep(self._discover_s)
        return None

    async def _existing(self) -> list[Part] | None:
        """The partitions of the topics now; None while one of them does not exist (yet)."""
        return await self._metadata.partitions(self.topics)

    async def ends_now(self) -> dict[Part, int]:
        """The topics' end offsets now ({} while a topic does not exist: nothing is on it to wait for)."""
        parts = await self._existing()
        return await self._metadata.ends(parts) if parts else {}

    # --- a thread of its own, for blocking callers --------------------------------------------------------------

    def start_thread(self) -> Follower[T]:
        """Run the follower on its own event loop in a daemon thread; :meth:`stop` ends it."""
        self._thread = threading.Thread(target=self._thread_main, name=self.name, daemon=True)
        self._thread.start()
        self._running.wait(10)
        return self

    def _thread_main(self) -> None:
        try:
            asyncio.run(self.run())
        except Exception:  # pragma: no cover - run() itself logs and retries; this is a last word
            log.exception("%s: follower thread ended", self.name)
        finally:
            with self.progress.lock:
                self.progress.stopped = True
                self.progress.lock.notify_all()

    def wait_ready(self, timeout: float) -> None:
        """Block until caught up (TimeoutError after ``timeout`` s, or at once when stopped)."""
        self.progress.wait(lambda: self.progress.caught_up, timeout, f"{', '.join(self.topics)} could not be read")

    def wait_until_now(self, timeout: float) -> None:
        """Block until everything on the topics *now* is folded (TimeoutError otherwise).

        Unlike :meth:`wait_ready`, this counts the end offsets at the call, so an answer read after it includes
        every record that was on the broker when it was asked for.
        """
        ends = self.call(self.ends_now(), timeout)
        what = f"{', '.join(self.topics)} could not be read up to now"
        self.progress.wait(lambda: self.progress.reached(ends), timeout, what)

    def call(self, coro: Any, timeout: float) -> Any:
        """Run ``coro`` on the follower's loop from another thread (TimeoutError when it cannot)."""
        loop = self._loop
        if loop is None or self.progress.stopped:
            coro.close()
            raise TimeoutError(f"{', '.join(self.topics)}: the follower is not running")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(timeout)
        except (FutureTimeout, asyncio.CancelledError) as exc:
            future.cancel()
            raise TimeoutError(f"{', '.join(self.topics)}: no answer from the broker within {timeout}s") from exc


async def _bounded(closing: Any, timeout: float = 5.0) -> None:
    """Close a client without letting a broker that does not answer hold the stop."""
    try:
        await asyncio.wait_for(closing, timeout)
    except Exception as exc:
        log.warning("closing a Kafka client: %s", exc or type(exc).__name__)


def read_once(
    kafka: KafkaAccess,
    topics: str | Sequence[str],
    fold: Callable[[T], object],
    *,
    name: str,
    decode: Callable[[Record], T] | None = None,
    timeout: float = 60.0,
    max_records: int | None = None,
) -> bool:
    """Fold everything on ``topics`` now, to the end offsets counted at the start, then stop (blocking).

    Returns False, having read nothing, when a topic does not exist. Safe to call from a thread that runs an
    event loop (the reading happens on a thread of its own).
    """
    follower = Follower(kafka, topics, fold, name=name, decode=decode, max_records=max_records).start_thread()
    try:
        if not follower.call(follower.ends_now(), timeout):
            return False
        follower.wait_ready(timeout)
        return True
    finally:
        follower.stop()


class BackgroundReader:
    """A blocking caller's model of topics, kept current by a :class:`Follower` in a thread of its own.

    The API's and the CLI's readers (booking decisions, the payroll ledger, the identity view) each own one
    follower and live as long as it does: ``start()`` before use, ``stop()`` after, or ``with``.
    """

    _follower: Follower[Any]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> Self:
        self._follower.start_thread()
        return self

    def stop(self) -> None:
        self._follower.stop()
