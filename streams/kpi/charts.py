"""The KPI charts as Vega-Lite specifications, data inline: one definition for the dashboard and the report.

The dashboard draws them in the browser with the vendored vega-embed (``rosterhub/dashboard/static/vendor``);
the monthly report renders the very same specifications to SVG with vl-convert (no browser, no network).
Nothing in a specification points outside it (no data URLs), so both work on a network with no internet.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = ["MEASURES", "agency_vs_cap", "fill_by", "migration", "open_by_tier", "trend"]

_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"  # an identifier only: never fetched
_WIDTH, _HEIGHT = 420, 220


def _spec(title: str, data: list[dict[str, Any]], **body: Any) -> dict[str, Any]:
    return {
        "$schema": _SCHEMA,
        "title": title,
        "width": body.pop("width", _WIDTH),
        "height": body.pop("height", _HEIGHT),
        "data": {"values": data},
        "config": {"font": "DejaVu Sans", "view": {"stroke": None}},
        **body,
    }


#: Headline measures a trend can show: key in the figures -> label.
MEASURES = {
    "fill_rate": "Fill rate",
    "agency_share": "Agency share of fills",
    "bank_share": "Bank share of fills",
    "shifts_posted": "Shifts posted",
    "shifts_filled": "Shifts filled",
    "agency_spend": "Agency spend (GBP)",
    "spend_above_cap": "Spend above cap (GBP)",
    "savings": "Savings vs agency (GBP)",
}


def trend(series: list[dict[str, Any]], measures: list[str], title: str) -> dict[str, Any]:
    """Lines of ``measures`` over the periods of ``series`` (answers of /kpi/series)."""
    data = [
        {"period": row["period"], "measure": MEASURES.get(m, m), "value": _number(row.get(m))}
        for row in series
        for m in measures
        if row.get(m) is not None
    ]
    return _spec(
        title,
        data,
        mark={"type": "line", "point": True},
        encoding={
            "x": {"field": "period", "type": "temporal", "title": None},
            "y": {"field": "value", "type": "quantitative", "title": None},
            "color": {"field": "measure", "type": "nominal", "title": None},
            "tooltip": [{"field": "period", "type": "temporal"}, {"field": "measure"}, {"field": "value"}],
        },
    )


def _bars(title: str, data: list[dict[str, Any]], by: str, **encoding: Any) -> dict[str, Any]:
    """A bar per value of ``by``, in the order of ``data`` (the query's, not alphabetical); ``encoding`` the rest."""
    categories = {"field": by, "type": "nominal", "title": None, "sort": None}
    return _spec(title, data, mark="bar", encoding={"x": categories, **encoding})


def fill_by(rows: list[dict[str, Any]], by: str, title: str) -> dict[str, Any]:
    """Fill rate per value of a split (answers of /kpi/split), with filled and needed in the tooltip."""
    data = [
        {by: str(r[by]), "fill_rate": r["fill_rate"] or 0, "filled": r["shifts_filled"], "needed": r["shifts_needed"]}
        for r in rows
    ]
    return _bars(
        title,
        data,
        by,
        y={"field": "fill_rate", "type": "quantitative", "axis": {"format": "%"}, "title": "Fill rate"},
        tooltip=[{"field": by}, {"field": "filled"}, {"field": "needed"}, {"field": "fill_rate", "format": ".1%"}],
    )


def migration(cells: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """Home trust x host trust heat map: colour = shifts, label = people (answers of /kpi/migration)."""
    base = {
        "x": {"field": "host_trust", "type": "nominal", "title": "Host trust (worked at)"},
        "y": {"field": "home_trust", "type": "nominal", "title": "Home trust (bank of)"},
    }
    return _spec(
        title,
        cells,
        width=300,
        height=240,
        encoding=base,
        layer=[
            {
                "mark": "rect",
                "encoding": {
                    "color": {"field": "shifts", "type": "quantitative", "title": "Shifts"},
                    "tooltip": [
                        {"field": "home_trust"},
                        {"field": "host_trust"},
                        {"field": "shifts"},
                        {"field": "people"},
                    ],
                },
            },
            {
                "mark": {"type": "text", "baseline": "middle"},
                "encoding": {"text": {"field": "label", "type": "nominal"}, "color": {"value": "black"}},
            },
        ],
        transform=[{"calculate": "datum.shifts + ' shifts / ' + datum.people + ' people'", "as": "label"}],
    )


def agency_vs_cap(rows: list[dict[str, Any]], by: str, title: str) -> dict[str, Any]:
    """Agency spend per trust (or month), split into spend within the price cap and spend above it."""
    data = []
    for r in rows:
        spend, above = Decimal(r["agency_spend"]), Decimal(r["spend_above_cap"])
        data.append({by: str(r[by]), "part": "within the cap", "gbp": float(spend - above)})
        data.append({by: str(r[by]), "part": "above the cap", "gbp": float(above)})
    return _bars(
        title,
        data,
        by,
        y={"field": "gbp", "type": "quantitative", "title": "GBP", "stack": "zero"},
        color={
            "field": "part",
            "type": "nominal",
            "title": None,
            "scale": {"domain": ["within the cap", "above the cap"], "range": ["#4c78a8", "#e45756"]},
        },
        tooltip=[{"field": by}, {"field": "part"}, {"field": "gbp", "format": ",.2f"}],
    )


def open_by_tier(rows: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """Open shifts now per release tier (answers of /kpi/open)."""
    return _spec(
        title,
        rows,
        height=160,
        mark="bar",
        encoding={
            "y": {"field": "tier", "type": "nominal", "title": None, "sort": None},
            "x": {"field": "open_shifts", "type": "quantitative", "title": "Open shifts"},
            "tooltip": [{"field": "tier"}, {"field": "open_shifts"}],
        },
    )


def _number(v: str | float | None) -> float | int | None:
    if isinstance(v, str):
        return float(v)
    return v
