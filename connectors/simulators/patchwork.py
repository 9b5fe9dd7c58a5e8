"""A simulated Patchwork-style bank app: it sends signed JSON webhooks to the hub, and it
receives the hub's updates as signed webhooks of its own (docs/vendors/patchwork.md).

Traffic is realistic in shape: shifts across staff groups and grades, days, long days,
nights and weekends (including the clock-change nights), booking requests from workers
with valid-format register numbers, a losing second request now and then, and, when
asked, malformed payloads. A seed makes a run reproducible.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import typer
from fastapi import Depends, FastAPI, HTTPException

from rosterhub.connectors.signing import sign
from rosterhub.connectors.simulators.hub_webhook import signed_body
from rosterhub.connectors.simulators.patchwork_timesheets import timesheet_approved, timesheet_submitted
from rosterhub.connectors.simulators.platform_state import Op, PlatformState
from rosterhub.instants import LONDON

__all__ = [
    "UPDATE_OPS",
    "PatchworkSimulator",
    "apply_update",
    "booking_requested",
    "create_patchwork_platform",
    "echo_of",
    "register_cli",
    "shift_created",
    "signed_headers",
    "timesheet_approved",
    "timesheet_submitted",
]


#: (staff group label, grades, wards) as a Patchwork-style app labels them.
_ROLES = (
    ("Registered Nursing", ("Band 5", "Band 6", "Band 7"), ("Ward 3B", "Acute Medical Unit", "Ward 12 (Surgical)")),
    ("Healthcare Assistant", ("Band 2", "Band 3"), ("Ward 3B", "Ward 7 - Care of the Elderly")),
    ("Midwifery", ("Band 6", "Band 7"), ("Labour Ward", "Maternity Triage")),
    ("Medical", ("FY1", "FY2", "CT2", "ST4", "ST7", "Specialty Doctor", "Consultant"), ("Emergency Department",)),
)
#: (label, local start hour, minute, length in hours)
_PATTERNS = (("early", 7, 0, 7.5), ("late", 14, 0, 7.5), ("long day", 7, 30, 12.5), ("night", 20, 0, 12.0))
_NMC_LETTERS = "ABCDEFGHJKLMNPRSTUWY"
#: Patchwork staff group labels of shifts registered nurses and midwives (NMC) work
_NMC_GROUPS = ("Registered Nursing", "Midwifery")


def _band(grade: str) -> int | None:
    """``Band 6`` -> 6; None for grades that are not Agenda for Change bands."""
    parts = grade.split()
    return int(parts[1]) if len(parts) == 2 and parts[0] == "Band" and parts[1].isdigit() else None


def nmc_pin(rng: random.Random) -> str:
    """NNANNNNA: e.g. 71A2998E (the checks the real register applies are not public; the shape is)."""
    return f"{rng.randint(0, 99):02d}{rng.choice(_NMC_LETTERS)}{rng.randint(0, 9999):04d}{rng.choice(_NMC_LETTERS)}"


def gmc_number(rng: random.Random) -> str:
    return f"{rng.randint(1000000, 7999999)}"


def shift_created(
    shift_id: str,
    trust: str,
    start: datetime,
    hours: float,
    *,
    grade: str,
    ward: str,
    staff_group: str = "Registered Nursing",
    version: int = 1,
    visibility: str = "internal",
) -> dict[str, Any]:
    # Elapsed-time arithmetic in UTC: aware + timedelta in one zone is wall-clock arithmetic,
    # which is an hour out on the nights the clocks change.
    end = (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(start.tzinfo)
    return {
        "event": "shift.created",
        "id": f"evt-{shift_id}-v{version}",
        "created_at": datetime.now(UTC).isoformat(),
        "api_version": "2025-11-01",
        "data": {
            "shift_id": shift_id,
            "version": version,
            "status": "open",
            "organisation_ods": trust,
            "ward": ward,
            "staff_group": staff_group,
            "grade": grade,
            "start_time": start.isoformat(),
            "end_time": end.isoformat(),
            "break_minutes": 60 if hours > 8 else 30,
            "rate": "24.50",
            "visibility": visibility,
        },
    }


def booking_requested(
    booking_id: str,
    shift_id: str | None,
    trust: str,
    nmc: str | None,
    at: datetime,
    *,
    gmc: str | None = None,
    grade: str | None = None,
    staff_group: str | None = None,
    hub_shift_id: str | None = None,
) -> dict[str, Any]:
    """A ``booking.requested`` webhook; ``grade``/``staff_group`` are the worker's own (Patchwork labels).

    A partner's shift (offered by the hub with ``shift.offered``) has no Patchwork ``shift_id``: the request
    names it by the ``hub_shift_id`` it was offered with."""
    worker: dict[str, Any] = {"id": f"w-{nmc or gmc}", "name": "Sim Worker", "nmc_pin": nmc, "gmc_number": gmc}
    worker.update({k: v for k, v in (("grade", grade), ("staff_group", staff_group)) if v is not None})
    return {
        "event": "booking.requested",
        "id": f"evt-{booking_id}",
        "created_at": at.isoformat(),
        "api_version": "2025-11-01",
        "data": {
            "booking_id": booking_id,
            "shift_id": shift_id,
            **({"hub_shift_id": hub_shift_id} if hub_shift_id else {}),
            "organisation_ods": trust,
            "status": "requested",
            "requested_at": at.isoformat(),
            "worker": worker,
        },
    }


def signed_headers(secret: bytes, body: bytes, now: float | None = None) -> dict[str, str]:
    ts = str(int(now if now is not None else time.time()))
    return {
        "Content-Type": "application/json",
        "X-Patchwork-Timestamp": ts,
        "X-Patchwork-Signature": sign(secret, ts, body),
    }


@dataclass
class PatchworkSimulator:
    """Sends webhooks for ``trusts`` to ``target`` (the hub's base URL); :meth:`batch` is one tick of traffic.

    Each trust signs with its own secret (``secrets``): the hub learns the trust from the secret that verifies."""

    target: str
    secrets: Mapping[str, bytes]
    trusts: tuple[str, ...] = ("RHQ", "RCU", "RFR")
    seed: int = 7
    malformed_every: int = 0  # every n-th batch also sends a truncated payload (0: never)
    sent: dict[str, int] = field(default_factory=dict)
    #: the demo's registered nurses (rosterhub.demo_market.Workforce): requesters the hub knows; None: strangers
    workforce: Any = None
    #: Patchwork's own view of shifts, fed by the hub's updates: where offered partner shifts are found
    platform: PlatformState | None = None
    asked: set[str] = field(default_factory=set)
    #: hub booking id -> what the worker asked for: (trust, Patchwork booking id, hub shift id, start, end, worker)
    requests: dict[str, tuple[str, str, str, datetime, datetime, dict[str, Any]]] = field(default_factory=dict)
    timesheets_sent: set[str] = field(default_factory=set)
    #: approval steps the trusts' Patchwork asks for (1 or 2)
    approval_steps: int = 1

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.seq = itertools.count(1)
        self.run_id = f"{self.seed}{int(time.time()) % 100000}"

    def post(self, trust: str, payload: dict[str, Any] | bytes, *, busy_retries: int = 5) -> int:
        """Send one webhook; a 429 is sent again after its Retry-After (as a platform paces itself), a few times."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        for _ in range(busy_retries + 1):
            try:
                r = httpx.post(
                    f"{self.target.rstrip('/')}/ingest/patchwork",
                    content=body,
                    headers=signed_headers(self.secrets[trust], body),  # signed again: the timestamp must be fresh
                    timeout=10,
                )
            except httpx.HTTPError:
                return 0
            self.sent[str(r.status_code)] = self.sent.get(str(r.status_code), 0) + 1
            if r.status_code != 429:
                break
            time.sleep(min(float(r.headers.get("Retry-After", "1") or 1), 30))
        return r.status_code

    def next_shift(self, n: int) -> tuple[str, dict[str, Any]]:
        trust = self.rng.choice(self.trusts)
        group, grades, wards = self.rng.choice(_ROLES)
        _label, hour, minute, hours = self.rng.choice(_PATTERNS)
        day = date.today() + timedelta(days=1 + self.rng.randint(0, 27))  # includes weekends
        start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)
        shift_id = f"S{self.run_id}-{n}"
        payload = shift_created(
            shift_id, trust, start, hours, grade=self.rng.choice(grades), ward=self.rng.choice(wards), staff_group=group
        )
        return trust, payload

    def _requester(self, trust: str, shift: dict[str, Any], *, only_trust: bool) -> dict[str, Any] | None:
        """Worker fields of a request by a nurse of the demo's workforce, or None (no workforce, a shift no
        registered nurse takes, or nobody ready yet)."""
        if self.workforce is None or shift.get("staff_group") not in _NMC_GROUPS:
            return None
        band = _band(str(shift.get("grade") or ""))
        nurse = self.workforce.pick(self.rng, trust=trust, band=band, only_trust=only_trust)
        if nurse is None:
            return None
        return {
            "nmc": nurse.number,
            "trust": nurse.trust,
            "grade": f"Band {nurse.band}",
            "name": nurse.name,
            "staff_group": "Registered Nursing",
        }

    def batch(self) -> None:
        n = next(self.seq)
        trust, shift = self.next_shift(n)
        self.post(trust, shift)
        shift_id = shift["data"]["shift_id"]
        medical = shift["data"]["staff_group"] == "Medical"
        for i in range(1 + n % 2):  # every other shift gets a second request, which loses
            at = datetime.now(UTC)
            nurse = self._requester(trust, shift["data"], only_trust=True)
            if nurse is not None:  # a bank nurse of this trust, known to the hub through ESR
                payload = booking_requested(
                    f"B{self.run_id}-{n}-{i}",
                    shift_id,
                    trust,
                    nurse["nmc"],
                    at,
                    grade=nurse["grade"],
                    staff_group=nurse["staff_group"],
                )
                payload["data"]["worker"]["name"] = nurse["name"]
                self.post(trust, payload)
                continue
            if self.workforce is not None and self.rng.random() < 2 / 3:
                continue  # in the demo's market most shifts no registered nurse takes get no request at all
            reg = gmc_number(self.rng) if medical else nmc_pin(self.rng)
            payload = booking_requested(
                f"B{self.run_id}-{n}-{i}",
                shift_id,
                trust,
                None if medical else reg,
                at,
                gmc=reg if medical else None,
                grade=shift["data"]["grade"],
                staff_group=shift["data"]["staff_group"],
            )
            self.post(trust, payload)
        self.book_offered(n)
        self.timesheets()
        if self.malformed_every and n % self.malformed_every == 0:
            self.post(trust, b'{"event": "shift.created", "data": {"shift_id": ')

    def book_offered(self, n: int) -> None:
        """Now and then a nurse asks for a shift the hub offered to Patchwork (a partner platform's shift, or a
        Patchwork shift released to the collaborative bank), naming it by its hub id, through their own bank."""
        if self.platform is None or self.workforce is None or self.rng.random() < 0.4:
            return
        offered = sorted(sid for sid in self.platform.open_shifts() if sid not in self.asked)
        candidates = [
            sid
            for sid in offered
            if (copy := self.platform.shift(sid)) is not None and copy.detail.get("staff_group") in _NMC_GROUPS
        ]
        if not candidates:
            return
        hub_shift_id = self.rng.choice(candidates)
        self.asked.add(hub_shift_id)
        host = hub_shift_id.split(":")[1] if hub_shift_id.count(":") >= 2 else None
        copy = self.platform.shift(hub_shift_id)
        nurse = self._requester(host or "", copy.detail if copy else {}, only_trust=False)
        if nurse is None:
            return
        payload = booking_requested(
            f"B{self.run_id}-{n}-x",
            None,
            nurse["trust"],
            nurse["nmc"],
            datetime.now(UTC),
            grade=nurse["grade"],
            staff_group=nurse["staff_group"],
            hub_shift_id=hub_shift_id,
        )
        payload["data"]["worker"]["name"] = nurse["name"]
        if self.post(nurse["trust"], payload) == 202 and copy is not None:
            start, end = (copy.detail.get(k) for k in ("start_time", "end_time"))
            if start and end:
                booking = payload["data"]["booking_id"]
                when = (datetime.fromisoformat(str(start)), datetime.fromisoformat(str(end)))
                self.requests[f"patchwork:{nurse['trust']}:{booking}"] = (
                    nurse["trust"],
                    booking,
                    hub_shift_id,
                    *when,
                    payload["data"]["worker"],
                )

    def timesheets(self, now: datetime | None = None) -> int:
        """The worker's timesheet, and the ward's approval (one or two steps), for every booking Patchwork holds
        confirmed whose shift has ended: clocked in on time, out up to 20 minutes late. Returns how many sent."""
        if self.platform is None:
            return 0
        now = now or datetime.now(UTC)
        sent = 0
        for hub_id, (trust, booking, shift, start, end, worker) in sorted(self.requests.items()):
            if hub_id in self.timesheets_sent or self.platform.bookings.get(hub_id) != "confirmed" or end > now:
                continue
            self.timesheets_sent.add(hub_id)
            out = end + timedelta(minutes=self.rng.choice((0, 5, 10, 20)))
            ts = f"TS{booking}"
            brk = 60 if (end - start) > timedelta(hours=8) else 30
            self.post(
                trust,
                timesheet_submitted(
                    ts, booking, trust, start, out, worker=worker, break_minutes=brk, hub_shift_id=shift
                ),
            )
            hours = f"{((out - start).total_seconds() / 60 - brk) / 60:.2f}"
            for step in range(1, self.approval_steps + 1):
                at = out + timedelta(hours=step)
                self.post(
                    trust,
                    timesheet_approved(
                        ts, booking, trust, hours, at, step=step, of=self.approval_steps, hub_shift_id=shift
                    ),
                )
            sent += 1
        return sent


