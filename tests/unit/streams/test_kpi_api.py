"""The /kpi routes over a read model of a generated month: JSON, CSV, charts, who sees what, metrics."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest

from rosterhub.auth.roles import Role
from rosterhub.auth.tokens import TokenVerifier
from rosterhub.auth.web import Access, install_access
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.dashboard.router import mount_dashboard
from rosterhub.kafka.access import KafkaAccess
from rosterhub.runtime import TopicNames
from rosterhub.settings import Settings
from rosterhub.streams.booking.policy import load_booking_policies
from rosterhub.streams.kpi.api import kpi_router
from rosterhub.streams.kpi.metrics import KpiCollector
from rosterhub.streams.kpi.policy import load_kpi_policies
from rosterhub.streams.kpi.query import KpiFilter, KpiQueries, period_of
from tests.auth_support import Tokens
from tests.kpi_pure import run_pure
from tests.kpi_traffic import generate

REPO = Path(__file__).resolve().parents[3]
COLLAB = "south-yorkshire-bassetlaw"
TOKENS = Tokens(Path(tempfile.mkdtemp(prefix="kpi-api-issuer-")))
PM = {"Authorization": "Bearer " + TOKENS.issuer.mint("pm-1", [Role.PROGRAMME_MANAGER], collaborative=COLLAB)}
LEAD = TOKENS.bearer(Role.WORKFORCE_LEAD, "RCU", subject="wl-rcu")  # no collaborative claim: RCU's is found


@pytest.fixture(scope="module")
def client() -> TestClient:
    policies = load_kpi_policies([REPO / "policies/kpi"], load_booking_policies([REPO / "policies/booking"]))
    store, _ = run_pure(generate(shifts_per_trust_day=4).delivered(), policies)
    store.ready = True
    router, service = kpi_router(
        KafkaAccess("127.0.0.1:9"), TopicNames(), SingleObjectCodec(default_catalogue()), store
    )
    app = kpi_app(router)
    app.state.service = service
    return TestClient(app)  # no lifespan: the store is filled already, nothing follows Kafka


def kpi_app(router: Any) -> FastAPI:
    """The KPI routes and the dashboard on an app that verifies this module's tokens, as create_api's does."""
    app = FastAPI()
    settings = TOKENS.accepting(Settings())
    install_access(app, Access(TokenVerifier.from_settings(settings), "test"))
    app.include_router(router)
    mount_dashboard(app)
    return app


def test_the_caller_needs_a_token_with_a_kpi_role(client: TestClient) -> None:
    assert client.get("/kpi/summary", params={"period": "2026-10"}).status_code == 401
    other = TOKENS.bearer(Role.TRUST_USER, "RHQ")
    assert client.get("/kpi/summary", params={"period": "2026-10"}, headers=other).status_code == 403
    nameless = TOKENS.bearer(Role.PROGRAMME_MANAGER)  # a programme manager's token naming no collaborative
    assert client.get("/kpi/summary", params={"period": "2026-10"}, headers=nameless).status_code == 422
    elsewhere = {"Authorization": "Bearer " + TOKENS.issuer.mint("pm-2", [Role.PROGRAMME_MANAGER], collaborative="x")}
    assert client.get("/kpi/summary", params={"period": "2026-10"}, headers=elsewhere).json()["shifts_posted"] == 0


def test_summary_json_is_the_queries_answer_and_csv_has_the_same_figures(client: TestClient) -> None:
    answer = client.get("/kpi/summary", params={"period": "2026-10"}, headers=PM)
    assert answer.status_code == 200
    expected = KpiQueries(client.app.state.service.reader.store).summary(
        KpiFilter(*period_of("2026-10"), collaborative=COLLAB)
    )
    assert answer.json() == {**expected, "time_to_fill": answer.json()["time_to_fill"]}
    assert answer.json()["shifts_posted"] == expected["shifts_posted"] > 0
    text = client.get("/kpi/summary", params={"period": "2026-10", "format": "csv"}, headers=PM)
    assert text.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(text.text)))
    assert row["shifts_filled"] == str(expected["shifts_filled"]) and row["agency_spend"] == expected["agency_spend"]
    assert "time_to_fill.p50_s" in row


def test_a_workforce_lead_sees_their_trust_and_the_collaborative_aggregates_only(client: TestClient) -> None:
    split = client.get("/kpi/split", params={"period": "2026-10", "by": "trust"}, headers=LEAD).json()
    assert [r["trust"] for r in split] == ["OTHER_TRUSTS", "RCU"]
    whole = client.get("/kpi/summary", params={"period": "2026-10"}, headers=LEAD).json()
    assert whole["shifts_posted"] == sum(r["shifts_posted"] for r in split)
    refused = client.get("/kpi/summary", params={"period": "2026-10", "trust": "RHQ"}, headers=LEAD)
    assert refused.status_code == 403 and "other_trust" in refused.text
    drill = client.get("/kpi/shifts", params={"period": "2026-10", "metric": "filled"}, headers=LEAD).json()
    assert drill["total"] > 0 and {s["host_trust"] for s in drill["shifts"]} == {"RCU"}
    cells = client.get("/kpi/migration", params={"period": "2026-10"}, headers=LEAD).json()
    assert {c["home_trust"] for c in cells} <= {"RCU", "OTHER_TRUSTS", "UNKNOWN"}


def test_drill_down_shows_ids_never_names_or_people(client: TestClient) -> None:
    drill = client.get("/kpi/shifts", params={"period": "2026-10", "metric": "agency"}, headers=PM).json()
    assert drill["shifts"] and all(s["booking_id"] for s in drill["shifts"])
    text = client.get("/kpi/shifts", params={"period": "2026-10", "metric": "filled", "limit": 5000}, headers=PM).text
    assert "Never Shown" not in text and "A Name" not in text and "p-rhq" not in text


def test_every_chart_is_a_vega_lite_spec_with_its_data_inline(client: TestClient) -> None:
    from rosterhub.streams.kpi.board import CHART_BUILDERS

    for name in CHART_BUILDERS:
        spec = client.get(f"/kpi/charts/{name}", params={"period": "2026-10"}, headers=PM).json()
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/"), name
        assert "url" not in spec["data"] and isinstance(spec["data"]["values"], list), name
    assert client.get("/kpi/charts/nope", headers=PM).status_code == 404


def test_the_dashboard_page_loads_only_what_the_hub_serves(client: TestClient) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200 and "vega-embed.min.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    for script in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js"):
        assert client.get(f"/dashboard/static/vendor/{script}").status_code == 200
    assert 'fetch("/kpi/stream"' in client.get("/dashboard/static/dashboard.js").text


def test_prometheus_gauges_carry_the_headline_figures(client: TestClient) -> None:
    service = client.app.state.service
    registry = CollectorRegistry()
    registry.register(KpiCollector(service.queries, lambda: True))
    text = generate_latest(registry).decode()
    assert "rosterhub_kpi_fill_rate" in text and "rosterhub_kpi_agency_spend_gbp" in text
