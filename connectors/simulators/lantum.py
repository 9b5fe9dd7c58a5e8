"""A simulated Lantum-style workforce platform over real HTTP (docs/vendors/lantum.md).

Both sides of the platform, as the hub meets them:

* **the activity feed** the hub polls, ``GET /v2/activity?after=|updated_since=&page_size=&organisation=``
  with ``Authorization: Token <api key>`` (a key per organisation): pages of ``session.published``,
  ``session.updated``, ``session.cancelled``, ``session.booked`` and ``booking.cancelled`` activity,
  ``next_cursor``/``has_more`` and the ``X-Next-Cursor`` header; 401 for a wrong key;
* **the hub's updates**, ``POST /rosterhub/updates`` in the hub's standard shape (the
  ``rosterhub_webhook`` adapter), signed with HMAC-SHA256 over ``<timestamp>.<body>`` (401 when the
  signature is wrong). Each is applied once (deduplicated on ``id``) to a
  :class:`~rosterhub.connectors.simulators.platform_state.PlatformState`, and a change Lantum makes
  to its own session because of one (filled, re-opened) appears on its feed carrying the hub's
  ``hub_reference``, which the mapping recognises as an echo.

Sessions and bookings are made by :class:`LantumPlatform` (``publish``, ``book``, ``book_offered``,
``cancel_booking``, ``cancel_session``), so a test or ``rosterhub simulate lantum`` decides what
happens; a seed makes generated traffic reproducible. Pure Python plus FastAPI; no broker.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import typer
from fastapi import FastAPI, Header, HTTPException, Query
from fastapi.responses import JSONResponse

from rosterhub.connectors.simulators.hub_webhook import UPDATE_PATH, mount_updates
from rosterhub.connectors.simulators.platform_state import PlatformState
from rosterhub.connectors.simulators.serving import serving

__all__ = ["UPDATE_PATH", "Clinician", "LantumPlatform", "LantumSimulator", "create_lantum_app", "register_cli"]

FEED_PATH = "/v2/activity"

#: (staff group label, grades, departments) as Lantum labels them
_ROLES = (
    ("Nursing", ("Band 5", "Band 6"), ("Ward 3B", "Acute Medical Unit")),
    ("Medical", ("FY2", "ST4", "Specialty Doctor"), ("Emergency Department",)),
)


@dataclass(frozen=True, slots=True)
class Clinician:
    id: str
    name: str
    staff_group: str  # Lantum's label: Nursing, Medical, ...
    grade: str
    home_ods: str
    nmc_pin: str | None = None
    gmc_number: str | None = None

    def wire(self) -> dict[str, Any]:
        """The clinician as Lantum's API shows it: every field, under its own name."""
        return asdict(self)


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class LantumPlatform:
    """The platform's own records: sessions, bookings, and each organisation's activity feed."""

    keys: dict[str, str]  # organisation ODS -> API key
    secret: bytes  # HMAC secret of the hub's updates
    seed: int = 7
    state: PlatformState = field(default_factory=PlatformState)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)  # session id -> session (latest version)
    feed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # ODS -> activity, oldest first
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(100_501))
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        for ods in self.keys:
            self.feed.setdefault(ods, [])

    # --- what happens on the platform ---------------------------------------------------------------

    def _activity(self, ods: str, kind: str, **body: Any) -> dict[str, Any]:
        with self._lock:
            n = next(self._ids)
            item = {"activity_id": f"act_{n}", "type": kind, "occurred_at": _instant(datetime.now(UTC)), **body}
            self.feed[ods].append(item)
            return item

    def publish(
        self,
        ods: str,
        day: date,
        start: str,
        end: str,
        *,
        staff_group: str = "Nursing",
        grade: str = "Band 5",
        department: str = "Ward 3B",
        rate: str = "27.80",
        pool: str = "internal",
        session_id: str | None = None,
    ) -> dict[str, Any]:
        """A new session, published to the organisation's bank: ``session.published``."""
        sid = session_id or f"ses_{next(self._ids)}"
        session: dict[str, Any] = {
            "id": sid,
            "version": 1,
            "department": department,
            "staff_group": staff_group,
            "grade": grade,
            "date": day.isoformat(),
            "start_time": start,
            "end_time": end,
            "break_minutes": 30,
            "rate": {"amount": rate, "currency": "GBP", "per": "hour"},
            "pool": pool,
        }
        with self._lock:
            self.sessions[sid] = {**session, "ods": ods}
            self.state.apply(f"lantum-post-{sid}", "post", f"lantum:{ods}:{sid}", **session)
        self._activity(ods, "session.published", session=session)
        return session

    def book(self, ods: str, session_id: str, clinician: Clinician, booking_id: str | None = None) -> str:
        """A clinician books one of the organisation's own sessions: ``session.booked``; returns the booking id."""
        bid = booking_id or f"bk_{next(self._ids)}"
        session = self.sessions[session_id]
        ref = {"id": session_id, "version": session["version"]}
        self._activity(ods, "session.booked", session=ref, booking=self._booking(bid, clinician))
        return bid

    def book_offered(self, ods: str, hub_shift_id: str, clinician: Clinician, booking_id: str | None = None) -> str:
        """A clinician books a partner trust's shift the hub offered to Lantum (known by the hub's id)."""
        bid = booking_id or f"bk_{next(self._ids)}"
        ref = {"id": f"ext_{hub_shift_id.rsplit(':', 1)[-1]}", "version": 1, "hub_shift_id": hub_shift_id}
        self._activity(ods, "session.booked", session=ref, booking=self._booking(bid, clinician))
        return bid

    def cancel_booking(self, ods: str, session_id: str, booking_id: str, clinician: Clinician, reason: str) -> None:
        session = self.sessions[session_id]
        ref = {k: session[k] for k in ("id", "version", "date", "start_time", "end_time")}
        booking = {"id": booking_id, "clinician": clinician.wire()}
        self._activity(
            ods,
            "booking.cancelled",
            session=ref,
            booking=booking,
            cancelled_by="clinician",
            reason=reason,
            session_reopened=True,
        )

    def _booking(self, booking_id: str, clinician: Clinician) -> dict[str, Any]:
        return {"id": booking_id, "booked_at": _instant(datetime.now(UTC)), "clinician": clinician.wire()}

    def clinician(self, ods: str, staff_group: str = "Nursing", grade: str = "Band 5") -> Clinician:
        n = self.rng.randrange(100, 999)
        if staff_group == "Medical":
            return Clinician(f"cl_{n}", f"Dr Test {n}", staff_group, grade, ods, gmc_number=f"70{n:03d}12")
        letters = "ABCDEFGHJKLMNPRSTUWY"
        pin = f"{self.rng.randrange(10, 99)}{self.rng.choice(letters)}{self.rng.randrange(1000, 9999)}"
        return Clinician(f"cl_{n}", f"Nurse Test {n}", staff_group, grade, ods, nmc_pin=pin + self.rng.choice(letters))

    def generate(self, ods: str, count: int = 1) -> list[dict[str, Any]]:
        """``count`` plausible sessions, some booked by the organisation's own clinicians."""
        made = []
        for _ in range(count):
            group, grades, wards = self.rng.choice(_ROLES)
            day = date.today() + timedelta(days=self.rng.randrange(3, 30))
            start, end = self.rng.choice((("07:30", "20:00"), ("20:00", "08:00"), ("08:00", "16:00")))
            grade = self.rng.choice(grades)
            session = self.publish(ods, day, start, end, staff_group=group, grade=grade, department=wards[0])
            if self.rng.random() < 0.4:
                self.book(ods, session["id"], self.clinician(ods, group, grade))
            made.append(session)
        return made

    # --- what the hub sees -------------------------------------------------------------------------

    def page(self, ods: str, *, after: str | None, since: str | None, limit: int) -> dict[str, Any]:
        with self._lock:
            items = self.feed[ods]
            if after:
                start = next((i + 1 for i, a in enumerate(items) if a["activity_id"] == after), len(items))
            elif since:
                start = next((i for i, a in enumerate(items) if a["occurred_at"] >= since), len(items))
            else:
                start = 0
            chunk = items[start : start + limit]
            before = items[start - 1]["activity_id"] if start else "start"
            cursor = chunk[-1]["activity_id"] if chunk else (after or before)
            return {
                "object": "activity_page",
                "organisation": {"ods_code": ods, "name": None},
                "activity": chunk,
                "next_cursor": cursor,
                "has_more": start + limit < len(items),
            }

    def echo(self, update: dict[str, Any]) -> None:
        """Lantum changed its own session because of the hub's update: the change is on its feed, with the
        hub's reference (the mapping's echo rule skips it)."""
        own = update.get("shift_id")
        if own and update["update"] in ("shift_filled", "booking_cancelled"):
            ods = update.get("organisation_ods") or update["hub_shift_id"].split(":")[1]
            change = "session.filled" if update["update"] == "shift_filled" else "session.reopened"
            self._activity(ods, change, hub_reference=update["id"], session={"id": own})


