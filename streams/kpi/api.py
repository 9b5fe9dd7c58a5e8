"""The KPI HTTP API (``/kpi/...``), mounted on the hub's FastAPI app by ``rosterhub.api.create_api``.

Every route answers from the process's read model of views.kpi (:mod:`.reader`), in JSON, or as CSV with
``format=csv``; ``503`` (Retry-After) until the view has been read to its end. Filters, on every route:

* ``period``: ``2026-11`` (month), ``2026-W45`` (ISO week) or ``2026-11-10`` (day); or ``from`` and ``to``
  (ISO dates, ``to`` exclusive); the Europe/London day a shift starts on decides its period;
* ``trust``, ``staff_group``, ``shift_type`` (the KPI shift type: DAY, LONG_DAY, NIGHT, WEEKEND,
  BANK_HOLIDAY, OTHER), ``grade``, ``ward``, ``site``: repeatable, any value matches.

Who may see what (:mod:`.access`) is decided from the caller's bearer token (:mod:`.viewer`). docs/kpi.md defines
every figure; docs/dashboard.md shows the page built on these routes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse

from rosterhub.codec.wire import EventCodec
from rosterhub.instants import LONDON
from rosterhub.kafka.access import KafkaAccess
from rosterhub.runtime import TopicNames
from rosterhub.streams.kpi.access import AccessDenied, Viewer, narrow, redact_matrix, trust_label
from rosterhub.streams.kpi.answers import Answers
from rosterhub.streams.kpi.board import CHART_BUILDERS
from rosterhub.streams.kpi.query import DRILL, GRAINS, GROUPS, KpiFilter, KpiQueries, period_of
from rosterhub.streams.kpi.reader import KpiReader
from rosterhub.streams.kpi.store import KpiStore
from rosterhub.streams.kpi.tables import to_csv
from rosterhub.streams.kpi.viewer import viewer_dependency

__all__ = ["KpiService", "kpi_router"]

Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]


class KpiService:
    """The read model, its questions and their held answers, shared by the routes and the Prometheus collector."""

    def __init__(self, reader: KpiReader) -> None:
        self.reader = reader
        self.queries = KpiQueries(reader.store)
        self.answers = Answers(reader.store)

    def answer(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        return self.answers.get(key, compute)

    @property
    def ready(self) -> bool:
        return self.reader.store.ready


def _set(values: list[str] | None) -> frozenset[str] | None:
    return frozenset(values) if values else None


def kpi_filter(
    period: Annotated[str | None, Query(description="2026-11, 2026-W45 or 2026-11-10")] = None,
    from_: Annotated[date | None, Query(alias="from", description="first day (ISO date)")] = None,
    to: Annotated[date | None, Query(description="day after the last (ISO date)")] = None,
    trust: Annotated[list[str] | None, Query(description="host trust ODS code(s)")] = None,
    staff_group: Annotated[list[str] | None, Query()] = None,
    shift_type: Annotated[
        list[str] | None, Query(description="DAY, LONG_DAY, NIGHT, WEEKEND, BANK_HOLIDAY, OTHER")
    ] = None,
    grade: Annotated[list[str] | None, Query()] = None,
    ward: Annotated[list[str] | None, Query()] = None,
    site: Annotated[list[str] | None, Query()] = None,
) -> KpiFilter:
    """The request's filter (the period defaults to the current Europe/London month)."""
    try:
        if period:
            start, end = period_of(period)
        elif from_ or to:
            start = from_ or date(2000, 1, 1)
            end = to or date(2100, 1, 1)
        else:
            start, end = period_of(datetime.now(UTC).astimezone(LONDON).strftime("%Y-%m"))
    except ValueError as exc:
        raise HTTPException(400, f"period={period!r}: {exc}; write 2026-11, 2026-W45 or 2026-11-10") from None
    if end <= start:
        raise HTTPException(400, f"the period is empty: from {start} to {end}")
    return KpiFilter(
        start=start,
        end=end,
        trusts=_set(trust),
        staff_groups=_set(staff_group),
        shift_types=_set(shift_type),
        grades=_set(grade),
        wards=_set(ward),
        sites=_set(site),
    )


Filter = Annotated[KpiFilter, Depends(kpi_filter)]


def _answer(rows: Any, fmt: str, name: str) -> Any:
    if fmt == "csv":
        table = rows if isinstance(rows, list) else [rows]
        return PlainTextResponse(
            to_csv(table), media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}.csv"'}
        )
    return rows


