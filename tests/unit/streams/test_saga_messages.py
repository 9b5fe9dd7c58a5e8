"""The saga's typed messages keep the wire form the stages exchanged as plain dicts.

Each document below is written as the stages wrote it before the models existed (literal dicts, the keys in
their order then), so records in flight, the re-sent checks in the shift table's changelog and the answers in
the person table's changelog decode to the typed model and encode back to the same document and bytes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from rosterhub.streams.booking.messages import (
    Answer,
    Check,
    Conflict,
    Fence,
    Memberships,
    Release,
    Retime,
    SagaMessage,
    decode,
    dumps,
    loads,
)
from rosterhub.streams.booking.state import ShiftState
from rosterhub.streams.identity.crosswalk import fence_message

SHIFT = {
    "shift_id": "patchwork:RHQ:s1",
    "version": 2,
    "trust": "RHQ",
    "staff_group": "NURSING_MIDWIFERY_REGISTERED",
    "grade": "BAND_5",
    "start": 1792868400000,
    "end": 1792915200000,
    "tier": "OWN_BANK",
    "rate": "21.50",
    "shift_type": "NIGHT",
    "status": "open",
    "filled_by": None,
}
RESULT = {"rule": "shift_open", "passed": True, "reason_code": None, "detail": None}

#: (model, the dict form as the stages wrote it before the models)
OLD_FORMS: list[tuple[type[SagaMessage], dict[str, Any]]] = [
    (
        Check,
        {
            "kind": "check",
            "booking_id": "b1",
            "shift_id": "patchwork:RHQ:s1",
            "person_id": "p1",
            "request": {"extra": {"membership": "BANK", "grade": "BAND_5"}, "vendor": "patchwork"},
            "person_v": 3,
            "shift": SHIFT,
            "shift_results": [RESULT],
        },
    ),
    (
        Answer,
        {
            "kind": "answer",
            "booking_id": "b1",
            "shift_id": "patchwork:RHQ:s1",
            "person_id": "p1",
            "results": [RESULT],
            "recorded": True,
        },
    ),
    (
        Answer,
        {
            "kind": "answer",
            "booking_id": "b1",
            "shift_id": "patchwork:RHQ:s1",
            "person_id": "p1",
            "results": [],
            "recorded": False,
            "restamp": 7,
        },
    ),
    (Release, {"kind": "release", "booking_id": "b1", "person_id": "p1", "reason": "cancelled"}),
    (
        Retime,
        {
            "kind": "retime",
            "booking_id": "b1",
            "shift_id": "patchwork:RHQ:s1",
            "person_id": "p1",
            "shift": SHIFT,
            "cause": "evt-9",
        },
    ),
    (
        Conflict,
        {
            "kind": "conflict",
            "booking_id": "b1",
            "shift_id": "patchwork:RHQ:s1",
            "person_id": "p1",
            "detail": "shift patchwork:RHQ:s1 was re-timed ...",
            "cause": "evt-9",
        },
    ),
    (
        Memberships,
        {"kind": "employment", "person_id": "p1", "seq": 9, "memberships": [{"trust": "RCU", "type": "SUBSTANTIVE"}]},
    ),
    (Fence, fence_message("p1", 7)),
]


def _old_bytes(doc: dict[str, Any]) -> bytes:
    """What the stages' dumps wrote for a dict."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize(("model", "old"), OLD_FORMS, ids=lambda v: v.get("kind") if isinstance(v, dict) else None)
def test_the_old_dict_form_round_trips(model: type[SagaMessage], old: dict[str, Any]) -> None:
    msg = decode(json.loads(_old_bytes(old)))
    assert type(msg) is model and model.from_wire(old) == msg
    assert msg.to_wire() == old and list(msg.to_wire()) == list(old)  # same keys, same order
    assert dumps(msg) == _old_bytes(old)  # byte for byte: a re-sent message is the same record


def test_messages_sent_before_a_key_existed_read_with_its_default() -> None:
    check = dict(OLD_FORMS[0][1])
    del check["person_v"]  # before identity versions (docs/decisions/0012)
    assert decode(check) == Check.from_wire({**check, "person_v": None})
    retime = {k: v for k, v in OLD_FORMS[4][1].items() if k != "cause"}
    assert decode(retime) == Retime.from_wire({**retime, "cause": ""})


def test_an_answer_without_a_restamp_sends_none() -> None:
    answer = Answer.from_wire(OLD_FORMS[1][1])
    assert answer.restamp is None and "restamp" not in answer.to_wire()


def test_a_hold_check_kept_in_the_shift_table_is_re_sent_unchanged() -> None:
    """The shift table keeps the check as sent; a changelog value read back re-sends the same bytes."""
    old = OLD_FORMS[0][1]
    state = ShiftState.from_table(json.loads(json.dumps({"shift_id": "s1", "status": "open", "hold_check": old})))
    assert state is not None and state.hold_check is not None
    assert dumps(Check.from_wire(state.hold_check)) == _old_bytes(old)


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown saga message kind"):
        decode({"kind": "nonsense", "booking_id": "b1"})


@pytest.mark.parametrize("value", [b"[1, 2]", b'"check"', b"7", b"null"])
def test_a_value_that_is_json_but_not_an_object_is_refused_as_unreadable(value: bytes) -> None:
    """The person stage drops an unreadable message on ValueError; valid JSON of another shape is one too
    (it used to reach ``decode`` and fail there with AttributeError, which stopped the agent)."""
    with pytest.raises(ValueError, match="saga message is a JSON object"):
        decode(loads(value))
