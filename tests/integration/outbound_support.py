"""For the outbound integration test: the echo adapter (imported by the worker through the
``outbound_adapter_modules`` setting) and a test receiver that can be stopped, restarted on the same
port, and switched to refuse updates permanently."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI, Header, Request, Response

from tests.unit.connectors.outbound_builders import EchoAdapter

__all__ = ["ADAPTER", "Receiver"]

ADAPTER = EchoAdapter()


@dataclass
class Receiver:
    """Records (idempotency key, body) of every update it accepts, in arrival order."""

    port: int
    refuse: bool = False  # answer 400 (a permanent refusal) instead of accepting
    got: list[tuple[str, dict]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/updates")
        async def update(request: Request, idempotency_key: str = Header(...)) -> Response:
            body = await request.json()
            with self._lock:
                if self.refuse:
                    self.refused.append(idempotency_key)
                    return Response(status_code=400, content=b"unknown shift")
                self.got.append((idempotency_key, body))
            return Response(status_code=204)

        return app

    def start(self) -> None:
        self._server = uvicorn.Server(uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"test receiver on port {self.port} did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop listening: connections are refused until :meth:`start` again."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
            self._server = self._thread = None

    @property
    def is_up(self) -> bool:
        return self._server is not None

    def keys(self) -> list[str]:
        with self._lock:
            return [k for k, _ in self.got]