#: Patchwork event of a hub update -> platform state operation
UPDATE_OPS: dict[str, Op] = {
    "shift.offered": "offer",
    "shift.withdrawn": "withdraw",
    "booking.confirmed": "confirm",
    "booking.rejected": "reject",
    "shift.filled": "fill",
    "booking.cancelled": "cancel",
    "booking.no_show": "no_show",
}


#: Patchwork event of a hub update about one of its timesheets -> the status it shows the worker and the ward
TIMESHEET_STATUS = {"timesheet.queried": "queried", "timesheet.approved": "approved"}


def apply_update(state: PlatformState, update: dict[str, Any]) -> bool:
    """Apply one hub update (the body of ``POST /webhooks/rosterhub``); False for a repeat. Pure but for ``state``."""
    data = update.get("data") or {}
    status = TIMESHEET_STATUS.get(str(update.get("event")))
    if status is not None:
        query, approval = data.get("query") or {}, data.get("approval") or {}
        return state.timesheet(
            str(update["id"]),
            f"patchwork:{data['organisation_ods']}:{data['timesheet_id']}",
            status,
            reason=query.get("reason"),
            detail=query.get("detail"),
            hours=approval.get("hours"),
        )
    op = UPDATE_OPS.get(str(update.get("event")))
    if op is None:
        raise ValueError(f"unknown update event {update.get('event')!r}")
    worker = data.get("worker") or {}
    detail = {
        k: data[k] for k in ("ward", "grade", "staff_group", "start_time", "end_time", "rate", "reasons") if k in data
    }
    return state.apply(
        str(update["id"]),
        op,
        str(data["hub_shift_id"]),
        booking_id=data.get("booking_id"),
        worker=worker.get("name") or worker.get("registration_number"),
        reopen=bool(data.get("shift_reopened")),
        **detail,
    )


