"""streams/outbox.py: a stage's outputs kept with its state, by input, for the last few inputs (decision 0013)."""

from __future__ import annotations

import json

from rosterhub.streams import outbox
from rosterhub.streams.outbox import Sent


def _sent(i: int) -> Sent:
    return Sent("events.booking", f"k{i}".encode(), bytes([0, 255, i]), (("ce_id", f"id-{i}".encode()),))


def test_records_come_back_as_the_same_bytes_after_a_json_table_round_trip() -> None:
    box = outbox.remember((), "t/0/7", [_sent(1), _sent(2)])
    stored = json.loads(json.dumps(box))  # what faust's JSON table value holds after a restart
    assert outbox.kept(stored, "t/0/7") == [_sent(1), _sent(2)]
    assert outbox.kept(stored, "t/0/8") is None


def test_only_the_last_inputs_are_kept_and_an_input_without_outputs_changes_nothing() -> None:
    box: tuple = ()
    for i in range(outbox.KEPT + 3):
        box = outbox.remember(box, f"t/0/{i}", [_sent(i)])
    assert [e[0] for e in box] == [f"t/0/{i}" for i in range(3, outbox.KEPT + 3)]
    assert outbox.remember(box, "t/0/99", []) == box
    assert outbox.input_id("events.booking", 3, 41) == "events.booking/3/41"


def test_kept_zero_turns_the_outbox_off(monkeypatch) -> None:
    """The variant bench/outbox_cost.py compares against: nothing kept (a slice [-0:] would have kept all)."""
    monkeypatch.setattr(outbox, "KEPT", 0)
    box = outbox.remember((), "t/0/1", [_sent(1)])
    assert outbox.remember(box, "t/0/2", [_sent(2)]) == ()
    assert outbox.kept(box, "t/0/1") is None
