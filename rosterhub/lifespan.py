"""A router's lifespan: the reader its routes answer from runs while the app does.

The identity, booking and payroll routers each answer from a reader that follows a topic in a thread of its own
(:mod:`rosterhub.kafka.follow`). FastAPI runs a router's lifespan with the app's, so the reader starts with the hub
and stops with it; the stop joins the reader's thread, so it runs off the event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

__all__ = ["Background", "running"]


class Background(Protocol):
    """Something that runs beside the routes: started once, stopped once."""

    def start(self) -> object: ...

    def stop(self) -> None: ...


def running(service: Background) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan (``APIRouter(lifespan=...)``) that starts ``service`` with the app and stops it after."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        service.start()
        yield
        await run_in_threadpool(service.stop)

    return lifespan
