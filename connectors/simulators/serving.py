"""Serve a simulator's receiving side (a FastAPI app): in a thread, for ``rosterhub run`` and tests, or as a
``rosterhub simulate`` command of its own."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

import typer
import uvicorn
from fastapi import FastAPI

__all__ = ["server_command", "serving"]


@contextmanager
def serving(
    app: FastAPI, port: int, host: str = "127.0.0.1", *, lifespan: Literal["auto", "on", "off"] = "auto"
) -> Iterator[str]:
    """Yield the base URL once the server answers; stop it on exit. ``lifespan="on"``: a startup failure stops
    it (uvicorn's setting)."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, name=f"sim-{app.title}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"{app.title} did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def server_command(group: typer.Typer, name: str, make_app: Callable[[], FastAPI], port: int, doc: str) -> None:
    """``rosterhub simulate <name>``: serve ``make_app()`` on ``--host`` and ``--port`` (default ``port``) until
    interrupted; ``doc`` is the command's help."""

    def command(
        host: str = typer.Option("127.0.0.1", help="Bind address."),
        port: int = typer.Option(port, help="Port."),
    ) -> None:
        uvicorn.run(make_app(), host=host, port=port, log_level="warning")

    command.__doc__ = doc
    group.command(name)(command)
