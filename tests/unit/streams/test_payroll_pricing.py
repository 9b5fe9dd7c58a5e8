"""Pricing from the employing trust's pay policy: basic, Annex 5 enhancements, medical locum rates,
holiday pay, fees; every line hours x rate rounded half-up, nothing a float."""

from __future__ import annotations

from decimal import Decimal

from rosterhub.streams.payroll.policy import PayPolicy
from rosterhub.streams.payroll.pricing import Pricing, price_fee, price_worked
from tests.unit.streams.payroll_harness import local, repo_policies

NURSING = "NURSING_MIDWIFERY_REGISTERED"
POLICIES = repo_policies()
RCU = POLICIES.get("RCU").pay  # type: ignore[union-attr]


def _worked(
    grade: str, start: str, end: str, break_minutes: int, *, staff_group: str = NURSING, pay: PayPolicy = RCU
) -> Pricing:
    """One worked shift priced by ``pay``, its times in Europe/London wall-clock."""
    return price_worked(
        pay, staff_group=staff_group, grade=grade, start=local(start), end=local(end), break_minutes=break_minutes
    )


def _lines(pricing) -> list[tuple[str, str | None, str | None, str]]:  # type: ignore[no-untyped-def]
    return [
        (line.pay_code, line.hours and str(line.hours), line.rate and str(line.rate), str(line.amount))
        for line in pricing.lines
    ]


def test_a_weekday_night_pays_basic_a_night_enhancement_and_holiday_pay() -> None:
    p = _worked("BAND_5", "2026-03-24 20:00", "2026-03-25 08:00", 60)
    # RCU's band 5 rate 18.20; Annex 5 weekday nights +30 % = 5.46 an hour; 12.07 % holiday pay on 249.34
    assert _lines(p) == [
        ("BASIC", "11.00", "18.20", "200.20"),
        ("NIGHT", "9.00", "5.46", "49.14"),
        ("HOLIDAY_PAY", None, None, "30.10"),
    ]


def test_saturday_night_into_sunday_pays_each_hour_its_best_enhancement_once() -> None:
    p = _worked("BAND_2", "2026-10-24 20:00", "2026-10-25 08:00", 0)
    # the autumn clock change: 13 real hours; Saturday 4 h at 44 %, Sunday 9 h at 88 % (band 2)
    assert _lines(p)[:3] == [
        ("BASIC", "13.00", "12.85", "167.05"),
        ("WEEKEND", "4.00", "5.65", "22.60"),
        ("WEEKEND", "9.00", "11.31", "101.79"),
    ]


def test_a_bank_holiday_outranks_the_night() -> None:
    p = _worked("BAND_6", "2026-12-24 20:00", "2026-12-25 08:00", 60)
    codes = {line.pay_code: line.hours for line in p.lines}
    assert codes["NIGHT"] == Decimal("4.00") and codes["BANK_HOLIDAY"] == Decimal("7.00")


def test_medical_locum_rates_pay_the_night_and_weekend_rates_over_the_day_rate() -> None:
    p = _worked("ST3_5", "2026-03-27 21:00", "2026-03-28 09:00", 30, staff_group="MEDICAL_DENTAL")
    assert _lines(p)[:3] == [
        ("BASIC", "11.50", "75.00", "862.50"),
        ("NIGHT", "9.50", "15.00", "142.50"),  # 90.00 night rate - 75.00 day rate
        ("WEEKEND", "2.00", "11.00", "22.00"),  # Saturday 07:00-09:00 at 86.00
    ]


def test_grades_outside_agenda_for_change_and_without_locum_rates_get_no_enhancement() -> None:
    pay = RCU.model_copy(update={"rate_card": {**RCU.rate_card, "X-RCU-PHLEBOTOMIST": Decimal("13.00")}})
    p = _worked(
        "X-RCU-PHLEBOTOMIST",
        "2026-03-24 20:00",
        "2026-03-25 08:00",
        60,
        staff_group="ADDITIONAL_CLINICAL_SERVICES",
        pay=pay,
    )
    assert [line.pay_code for line in p.lines] == ["BASIC", "HOLIDAY_PAY"]


def test_no_holiday_pay_where_the_trust_does_not_pay_it_and_a_missing_rate_is_an_error() -> None:
    pay = RCU.model_copy(update={"holiday_pay_percent": None})
    p = _worked("BAND_5", "2026-03-23 08:00", "2026-03-23 16:00", 30, pay=pay)
    assert _lines(p) == [("BASIC", "7.50", "18.20", "136.50")]
    missing = _worked("BAND_9", "2026-03-23 08:00", "2026-03-23 16:00", 30, pay=pay)
    assert missing.lines == () and "BAND_9" in (missing.error or "")


def test_a_late_cancellation_fee_pays_its_hours_at_the_basic_rate() -> None:
    p = price_fee(RCU, staff_group=NURSING, grade="BAND_5", fee_hours=Decimal("2"))
    assert _lines(p) == [("LATE_CANCELLATION_FEE", "2.00", "18.20", "36.40"), ("HOLIDAY_PAY", None, None, "4.39")]


def test_the_defaults_are_annex_5() -> None:
    unsocial = PayPolicy().unsocial
    assert [unsocial.percentage("night", g) for g in ("BAND_1", "BAND_2", "BAND_3", "BAND_6")] == [50, 44, 37, 30]
    assert [unsocial.percentage("sunday", g) for g in ("BAND_1", "BAND_2", "BAND_3", "BAND_8A")] == [100, 88, 74, 60]
