"""The KPI read model and its questions: figures are sums over the latest record of every shift."""

from __future__ import annotations

from datetime import UTC, date, datetime

from rosterhub.streams.kpi.query import KpiFilter, KpiQueries, period_of
from rosterhub.streams.kpi.store import KpiStore
from tests.unit.streams.kpi_builders import cancelled, filled, fold, local, posted, rejected, row

NOV = KpiFilter(*period_of("2026-11"), collaborative="south-yorkshire-bassetlaw")


def _store(*rows: dict) -> KpiStore:
    store = KpiStore()
    for r in rows:
        store.apply("rosterhub.kpi.v1.ShiftKpi", r)
    return store


def test_summary_counts_demand_fills_and_money() -> None:
    a = row(fold(posted("a"), filled("a", "ba", filled_at=local("2026-11-06", "10:00"))))
    b = row(fold(posted("b", day="2026-11-12"), rejected("b", "bx", codes=("GRADE_MISMATCH", "NO_OVERLAP"))))
    c = row(fold(posted("c", day="2026-11-13"), filled("c", "bc"), cancelled("c", "bc", notice="2.00")))
    s = KpiQueries(_store(a, b, c)).summary(NOV)
    assert (s["shifts_posted"], s["shifts_filled"], s["shifts_unfilled"]) == (3, 1, 2)
    assert s["fill_rate"] == round(1 / 3, 4) and s["hours_posted"] == "36.00"
    assert s["cost"] == "256.80" and s["savings"] == "25.20" and s["agency_spend"] == "0.00"
    assert s["rejections"] == 1 and s["rejections_by_reason"] == {"GRADE_MISMATCH": 1, "NO_OVERLAP": 1}
    assert (s["cancellations_after_fill"], s["late_cancellations"]) == (1, 1)
    assert s["cross_trust_fills"] == 1 and s["people"] == 1 and s["bank_share"] == 1.0


def test_a_newer_record_replaces_the_old_and_a_retime_moves_the_shift_between_months() -> None:
    state = fold(posted("a", day="2026-11-30", start="22:00"), filled("a", "ba"))
    store = _store(row(state))
    q = KpiQueries(store)
    assert q.summary(NOV)["shifts_filled"] == 1
    moved = fold(posted("a", version=2, kind="ShiftUpdated", day="2026-12-01", start="00:30"), state=state)
    store.apply("rosterhub.kpi.v1.ShiftKpi", row(moved))
    store.apply("rosterhub.kpi.v1.ShiftKpi", row(state))  # an older revision arriving late: ignored
    assert q.summary(NOV)["shifts_posted"] == 0
    assert q.summary(KpiFilter(*period_of("2026-12")))["shifts_filled"] == 1 and len(store) == 1


def test_series_split_and_drill_down_agree_with_the_summary() -> None:
    rows = [row(fold(posted(f"s{i}", day=f"2026-11-{10 + 2 * i}"), filled(f"s{i}", f"b{i}"))) for i in range(6)]
    q = KpiQueries(_store(*rows))
    weeks = q.series(NOV, "week")
    assert [w["period"] for w in weeks] == ["2026-11-09", "2026-11-16"]
    assert sum(w["shifts_filled"] for w in weeks) == q.summary(NOV)["shifts_filled"] == 6
    by_trust = q.split(NOV, "trust")
    assert [(x["trust"], x["shifts_filled"]) for x in by_trust] == [("RHQ", 6)]
    drill = q.shifts(NOV, "filled", limit=4, offset=1)
    assert drill["total"] == 6 and [x["shift_id"] for x in drill["shifts"]] == ["s1", "s2", "s3", "s4"]
    assert {"booking_id", "shift_id"} <= set(drill["shifts"][0]) and "person_id" not in drill["shifts"][0]


def test_migration_matrix_counts_shifts_and_distinct_people() -> None:
    rows = [
        row(fold(posted("a"), filled("a", "ba", person="p1", home="RCU"))),
        row(fold(posted("b", day="2026-11-11"), filled("b", "bb", person="p1", home="RCU"))),
        row(fold(posted("c", day="2026-11-12"), filled("c", "bc", person="p2", home="RHQ"))),
    ]
    m = KpiQueries(_store(*rows)).migration(NOV)
    assert m["cells"] == [
        {"home_trust": "RCU", "host_trust": "RHQ", "shifts": 2, "people": 1},
        {"home_trust": "RHQ", "host_trust": "RHQ", "shifts": 1, "people": 1},
    ]


def test_open_now_counts_future_unfilled_shifts_by_tier() -> None:
    rows = [row(fold(posted("a"))), row(fold(posted("b"), filled("b", "bb"))), row(fold(posted("c", day="2026-11-01")))]
    open_now = KpiQueries(_store(*rows)).open_now(NOV, now=datetime(2026, 11, 5, tzinfo=UTC))
    assert open_now == [{"tier": "OWN_BANK", "open_shifts": 1}]


def test_period_of_months_weeks_and_days() -> None:
    assert period_of("2026-11") == (date(2026, 11, 1), date(2026, 12, 1))
    assert period_of("2026-W45") == (date(2026, 11, 2), date(2026, 11, 9))
    assert period_of("2026-11-10") == (date(2026, 11, 10), date(2026, 11, 11))
