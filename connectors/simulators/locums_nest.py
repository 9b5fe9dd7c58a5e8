"""A simulated Locum's Nest-style platform over real HTTP: the feed the hub polls, and the
endpoints that take the hub's updates back (docs/vendors/locums_nest.md).

Vendor endpoints (``Authorization: Bearer <api key>``; a key covers one or more organisations):

* ``GET /api/v2/changes?cursor=|since=&limit=&organisation=`` — the cursor-paged change feed,
  with ``X-Next-Cursor``/``X-Has-More`` and ``X-RateLimit-*`` headers, ``429`` + ``Retry-After``
  over the rate limit, ``410`` for an expired cursor;
* ``GET /api/v2/shifts/{id}``, ``POST /api/v2/shifts/{id}/fill``, ``POST /api/v2/bookings/{id}/decline``.

Simulator controls (not part of the vendor format): ``GET /_sim/state``, ``POST /_sim/faults``
(``{"kind": ..., "organisation": ..., "count": ...}``), ``POST /_sim/generate``.

Faults, each consumed by the next feed request(s) of the organisation: ``error_500``,
``slow`` (answers after ``delay_s``), ``rate_limit`` (429 with ``Retry-After``),
``expire_cursor`` (410), ``malformed`` (the page cut in half), ``missing_fields`` (no
``changes``/``next_cursor``), ``wrong_content_type`` (``text/html``), ``bad_encoding``
(UTF-16), ``repeat`` (the previous page again, byte for byte), ``overlap`` (the page starts
``overlap`` changes before the cursor). Every feed answer is logged in ``served`` so tests
can measure waits and compare dead letters with the bytes that were sent.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, cast

import typer
import uvicorn
from fastapi import FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, Response

from rosterhub.connectors.simulators.locums_nest_platform import Organisation, Platform, PlatformError, organisations
from rosterhub.connectors.simulators.serving import serving

__all__ = ["FAULTS", "Fault", "LocumsNestSimulator", "Served", "register_cli"]

FAULTS = frozenset(
    {
        "error_500",
        "slow",
        "rate_limit",
        "expire_cursor",
        "malformed",
        "missing_fields",
        "wrong_content_type",
        "bad_encoding",
        "repeat",
        "overlap",
    }
)


@dataclass
class Fault:
    kind: str
    organisation: str | None = None  # None: the next feed request of any organisation
    count: int = 1
    delay_s: float = 3.0  # slow
    retry_after: int = 2  # rate_limit
    overlap: int = 2  # overlap


@dataclass(frozen=True, slots=True)
class Served:
    """One feed request as answered: for tests (timing, bytes of faulty pages)."""

    at: float  # time.monotonic()
    organisation: str | None
    status: int
    cursor: str | None
    fault: str | None
    body: bytes
    change_ids: tuple[int, ...] = ()


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _unauthorised() -> JSONResponse:
    return _error(401, "unauthorised", "a valid API key is required (Authorization: Bearer <key>)")


def _not_covered(ods: str) -> JSONResponse:
    return _error(403, "forbidden", f"this key does not cover organisation {ods}")


def _refused(exc: PlatformError) -> JSONResponse:
    """A request the platform refuses, answered as its API answers it."""
    return _error(exc.status, exc.code, exc.message)


class LocumsNestSimulator:
    """The platform plus its HTTP API. ``app`` is a FastAPI app; :meth:`running` serves it in a thread."""

    def __init__(
        self,
        trusts: int | list[str] = 3,
        *,
        seed: int = 0,
        initial_changes: int = 20,
        changes_per_minute: float = 0.0,
        rate_limit: int = 120,
        rate_window_s: float = 60.0,
        retry_after_http_date: bool = False,
        api_keys: dict[str, list[str]] | None = None,
    ) -> None:
        if isinstance(trusts, int):
            orgs = organisations(trusts)
        else:
            named = {o.ods_code: o for o in organisations(6)}
            orgs = [
                named.get(c) or Organisation(c, f"{c} Hospitals NHS Trust", ((f"{c}01", f"{c} Hospital"),))
                for c in trusts
            ]
        self.platform = Platform(orgs, seed=seed)
        self.organisations = [o.ods_code for o in orgs]
        for ods in self.organisations:
            self.platform.generate(ods, initial_changes)
        self.api_keys = api_keys or {
            **{f"ln_sim_{ods.lower()}": [ods] for ods in self.organisations},
            "ln_sim_network": list(self.organisations),
        }
        self.changes_per_minute = changes_per_minute
        self.rate_limit, self.rate_window_s = rate_limit, rate_window_s
        self.retry_after_http_date = retry_after_http_date
        self.faults: list[Fault] = []
        self.served: deque[Served] = deque(maxlen=100_000)
        self._windows: dict[str, tuple[float, int]] = {}
        self._last_page: dict[str, tuple[bytes, dict[str, str], tuple[int, ...]]] = {}
        self._started = time.monotonic()
        self._generated = dict.fromkeys(self.organisations, 0)
        self._lock = threading.Lock()
        self.app = self._build_app()

    # --- for tests and the hub runner -------------------------------------------------------------------
    def key_for(self, ods: str) -> str:
        return next(k for k, orgs in self.api_keys.items() if orgs == [ods])

    def connector_options(self, base_url: str, **extra: Any) -> dict[str, Any]:
        """Options for the ``locums_nest`` connector reading this simulator, one key per trust."""
        trusts = {ods: {"api_key": self.key_for(ods)} for ods in self.organisations}
        return {"base_url": base_url, "trusts": trusts, **extra}

    def inject(self, kind: str, *, organisation: str | None = None, count: int = 1, **params: Any) -> Fault:
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(sorted(FAULTS))}")
        fault = Fault(kind, organisation, count, **params)
        with self._lock:
            self.faults.append(fault)
        return fault

    def running(self, port: int, host: str = "127.0.0.1") -> AbstractContextManager[str]:
        """Serve the platform in a thread: the base URL once it answers; stopped on exit."""
        return serving(self.app, port, host)

    # --- internals ----------------------------------------------------------------------------------------
    def _take_fault(self, ods: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.count > 0 and fault.organisation in (None, ods):
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _admit(self, key: str) -> tuple[bool, dict[str, str], float]:
        """Fixed window per API key: (allowed, rate headers, seconds until the window resets)."""
        with self._lock:
            now = time.monotonic()
            start, used = self._windows.get(key, (now, 0))
            if now - start >= self.rate_window_s:
                start, used = now, 0
            reset = self.rate_window_s - (now - start)
            allowed = used < self.rate_limit
            if allowed:
                used += 1
            self._windows[key] = (start, used)
        headers = {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(self.rate_limit - used),
            "X-RateLimit-Reset": str(math.ceil(reset)),
        }
        return allowed, headers, reset

    def _retry_after(self, seconds: float) -> str:
        if self.retry_after_http_date:  # HTTP-date has whole seconds: round up so the client never comes early
            return format_datetime(datetime.now(UTC) + timedelta(seconds=math.ceil(seconds) + 1), usegmt=True)
        return str(math.ceil(seconds))

    def _generate_due(self) -> None:
        if self.changes_per_minute <= 0:
            return
        due = int((time.monotonic() - self._started) * self.changes_per_minute / 60)
        for ods in self.organisations:
            if due > self._generated[ods]:
                self.platform.generate(ods, due - self._generated[ods])
                self._generated[ods] = due
        self.platform.submit_timesheets()  # doctors whose booked shift is over submit their hours

    def _rewound(self, ods: str, cursor: str | None, by: int) -> str | None:
        after = int(cursor.removeprefix("chg_")) if cursor and cursor.startswith("chg_") else 0
        ids = [c["change_id"] for c in self.platform.changes(ods)]
        index = next((i for i, cid in enumerate(ids) if cid > after), len(ids))
        back = index - by
        return f"chg_{ids[back - 1]}" if back > 0 else None

    def _log(
        self,
        ods: str | None,
        status: int,
        cursor: str | None,
        fault: str | None,
        body: bytes = b"",
        ids: tuple[int, ...] = (),
    ) -> None:
        self.served.append(Served(time.monotonic(), ods, status, cursor, fault, body, ids))

    def _authorise(self, authorization: str | None) -> list[str] | None:
        scheme, _, key = (authorization or "").partition(" ")
        return self.api_keys.get(key.strip()) if scheme.lower() == "bearer" else None

    async def _feed(
        self, authorization: str | None, cursor: str | None, since: str | None, limit: int, organisation: str | None
    ) -> Response:
        orgs = self._authorise(authorization)
        if orgs is None:
            self._log(None, 401, cursor, None)
            return _unauthorised()
        ods = organisation.strip().upper() if organisation else (orgs[0] if len(orgs) == 1 else None)
        if ods is None:
            return _error(400, "organisation_required", "this key covers several organisations: name one")
        if ods not in orgs:
            self._log(ods, 403, cursor, None)
            return _not_covered(ods)
        allowed, rate, reset = self._admit(authorization or "")
        if not allowed:
            self._log(ods, 429, cursor, None)
            return _error(429, "rate_limited", "too many requests", {**rate, "Retry-After": self._retry_after(reset)})
        fault = self._take_fault(ods)
        kind = fault.kind if fault else None
        if fault and kind == "rate_limit":
            self._log(ods, 429, cursor, kind)
            retry = {
                **rate,
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(fault.retry_after),
                "Retry-After": self._retry_after(fault.retry_after),
            }
            return _error(429, "rate_limited", "too many requests", retry)
        if kind == "error_500":
            self._log(ods, 500, cursor, kind)
            return _error(500, "internal_error", "something went wrong on our side")
        if fault and kind == "slow":
            await asyncio.sleep(fault.delay_s)
        if kind == "expire_cursor" and cursor:
            self._log(ods, 410, cursor, kind)
            return _error(410, "cursor_expired", f"cursor {cursor} is no longer served; restart with since")
        self._generate_due()
        asked = self._rewound(ods, cursor, fault.overlap) if fault and kind == "overlap" else cursor
        try:
            page = self.platform.page(ods, cursor=asked, since=since if asked is None else None, limit=limit)
        except PlatformError as exc:
            self._log(ods, exc.status, cursor, kind)
            return _error(exc.status, exc.code, exc.message, rate)
        ids = tuple(c["change_id"] for c in page["changes"])
        body = json.dumps(page, ensure_ascii=False).encode()
        headers = {"X-Next-Cursor": page["next_cursor"], "X-Has-More": str(page["has_more"]).lower()}
        if kind == "repeat" and ods in self._last_page:
            body, headers, ids = self._last_page[ods]
        elif kind is None or kind in ("slow", "overlap"):
            self._last_page[ods] = (body, headers, ids)
        content_type = "application/json; charset=utf-8"
        if kind == "malformed":
            body = body[: len(body) // 2]
        elif kind == "missing_fields":
            body = json.dumps({k: v for k, v in page.items() if k not in ("changes", "next_cursor")}).encode()
        elif kind == "wrong_content_type":
            content_type = "text/html; charset=utf-8"
        elif kind == "bad_encoding":
            body = body.decode().encode("utf-16")
        self._log(ods, 200, cursor, kind, body, ids)
        return Response(body, 200, headers={**headers, **rate, "Content-Type": content_type})

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="rosterhub simulated Locum's Nest-style platform")
        platform = self.platform
        # a refusal from the platform is its API's error answer, whichever route asked
        app.add_exception_handler(PlatformError, lambda _request, exc: _refused(cast(PlatformError, exc)))

        @app.get("/api/v2/changes")
        async def changes(
            authorization: str | None = Header(None),
            cursor: str | None = None,
            since: str | None = None,
            limit: int = Query(50, ge=1, le=500),
            organisation: str | None = None,
        ) -> Response:
            return await self._feed(authorization, cursor, since, limit, organisation)

        def check(authorization: str | None, shift_or_booking_org: str | None = None) -> JSONResponse | None:
            """Why the caller is refused: no valid API key, or (an organisation named) a key not covering it."""
            orgs = self._authorise(authorization)
            if orgs is None:
                return _unauthorised()
            if shift_or_booking_org is not None and shift_or_booking_org not in orgs:
                return _not_covered(shift_or_booking_org)
            return None

        @app.get("/api/v2/shifts/{shift_id}")
        async def get_shift(shift_id: int, authorization: str | None = Header(None)) -> Any:
            ods, shift = platform.shift(shift_id)
            return check(authorization, ods) or shift

        @app.post("/api/v2/shifts/{shift_id}/fill")
        async def fill(
            shift_id: int,
            request: Request,
            authorization: str | None = Header(None),
            idempotency_key: str = Header(...),
        ) -> Any:
            refused = check(authorization, platform.shift(shift_id)[0])
            return refused or platform.fill(shift_id, await request.json(), idempotency_key)

        async def hub_update(authorization: str | None, key: str, call: Callable[[], Any]) -> Any:
            """``call()``'s answer for a caller with an API key."""
            return check(authorization) or call()

        def hub_route(method: str, path: str, update: Callable[[str, Any, str], Any]) -> None:
            """``<method> <path>``: the JSON body given to ``update(<path's item_id>, body, idempotency key)``."""

            @app.api_route(path, methods=[method], name=f"{method} {path}")
            async def route(
                item_id: str,
                request: Request,
                authorization: str | None = Header(None),
                idempotency_key: str = Header(...),
            ) -> Any:
                body = await request.json()
                return await hub_update(authorization, idempotency_key, lambda: update(item_id, body, idempotency_key))

        hub_route("POST", "/api/v2/bookings/{item_id}/decline", platform.decline)
        hub_route("PUT", "/api/v2/external_shifts/{item_id}", platform.external)

        @app.post("/api/v2/external_shifts/{hub_shift_id}/withdraw")
        async def withdraw(
            hub_shift_id: str, authorization: str | None = Header(None), idempotency_key: str = Header(...)
        ) -> Any:
            return await hub_update(
                authorization,
                idempotency_key,
                lambda: platform.external(hub_shift_id, {}, idempotency_key, withdraw=True),
            )

        def hub_operations(resource: str, ops: tuple[str, ...], update: Callable[..., Any], id_type: type) -> None:
            """``POST /api/v2/<resource>/{id}/{op}``: one of ``ops`` the hub asks of a shift, booking or timesheet."""

            @app.post(f"/api/v2/{resource}/{{item_id}}/{{op}}", name=f"{resource}_operation")
            async def operation(
                item_id: str,
                op: str,
                request: Request,
                authorization: str | None = Header(None),
                idempotency_key: str = Header(...),
            ) -> Any:
                if op not in ops:
                    return _error(404, "not_found", f"no operation {op!r} on {resource}")
                try:
                    own_id = id_type(item_id)
                except ValueError:
                    return _error(422, "invalid_id", f"{item_id!r} is not an id of {resource}")
                body = await request.json()
                return await hub_update(
                    authorization, idempotency_key, lambda: update(own_id, op, body, idempotency_key)
                )

        hub_operations("shifts", ("unfill", "no_show"), platform.own_shift_update, int)
        hub_operations("bookings", ("confirm", "cancel"), platform.booking_update, str)
        hub_operations("timesheets", ("query", "approve"), platform.timesheet_update, str)

        @app.get("/_sim/state")
        async def state() -> dict[str, Any]:
            orgs = {
                ods: {"changes": len(platform.changes(ods)), "last_change_id": platform.last_change_id}
                for ods in self.organisations
            }
            return {
                "organisations": orgs,
                "fills": list(platform.fills.values()),
                "declines": list(platform.declines.values()),
                "repeats": platform.repeats,
                "requests": len(self.served),
                "faults": [asdict(f) for f in self.faults],
            }

        @app.post("/_sim/faults", status_code=201)
        async def add_fault(request: Request) -> Any:
            spec = await request.json()
            try:
                return asdict(self.inject(spec.pop("kind", ""), **spec))
            except (TypeError, ValueError) as exc:
                return _error(400, "bad_fault", str(exc))

        @app.post("/_sim/generate", status_code=201)
        async def generate(request: Request) -> Any:
            spec = await request.json()
            count = int(spec.get("count", 1))
            targets = [spec["organisation"]] if spec.get("organisation") else self.organisations
            return {"changes": [c for ods in targets for c in platform.generate(ods, count)]}

        return app


