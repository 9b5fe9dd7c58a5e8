"""Answers to the questions pages keep asking, refreshed after every change rather than at every request.

A live dashboard asks the same dozen questions again after every change of the figures. Computing them
at request time puts the current month's recomputation (the only month a live change touches; the others
come from the per-month cache of :mod:`.query`) in every request's latency. Instead, each answer asked
once is *held*: after the read model changes (``store.version``), a refresh loop waits
``refresh_after`` seconds for the burst to settle, recomputes every held answer asked within
``keep_for`` seconds, one per event-loop turn (and forgets the others), then bumps
:attr:`Answers.version`, which is what ``/kpi/stream`` tells pages. So a page that refetches on that
event gets fresh answers from memory, and an answer is never more than one refresh behind the view.
A question asked for the first time is computed at once. Answers that depend on the clock (open shifts
now) are also refreshed every ``clock_every`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from rosterhub.streams.kpi.store import KpiStore

__all__ = ["Answers"]

log = logging.getLogger(__name__)


@dataclass
class _Held:
    value: Any
    compute: Callable[[], Any]
    used: float
    computed_at_version: int


class Answers:
    def __init__(
        self, store: KpiStore, *, refresh_after: float = 0.15, keep_for: float = 600.0, clock_every: float = 60.0
    ) -> None:
        self.store = store
        self.refresh_after, self.keep_for, self.clock_every = refresh_after, keep_for, clock_every
        self.version = 0  # bumps when refreshed answers are ready
        self.refreshed_at_store_version = -1
        self._held: dict[Hashable, _Held] = {}
        self._event = asyncio.Event()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The held answer for ``key`` (at most one refresh behind), or ``compute()`` now when new."""
        now = time.monotonic()
        held = self._held.get(key)
        if held is None:
            held = self._held[key] = _Held(compute(), compute, now, self.store.version)
        held.used = now
        return held.value

    @property
    def fresh(self) -> bool:
        """Every held answer reflects the read model as it is now."""
        return all(h.computed_at_version == self.store.version for h in self._held.values())

    async def changed(self, version: int, timeout: float) -> int:
        """:attr:`version` once above ``version`` (or after ``timeout`` seconds)."""
        try:
            while self.version <= version:
                await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            pass
        return self.version

    async def refresh(self) -> None:
        """Recompute every answer asked recently, one per event-loop turn (a request waits for one answer's
        recomputation at most); forget the rest."""
        now, version = time.monotonic(), self.store.version
        for key, held in list(self._held.items()):
            if now - held.used > self.keep_for:
                del self._held[key]
                continue
            try:
                held.value = held.compute()
            except Exception:  # a question that fails now (a filter on a trust that left): forget it
                log.exception("KPI answer %r could not be refreshed; dropped", key)
                del self._held[key]
                continue
            held.computed_at_version = version
            await asyncio.sleep(0)
        self.refreshed_at_store_version = version
        self.version += 1
        self._event.set()
        self._event = asyncio.Event()

    async def run(self, poll: float = 0.05) -> None:
        """Refresh after each change of the read model (and on the clock), for as long as the process runs."""
        last_clock = time.monotonic()
        while True:
            await asyncio.sleep(poll)
            clock_due = time.monotonic() - last_clock >= self.clock_every
            if self.store.version == self.refreshed_at_store_version and not clock_due:
                continue
            await asyncio.sleep(self.refresh_after)  # let a burst of changes settle
            await self.refresh()
            last_clock = time.monotonic()
