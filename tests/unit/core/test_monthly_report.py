"""The monthly report: HTML, PDF and CSVs whose figures are the dashboard API's for the same month."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rosterhub.cli.main import app as cli
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.kafka.access import KafkaAccess
from rosterhub.report.monthly import REPORT_CHARTS, build_report, write_report
from rosterhub.runtime import TopicNames
from rosterhub.streams.booking.policy import load_booking_policies
from rosterhub.streams.kpi.api import kpi_router
from rosterhub.streams.kpi.policy import load_kpi_policies
from rosterhub.streams.kpi.query import KpiQueries
from tests.kpi_pure import run_pure
from tests.kpi_traffic import generate
from tests.unit.streams import test_kpi_api

REPO = Path(__file__).resolve().parents[3]
COLLAB = "south-yorkshire-bassetlaw"
PM = test_kpi_api.PM


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], TestClient]:
    policies = load_kpi_policies([REPO / "policies/kpi"], load_booking_policies([REPO / "policies/booking"]))
    store, _ = run_pure(generate(shifts_per_trust_day=4).delivered(), policies)
    store.ready = True
    report = build_report(KpiQueries(store), COLLAB, "2026-10")
    paths = write_report(report, tmp_path_factory.mktemp("report"))
    router, _ = kpi_router(KafkaAccess("127.0.0.1:9"), TopicNames(), SingleObjectCodec(default_catalogue()), store)
    return paths, TestClient(test_kpi_api.kpi_app(router))


def _csv(paths: list[Path], table: str) -> list[dict[str, str]]:
    [path] = [p for p in paths if p.name.endswith(f"-{table}.csv")]
    return list(csv.DictReader(path.open(encoding="utf-8")))


def test_html_pdf_and_a_csv_per_table_are_written(written: tuple[list[Path], TestClient]) -> None:
    paths, _ = written
    names = {p.name for p in paths}
    assert {"kpi-south-yorkshire-bassetlaw-2026-10.html", "kpi-south-yorkshire-bassetlaw-2026-10.pdf"} <= names
    assert {f"kpi-south-yorkshire-bassetlaw-2026-10-{t}.csv" for t in ("summary", "by_trust", "migration")} <= names
    pdf = next(p for p in paths if p.suffix == ".pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    # Read back by poppler (tools/system-packages pdf installs it), not by the library that wrote it.
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    [summary] = _csv(paths, "summary")
    assert "Fill rate" in text and "Break glass: who authorised each" in text
    assert f"£{float(summary['agency_spend']):,.2f}" in text and text.count("\f") >= 3  # form feeds: pages
    html = next(p for p in paths if p.suffix == ".html").read_text()
    assert html.count("<svg") >= len(REPORT_CHARTS) and "http://" not in html.replace("http://www.w3.org", "")
    assert "Never Shown" not in html and "p-rhq" not in html  # no names, no person ids


def test_the_reports_figures_are_the_dashboards(written: tuple[list[Path], TestClient]) -> None:
    paths, client = written
    api = client.get("/kpi/summary", params={"period": "2026-10"}, headers=PM).json()
    [row] = _csv(paths, "summary")
    for key in ("shifts_posted", "shifts_filled", "shifts_unfilled", "break_glass", "no_shows", "rejections"):
        assert row[key] == str(api[key]), key
    for key in ("agency_spend", "spend_above_cap", "savings", "cost", "hours_posted"):
        assert row[key] == api[key], key
    assert row["time_to_fill.p50_s"] == str(api["time_to_fill"]["p50_s"])
    by_trust = {r["trust"]: r for r in _csv(paths, "by_trust")}
    for r in client.get("/kpi/split", params={"period": "2026-10", "by": "trust"}, headers=PM).json():
        assert by_trust[r["trust"]]["shifts_filled"] == str(r["shifts_filled"])
    cells = client.get("/kpi/migration", params={"period": "2026-10"}, headers=PM).json()
    assert [(c["home_trust"], c["host_trust"], str(c["shifts"])) for c in cells] == [
        (r["home_trust"], r["host_trust"], r["shifts"]) for r in _csv(paths, "migration")
    ]


def test_the_command_refuses_a_month_it_cannot_read() -> None:
    result = CliRunner().invoke(cli, ["report", "monthly", "--collaborative", COLLAB, "--month", "November"])
    assert result.exit_code != 0 and "YYYY-MM" in result.output