def echo_of(update: dict[str, Any], shift: dict[str, Any], *, version: int) -> dict[str, Any] | None:
    """The webhook Patchwork sends back after applying a hub update to one of its own shifts: a
    ``shift.updated`` carrying the hub's reference (``data.hub_reference``), which the hub recognises
    as an echo. ``shift`` is the ``data`` of the shift's ``shift.created``; None for partner shifts."""
    data = update.get("data") or {}
    if not data.get("shift_id"):
        return None
    status = {"shift.filled": "filled", "booking.no_show": "no_show"}.get(str(update.get("event")))
    if update.get("event") == "booking.cancelled":
        status = "open" if data.get("shift_reopened") else "cancelled"
    if status is None:
        return None
    return {
        "event": "shift.updated",
        "id": f"evt-{data['shift_id']}-v{version}",
        "api_version": "2025-11-01",
        "created_at": datetime.now(UTC).isoformat(),
        "data": {
            **shift,
            "version": version,
            "status": status,
            "changed_fields": ["status"],
            "hub_reference": data.get("hub_reference") or update.get("id"),
        },
    }


def create_patchwork_platform(secret: bytes, state: PlatformState | None = None) -> FastAPI:
    """The Patchwork side that *receives* the hub's signed updates and keeps its own view of shifts.

    ``app.state.platform`` is the :class:`PlatformState`; ``app.state.shifts`` holds the
    ``shift.created`` data of Patchwork's own shifts (tests register them), and ``app.state.outbox``
    the echo webhooks Patchwork would send back to the hub (:func:`echo_of`).
    """
    app = FastAPI(title="simulated Patchwork platform")
    app.state.platform = platform = state or PlatformState()
    own: dict[str, dict[str, Any]] = {}
    app.state.shifts = own
    app.state.outbox = outbox = []

    @app.post("/webhooks/rosterhub", status_code=204)
    async def receive(body: bytes = Depends(signed_body(secret))) -> None:
        try:
            update = json.loads(body)
            fresh = apply_update(platform, update)
        except (ValueError, KeyError, TypeError) as exc:
            raise HTTPException(422, f"not an update Patchwork understands: {exc}") from exc
        local = str((update.get("data") or {}).get("shift_id") or "")
        if fresh and local in own:
            own[local]["version"] = int(own[local].get("version", 1)) + 1
            echo = echo_of(update, own[local], version=own[local]["version"])
            if echo is not None:
                outbox.append(echo)

    @app.get("/timesheets")
    async def list_timesheets() -> dict[str, Any]:
        return dict(platform.timesheets)

    @app.get("/shifts")
    async def list_shifts() -> dict[str, Any]:
        return {
            sid: {"status": s.status, "booking_id": s.booking_id, "filled_by": s.filled_by}
            for sid, s in platform.shifts.items()
        }

    return app


