"""The fetcher-loop change (streams/faust_drain.py): applied only where written for, and faust #221's guarantee kept.

faust #221 / PR #223: a delivery that is *blocked* (an agent's queue full, flow control held) when the consumer
suspends its flow for a rebalance must be abandoned, not land after the rebalance. A delivery that never blocks
needs no race. These tests run :func:`faust_drain.deliver` against a real mode ``Service`` (the consumer's own
``wait_first``) and a callback shaped like faust's conductor callback.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from mode import Service

from rosterhub.kafka.access import KafkaAccess
from rosterhub.settings import Settings
from rosterhub.streams import faust_drain
from rosterhub.streams.app import create_app


class _Consumer(Service):
    """What :func:`deliver` uses of faust's Consumer: ``wait_first`` (mode's) and ``suspend_flow``."""

    def __init__(self) -> None:
        super().__init__()
        self.suspend_flow = asyncio.Event()
        self.races = 0

    async def wait_first(self, *coros: Any, timeout: Any = None) -> Any:
        self.races += 1
        return await super().wait_first(*coros, timeout=timeout)


class _Conductor:
    """Delivers to one bounded queue, waiting while it is full (as faust's conductor does)."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[int] = asyncio.Queue(maxsize=size)
        self.cancelled: list[int] = []

    async def __call__(self, message: int) -> None:
        try:
            await self.queue.put(message)
        except asyncio.CancelledError:
            self.cancelled.append(message)
            raise


def test_the_patch_is_written_for_the_installed_faust() -> None:
    assert faust.__version__ == faust_drain.PATCHED_FAUST_VERSION, "faust-streaming changed: re-check faust_drain.py"
    assert faust_drain.original_sha256() == faust_drain.ORIGINAL_SHA256, (
        "Consumer._drain_messages changed: re-check streams/faust_drain.py against the new source"
    )


def test_the_installed_loop_still_races_every_record_against_suspend_flow() -> None:
    import inspect

    source = inspect.getsource(faust_drain._original)
    assert "self.wait_first(\n" in source
    assert "callback(message), self.suspend_flow.wait()" in source


def test_creating_the_app_applies_the_patch(tmp_path: Any) -> None:
    create_app(Settings(state_dir=tmp_path), KafkaAccess("127.0.0.1:9"))
    assert faust_drain.applied()


def test_a_delivery_that_does_not_wait_runs_in_place_without_a_race() -> None:
    async def main() -> tuple[list[int], int]:
        consumer, conductor = _Consumer(), _Conductor(size=10)
        for m in range(5):
            await faust_drain.deliver(consumer, conductor, m)
        return [conductor.queue.get_nowait() for _ in range(5)], consumer.races

    delivered, races = asyncio.run(main())
    assert delivered == [0, 1, 2, 3, 4]
    assert races == 0


def test_a_blocked_delivery_completes_in_order_once_the_queue_drains() -> None:
    async def main() -> tuple[list[int], int]:
        consumer, conductor = _Consumer(), _Conductor(size=2)
        got: list[int] = []

        async def agent() -> None:
            while len(got) < 6:
                await asyncio.sleep(0.001)
                got.append(await conductor.queue.get())

        task = asyncio.ensure_future(agent())
        for m in range(6):
            await faust_drain.deliver(consumer, conductor, m)
        await asyncio.wait_for(task, 5)
        return got, consumer.races

    got, races = asyncio.run(main())
    assert got == [0, 1, 2, 3, 4, 5]
    assert races >= 1  # the full queue made some deliveries wait: they went through faust's race


def test_a_delivery_blocked_when_the_flow_is_suspended_is_abandoned_not_delivered_later() -> None:
    """faust #221: the record fetched before the rebalance must not reach the agent after it."""

    async def main() -> tuple[list[int], list[int]]:
        consumer, conductor = _Consumer(), _Conductor(size=1)
        await faust_drain.deliver(consumer, conductor, 1)  # fills the queue
        pending = asyncio.ensure_future(faust_drain.deliver(consumer, conductor, 2))  # blocks on the full queue
        await asyncio.sleep(0.01)
        assert not pending.done()
        consumer.suspend_flow.set()  # a rebalance begins
        await asyncio.wait_for(pending, 5)  # the loop is not stuck behind the blocked delivery
        first = conductor.queue.get_nowait()
        await asyncio.sleep(0.01)  # room in the queue now: an abandoned delivery must not land
        return [first, *([conductor.queue.get_nowait()] if not conductor.queue.empty() else [])], conductor.cancelled

    delivered, cancelled = asyncio.run(main())
    assert delivered == [1]
    assert cancelled == [2]


def test_an_error_in_the_callback_reaches_the_loop_either_way() -> None:
    async def broken(_m: int) -> None:
        raise ValueError("bad record")

    async def broken_after_waiting(_m: int) -> None:
        await asyncio.sleep(0)
        raise ValueError("bad record")

    async def main(callback: Any) -> str:
        try:
            await faust_drain.deliver(_Consumer(), callback, 1)
        except ValueError as exc:
            return str(exc)
        return "no error"

    assert asyncio.run(main(broken)) == "bad record"
    assert asyncio.run(main(broken_after_waiting)) == "bad record"
