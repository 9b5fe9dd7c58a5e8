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
    create_app(Settings(state_dir=tmp_path), "127.0.0.1:9")
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