def register_cli(group: typer.Typer) -> None:
    @group.command("patchwork")
    def simulate_patchwork(
        target: str = typer.Option("http://127.0.0.1:8080", help="The hub's ingress base URL."),
        secrets: str = typer.Option(
            ...,
            envvar="PATCHWORK_WEBHOOK_SECRETS",
            help="Each trust's HMAC secret, as in the hub's webhook_secrets.patchwork: RHQ=s1,RCU=s2.",
        ),
        count: int = typer.Option(0, help="Batches to send (0: until Ctrl-C)."),
        interval: float = typer.Option(1.0, help="Seconds between batches."),
        seed: int = typer.Option(7, help="Random seed (same seed, same traffic)."),
    ) -> None:
        """Send realistic signed Patchwork-style webhooks (shifts, booking requests) for N trusts to the hub."""
        by_trust = dict(pair.split("=", 1) for pair in secrets.split(",") if "=" in pair)
        if not by_trust:
            raise typer.BadParameter("give TRUST=SECRET pairs, e.g. RHQ=s1,RCU=s2", param_hint="--secrets")
        keys = {t.strip().upper(): s.strip().encode() for t, s in by_trust.items()}
        sim = PatchworkSimulator(target, keys, tuple(keys), seed)
        for n in itertools.count(1):
            if count and n > count:
                break
            sim.batch()
            time.sleep(interval)
        typer.echo(f"responses by status: {sim.sent}")


