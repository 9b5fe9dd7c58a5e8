"""ShiftFilled carries the facts the KPIs need (rate, cap, framework, break glass, employer), from the saga."""

from decimal import Decimal

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.events.models import ShiftFilled
from rosterhub.streams.booking import outcome
from tests.unit.streams.saga_harness import Saga, posted, request


def _filled(saga: Saga) -> dict:
    [filled] = [e.data for e in saga.events if e.type == outcome.SHIFT_FILLED]
    return filled


def test_a_bank_fill_carries_the_shifts_bank_rate_and_no_agency_facts() -> None:
    saga = Saga()
    shift = posted()
    shift.data["hourly_rate"] = Decimal("21.40")
    saga.send(shift)
    saga.send(request("b1", substantive_employer="RCU"))
    saga.settle()
    filled = _filled(saga)
    assert filled["hourly_rate"] == Decimal("21.40") and filled["price_cap_rate"] is None
    assert filled["agency"] is None and filled["framework_approved"] is None and filled["break_glass"] is False
    assert filled["substantive_employer"] == "RCU" and filled["passport_cleared"] is True
    ShiftFilled.model_validate(filled)  # what the saga writes is a valid event ...
    codec = SingleObjectCodec(default_catalogue())
    assert codec.decode(codec.encode(default_catalogue().get(outcome.SHIFT_FILLED), filled)).record["hourly_rate"] == (
        Decimal("21.40")
    )  # ... and encodes


def test_an_agency_fill_over_the_cap_by_break_glass_names_the_authoriser_and_the_cap() -> None:
    saga = Saga()
    saga.send(posted(tier="AGENCY_TIER_3"))
    agency = {
        "membership": "AGENCY",
        "agency": "northern-care-staffing",
        "framework": "CCS-RM6161",
        "charge_rate": "30.00",
        "break_glass": True,
        "break_glass_authoriser": "RHQ-user-0042",
        "home_trust": None,
    }
    saga.send(request("b1", **agency))
    saga.settle()
    filled = _filled(saga)
    # BAND_5 basic 15.33 + 55 % = 23.76: 30.00 is over it, allowed by break glass.
    assert filled["hourly_rate"] == Decimal("30.00") and filled["price_cap_rate"] == Decimal("23.76")
    assert filled["agency"] == "northern-care-staffing" and filled["framework"] == "CCS-RM6161"
    assert filled["framework_approved"] is True  # the framework is approved; only the cap was broken
    assert filled["break_glass"] is True and filled["break_glass_authoriser"] == "RHQ-user-0042"
    ShiftFilled.model_validate(filled)


def test_break_glass_asked_for_but_not_needed_is_not_counted() -> None:
    saga = Saga()
    saga.send(posted(tier="AGENCY_TIER_3"))
    saga.send(
        request(
            "b1",
            membership="AGENCY",
            agency="northern-care-staffing",
            framework="HTE-WORKFORCE",
            charge_rate="20.00",
            break_glass=True,
            break_glass_authoriser="RHQ-user-0042",
        )
    )
    saga.settle()
    filled = _filled(saga)
    assert filled["break_glass"] is False and filled["break_glass_authoriser"] is None
    assert filled["framework_approved"] is True and filled["price_cap_rate"] == Decimal("23.76")
