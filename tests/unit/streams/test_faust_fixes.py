"""The faust recovery seek-order fix (streams/faust_fixes.py): still needed, applied, and in the right order.

The real-path check is tests/integration/test_identity.py's restart test, which lost identity events
without it when the machine was loaded; these tests make an upgrade of faust-streaming re-examine it.
"""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace
from typing import Any

import faust
import pytest

from rosterhub.kafka.access import KafkaAccess
from rosterhub.settings import Settings
from rosterhub.streams import faust_fixes
from rosterhub.streams.app import create_app


def test_the_fix_is_written_for_the_installed_faust() -> None:
    assert faust.__version__ == faust_fixes.FIXED_FAUST_VERSION, (
        "faust-streaming changed: re-check Recovery.on_recovery_completed and streams/faust_fixes.py"
    )


def test_the_installed_faust_still_resumes_stream_partitions_before_seeking() -> None:
    source = inspect.getsource(faust_fixes._original)
    assert source.index("consumer.resume_partitions(") < source.index("consumer.perform_seek()"), (
        "faust now seeks before resuming: the fix in streams/faust_fixes.py can go"
    )


def test_creating_the_app_applies_the_fix(tmp_path: Any) -> None:
    create_app(Settings(state_dir=tmp_path), KafkaAccess("127.0.0.1:9"))
    assert faust_fixes.applied()


def test_the_fixed_method_holds_deliveries_until_the_seek_has_landed() -> None:
    calls: list[str] = []

    async def seek() -> None:
        calls.append("seek")

    async def wait(coro: Any, timeout: float | None = None) -> None:
        await coro

    async def nothing(*_: Any) -> None:
        return None

    consumer = SimpleNamespace(
        assignment=lambda: {"stream-0", "changelog-0"},
        perform_seek=seek,
        resume_partitions=lambda tps: calls.append(f"resume {sorted(tps)}"),
        resume_flow=lambda: calls.append("flow"),
    )
    app = SimpleNamespace(
        consumer=consumer,
        consumer_generation_id=3,
        conf=SimpleNamespace(broker_request_timeout=1.0),
        on_rebalance_complete=SimpleNamespace(send=nothing),
        flow_control=SimpleNamespace(suspend=lambda: calls.append("hold"), resume=lambda: calls.append("release")),
        _fetcher=SimpleNamespace(maybe_start=nothing),
        assignor=SimpleNamespace(assigned_standbys=set),
        on_rebalance_end=lambda: calls.append("end"),
    )
    recovery = SimpleNamespace(
        app=app,
        log=SimpleNamespace(info=lambda *a: None, dev=lambda *a: None, warning=lambda *a: None),
        _set_recovery_ended=lambda: None,
        tables=SimpleNamespace(values=lambda: [], on_actives_ready=lambda: None, on_standbys_ready=lambda: None),
        _wait=wait,
        _is_changelog_tp=lambda tp: tp.startswith("changelog"),
        completed=SimpleNamespace(set=lambda: None),
    )
    asyncio.run(faust_fixes._on_recovery_completed(recovery, generation_id=3))
    assert calls == ["hold", "resume ['stream-0']", "seek", "release", "flow", "end"]


# ---------------------------------------------------------------- second fix: wait_empty, cleared copies, a bound


def _message(offset: int) -> Any:
    from faust.types.tuples import Message

    return Message("events.booking", 0, offset, 0.0, 0, [], b"k", b"v", None)


def _consumer(messages: list[Any]) -> Any:
    from weakref import WeakSet

    async def commit(**_: Any) -> None:
        return None

    async def wait_for_ack(timeout: float) -> None:
        await asyncio.sleep(0.01)

    consumer = SimpleNamespace(
        should_stop=False,
        _unacked_messages=WeakSet(messages),
        commit=commit,
        commit_and_end_transactions=commit,
        _wait_for_ack=wait_for_ack,
        log=SimpleNamespace(warning=lambda *a: None, info=lambda *a: None, dev=lambda *a: None),
        app=SimpleNamespace(agents=SimpleNamespace(human_tracebacks=lambda: "")),
        diag=SimpleNamespace(set_flag=lambda *a: None, unset_flag=lambda *a: None),
    )
    consumer._clean_unacked_messages = lambda: consumer._unacked_messages.difference_update(
        {m for m in consumer._unacked_messages if m.acked}
    )
    return consumer


