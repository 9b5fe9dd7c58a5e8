"""The one network call of the polling transport, through httpx's mock transport (no server)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from rosterhub.connectors.kinds.poll.http import Answer, fetch

NOW = datetime(2026, 10, 25, tzinfo=UTC)


def client(handler: httpx.MockTransport) -> httpx.Client:
    return httpx.Client(transport=handler, base_url="https://api.example/v")


def call(c: httpx.Client, limit: int = 1024) -> Answer:
    return fetch(
        c,
        "/api/v2/changes",
        {"cursor": "chg_1"},
        {"Authorization": "Bearer k"},
        max_page_bytes=limit,
        clock=lambda: NOW,
    )


def test_a_page_is_read_with_its_headers_and_the_request_carries_cursor_and_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b'{"changes": []}', headers={"X-Next-Cursor": "chg_2"})

    answer = call(client(httpx.MockTransport(handler)))
    assert answer.ok and answer.body == b'{"changes": []}' and answer.headers["x-next-cursor"] == "chg_2"
    assert answer.received_at == NOW and not answer.truncated
    assert str(seen[0].url) == "https://api.example/v/api/v2/changes?cursor=chg_1"  # base path kept
    assert seen[0].headers["authorization"] == "Bearer k"


def test_a_runaway_body_is_cut_at_four_times_the_limit() -> None:
    answer = call(client(httpx.MockTransport(lambda r: httpx.Response(200, content=b"x" * 10_000))), limit=1024)
    assert answer.ok and answer.truncated and len(answer.body) == 4096


def test_an_error_answer_is_a_status_not_an_exception() -> None:
    answer = call(client(httpx.MockTransport(lambda r: httpx.Response(503, headers={"Retry-After": "3"}))))
    assert not answer.ok and answer.status == 503 and answer.headers["retry-after"] == "3"


def test_timeouts_and_connection_errors_become_failures() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    timed_out = call(client(httpx.MockTransport(slow)))
    assert (timed_out.ok, timed_out.status, timed_out.failure) == (False, None, "timeout (ReadTimeout)")
    assert call(client(httpx.MockTransport(refused))).failure == "ConnectError: refused"
