"""Held answers: asked once, refreshed after each change of the read model, forgotten when no longer asked."""

from __future__ import annotations

import asyncio

from rosterhub.streams.kpi.answers import Answers
from rosterhub.streams.kpi.store import KpiStore


def test_an_answer_is_held_until_a_refresh_after_a_change() -> None:
    async def scenario() -> None:
        store = KpiStore()
        answers = Answers(store, refresh_after=0.01)
        calls = []

        def compute() -> int:
            calls.append(store.version)
            return store.version

        assert answers.get("q", compute) == 0 and answers.get("q", compute) == 0 and len(calls) == 1
        loop = asyncio.create_task(answers.run(poll=0.01))
        store.version += 1  # a change of the read model
        assert not answers.fresh
        version = await answers.changed(0, timeout=5)
        assert version == 1 and answers.fresh and answers.get("q", compute) == 1 and calls == [0, 1]
        answers.keep_for = 0  # not asked again: forgotten at the next refresh
        store.version += 1
        await answers.changed(version, timeout=5)
        assert answers.get("q", compute) == 2 and calls == [0, 1, 2]  # asked anew: computed at once
        loop.cancel()

    asyncio.run(scenario())