def register_cli(group: typer.Typer) -> None:
    @group.command("locums_nest")
    def simulate_locums_nest(
        trusts: int = typer.Option(3, "--trusts", min=1, help="How many trusts (organisations) the platform serves."),
        port: int = typer.Option(8094, help="Port."),
        host: str = typer.Option("127.0.0.1", help="Bind address."),
        seed: int = typer.Option(0, help="Same seed, same traffic."),
        initial: int = typer.Option(20, help="Changes per trust already on the feed at start."),
        rate: float = typer.Option(30.0, help="New changes per minute per trust."),
        rate_limit: int = typer.Option(120, help="Feed requests allowed per API key per window."),
        rate_window: float = typer.Option(60.0, help="Rate-limit window in seconds."),
    ) -> None:
        """A simulated Locum's Nest-style platform: a cursor-paged changes feed to poll, and fill/decline endpoints."""
        sim = LocumsNestSimulator(
            trusts,
            seed=seed,
            initial_changes=initial,
            changes_per_minute=rate,
            rate_limit=rate_limit,
            rate_window_s=rate_window,
        )
        options = sim.connector_options(f"http://{host}:{port}")
        typer.echo("connector options (ROSTERHUB_CONNECTORS):")
        typer.echo(json.dumps({"locums_nest": options}))
        uvicorn.run(sim.app, host=host, port=port, log_level="warning")


