"""passport_clearance: the passport processor's verdict, adapted; unknown until it answers."""

import pytest

from rosterhub.streams.booking.rules import Clearance
from rosterhub.streams.booking.rules.passport import passport_clearance
from tests.unit.streams.booking_builders import ctx, shift

CASES = [
    ("cleared", Clearance(cleared=True), None, "cleared by the passport for RCU"),
    ("no answer yet", None, "PASSPORT_UNKNOWN", "no clearance yet from the passport for RCU"),
    (
        "not cleared, with reasons",
        Clearance(False, (("DBS", "EXPIRED"), ("CSTF_TRAINING:FIRE_SAFETY", "CSTF_RENEWAL_DUE"))),
        "PASSPORT_NOT_CLEARED",
        "not cleared for RCU: DBS: EXPIRED; CSTF_TRAINING:FIRE_SAFETY: CSTF_RENEWAL_DUE",
    ),
    ("not cleared, no reasons given", Clearance(cleared=False), "PASSPORT_NOT_CLEARED", "no reason given"),
]


@pytest.mark.parametrize(("clearance", "code", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_passport_clearance(clearance, code, words) -> None:
    result = passport_clearance(ctx(shift(trust="RCU"), clearance=clearance))
    assert (result.rule, result.passed, result.reason_code) == ("passport_clearance", code is None, code)
    assert result.detail == words or words in result.detail
