"""A "changes" page: its wire format (vendor quirks), whether it is usable, and where it leaves the cursor.

Pure: bytes and headers in, a :class:`PageCheck` out. The poller uses it to decide between
ingesting a page, retrying it, or dead-lettering it and moving on (see the module
docstring of :mod:`rosterhub.connectors.kinds.poll.poller` for why a poison page is skipped).

A page is usable when it is JSON (``application/json`` or ``+json``, UTF-8) within the
size limit, an object with a ``changes`` list, a ``next_cursor`` string and a
``has_more`` boolean (field names are quirks), and, when it names its organisation, the
organisation that was asked for. Individual changes are *not* checked here: a change the
mapping cannot read is one rejected record (``dlq.mapping``), not a bad page.

The cursor to move on to is read from the body, or else from the ``X-Next-Cursor`` /
``X-Has-More`` response headers, which a page that cannot be read still carries: that is
what lets the stream move past it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from rosterhub.connectors.base import Quirks
from rosterhub.errors import InputError, ParseError, PayloadTooLarge
from rosterhub.mapping.engine import strict_json

__all__ = ["PageAction", "PageCheck", "PollQuirks", "Position", "check_page", "lag_seconds", "page_action"]

PageAction = Literal["ingest", "skip", "shrink", "reread", "dead_letter"]


class PollQuirks(Quirks):
    """Wire facts of a vendor's changes endpoint: the poll kind's quirks (``ConnectorSpec.quirks``),
    validated when the registry loads; vendors import it from :mod:`rosterhub.connectors.kinds.poll`."""

    changes_path: str = "/api/v2/changes"
    cursor_param: str = "cursor"
    since_param: str = "since"
    limit_param: str = "limit"
    organisation_param: str = "organisation"
    changes_field: str = "changes"
    next_cursor_field: str = "next_cursor"
    has_more_field: str = "has_more"
    changed_at_field: str = "changed_at"
    organisation_field: str = "organisation.ods_code"
    next_cursor_header: str = "X-Next-Cursor"
    has_more_header: str = "X-Has-More"
    rate_limit_remaining_header: str = "X-RateLimit-Remaining"
    rate_limit_reset_header: str = "X-RateLimit-Reset"
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"  # "" sends the key alone
    #: Status meaning "this cursor is no longer served": restart from the stored ``since``.
    cursor_expired_status: int = 410


@dataclass(frozen=True, slots=True)
class Position:
    """Where a trust's stream stands: the vendor's cursor, and the newest ``changed_at`` ingested
    (the fall-back ``since`` when the cursor expires; the overlap it causes is deduplicated)."""

    cursor: str | None = None
    since: str | None = None

    def dump(self) -> str:
        return json.dumps({"cursor": self.cursor, "since": self.since}, sort_keys=True)

    @classmethod
    def load(cls, value: str | None) -> Position:
        if not value:
            return cls()
        data = json.loads(value)
        return cls(data.get("cursor"), data.get("since"))


@dataclass(frozen=True, slots=True)
class PageCheck:
    """The verdict on one page. ``error`` set: the page is poison; ``next_cursor`` may still be known."""

    error: InputError | None
    next_cursor: str | None
    has_more: bool
    changes: int = 0
    oldest_change: datetime | None = None
    newest_change: str | None = None  # as the vendor wrote it, reused verbatim as ``since``


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def _dig(document: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(document, dict):
            return None
        document = document.get(part)
    return document


def _parse_instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _content_type_problem(content_type: str | None) -> str | None:
    if not content_type:
        return "the page has no Content-Type"
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        return f"the page's Content-Type is {media!r}, not application/json"
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return f"the page declares charset {value.strip()!r}; JSON must be UTF-8 (RFC 8259)"
    return None


def check_page(
    body: bytes,
    content_type: str | None,
    headers: Mapping[str, str],
    fmt: PollQuirks,
    *,
    trust: str,
    max_bytes: int,
) -> PageCheck:
    """Is this page usable, and which cursor follows it? Never raises for bad input."""
    header_cursor = _header(headers, fmt.next_cursor_header) or None
    header_more = (_header(headers, fmt.has_more_header) or "").strip().lower() == "true"

    def poison(error: InputError) -> PageCheck:
        return PageCheck(error, header_cursor, header_more)

    if len(body) > max_bytes:
        return poison(PayloadTooLarge(f"page of {len(body)} bytes or more is over the limit of {max_bytes}"))
    problem = _content_type_problem(content_type)
    if problem:
        return poison(ParseError(problem))
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return poison(ParseError(f"the page is not valid UTF-8: {exc.reason} at byte {exc.start}"))
    try:
        document = strict_json.loads(body)
    except ParseError as exc:
        return poison(exc)
    if not isinstance(document, dict):
        return poison(ParseError(f"the page is a JSON {type(document).__name__}, not an object"))
    changes = document.get(fmt.changes_field)
    cursor = document.get(fmt.next_cursor_field)
    more = document.get(fmt.has_more_field)
    missing = [
        name
        for name, ok in (
            (fmt.changes_field, isinstance(changes, list)),
            (fmt.next_cursor_field, isinstance(cursor, str) and cursor != ""),
            (fmt.has_more_field, isinstance(more, bool)),
        )
        if not ok
    ]
    if missing:
        return poison(ParseError(f"the page lacks {', '.join(repr(m) for m in missing)} (or has the wrong type)"))
    organisation = _dig(document, fmt.organisation_field)
    if organisation is not None and str(organisation).strip().upper() != trust.upper():
        return poison(ParseError(f"the page is for organisation {organisation!r}, but {trust!r} was polled"))
    assert isinstance(changes, list) and isinstance(cursor, str) and isinstance(more, bool)
    stamps = (c.get(fmt.changed_at_field) for c in changes if isinstance(c, dict))
    parsed = [(t, raw) for raw in stamps if (t := _parse_instant(raw)) is not None]
    return PageCheck(
        None,
        cursor,
        more,
        changes=len(changes),
        oldest_change=min((t for t, _ in parsed), default=None),
        newest_change=max(parsed, key=lambda p: p[0])[1] if parsed else None,
    )


def page_action(check: PageCheck, *, limit: int, rereads: int, poison_retries: int) -> PageAction:
    """What to do with a page: ``ingest`` it, ``skip`` it (no changes: nothing to keep), ask for
    fewer changes (``shrink``: over the size limit and more than one change was asked for),
    ``reread`` it (unusable, maybe a transient truncation), or ``dead_letter`` it and move on."""
    if check.error is None:
        return "ingest" if check.changes else "skip"
    if isinstance(check.error, PayloadTooLarge):
        return "shrink" if limit > 1 else "dead_letter"  # re-reading an over-size page changes nothing
    return "reread" if rereads < poison_retries else "dead_letter"


def lag_seconds(now: datetime, caught_up_at: datetime | None, oldest_in_flight: datetime | None) -> float:
    """How old an unprocessed change can be, at most: the age of the oldest change fetched and
    not yet processed, or, when none is in flight, the time since the stream was last read to
    its end (a change made just after that read is waiting at most that long)."""
    ages = [(now - t).total_seconds() for t in (caught_up_at, oldest_in_flight) if t is not None]
    return max(0.0, *ages) if ages else 0.0