def _two_agents_one_cleared(message: Any) -> None:
    """The conductor hands one message to two agents; one takes it, the other's queued copy is cleared."""
    from mode.utils.queues import FlowControlEvent, ThrowableQueue

    assert faust_fixes.apply()
    flow = FlowControlEvent()
    queue: ThrowableQueue[Any] = ThrowableQueue(flow_control=flow, clear_on_resume=True)  # faust's channel queue
    message.incref(2)
    queue.put_nowait(SimpleNamespace(message=message))  # the second agent's copy, not taken yet
    flow.suspend()
    flow.clear()  # what faust does before waiting, on a stop or a rebalance
    assert queue.empty()


def test_faust_s_own_wait_empty_still_waits_for_ever_on_a_cleared_copy() -> None:
    """The hang of issue #17, with faust's own objects. If this starts failing, faust fixed it: drop the
    wait_empty and queue-clear replacements."""
    message = _message(7)
    _two_agents_one_cleared(message)
    message.ack(SimpleNamespace())  # the first agent is done with it
    with pytest.raises(TimeoutError):
        asyncio.run(asyncio.wait_for(faust_fixes._original_wait_empty(_consumer([message])), timeout=1.5))


def test_a_message_only_a_cleared_queue_still_holds_no_longer_blocks_a_stop() -> None:
    message = _message(5)
    _two_agents_one_cleared(message)
    assert not faust_fixes.idle(message)  # the first agent is still working on it: wait for that
    message.ack(SimpleNamespace())
    assert faust_fixes.idle(message)
    assert not message.acked, "never acked, so its offset is not committed and it is read again"
    consumer = _consumer([message])
    asyncio.run(asyncio.wait_for(faust_fixes._wait_empty(consumer), timeout=5))
    assert len(consumer._unacked_messages) == 0


def test_a_message_an_agent_is_still_working_on_is_waited_for() -> None:
    message = _message(6)
    _two_agents_one_cleared(message)
    consumer = _consumer([message])

    async def stop_while_the_agent_works() -> None:
        waiting = asyncio.ensure_future(faust_fixes._wait_empty(consumer))
        await asyncio.sleep(0.2)
        assert not waiting.done(), "returned while an agent still held the message"
        message.ack(SimpleNamespace())
        await asyncio.wait_for(waiting, timeout=5)

    asyncio.run(stop_while_the_agent_works())


def test_an_agent_that_never_finishes_holds_the_stop_only_up_to_the_bound() -> None:
    message = _message(8)
    message.incref(1)  # taken by an agent that never acks it (stuck on a call that does not return)
    consumer = _consumer([message])
    assert faust_fixes.apply(wait_limit_s=0.5)
    try:
        asyncio.run(asyncio.wait_for(faust_fixes._wait_empty(consumer), timeout=10))
    finally:
        faust_fixes.apply()
    assert len(consumer._unacked_messages) == 0 and not message.acked  # given up on, not committed


# ---------------------------------------------------------------- third fix: a failed commit is not remembered as made


