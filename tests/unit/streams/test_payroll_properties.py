"""Properties of payroll over generated shifts, timesheets and corrections (hypothesis).

* a batch's lines sum to hours x rates plus enhancements, and the enhancement hours agree with an
  independent minute-by-minute count of the paid time in Europe/London;
* a re-sent batch changes nothing a consumer holds;
* a correction nets to the new figure;
* recharges equal the lines worked away from the employing trust.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rosterhub.envelope import KafkaRecord, event_id
from rosterhub.instants import LONDON
from rosterhub.streams.payroll.commands import resend_records
from rosterhub.streams.payroll.hours import bank_holiday
from rosterhub.streams.payroll.ledger import Ledger, lines_csv
from tests.unit.streams.payroll_harness import Pipeline, repo_policies

POLICIES = repo_policies()
TRUSTS = ("RHQ", "RCU", "RFR")
CENT = Decimal("0.01")
_slow = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

shift_starts = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(second=0, microsecond=0))


def _oracle_seconds(start: datetime, end: datetime, brk: int, grade: str) -> Counter[str]:
    """Seconds per enhancement category, counted minute by minute on local wall time (independent of the
    splitting code): the break is the ``brk`` minutes centred on the midpoint."""
    unsocial = POLICIES.get("RCU").pay.unsocial  # type: ignore[union-attr]
    total = int((end - start).total_seconds() // 60)
    gap_from = (total - brk) / 2
    out: Counter[str] = Counter()
    for m in range(total):
        if gap_from <= m < gap_from + brk:
            continue
        local = (start + timedelta(minutes=m)).astimezone(LONDON)
        t = local.time()
        cats = []
        if bank_holiday(local.date()):
            cats.append("bank_holiday")
        if local.weekday() == 6:
            cats.append("sunday")
        if local.weekday() == 5:
            cats.append("saturday")
        if t >= unsocial.night.start or t < unsocial.night.end:
            cats.append("night")
        pct = {c: unsocial.percentage(c, grade) for c in cats}
        if pct:
            order = ("bank_holiday", "sunday", "saturday", "night")
            best = max(pct, key=lambda c: (pct[c], -order.index(c)))
            out[best] += 60
    return out


@_slow
@given(
    start=shift_starts,
    # an even number of paid minutes: the break's edges then fall on whole minutes, which the oracle counts in
    minutes=st.integers(min_value=30, max_value=7 * 60).map(lambda k: 2 * k),
    brk=st.sampled_from([0, 30, 60]),
    grade=st.sampled_from(["BAND_2", "BAND_3", "BAND_5", "BAND_7"]),
)
def test_a_batch_sums_to_hours_times_rates_plus_enhancements(
    start: datetime, minutes: int, brk: int, grade: str
) -> None:
    end = start + timedelta(minutes=minutes)
    p = Pipeline(policies=POLICIES)
    sid, bid, ts = "healthroster:RHQ:D1", "patchwork:RCU:B1", "patchwork:RCU:T1"
    p.shift(sid, "RHQ", start, end, grade=grade, break_minutes=brk)
    p.book(bid, sid, "RHQ", start, end)
    p.submit(ts, bid, sid, start, end, break_minutes=brk, at=end + timedelta(minutes=30))
    batch = p.lines()[0]["batch_id"]
    p.close("RCU", batch, end + timedelta(days=40))
    lines = p.lines(batch)
    [closed] = [e.data for e in p.payroll if e.type.endswith("PayrollBatchClosed")]
    rated = [d for d in lines if d["rate"] is not None]
    for d in rated:
        assert d["amount"] == (d["hours"] * d["rate"]).quantize(CENT, ROUND_HALF_UP)
    basic = next(d for d in lines if d["pay_code"] == "BASIC")
    enhancements = sum((d["amount"] for d in rated if d is not basic), Decimal(0))
    holiday = sum((d["amount"] for d in lines if d["pay_code"] == "HOLIDAY_PAY"), Decimal(0))
    basic_pay = (basic["hours"] * basic["rate"]).quantize(CENT, ROUND_HALF_UP)
    assert closed["amount"] == basic_pay + enhancements + holiday == sum((d["amount"] for d in lines), Decimal(0))
    assert holiday == ((basic_pay + enhancements) * Decimal("0.1207")).quantize(CENT, ROUND_HALF_UP)
    assert basic["hours"] == (Decimal(minutes - brk) / 60).quantize(CENT, ROUND_HALF_UP)
    expected = _oracle_seconds(start, end, brk, grade)
    kinds = {"NIGHT": "night", "BANK_HOLIDAY": "bank_holiday"}
    got: Counter[str] = Counter()
    for d in rated:
        if d is basic:
            continue
        if d["pay_code"] == "WEEKEND":  # Saturday and Sunday share the pay code; their rates differ
            kind = "sunday" if d["rate"] == _rate(grade, "sunday") else "saturday"
        else:
            kind = kinds[d["pay_code"]]
        got[kind] += int(d["hours"] * 3600)
    assert {k: (Decimal(v) / 3600).quantize(CENT, ROUND_HALF_UP) for k, v in expected.items() if v} == {
        k: Decimal(v) / 3600 for k, v in got.items()
    }


def _rate(grade: str, category: str) -> Decimal:
    pay = POLICIES.get("RCU").pay  # type: ignore[union-attr]
    base = pay.rate_card[grade].quantize(CENT)
    return (base * pay.unsocial.percentage(category, grade) / 100).quantize(CENT, ROUND_HALF_UP)


def _records(p: Pipeline) -> list[KafkaRecord]:
    """The payroll events as a consumer reads them off events.payroll (key = batch id; ce_id header)."""
    return [
        KafkaRecord("events.payroll", e.data["batch_id"].encode(), repr(e).encode(), [("ce_id", e.id.encode())])
        for e in p.payroll
    ]


@_slow
@given(
    shifts=st.lists(st.tuples(shift_starts, st.integers(min_value=4 * 60, max_value=13 * 60)), min_size=1, max_size=6)
)
def test_a_resent_batch_changes_nothing_a_consumer_holds(shifts: list[tuple[datetime, int]]) -> None:
    p = Pipeline(policies=POLICIES)
    for n, (start, minutes) in enumerate(shifts):
        end = start + timedelta(minutes=minutes)
        p.shift(f"healthroster:RHQ:D{n}", "RHQ", start, end)
        p.book(f"patchwork:RCU:B{n}", f"healthroster:RHQ:D{n}", "RHQ", start, end)
        p.submit(f"patchwork:RCU:T{n}", f"patchwork:RCU:B{n}", f"healthroster:RHQ:D{n}", start, end)
    ledger = Ledger()
    for e in p.payroll:
        ledger.apply(e)
    before = {b: (ledger.batches[b].summary(), lines_csv(ledger.batches[b].ordered())) for b in ledger.batches}
    by_record = {r.value: e for r, e in zip(_records(p), p.payroll, strict=True)}
    for batch in list(ledger.batches):
        again = resend_records(_records(p), batch)
        assert again and all(r.key == batch.encode() for r in again)
        assert len(again) == len({h for r in again for k, h in r.headers if k == "ce_id"})  # each record once
        for r in again:
            ledger.apply(by_record[r.value])
    after = {b: (ledger.batches[b].summary(), lines_csv(ledger.batches[b].ordered())) for b in ledger.batches}
    assert after == before


@_slow
@given(
    start=shift_starts,
    claimed=st.integers(min_value=6 * 60, max_value=12 * 60),
    corrections=st.lists(st.integers(min_value=3 * 60, max_value=12 * 60), min_size=1, max_size=3),
    close_between=st.booleans(),
)
def test_a_correction_nets_to_the_new_figure(
    start: datetime, claimed: int, corrections: list[int], close_between: bool
) -> None:
    end = start + timedelta(minutes=claimed)
    sid, bid, ts = "healthroster:RHQ:D1", "patchwork:RCU:B1", "patchwork:RCU:T1"
    p = Pipeline(policies=POLICIES)
    p.shift(sid, "RHQ", start, end, break_minutes=30)
    p.book(bid, sid, "RHQ", start, end)
    p.submit(ts, bid, sid, start, end, break_minutes=30, at=end)
    at = end
    for n, minutes in enumerate(corrections):
        if close_between:
            for batch in {d["batch_id"] for d in p.lines()}:
                p.close("RCU", batch, at + timedelta(minutes=1))
        at += timedelta(days=3 + n)
        hours = (Decimal(minutes) / 60).quantize(CENT, ROUND_HALF_UP)
        p.approve(ts, bid, sid, str(hours), at)
    final = (Decimal(corrections[-1]) / 60).quantize(CENT, ROUND_HALF_UP)
    fresh = Pipeline(policies=POLICIES)
    fresh.shift(sid, "RHQ", start, end, break_minutes=30)
    fresh.book(bid, sid, "RHQ", start, end)
    fresh.submit(ts, bid, sid, start, end, break_minutes=30, at=end)
    fresh.approve(ts, bid, sid, str(final), end + timedelta(days=1))
    effective = [d for d in fresh.lines() if d["pricing_version"] == max(x["pricing_version"] for x in fresh.lines())]
    new_figure = sum((d["amount"] for d in effective if d["reverses"] is None), Decimal(0))
    assert sum((d["amount"] for d in p.lines()), Decimal(0)) == new_figure
    closed = {e.data["batch_id"]: e.data["line_count"] for e in p.payroll if e.type.endswith("PayrollBatchClosed")}
    for batch, count in closed.items():  # nothing was added to a batch after it was closed
        assert len(p.lines(batch)) == count


@_slow
@given(
    bookings=st.lists(
        st.tuples(st.sampled_from(TRUSTS), st.sampled_from(TRUSTS), shift_starts, st.integers(240, 780)),
        min_size=1,
        max_size=8,
    )
)
def test_recharges_equal_the_lines_worked_away_from_the_employing_trust(
    bookings: list[tuple[str, str, datetime, int]],
) -> None:
    p = Pipeline(policies=POLICIES)
    for n, (host, home, start, minutes) in enumerate(bookings):
        end = start + timedelta(minutes=minutes)
        sid, bid = f"healthroster:{host}:D{n}", f"patchwork:{home}:B{n}"
        p.shift(sid, host, start, end)
        p.book(bid, sid, host, start, end, home=home)
        p.submit(f"patchwork:{home}:T{n}", bid, sid, start, end, host=host)
        if host == "RFR":  # RFR signs off in two steps
            at = end + timedelta(hours=2)
            p.approve(f"patchwork:{home}:T{n}", bid, sid, "0", at, step=1, final=False)
            hours = (Decimal(minutes - 60) / 60).quantize(CENT, ROUND_HALF_UP)
            p.approve(f"patchwork:{home}:T{n}", bid, sid, str(hours), at, step=2)
    away: Counter[tuple[str, str]] = Counter()
    for d in p.lines():
        employer, host = d["employing_trust"]["ods_code"], d["host_trust"]["ods_code"]
        if employer != host:
            away[(employer, host)] += d["amount"]  # type: ignore[assignment]
    recharged: Counter[tuple[str, str]] = Counter()
    for r in p.recharges:
        recharged[(r.data["raised_by"]["ods_code"], r.data["charged_to"]["ods_code"])] += r.data["pay_amount"]
    assert recharged == away
    assert {r.data["line_id"] for r in p.recharges} == {
        d["line_id"] for d in p.lines() if d["employing_trust"]["ods_code"] != d["host_trust"]["ods_code"]
    }
    ids = [event_id("payroll-line", d["line_id"]) for d in p.lines()]
    assert len(ids) == len(set(ids))  # every line id once