def create_lantum_app(platform: LantumPlatform) -> FastAPI:
    app = FastAPI(title="lantum-simulator")
    app.state.platform = platform

    @app.get(FEED_PATH)
    def activity(
        organisation: str = Query(...),
        after: str | None = Query(None),
        updated_since: str | None = Query(None),
        page_size: int = Query(100, ge=1, le=1000),
        authorization: str | None = Header(None),
    ) -> JSONResponse:
        ods = organisation.upper()
        if ods not in platform.keys or authorization != f"Token {platform.keys[ods]}":
            raise HTTPException(401, "bad API key for this organisation")
        page = platform.page(ods, after=after, since=updated_since, limit=page_size)
        headers = {"X-Next-Cursor": page["next_cursor"], "X-Has-More": str(page["has_more"]).lower()}
        return JSONResponse(page, headers=headers)

    mount_updates(app, platform.secret, platform.state, on_applied=platform.echo)

    return app


@dataclass
class LantumSimulator:
    """The platform and its HTTP app; ``running(port)`` serves it; ``connector_options`` points the hub at it."""

    organisations: tuple[str, ...]
    secret: bytes
    seed: int = 7
    platform: LantumPlatform = field(init=False)

    def __post_init__(self) -> None:
        keys = {ods: f"lt_test_{ods.lower()}_{self.seed}" for ods in self.organisations}
        self.platform = LantumPlatform(keys, self.secret, self.seed)

    @contextmanager
    def running(self, port: int) -> Iterator[str]:
        with serving(create_lantum_app(self.platform), port) as url:
            yield url

    def connector_options(self, url: str, **extra: Any) -> dict[str, Any]:
        trusts = {ods: {"api_key": key} for ods, key in self.platform.keys.items()}
        return {"base_url": url, "trusts": trusts, "poll_interval_s": 1.0, **extra}

    def destinations(self, url: str) -> list[dict[str, Any]]:
        """``outbound_destinations`` entries: the hub's standard update webhook, signed with the shared secret."""
        return [
            {
                "name": f"lantum-{ods}",
                "trust": ods,
                "platform": "lantum",
                "adapter": "rosterhub_webhook",
                "url": url,
                "secret": self.secret.decode(),
            }
            for ods in self.organisations
        ]


def register_cli(group: typer.Typer) -> None:
    @group.command("lantum")
    def simulate_lantum(
        port: int = typer.Option(8095, help="Port to serve the activity feed and the update endpoint on."),
        organisations: str = typer.Option("RHQ", help="Comma-separated ODS codes of the organisations."),
        secret: str = typer.Option(..., envvar="LANTUM_HUB_SECRET", help="HMAC secret of the hub's updates."),
        sessions: int = typer.Option(5, help="Sessions to publish per organisation every interval."),
        interval: float = typer.Option(10.0, help="Seconds between batches."),
        seed: int = typer.Option(7, help="Random seed (same seed, same traffic)."),
    ) -> None:
        """Serve a Lantum-style activity feed (and take the hub's updates) until Ctrl-C; prints the options."""
        sim = LantumSimulator(tuple(o.strip().upper() for o in organisations.split(",")), secret.encode(), seed)
        with sim.running(port) as url:
            typer.echo(json.dumps({"connectors": {"lantum": sim.connector_options(url)}}))
            typer.echo(json.dumps({"outbound_destinations": sim.destinations(url)}))
            while True:
                for ods in sim.organisations:
                    sim.platform.generate(ods, sessions)
                time.sleep(interval)
