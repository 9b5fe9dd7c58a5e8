"""Prometheus gauges of the headline KPIs, computed from the read model when /metrics is scraped.

Per collaborative and host trust, for the current Europe/London month (label ``period``, e.g. 2026-11),
plus ``trust="ALL"`` for the collaborative: fill rate, shifts posted / filled / unfilled, agency share,
agency spend and spend above the price cap (GBP), savings (GBP), break-glass fills, late cancellations,
no-shows, open shifts now. Nothing is computed between scrapes; a scrape costs one month's figures per
trust (cached per month block, docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from rosterhub.instants import LONDON
from rosterhub.streams.kpi.query import KpiFilter, KpiQueries, period_of

__all__ = ["GAUGES", "KpiCollector"]

#: Gauge name suffix -> (help, value from the figures).
GAUGES: dict[str, tuple[str, Callable[[dict[str, Any]], float | None]]] = {
    "fill_rate": ("Shifts filled / shifts needed (0..1)", lambda s: s["fill_rate"]),
    "shifts_posted": ("Shifts posted (demand)", lambda s: s["shifts_posted"]),
    "shifts_filled": ("Shifts filled", lambda s: s["shifts_filled"]),
    "shifts_unfilled": ("Shifts needed and not filled", lambda s: s["shifts_unfilled"]),
    "agency_share": ("Agency fills / fills (0..1)", lambda s: s["agency_share"]),
    "agency_spend_gbp": ("Agency spend, GBP", lambda s: float(s["agency_spend"])),
    "spend_above_cap_gbp": ("Agency spend above the price cap, GBP", lambda s: float(s["spend_above_cap"])),
    "savings_gbp": ("Savings of bank fills against the agency reference rate, GBP", lambda s: float(s["savings"])),
    "break_glass_fills": ("Fills that broke the agency rules", lambda s: s["break_glass"]),
    "late_cancellations": ("Cancellations after a fill inside the late notice", lambda s: s["late_cancellations"]),
    "no_shows": ("Booked workers who did not attend", lambda s: s["no_shows"]),
}


class KpiCollector(Collector):
    def __init__(self, queries: KpiQueries, ready: Callable[[], bool]) -> None:
        self.queries, self.ready = queries, ready

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families = {
            name: GaugeMetricFamily(f"rosterhub_kpi_{name}", text, labels=["collaborative", "trust", "period"])
            for name, (text, _) in GAUGES.items()
        }
        open_now = GaugeMetricFamily(
            "rosterhub_kpi_open_shifts",
            "Open shifts now (needed, unfilled, not started)",
            labels=["collaborative", "tier"],
        )
        if self.ready():
            now = datetime.now(UTC)
            month = now.astimezone(LONDON).strftime("%Y-%m")
            store = self.queries.store
            for collaborative in [c for c in store.dims["collaborative"].values if c]:
                f = KpiFilter(*period_of(month), collaborative=collaborative)
                scopes = [("ALL", f)] + [(t, replace(f, trusts=frozenset({t}))) for t in store.dims["host"].values if t]
                for trust, scoped in scopes:
                    figures = self.queries.summary(scoped)
                    if not figures["shifts_posted"] and trust != "ALL":
                        continue
                    for name, (_, value) in GAUGES.items():
                        v = value(figures)
                        if v is not None:
                            families[name].add_metric([collaborative, trust, month], float(v))
                for row in self.queries.open_now(f, now):
                    open_now.add_metric([collaborative, row["tier"]], row["open_shifts"])
        yield from families.values()
        yield open_now
