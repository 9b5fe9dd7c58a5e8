"""Page checks, page actions, positions and lag of the polling transport (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rosterhub.connectors.kinds.poll import TRANSPORT
from rosterhub.connectors.kinds.poll.page import (
    PageCheck,
    Position,
    check_page,
    lag_seconds,
    page_action,
)
from rosterhub.connectors.vendors.locums_nest import SPEC
from rosterhub.errors import ConfigError, ParseError, PayloadTooLarge

FMT = SPEC.quirks
SAMPLE = Path(__file__).resolve().parents[3] / "mapping" / "samples" / "locums_nest" / "changes_page.input.json"
JSON = "application/json; charset=utf-8"
HEADERS = {"x-next-cursor": "chg_9", "x-has-more": "true"}


def check(body: bytes, content_type: str | None = JSON, headers: dict[str, str] | None = None, **kw: Any) -> PageCheck:
    return check_page(
        body,
        content_type,
        HEADERS if headers is None else headers,
        FMT,
        trust=kw.get("trust", "RXX"),
        max_bytes=kw.get("max_bytes", 1 << 20),
    )


def page(**fields: Any) -> bytes:
    body = {
        "object": "change_list",
        "organisation": {"ods_code": "RXX"},
        "next_cursor": "chg_5",
        "has_more": False,
        "changes": [
            {"change_id": 5, "changed_at": "2026-10-20T08:01:12.553Z"},
            {"change_id": 4, "changed_at": "2026-10-20T07:00:00Z"},
        ],
    }
    body.update(fields)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


def test_the_documented_sample_page_is_usable() -> None:
    result = check(SAMPLE.read_bytes())
    assert result.error is None
    assert (result.next_cursor, result.has_more, result.changes) == ("chg_100238", False, 7)
    assert result.oldest_change == datetime(2026, 10, 20, 8, 1, 12, 553000, tzinfo=UTC)
    assert result.newest_change == "2026-10-21T14:05:00Z"  # verbatim, reused as `since`


def test_the_body_cursor_wins_over_the_headers() -> None:
    result = check(page())
    assert (result.error, result.next_cursor, result.has_more) == (None, "chg_5", False)
    assert result.oldest_change == datetime(2026, 10, 20, 7, tzinfo=UTC)


def test_an_empty_page_is_usable() -> None:
    result = check(page(changes=[]))
    assert (result.error, result.changes, result.oldest_change, result.newest_change) == (None, 0, None, None)


BAD = [
    ("not JSON", page()[:40], JSON, "not JSON"),
    ("UTF-16", page().decode().encode("utf-16"), JSON, "not valid UTF-8"),
    ("HTML", page(), "text/html; charset=utf-8", "'text/html', not application/json"),
    ("no content type", page(), None, "no Content-Type"),
    ("latin-1 charset", page(), "application/json; charset=ISO-8859-1", "must be UTF-8"),
    ("a list", b"[]", JSON, "JSON list, not an object"),
    ("no changes", page(changes=...), JSON, "lacks 'changes'"),
    ("no cursor", page(next_cursor=...), JSON, "lacks 'next_cursor'"),
    ("empty cursor", page(next_cursor=""), JSON, "lacks 'next_cursor'"),
    ("has_more a string", page(has_more="yes"), JSON, "lacks 'has_more'"),
    ("another trust", page(organisation={"ods_code": "RHQ"}), JSON, "for organisation 'RHQ'"),
    ("deep", b"[" * 100_000, JSON, "nested too deeply"),
]


@pytest.mark.parametrize(("case", "body", "content_type", "message"), BAD, ids=[b[0] for b in BAD])
def test_unusable_pages_are_poison_but_keep_the_header_cursor(
    case: str, body: bytes, content_type: str | None, message: str
) -> None:
    result = check(body, content_type)
    assert isinstance(result.error, ParseError) and message in str(result.error), result.error
    assert (result.next_cursor, result.has_more) == ("chg_9", True)  # from X-Next-Cursor / X-Has-More


def test_vendor_json_media_types_are_accepted() -> None:
    assert check(page(), "application/vnd.locumsnest.v2+json").error is None
    assert check(page(), 'application/json; charset="UTF-8"').error is None


def test_an_over_size_page_is_too_large_and_a_poison_page_without_headers_has_no_cursor() -> None:
    result = check(page(), headers={}, max_bytes=100)
    assert isinstance(result.error, PayloadTooLarge)
    assert (result.next_cursor, result.has_more) == (None, False)


@pytest.mark.parametrize(
    ("error", "changes", "limit", "rereads", "action"),
    [
        (None, 3, 100, 0, "ingest"),
        (None, 0, 100, 0, "skip"),
        (PayloadTooLarge("big"), 0, 100, 0, "shrink"),
        (PayloadTooLarge("big"), 0, 1, 0, "dead_letter"),  # one change per page and still too big
        (ParseError("bad"), 0, 100, 0, "reread"),
        (ParseError("bad"), 0, 100, 1, "reread"),
        (ParseError("bad"), 0, 100, 2, "dead_letter"),
    ],
)
def test_page_action(error: Any, changes: int, limit: int, rereads: int, action: str) -> None:
    verdict = PageCheck(error, "chg_1", False, changes=changes)
    assert page_action(verdict, limit=limit, rereads=rereads, poison_retries=2) == action


def test_positions_round_trip_and_start_empty() -> None:
    assert Position.load(None) == Position()
    here = Position("chg_100238", "2026-10-21T14:05:00Z")
    assert Position.load(here.dump()) == here


def test_lag_is_the_oldest_change_in_flight_or_the_time_since_the_stream_was_read_to_its_end() -> None:
    now = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert lag_seconds(now, now - timedelta(seconds=40), None) == 40
    assert lag_seconds(now, now - timedelta(seconds=40), now - timedelta(minutes=5)) == 300
    assert lag_seconds(now, None, None) == 0
    assert lag_seconds(now, now + timedelta(seconds=1), None) == 0  # clocks disagree: never negative


def test_quirks_are_validated() -> None:
    with pytest.raises(ConfigError, match="cursor_parameter"):
        TRANSPORT.check_quirks("x", "test", {"cursor_parameter": "after"})