def registered_doctors(sim: LocumsNestSimulator) -> list[Any]:
    """Every organisation's doctors, as the demo's workforce sees them (rosterhub.demo_market)."""
    from rosterhub.demo_market import DemoWorker

    return [
        DemoWorker(ods, d["gmc_digits"], f"Dr {d['first_name']} {d['last_name']}", 0, register="gmc")
        for ods, state in list(sim.platform.orgs.items())
        for d in list(state.doctors.values())
    ]


def demo_source(ctx: Any) -> Any:
    """Locum's Nest in ``rosterhub run``: the simulated API in a thread, polled by `rosterhub connect`."""
    from contextlib import ExitStack

    from rosterhub.demo import DemoSource, free_port

    sim = LocumsNestSimulator(list(ctx.trusts), seed=ctx.seed, initial_changes=10, changes_per_minute=30)
    stack = ExitStack()
    url = stack.enter_context(sim.running(free_port()))
    workforce = getattr(ctx, "workforce", None)
    if workforce is not None:  # its registered doctors get their trust's checks from the demo's VC wallet
        workforce.add_source(lambda: registered_doctors(sim))
    destinations = [
        {"name": f"locums_nest-{ods}", "trust": ods, "platform": "locums_nest", "url": url, "secret": sim.key_for(ods)}
        for ods in sim.organisations
    ]
    return DemoSource(
        "locums_nest",
        lambda: None,
        sim.connector_options(url, poll_interval_s=2),
        stack.close,
        destinations=destinations,
    )
