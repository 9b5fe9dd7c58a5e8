"""The polling loop of the ``poll`` kind, run by ``rosterhub connect <vendor>`` through the connector runtime.

One thread reads every configured trust in turn. A *pass* over one trust (one correlation
id, sent to the vendor as ``X-Correlation-Id`` and put on every log line and raw record):

1. ``GET <base_url><changes_path>?cursor=<stored>&limit=<page_size>&organisation=<trust>``
   (``since=`` instead of ``cursor=`` when there is no cursor yet, or it expired);
2. waits decided by :mod:`.policy`: ``429`` + ``Retry-After`` honoured, back-off with
   jitter on ``5xx``/timeouts, no request while the vendor says the rate window is spent;
3. each page is checked (:mod:`.page`); a usable page goes whole, as received, to
   :func:`~rosterhub.connectors.pipeline.ingest` (raw first, map, dedupe, DLQ);
4. **only after ingest returned** is the page's offset yielded: the page marked seen, then
   its ``next_cursor``; the connector runtime stores both
   (:func:`~rosterhub.connectors.runtime.store_progress`) before the loop asks for the next
   page (while ``has_more``). The loop itself never writes progress.

Restart: a crash before step 4 means the page is read again from the old cursor; the
events it maps to are deduplicated by event id (claims are confirmed only after the
broker's ack, so a crash mid-page loses nothing either). A page byte-identical to one
already ingested is not written again at all; an overlapping page is written to
``raw.<vendor>`` again (it was received again) but publishes no event twice.

A page that cannot be used (not JSON, not UTF-8, wrong Content-Type, lacking its page
fields, for another organisation, or over ``max_page_bytes`` even at one change per page)
is read again ``poison_retries`` times, since truncations by proxies are transient; then it
is **dead-lettered and skipped**: its bytes go to ``raw.<vendor>`` (unless over the size
limit) and to ``dlq.ingest`` with the reason, and the cursor moves to the ``X-Next-Cursor``
the response carried. Why skip rather than stop: a cursor-paged feed is strictly ordered,
so one page a vendor bug made unreadable would otherwise block every later shift and
booking of that trust until a person intervened, while the skipped page's bytes are kept
(for the vendor to fix, or to replay) and the lag and rejected metrics raise the alarm.
Without ``X-Next-Cursor`` there is nowhere safe to go, so the trust waits at its cursor and
is retried every cycle. A page that parses but holds bad *changes* (unknown codes,
missing fields) is not poison: it is ingested, and each bad change is a rejected record
on ``dlq.mapping``.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from rosterhub.connectors import metrics
from rosterhub.connectors.base import ConnectorSpec, SourceOffset, SourceRun
from rosterhub.connectors.kinds import backpressure
from rosterhub.connectors.kinds.poll import TRANSPORT
from rosterhub.connectors.kinds.poll.http import Answer, fetch
from rosterhub.connectors.kinds.poll.options import PollOptions, parse_options
from rosterhub.connectors.kinds.poll.page import (
    PageCheck,
    PollQuirks,
    Position,
    check_page,
    lag_seconds,
    page_action,
)
from rosterhub.connectors.kinds.poll.policy import decide, rate_limit_pause
from rosterhub.connectors.pipeline import IngestContext, IngestFailed, ingest
from rosterhub.connectors.receipt import Receipt, refused, write_raw
from rosterhub.connectors.state import Dedupe
from rosterhub.deadletter import dead_letter
from rosterhub.errors import BrokerUnavailable, ConfigError, PayloadTooLarge, RosterhubError
from rosterhub.settings import load_settings

__all__ = ["Poller", "TrustPass", "run"]

log = logging.getLogger(__name__)

_STALLS_ALLOWED = 2  # pages in a row that leave the cursor where it was, before the pass ends


def run(
    spec: ConnectorSpec,
    ctx: IngestContext,
    options: Mapping[str, Any],
    stop: threading.Event,
    *,
    once: bool,
    client: httpx.Client | None = None,
) -> SourceRun:
    """Poll until ``stop`` is set, or (``once``) until every trust is read to its end, yielding offsets.

    ``client`` is the HTTP seam for tests; by default one is built from the options.
    With ``once``, a trust that could not be read raises :class:`RosterhubError` at the end.
    """
    opts = parse_options(spec.id, options)
    fmt = TRANSPORT.quirks_of(spec)
    assert isinstance(fmt, PollQuirks)
    if ctx.state is None:  # read before each page: a page seen before is not written again
        raise ConfigError(f"connector {spec.id!r} needs durable state to keep its cursor")
    http = client or httpx.Client(
        base_url=opts.base_url, timeout=opts.timeout_s, headers={"Accept": "application/json"}
    )
    try:
        poller = Poller(spec.id, ctx, opts, fmt, http, stop)
        poller.pace = backpressure.lag_for(load_settings(), ctx)
        if once:
            yield from poller.drain()
        else:
            yield from poller.forever()
    finally:
        if client is None:
            http.close()


@dataclass
class TrustPass:
    """What one pass over one trust did."""

    trust: str
    correlation_id: str
    pages: int = 0
    events: int = 0
    caught_up: bool = False
    error: str | None = None


class Poller:
    """The polling loop for one vendor; all trusts, one thread. Safe to stop at any point."""

    def __init__(
        self,
        vendor: str,
        ctx: IngestContext,
        opts: PollOptions,
        fmt: PollQuirks,
        client: httpx.Client,
        stop: threading.Event,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        assert ctx.state is not None
        self.vendor, self.ctx, self.opts, self.fmt, self.client, self.stop = vendor, ctx, opts, fmt, client, stop
        self.state: Dedupe = ctx.state
        self.rng = rng or random.Random()
        self.clock = clock
        started = clock()
        self._caught_up_at: dict[str, datetime] = dict.fromkeys(opts.trusts, started)
        self._in_flight: dict[str, datetime] = {}
        self._not_before: dict[str, float] = {}  # time.monotonic() before which a trust is not asked
        self.pace: backpressure.HubLag | None = None  # the workers' lag (connectors/kinds/backpressure.py)

    # --- loops -------------------------------------------------------------------------------
    def forever(self) -> SourceRun:
        log.info("polling", extra={"vendor": self.vendor, "trusts": list(self.opts.trusts)})
        while not self.stop.is_set():
            backpressure.wait_for_room(self.pace, self.stop, who=self.vendor)  # the hub behind: read no more yet
            passes = yield from self.cycle(self.opts.trusts)
            if all(p.caught_up or p.error for p in passes):  # a trust still behind goes on at once
                self.stop.wait(self.opts.poll_interval_s)

    def drain(self) -> SourceRun:
        """Read every trust to the end of its stream now (``--once``)."""
        pending, failed = list(self.opts.trusts), {}
        while pending and not self.stop.is_set():
            for done in (yield from self.cycle(pending)):
                if done.error:
                    failed[done.trust] = done.error
                if done.error or done.caught_up:
                    pending.remove(done.trust)
        if failed:
            detail = "; ".join(f"{trust}: {why}" for trust, why in failed.items())
            raise RosterhubError(f"{self.vendor}: some trusts could not be read: {detail}", vendor=self.vendor)

    def cycle(self, trusts: Iterable[str]) -> Generator[SourceOffset, None, list[TrustPass]]:
        passes = []
        for trust in list(trusts):
            if self.stop.is_set():
                break
            passes.append((yield from self.poll_trust(trust)))
            self._report_lag()
        return passes

    def lag(self) -> float:
        now = self.clock()
        return max(
            (lag_seconds(now, self._caught_up_at.get(t), self._in_flight.get(t)) for t in self.opts.trusts),
            default=0.0,
        )

    # --- one trust -----------------------------------------------------------------------------
    def poll_trust(self, trust: str) -> Generator[SourceOffset, None, TrustPass]:
        done = TrustPass(trust, f"{self.vendor}-{uuid.uuid4()}")
        where = {"vendor": self.vendor, "trust": trust, "correlation_id": done.correlation_id}
        position = Position.load(self.state.position(self.vendor, f"cursor:{trust}"))
        limit, rereads, stalls = self.opts.page_size, 0, 0
        while done.pages < self.opts.max_pages_per_cycle and not self.stop.is_set():
            response = self._get(trust, position, limit, done.correlation_id)
            if not response.ok:
                if response.status == self.fmt.cursor_expired_status and position.cursor and position.since:
                    log.warning(
                        "cursor expired; restarting from the last change seen",
                        extra={**where, "cursor": position.cursor, "since": position.since},
                    )
                    position = Position(None, position.since)
                    continue
                if response.failure != "stopped":
                    done.error = response.failure
                    log.error("poll failed", extra={**where, "status": response.status, "reason": response.failure})
                break
            metrics.RECEIVED.labels(self.vendor).inc()
            check = check_page(
                response.body,
                response.headers.get("content-type"),
                response.headers,
                self.fmt,
                trust=trust,
                max_bytes=self.opts.max_page_bytes,
            )
            action = page_action(check, limit=limit, rereads=rereads, poison_retries=self.opts.poison_retries)
            if action == "shrink":
                limit = max(1, limit // 2)
                log.warning("page too large; asking for fewer changes", extra={**where, "limit": limit})
                continue
            if action == "reread":
                rereads += 1
                log.warning("unusable page; reading it again", extra={**where, "reason": str(check.error)})
                self.stop.wait(self.opts.backoff_base_s)
                continue
            done.error, written = self._write(action, trust, response, check, position, done)
            if written is not None:  # the page is on the broker (or dead-lettered): never written again
                yield SourceOffset(written, done=True)
            if done.error:
                break
            limit, rereads = self.opts.page_size, 0
            stalls = stalls + 1 if check.has_more and check.next_cursor == position.cursor else 0
            position = yield from self._advance(trust, position, check)
            done.pages += 1
            if stalls > _STALLS_ALLOWED:
                done.error = f"the platform keeps answering cursor {position.cursor!r} with itself (has_more=true)"
                log.warning("no progress", extra={**where, "cursor": position.cursor})
                break
            if not check.has_more:
                done.caught_up = True
                self._caught_up_at[trust] = response.received_at
                break
        log.info(
            "pass done",
            extra={
                **where,
                "pages": done.pages,
                "events": done.events,
                "caught_up": done.caught_up,
                "cursor": position.cursor,
            },
        )
        return done

    def _write(
        self, action: str, trust: str, response: Answer, check: PageCheck, position: Position, done: TrustPass
    ) -> tuple[str | None, str | None]:
        """Ingest or dead-letter the page: an error text when the stream cannot go on past it now, and the
        page's key when it was written now (for the runtime to mark seen)."""
        written = None
        try:
            if action == "dead_letter":
                written = self._dead_letter(trust, response, check, position, done.correlation_id)
            elif action == "ingest":
                events, written = self._ingest(trust, response, check, done.correlation_id)
                done.events += events
        except BrokerUnavailable as exc:  # nothing stored: the page is read again next cycle
            log.error(
                "broker unavailable; the page will be read again",
                extra={
                    "vendor": self.vendor,
                    "trust": trust,
                    "correlation_id": done.correlation_id,
                    "reason": str(exc),
                },
            )
            return str(exc), None
        if check.next_cursor is None:  # a dead-lettered page that did not say where the stream goes on
            return f"unusable page at cursor {position.cursor!r} and no {self.fmt.next_cursor_header}", written
        return None, written

    def _advance(self, trust: str, position: Position, check: PageCheck) -> Generator[SourceOffset, None, Position]:
        """The cursor after a page, yielded for the runtime to store: only once the page is on the broker
        (or was empty)."""
        following = Position(check.next_cursor, check.newest_change or position.since)
        if following != position:
            yield SourceOffset(f"cursor:{trust}", following.dump())
        return following

    # --- HTTP ------------------------------------------------------------------------------------
    def _get(self, trust: str, position: Position, limit: int, correlation_id: str) -> Answer:
        fmt = self.fmt
        params = {fmt.limit_param: str(limit), fmt.organisation_param: self.opts.organisation_for(trust)}
        if position.cursor:
            params[fmt.cursor_param] = position.cursor
        elif position.since:
            params[fmt.since_param] = position.since
        elif self.opts.initial_since is not None:
            params[fmt.since_param] = self.opts.initial_since.isoformat()
        headers = {
            fmt.auth_header: f"{fmt.auth_scheme} {self.opts.key_for(trust)}".strip(),
            "X-Correlation-Id": correlation_id,
        }
        attempt = 0
        while True:
            if not self._wait_turn(trust, correlation_id):
                return Answer.failed("stopped", self.clock())
            response = fetch(
                self.client,
                self.fmt.changes_path,
                params,
                headers,
                max_page_bytes=self.opts.max_page_bytes,
                clock=self.clock,
            )
            # a spent window on a page we got: wait before the next request (on a 429, Retry-After rules)
            pause = rate_limit_pause(response.headers, fmt.rate_limit_remaining_header, fmt.rate_limit_reset_header)
            if pause and response.ok:
                self._not_before[trust] = time.monotonic() + min(pause, self.opts.max_retry_after_s)
            decision = decide(
                response.status,
                response.headers,
                attempt,
                self.opts.retry_policy,
                now=self.clock(),
                rand=self.rng.random(),
                failure=response.failure,
            )
            if decision.action == "proceed":
                return response
            if decision.action == "give_up":
                if decision.delay_s:
                    self._not_before[trust] = time.monotonic() + decision.delay_s
                return replace(response, failure=decision.reason)
            log.warning(
                "request failed; will retry",
                extra={
                    "vendor": self.vendor,
                    "trust": trust,
                    "correlation_id": correlation_id,
                    "status": response.status,
                    "attempt": attempt + 1,
                    "delay_s": round(decision.delay_s, 3),
                    "reason": decision.reason,
                },
            )
            if self.stop.wait(decision.delay_s):
                return Answer.failed("stopped", self.clock())
            attempt += 1

    def _wait_turn(self, trust: str, correlation_id: str) -> bool:
        """Sleep while the vendor said this trust's rate window is spent; False when stopped."""
        remaining = self._not_before.get(trust, 0.0) - time.monotonic()
        if remaining > 0:
            log.info(
                "rate limit reached; waiting",
                extra={
                    "vendor": self.vendor,
                    "trust": trust,
                    "correlation_id": correlation_id,
                    "delay_s": round(remaining, 3),
                },
            )
            if self.stop.wait(remaining):
                return False
        return not self.stop.is_set()

    # --- writing -----------------------------------------------------------------------------------
    def _ingest(self, trust: str, response: Answer, check: PageCheck, correlation_id: str) -> tuple[int, str | None]:
        """Events published, and the page's key unless it was ingested before."""
        key = _page_key(trust, response.body)
        where = {"vendor": self.vendor, "trust": trust, "correlation_id": correlation_id}
        if self.state.seen(self.vendor, key):
            log.info("page identical to one already ingested; not written again", extra=where)
            return 0, None
        if check.oldest_change is not None:
            self._in_flight[trust] = check.oldest_change
            self._report_lag()
        started = time.perf_counter()
        try:
            result = ingest(
                self.ctx,
                self.vendor,
                response.body,
                trust=trust,
                correlation_id=correlation_id,
                content_type=response.headers.get("content-type", "application/json"),
                received_at=response.received_at,
                key=trust.encode(),
            )
        except IngestFailed as exc:  # kept on the raw topic with a dead letter saying why: the feed goes on
            self._in_flight.pop(trust, None)
            metrics.REJECTED.labels(self.vendor, exc.code).inc()
            log.error("page kept but not published", extra={**where, "reason": str(exc), "raw": exc.raw})
            return 0, key
        self._in_flight.pop(trust, None)
        metrics.MAPPED.labels(self.vendor).inc(len(result.event_ids))
        metrics.DUPLICATES.labels(self.vendor).inc(result.duplicates)
        for rejected in result.rejected:
            metrics.REJECTED.labels(self.vendor, rejected.error.get("code", "unknown")).inc()
        metrics.LATENCY.labels(self.vendor).observe(time.perf_counter() - started)
        log.info(
            "page ingested",
            extra={
                **where,
                "changes": check.changes,
                "events": len(result.event_ids),
                "duplicates": result.duplicates,
                "rejected": len(result.rejected),
            },
        )
        return len(result.event_ids), key

    def _dead_letter(
        self, trust: str, response: Answer, check: PageCheck, position: Position, correlation_id: str
    ) -> str | None:
        """The page's key once it is dead-lettered; None when it was dead-lettered before."""
        error = check.error
        assert error is not None
        key = _page_key(trust, response.body)
        where = {"vendor": self.vendor, "trust": trust, "correlation_id": correlation_id}
        if self.state.seen(self.vendor, key):
            log.info("unusable page already dead-lettered", extra=where)
            return None
        extra = {
            "cursor": position.cursor or "",
            "next_cursor": check.next_cursor or "",
            "http_status": str(response.status),
        }
        if response.truncated:
            extra["truncated"] = "true"
        receipt = Receipt(
            trust=trust,
            content_type=response.headers.get("content-type", ""),
            received_at=response.received_at,
            correlation_id=correlation_id,
            extra=extra,
        )
        if isinstance(error, PayloadTooLarge):  # an over-size page only on the DLQ (the webhook's 413)
            record = refused(
                self.ctx, self.vendor, response.body, error, key=trust.encode(), record_ref="page", **receipt
            )
        else:  # raw first, as for any page, then the reason pointing at it
            received = write_raw(self.ctx, self.vendor, response.body, key=trust.encode(), **receipt)
            record = dead_letter(
                topic=self.ctx.names.dlq("ingest"),
                stage="ingest",
                error=error,
                original=received.kept.value,
                key=trust.encode(),
                connector=self.vendor,
                origin=received.origin,
                record_ref="page",
                original_headers=received.record.headers,
            )
        self.ctx.sink.send([record])
        metrics.REJECTED.labels(self.vendor, error.code).inc()
        log.error(
            "unusable page dead-lettered and skipped",
            extra={
                **where,
                "code": error.code,
                "reason": str(error),
                "cursor": position.cursor,
                "next_cursor": check.next_cursor,
            },
        )
        return key

    def _report_lag(self) -> None:
        metrics.LAG.labels(self.vendor).set(self.lag())


def _page_key(trust: str, body: bytes) -> str:
    return f"page:{trust}:{hashlib.sha256(body).hexdigest()}"
