"""What the dashboard and the monthly report show: each chart by name, built from the same questions.

One definition, two renderers: the dashboard asks ``/kpi/charts/{name}`` and draws the specification in the
browser; the report renders the same specification to SVG (:mod:`rosterhub.report`). Trends look back from
the end of the period asked for: 26 weeks by week, 12 months by month.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rosterhub.streams.kpi import charts
from rosterhub.streams.kpi.access import Viewer, redact_matrix, trust_label
from rosterhub.streams.kpi.query import KpiFilter, KpiQueries

__all__ = ["CHART_BUILDERS", "trailing_months", "trailing_weeks"]


def trailing_months(f: KpiFilter, months: int = 12) -> KpiFilter:
    """The ``months`` months up to the end of ``f``'s period (trend lines show history, not one month)."""
    last = f.end - timedelta(days=1)
    y, m = last.year, last.month - (months - 1)
    while m <= 0:
        y, m = y - 1, m + 12
    return replace(f, start=min(f.start, date(y, m, 1)))


def trailing_weeks(f: KpiFilter, weeks: int = 26) -> KpiFilter:
    start = f.end - timedelta(days=7 * weeks)
    return replace(f, start=min(f.start, start - timedelta(days=start.weekday())))


ChartBuilder = Callable[[KpiQueries, Viewer, KpiFilter], dict[str, Any]]
CHART_BUILDERS: dict[str, ChartBuilder] = {
    "trend_fill": lambda q, v, f: charts.trend(
        q.series(trailing_weeks(f), "week"),
        ["fill_rate", "agency_share", "bank_share"],
        "Fill rate and shares, by week",
    ),
    "trend_fill_monthly": lambda q, v, f: charts.trend(
        q.series(trailing_months(f), "month"),
        ["fill_rate", "agency_share", "bank_share"],
        "Fill rate and shares, by month",
    ),
    "trend_spend": lambda q, v, f: charts.trend(
        q.series(trailing_months(f), "month"),
        ["agency_spend", "spend_above_cap", "savings"],
        "Agency spend, above cap and savings (GBP), by month",
    ),
    "fill_by_trust": lambda q, v, f: charts.fill_by(q.split(f, "trust", trust_label(v)), "trust", "Fill rate by trust"),
    "fill_by_staff_group": lambda q, v, f: charts.fill_by(
        q.split(f, "staff_group"), "staff_group", "Fill rate by staff group"
    ),
    "migration": lambda q, v, f: charts.migration(
        redact_matrix(v, q.migration(f)["cells"]), "Worker migration: home trust x host trust"
    ),
    "agency_vs_cap": lambda q, v, f: charts.agency_vs_cap(
        q.split(f, "trust", trust_label(v)), "trust", "Agency spend against the price cap, by trust"
    ),
    "open_by_tier": lambda q, v, f: charts.open_by_tier(q.open_now(f, datetime.now(UTC)), "Open shifts now, by tier"),
}
