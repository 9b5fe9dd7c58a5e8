"""The programme manager's monthly report: HTML, PDF and a CSV of every table, from the KPI read model.

``rosterhub report monthly --collaborative south-yorkshire-bassetlaw --month 2026-11`` reads views.kpi to its
end (as the dashboard's API does), asks the same questions the dashboard asks (:mod:`rosterhub.streams.kpi`),
for the same period and the whole collaborative, so its figures are the dashboard's; draws the dashboard's own
chart specifications (:mod:`rosterhub.streams.kpi.board`) to SVG with vl-convert (no browser, no network: the
specifications carry their data and no URL is allowed); writes ``kpi-<collaborative>-<month>.html``, the same
document as PDF with WeasyPrint, and one CSV per table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import vl_convert
from weasyprint import HTML

from rosterhub.streams.kpi.access import PROGRAMME_MANAGER, Viewer
from rosterhub.streams.kpi.board import CHART_BUILDERS, trailing_months, trailing_weeks
from rosterhub.streams.kpi.query import KpiFilter, KpiQueries, period_of
from rosterhub.streams.kpi.tables import to_csv

__all__ = ["REPORT_CHARTS", "MonthlyReport", "build_report", "write_report"]

#: Charts in the report, in order (the dashboard's, less "open shifts now": a report is about a month gone).
_NONE = "\u2013"  # an en dash where a figure has no value

REPORT_CHARTS = (
    "trend_fill",
    "trend_fill_monthly",
    "trend_spend",
    "migration",
    "fill_by_trust",
    "fill_by_staff_group",
    "agency_vs_cap",
)


@dataclass
class MonthlyReport:
    collaborative: str
    month: str
    generated_at: datetime
    summary: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # name -> rows (each a CSV)
    charts: dict[str, str] = field(default_factory=dict)  # name -> SVG


def _filter(collaborative: str, month: str) -> KpiFilter:
    start, end = period_of(month)
    return KpiFilter(start=start, end=end, collaborative=collaborative)


def build_report(queries: KpiQueries, collaborative: str, month: str, *, now: datetime | None = None) -> MonthlyReport:
    """Every figure, table and chart of the month (pure but for the SVG rendering)."""
    f = _filter(collaborative, month)
    viewer = Viewer(subject="monthly-report", role=PROGRAMME_MANAGER, collaborative=collaborative)
    summary = queries.summary(f)
    ttf = summary["time_to_fill"]
    report = MonthlyReport(collaborative, month, now or datetime.now(UTC), summary)
    report.tables = {
        "summary": [{"month": month, **summary}],
        "by_trust": queries.split(f, "trust"),
        "by_staff_group": queries.split(f, "staff_group"),
        "by_shift_type": queries.split(f, "shift_type"),
        "by_tier": queries.split(f, "tier"),
        "weekly": queries.series(trailing_weeks(f), "week"),
        "monthly": queries.series(trailing_months(f), "month"),
        "migration": queries.migration(f)["cells"],
        "migration_by_shift_type": queries.migration(f)["by_shift_type"],
        "time_to_fill_by_tier": [{"tier": t, **v} for t, v in ttf["by_tier"].items()],
        "rejections_by_reason": [
            {"reason_code": k, "rejections": v} for k, v in summary["rejections_by_reason"].items()
        ],
        "break_glass": queries.break_glass(f),
    }
    for name in REPORT_CHARTS:
        spec = CHART_BUILDERS[name](queries, viewer, f)
        report.charts[name] = vl_convert.vegalite_to_svg(spec, allowed_base_urls=[])
    return report


def _env() -> jinja2.Environment:
    loader = jinja2.FileSystemLoader(str(resources.files("rosterhub.report") / "templates"))
    env = jinja2.Environment(
        loader=loader, autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined
    )
    env.filters["pct"] = lambda x: _NONE if x is None else f"{100 * x:.1f}%"
    env.filters["gbp"] = lambda s: f"£{float(s):,.2f}"
    env.filters["hours"] = lambda s: _NONE if s is None else f"{s / 3600:.1f} h"
    env.filters["days"] = lambda s: _NONE if s is None else f"{s / 86400:.1f} d"
    env.filters["num"] = lambda n: f"{n:,}"
    return env


def render_html(report: MonthlyReport) -> str:
    first = date.fromisoformat(report.month + "-01")
    return _env().get_template("monthly.html").render(r=report, month_name=first.strftime("%B %Y"))


def write_report(report: MonthlyReport, out: Path) -> list[Path]:
    """``kpi-<collaborative>-<month>.html`` / ``.pdf`` and ``kpi-<collaborative>-<month>-<table>.csv``."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"kpi-{report.collaborative}-{report.month}"
    html = render_html(report)
    written = [out / f"{stem}.html", out / f"{stem}.pdf"]
    written[0].write_text(html, encoding="utf-8")
    HTML(string=html, base_url=str(out)).write_pdf(written[1])
    for name, rows in report.tables.items():
        path = out / f"{stem}-{name}.csv"
        path.write_text(to_csv(rows) if rows else "", encoding="utf-8")
        written.append(path)
    return written