def _committing(commit_succeeds: bool) -> Any:
    """One consumer's commit bookkeeping, faust's own ``ack``, ``_new_offset`` and ``_filter_committable_offsets``
    bound to it; the broker's committed offsets in ``broker``. Partition 0 of ``events.booking`` is assigned."""
    from collections import defaultdict

    from faust.transport.consumer import Consumer
    from faust.types import TP
    from intervaltree import IntervalTree

    tp = TP("events.booking", 0)
    broker: dict[Any, int] = {}

    async def commit(offsets: dict[Any, int]) -> bool:
        if commit_succeeds:
            broker.update(offsets)
        return commit_succeeds  # the aiokafka driver's answer to "already rebalanced"

    async def flush() -> None:
        return None

    log = SimpleNamespace(info=lambda *a: None, warning=lambda *a: None, dev=lambda *a: None)
    consumer = SimpleNamespace(
        tp=tp,
        broker=broker,
        assignment=lambda: {tp},
        log=log,
        in_transaction=False,
        _commit=commit,
        _committed_offset=defaultdict(lambda: None),
        _acked=defaultdict(list),
        _acked_index=defaultdict(set),
        _gap=defaultdict(IntervalTree),
        _unacked_messages=set(),
        _n_acked=0,
        _waiting_for_ack=None,
        app=SimpleNamespace(
            # a threaded producer's commit calls faust's own flush (streams/faust_flush.py): this test is about the
            # offsets' bookkeeping, tests/unit/streams/test_faust_flush.py about the flush
            producer=SimpleNamespace(flush=flush, app=SimpleNamespace(conf=SimpleNamespace(producer_threaded=True))),
            tables=SimpleNamespace(on_commit=lambda offsets: None),
            monitor=SimpleNamespace(on_tp_commit=lambda offsets: None),
            topics=SimpleNamespace(acks_enabled_for=lambda topic: True),
        ),
    )
    for name in ("ack", "_new_offset", "_filter_committable_offsets", "_should_commit"):
        setattr(consumer, name, getattr(Consumer, name).__get__(consumer))
    return consumer


def _read_and_ack(consumer: Any, offsets: range) -> None:
    for offset in offsets:
        consumer.ack(_message(offset))


async def _commit_round(consumer: Any, commit_offsets: Any) -> None:
    offsets = consumer._filter_committable_offsets([consumer.tp])
    if offsets:
        await commit_offsets(consumer, offsets)


def _a_commit_meets_a_rebalance(commit_offsets: Any) -> Any:
    """Records 10-19 read and acked; their commit fails on a rebalance; the rebalance's seek reads the broker's
    committed offset (10) and the same records are read and acked again; then the commit timer runs."""
    consumer = _committing(commit_succeeds=False)
    consumer._committed_offset[consumer.tp] = 10  # where the broker is: the previous commit
    consumer.broker[consumer.tp] = 10
    _read_and_ack(consumer, range(10, 20))

    async def run() -> None:
        await _commit_round(consumer, commit_offsets)  # fails: the group has rebalanced meanwhile
        consumer._commit = _succeed_into(consumer.broker)  # the next commit goes through
        _read_and_ack(consumer, range(10, 20))  # read again from the broker's committed offset
        await _commit_round(consumer, commit_offsets)

    asyncio.run(run())
    return consumer


def _succeed_into(broker: dict[Any, int]) -> Any:
    async def commit(offsets: dict[Any, int]) -> bool:
        broker.update(offsets)
        return True

    return commit


def test_faust_s_own_commit_remembers_a_failed_commit_and_never_commits_the_records_read_again() -> None:
    """The stall, with faust's own method. If this starts failing, faust fixed it: drop the replacement."""
    consumer = _a_commit_meets_a_rebalance(faust_fixes._original_commit_offsets)
    assert consumer._committed_offset[consumer.tp] == 20  # what faust believes
    assert consumer.broker[consumer.tp] == 10, "the broker never got past 10: the group's lag stays at 10"


def test_a_failed_commit_leaves_the_bookkeeping_where_the_broker_is_and_the_records_read_again_are_committed() -> None:
    consumer = _a_commit_meets_a_rebalance(faust_fixes._commit_offsets)
    assert consumer.broker[consumer.tp] == 20
    assert consumer._committed_offset[consumer.tp] == 20


def test_creating_the_app_installs_the_commit_fix(tmp_path: Any) -> None:
    from faust.transport.consumer import Consumer

    create_app(Settings(state_dir=tmp_path), KafkaAccess("127.0.0.1:9"))
    assert Consumer._commit_offsets is faust_fixes._commit_offsets
