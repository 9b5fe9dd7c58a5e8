"""Compare the processor's figures (read model + queries) with the oracle's, figure by figure."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from rosterhub.streams.kpi.query import KpiFilter, KpiQueries
from tests.kpi_oracle import Oracle

__all__ = ["compare_period", "mismatches"]


def _money(pence: int | None) -> str:
    return str((Decimal(pence or 0) / 100).quantize(Decimal("0.01")))


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else round(num / den, 4)


def _hours(minutes: int | None) -> str:
    return str((Decimal(minutes or 0) / 60).quantize(Decimal("0.01")))


def expected(o: dict[str, Any], clearance: tuple) -> dict[str, Any]:
    """The oracle's row in the processor's vocabulary (docs/kpi.md names)."""
    return {
        "shifts_posted": o["shifts_posted"],
        "hours_posted": _hours(o["posted_minutes"]),
        "shifts_withdrawn": o["shifts_withdrawn"],
        "shifts_needed": o["shifts_needed"],
        "shifts_filled": o["shifts_filled"],
        "hours_filled": _hours(o["filled_minutes"]),
        "shifts_unfilled": o["shifts_needed"] - o["shifts_filled"],
        "fill_rate": _ratio(o["shifts_filled"], o["shifts_needed"]),
        "ttf": (o["ttf_fills"], o["ttf_p50"], o["ttf_p90"]),
        "ttf_by_tier": o["ttf_by_tier"],
        "bank": o["bank"],
        "agency": o["agency"],
        "bank_share": _ratio(o["bank"], o["shifts_filled"]),
        "agency_share": _ratio(o["agency"], o["shifts_filled"]),
        "cost": _money(o["cost_p"]),
        "agency_spend": _money(o["agency_spend_p"]),
        "spend_above_cap": _money(o["above_cap_p"]),
        "framework_compliance": _ratio(o["framework_yes"], o["framework_known"]),
        "break_glass": o["break_glass"],
        "break_glass_list": o["break_glass_list"],
        "savings": _money(o["savings_p"]),
        "moonlighting_fills": o["moonlighting"],
        "moonlighting_refused": o["reasons"].get("MOONLIGHTING_ROUTE_TO_BANK", 0),
        "cross_trust_fills": o["cross_trust"],
        "people": o["people"],
        "cross_trust_people": o["cross_people"],
        "cancellations_after_fill": o["cancellations"],
        "late_cancellations": o["late_cancellations"],
        "no_shows": o["no_shows"],
        "rejections": o["rejections"],
        "rejections_by_reason": dict(sorted(o["reasons"].items())),
        "migration": o["migration"],
        "time_to_clearance": clearance,
    }


def actual(q: KpiQueries, f: KpiFilter, with_migration: bool) -> dict[str, Any]:
    s = q.summary(f)
    ttf = s["time_to_fill"]
    m = q.migration(f)["by_shift_type"] if with_migration else None
    clearance = s["time_to_clearance"]
    return {
        **{
            k: s[k]
            for k in (
                "shifts_posted",
                "hours_posted",
                "shifts_withdrawn",
                "shifts_needed",
                "shifts_filled",
                "hours_filled",
                "shifts_unfilled",
                "fill_rate",
                "bank_share",
                "agency_share",
                "cost",
                "agency_spend",
                "spend_above_cap",
                "framework_compliance",
                "break_glass",
                "savings",
                "moonlighting_fills",
                "moonlighting_refused",
                "cross_trust_fills",
                "people",
                "cross_trust_people",
                "cancellations_after_fill",
                "late_cancellations",
                "no_shows",
                "rejections",
                "rejections_by_reason",
            )
        },
        "ttf": (ttf["fills"], ttf["p50_s"], ttf["p90_s"]),
        "ttf_by_tier": {t: (v["fills"], v["p50_s"], v["p90_s"]) for t, v in ttf["by_tier"].items()},
        "bank": s["fills_by_membership"]["BANK"],
        "agency": s["fills_by_membership"]["AGENCY"],
        "break_glass_list": sorted((r["shift_id"], r["booking_id"], r["authoriser"]) for r in q.break_glass(f)),
        "migration": sorted(
            (c["home_trust"], c["host_trust"], c["shift_type"], c["shifts"], c["people"]) for c in m or ()
        ),
        "time_to_clearance": (clearance["cleared"], clearance["p50_s"], clearance["p90_s"]),
    }


def mismatches(
    q: KpiQueries,
    oracle: Oracle,
    start: date,
    end: date,
    *,
    trust: str | None = None,
    staff_group: str | None = None,
    shift_type: str | None = None,
    migration: bool = True,
) -> dict[str, tuple[Any, Any]]:
    """Figures that differ between the processor and the oracle for one period and filter: {name: (got, want)}."""
    wheres, f = [], KpiFilter(start, end)
    if trust:
        wheres.append(f"host = '{trust}'")
        f = KpiFilter(start, end, trusts=frozenset({trust}))
    if staff_group:
        wheres.append(f"staff_group = '{staff_group}'")
        f = KpiFilter(f.start, f.end, trusts=f.trusts, staff_groups=frozenset({staff_group}))
    if shift_type:
        wheres.append(f"kpi_shift_type = '{shift_type}'")
        f = KpiFilter(f.start, f.end, trusts=f.trusts, staff_groups=f.staff_groups, shift_types=frozenset({shift_type}))
    where = " AND ".join(wheres) or "TRUE"
    got = actual(q, f, migration)
    filtered = trust or staff_group or shift_type
    clearance = got["time_to_clearance"] if filtered else oracle.clearance(start, end)
    want = expected(oracle.figures(start, end, where), clearance)
    if not migration:
        want["migration"] = []
    return {k: (got[k], want[k]) for k in want if got[k] != want[k]}


def compare_period(q: KpiQueries, oracle: Oracle, period_start: str, grain: str) -> dict[str, tuple[Any, Any]]:
    start = date.fromisoformat(period_start)
    if grain == "day":
        end = start + timedelta(days=1)
    elif grain == "week":
        end = start + timedelta(days=7)
    else:
        end = (start + timedelta(days=32)).replace(day=1)
    return mismatches(q, oracle, start, end, migration=grain != "day")