def demo_source(ctx: Any) -> Any:
    """Patchwork in ``rosterhub run``: webhooks to the ingress, a malformed one every third batch."""
    import secrets as random_secrets
    from contextlib import ExitStack

    from rosterhub.connectors.simulators.serving import serving
    from rosterhub.demo import DemoSource, free_port

    signing = {t: s.encode() for t, s in ctx.secrets.get("patchwork", {}).items() if t in ctx.trusts}
    if not signing:
        return None
    secret = random_secrets.token_hex(16)  # the platform's own secret for the hub's updates to it
    platform = PlatformState()
    sim = PatchworkSimulator(
        ctx.ingress,
        signing,
        tuple(t for t in ctx.trusts if t in signing),
        ctx.seed,
        malformed_every=3,
        workforce=getattr(ctx, "workforce", None),
        platform=platform,
    )
    stack = ExitStack()  # the platform side, receiving the hub's signed updates
    url = stack.enter_context(serving(create_patchwork_platform(secret.encode(), platform), free_port()))
    destinations = [
        {"name": f"patchwork-{t}", "trust": t, "platform": "patchwork", "url": url, "secret": secret}
        for t in ctx.trusts
    ]
    return DemoSource(
        "patchwork", sim.batch, close=stack.close, destinations=destinations, received=lambda: len(platform.applied)
    )
