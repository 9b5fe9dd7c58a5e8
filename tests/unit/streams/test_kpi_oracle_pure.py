"""The oracle test on the pure core: a generated month of three trusts' traffic, figures = DuckDB SQL's.

The same comparison runs through the real faust agent on the broker in
tests/integration/test_kpi_oracle.py; this one covers every day, week and month of the month's
traffic, and splits by trust, staff group and shift type, in seconds.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from rosterhub.streams.booking.policy import load_booking_policies
from rosterhub.streams.kpi.policy import load_kpi_policies
from rosterhub.streams.kpi.query import KpiQueries, period_of
from tests.kpi_compare import compare_period, mismatches
from tests.kpi_oracle import Oracle
from tests.kpi_pure import run_pure
from tests.kpi_traffic import generate

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def both() -> tuple[KpiQueries, Oracle]:
    policies = load_kpi_policies([REPO / "policies/kpi"], load_booking_policies([REPO / "policies/booking"]))
    traffic = generate()
    store, _ = run_pure(traffic.delivered(), policies)
    policy = policies.for_trust("RHQ")
    oracle = Oracle(traffic.delivered(), reference=dict(policy.agency_reference_rates), members=["RHQ", "RCU", "RFR"])
    return KpiQueries(store), oracle


@pytest.mark.parametrize("grain", ["month", "week", "day"])
def test_every_period_matches_the_oracle(both: tuple[KpiQueries, Oracle], grain: str) -> None:
    q, oracle = both
    periods = oracle.periods(grain)
    assert len(periods) >= {"month": 3, "week": 8, "day": 35}[grain]
    for period in periods:
        assert compare_period(q, oracle, period, grain) == {}, f"{grain} {period}"


@pytest.mark.parametrize(
    "split",
    [
        {"trust": "RCU"},
        {"staff_group": "MEDICAL_DENTAL"},
        {"shift_type": "NIGHT"},
        {"shift_type": "BANK_HOLIDAY"},
        {"trust": "RHQ", "shift_type": "WEEKEND"},
    ],
)
def test_filtered_figures_match_the_oracle(both: tuple[KpiQueries, Oracle], split: dict[str, str]) -> None:
    q, oracle = both
    for month in ("2026-10", "2026-12"):
        start, end = period_of(month)
        assert mismatches(q, oracle, start, end, **split) == {}, f"{month} {split}"


def test_the_month_exercises_what_the_oracle_is_for(both: tuple[KpiQueries, Oracle]) -> None:
    q, _ = both
    october = q.summary(_f("2026-10"))
    assert october["shifts_filled"] > 1000 and october["cancellations_after_fill"] > 50
    assert october["break_glass"] > 0 and october["moonlighting_fills"] > 0 and october["no_shows"] > 0
    assert float(october["spend_above_cap"]) > 0 and float(october["savings"]) > 0
    assert october["time_to_clearance"]["cleared"] > 0
    christmas = q.summary(_f("2026-12"))
    assert christmas["shifts_posted"] >= 18
    march = q.split(_f("2027-03"), "shift_type")
    assert {row["shift_type"] for row in march} >= {"WEEKEND"}


def _f(month: str):
    from rosterhub.streams.kpi.query import KpiFilter

    return KpiFilter(*period_of(month))


def test_dates_are_london_days() -> None:
    assert period_of("2026-10") == (date(2026, 10, 1), date(2026, 11, 1))