def kpi_router(
    kafka: KafkaAccess, names: TopicNames, codec: EventCodec, store: KpiStore | None = None
) -> tuple[APIRouter, KpiService]:
    """The routes and the service behind them; ``store``: a read model to use instead of a fresh one (tests)."""
    reader = KpiReader(kafka, names.kpi_view, codec, store)
    service = KpiService(reader)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(service.answers.run(), name="kpi-answers-refresh")]
        if store is None:  # a read model given by the caller (tests, benches) is fed by the caller
            tasks.append(asyncio.create_task(reader.run(), name="kpi-view-follower"))
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    router = APIRouter(prefix="/kpi", tags=["kpi"], lifespan=lifespan)
    caller = Depends(viewer_dependency(reader.store.collaborative_of))

    def allowed(viewer: Viewer, f: KpiFilter, *, detail: bool = False) -> KpiFilter:
        if not service.ready:
            raise HTTPException(503, "the KPI view is still loading; retry", headers={"Retry-After": "1"})
        try:
            return narrow(viewer, f, detail=detail)
        except AccessDenied as exc:
            raise HTTPException(403, f"{exc.code}: {exc}") from None

    @router.get("/summary", summary="Headline KPIs of a period (docs/kpi.md)")
    async def summary(f: Filter, viewer: Viewer = caller, format: Format = "json") -> Any:
        g = allowed(viewer, f)
        return _answer(service.answer(("summary", g), lambda: service.queries.summary(g)), format, "summary")

    @router.get("/series", summary="Headline KPIs per day, week or month: the trend lines")
    async def series(
        f: Filter,
        grain: Annotated[Literal["day", "week", "month"], Query()] = "month",
        format: Format = "json",
        viewer: Viewer = caller,
    ) -> Any:
        assert grain in GRAINS
        g = allowed(viewer, f)
        rows = service.answer(("series", g, grain), lambda: service.queries.series(g, grain))
        return _answer(rows, format, f"series-{grain}")

    @router.get("/split", summary="Headline KPIs per trust, staff group, shift type, tier, grade, ward...")
    async def split(
        f: Filter, viewer: Viewer = caller, by: Annotated[str, Query()] = "trust", format: Format = "json"
    ) -> Any:
        if by not in GROUPS:
            raise HTTPException(400, f"by={by!r}: one of {', '.join(GROUPS)}")
        relabel = trust_label(viewer) if by in ("trust", "home_trust") else None
        g, own = allowed(viewer, f), viewer.trust if relabel else None
        rows = service.answer(("split", g, by, own), lambda: service.queries.split(g, by, relabel))
        return _answer(rows, format, f"by-{by}")

    @router.get("/migration", summary="Worker migration: home trust x host trust, shifts and people")
    async def migration(
        f: Filter, viewer: Viewer = caller, by_shift_type: bool = False, format: Format = "json"
    ) -> Any:
        g = allowed(viewer, f)
        m = service.answer(("migration", g), lambda: service.queries.migration(g))
        cells = redact_matrix(
            viewer, m["by_shift_type" if by_shift_type else "cells"], extra=("shift_type",) if by_shift_type else ()
        )
        return _answer(cells, format, "migration")

    @router.get("/open", summary="Open shifts now (needed, unfilled, not started) per release tier")
    async def open_now(f: Filter, viewer: Viewer = caller, format: Format = "json") -> Any:
        g = allowed(viewer, f)
        rows = service.answer(("open", g), lambda: service.queries.open_now(g, datetime.now(UTC)))
        return _answer(rows, format, "open-by-tier")

    @router.get("/rejections", summary="Refused booking requests per reason code")
    async def rejections(f: Filter, viewer: Viewer = caller, format: Format = "json") -> Any:
        g = allowed(viewer, f)
        s = service.answer(("summary", g), lambda: service.queries.summary(g))
        rows = [{"reason_code": k, "rejections": v} for k, v in s["rejections_by_reason"].items()]
        return _answer(rows, format, "rejections-by-reason")

    @router.get("/break-glass", summary="Break-glass fills and who authorised each (staff user ids)")
    async def break_glass(f: Filter, viewer: Viewer = caller, format: Format = "json") -> Any:
        g = allowed(viewer, f, detail=True)
        return _answer(
            service.answer(("break-glass", g), lambda: service.queries.break_glass(g)), format, "break-glass"
        )

    _detail_routes(router, service, allowed, caller)
    return router, service


def _detail_routes(router: APIRouter, service: KpiService, allowed: Callable[..., KpiFilter], caller: Any) -> None:
    """The drill-down, the charts and the live stream (beside the figures' routes of :func:`kpi_router`)."""

    @router.get("/shifts", summary="The shifts behind a figure: shift and booking ids, never names")
    async def shifts(
        f: Filter,
        metric: Annotated[str, Query()] = "filled",
        limit: Annotated[int, Query(ge=1, le=5000)] = 200,
        offset: Annotated[int, Query(ge=0)] = 0,
        format: Format = "json",
        viewer: Viewer = caller,
    ) -> Any:
        if metric not in DRILL:
            raise HTTPException(400, f"metric={metric!r}: one of {', '.join(DRILL)}")
        answer = service.queries.shifts(allowed(viewer, f, detail=True), metric, limit, offset)
        return _answer(answer["shifts"] if format == "csv" else answer, format, f"shifts-{metric}")

    @router.get("/charts/{name}", summary="A dashboard chart as a Vega-Lite specification (data inline)")
    async def chart(name: str, f: Filter, viewer: Viewer = caller) -> dict[str, Any]:
        builder = CHART_BUILDERS.get(name)
        if builder is None:
            raise HTTPException(404, f"no chart {name!r}; charts: {', '.join(CHART_BUILDERS)}")
        g = allowed(viewer, f)
        spec: dict[str, Any] = service.answer(
            ("chart", name, g, viewer.role, viewer.trust), lambda: builder(service.queries, viewer, g)
        )
        return spec

    @router.get("/stream", summary="Server-sent events: 'change' whenever the figures changed (and are ready)")
    async def stream(request: Request, viewer: Viewer = caller) -> StreamingResponse:
        async def events() -> AsyncIterator[str]:
            version = -1
            yield "retry: 1000\n\n"
            while not await request.is_disconnected():
                now = await service.answers.changed(version, timeout=15)
                if now != version:
                    version = now
                    yield f"event: change\ndata: {json.dumps({'version': now, 'ready': service.ready})}\n\n"
                else:
                    yield ": keep-alive\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
