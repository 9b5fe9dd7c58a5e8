"""Which worker serves which availability route (issue #16): availability's agent runs without passport, and a
worker's own open shifts (``/availability/workers/{person}/shifts``) are served by ``open-shifts``, where the passport
runs. Each worker registers the routes once and follows the view topic once; a views worker refuses the worker
route clearly, with the route's bearer token and its audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from rosterhub.auth.audit import AuditRecord
from rosterhub.auth.openapi import api_routes
from rosterhub.auth.roles import Role
from rosterhub.auth.tokens import TokenVerifier
from rosterhub.auth.web import Access, install_access
from rosterhub.kafka.access import KafkaAccess
from rosterhub.settings import Settings
from rosterhub.streams.app import create_app
from rosterhub.streams.availability import api
from rosterhub.streams.availability.readmodel import ViewStore
from tests.auth_support import Tokens

VIEWS = ["outbound", "identity", "availability", "kpi", "payroll"]  # docs/deploy.md's views workers
WORKER_ROUTE = "/availability/workers/{person}/shifts"


def _worker(tmp: Path, running: list[str] | None) -> tuple[dict[str, str], list[str]]:
    """The worker's availability routes (path -> endpoint) and the view followers it starts, for ``running``."""
    settings = Settings(state_dir=tmp) if running is None else Settings(state_dir=tmp, worker_processors=running)
    app, ctx = create_app(settings, KafkaAccess("127.0.0.1:9"))
    routes = [r for r in api_routes(ctx.web.api) if r.path.startswith("/availability")]
    paths = [r.path for r in routes]
    assert len(paths) == len(set(paths)), paths  # each route registered once on the worker
    endpoints = {r.path: getattr(r, "original_route", r).endpoint.__name__ for r in routes}
    followers = [t.__qualname__ for t in app._app_tasks if "read_model" in t.__qualname__]
    return endpoints, followers


@pytest.mark.parametrize(
    ("running", "worker_route"),
    [
        (None, "worker_shifts"),  # the default: every processor, as before
        (["booking", "passport", "open-shifts"], "worker_shifts"),  # the booking workers: no availability agent
        (["passport", "open-shifts"], "worker_shifts"),
        (VIEWS, "worker_shifts_elsewhere"),  # availability without passport: the refusal
        (["availability"], "worker_shifts_elsewhere"),
    ],
)
def test_each_worker_serves_the_shift_lists_and_the_worker_route_only_where_the_passport_is(
    tmp_path: Path, running: list[str] | None, worker_route: str
) -> None:
    endpoints, followers = _worker(tmp_path, running)
    assert endpoints == {
        "/availability/shifts": "list_shifts",
        "/availability/shifts/{shift_id}": "one_shift",
        WORKER_ROUTE: worker_route,
    }
    assert followers == ["follow_in_worker.<locals>.read_model"]  # the view topic followed once per worker


def test_a_worker_without_availability_or_open_shifts_has_no_availability_route(tmp_path: Path) -> None:
    endpoints, followers = _worker(tmp_path, ["booking", "passport"])
    assert endpoints == {} and followers == []


class _Web:
    """What :func:`api.register` uses of the worker's web server."""

    def __init__(self) -> None:
        self.routers: list[APIRouter] = []

    def include_router(self, router: APIRouter) -> None:
        self.routers.append(router)


@pytest.fixture
def views_worker(tmp_path: Path) -> tuple[TestClient, Tokens, list[AuditRecord]]:
    """The availability routes of a worker that runs availability without open-shifts, with the hub's access."""
    tokens = Tokens(tmp_path / "issuer")
    settings = Settings(state_dir=tmp_path, auth_issuers=[tokens.issuer.accepted()])
    audits: list[AuditRecord] = []

    async def write(record: AuditRecord) -> None:
        audits.append(record)

    app, web = FastAPI(), _Web()
    install_access(app, Access(TokenVerifier.from_settings(settings), "test", write))
    store = ViewStore(ready=True)
    api.register(web, store, None)  # type: ignore[arg-type]  # what register uses of a WorkerWeb
    for router in web.routers:
        app.include_router(router)
    return TestClient(app), tokens, audits


QUERY = {"staff_group": "NURSING_MIDWIFERY_REGISTERED", "grade": "BAND_5", "home_trust": "RCU"}


def test_a_views_worker_refuses_the_worker_route_naming_where_it_is_served_and_audits_it(
    views_worker: tuple[TestClient, Tokens, list[AuditRecord]],
) -> None:
    client, tokens, audits = views_worker
    answer = client.get("/availability/workers/p-1/shifts", params=QUERY, headers=tokens.caller("RCU", "bank-1"))
    assert answer.status_code == 404
    body: dict[str, Any] = answer.json()
    assert body["code"] == "not_served_here"
    assert "open-shifts" in body["message"] and "docs/deploy.md" in body["message"]
    assert [(a.resource, a.person, a.status, a.outcome) for a in audits] == [
        ("availability", "p-1", 404, "refused: not_served_here")
    ]
    # its shift lists answer here, from the worker's own view
    assert client.get("/availability/shifts", headers=tokens.caller("RCU", "bank-1")).json() == {
        "shifts": [],
        "count": 0,
    }


def test_the_refusal_keeps_the_routes_bearer_token_role_and_purpose(
    views_worker: tuple[TestClient, Tokens, list[AuditRecord]],
) -> None:
    client, tokens, _ = views_worker
    path = "/availability/workers/p-1/shifts"
    assert client.get(path, params=QUERY).status_code == 401
    assert client.get(path, params=QUERY, headers=tokens.bearer(Role.OPERATOR)).status_code == 403
    unstated = {k: v for k, v in tokens.caller("RCU", "bank-1").items() if k != "X-Rosterhub-Purpose"}
    assert client.get(path, params=QUERY, headers=unstated).status_code == 400
