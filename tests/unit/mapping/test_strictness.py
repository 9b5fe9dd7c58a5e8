"""Issue #12, findings 7-9 in the mapping layer: strict JSON, limits on text, ids of a declared shape.

Every refusal names the record, the vendor's field (``data.notes``), the event field it made (``target``) and the
(shortened) value, and is a rejection, never an exception.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rosterhub.connectors.pipeline import packaged_mapping
from rosterhub.errors import ParseError
from rosterhub.mapping.engine import apply_mapping, strict_json
from rosterhub.mapping.engine.limits import DEFAULT_MAX_LENGTH, shown

SAMPLES = Path(__file__).resolve().parents[3] / "mapping" / "samples"
SHIFT = json.loads((SAMPLES / "patchwork" / "shift_created.input.json").read_text())
WHEN = datetime(2026, 3, 25, 10, tzinfo=UTC)


def _map(**data: object) -> object:
    payload = json.loads(json.dumps(SHIFT))
    payload["data"].update(data)
    return apply_mapping(packaged_mapping("patchwork", None), json.dumps(payload).encode(), received_at=WHEN)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ('{"a": ' + "9" * 5000 + "}", "too many digits"),
        ('{"a": 9223372036854775808}', "too many digits"),
        ('{"a": 1e400}', "too large"),
        ('{"a": NaN}', "NaN is not a JSON value"),
        ('{"a": ["ok", "\\ud800"]}', "a[1] holds a lone surrogate"),
        ('{"\\udc00": 1}', "lone surrogate"),
        ("[" * 100_000, "nested too deeply"),
        ('{"a": 1', "not JSON"),
    ],
)
def test_strict_json_refuses_what_python_would_let_through(text: str, says: str) -> None:
    with pytest.raises(ParseError, match=None) as caught:
        strict_json.loads(text.encode())
    assert says in str(caught.value)


def test_strict_json_reads_ordinary_json() -> None:
    doc = {"a": [1, -9223372036854775807, 2.5, True, None, "é \U0001f600"], "b": {"c": "x"}}
    assert strict_json.loads(json.dumps(doc).encode()) == doc
    assert strict_json.loads(json.dumps(doc, ensure_ascii=False).encode()) == doc


def test_text_over_its_limit_is_refused_naming_field_path_and_a_shortened_value() -> None:
    out = _map(notes="n" * 2001)
    [rej] = out.rejected
    assert not out.events and (rej.error.field, rej.error.target) == ("data.notes", "notes")
    assert rej.error.message == "data.notes is 2001 characters long, over the limit of 2000 for notes"
    assert rej.error.value == shown("n" * 2001) and len(rej.error.value) < 100
    assert rej.error.rule.endswith("[max_length]")
    assert _map(notes="n" * 2000).events  # at the limit: fine
    [rej] = _map(ward="w" * (DEFAULT_MAX_LENGTH + 1)).rejected  # no limit declared: the default
    assert (rej.error.field, rej.error.target) == (
        "data.ward",
        "ward",
    ) and f"limit of {DEFAULT_MAX_LENGTH}" in rej.error.message


@pytest.mark.parametrize("bad", ["AMU\x00", "AMU\x1b[31m", "AMU\x85"])
def test_control_characters_are_refused(bad: str) -> None:
    [rej] = _map(ward=bad).rejected
    assert (rej.error.field, rej.error.target) == ("data.ward", "ward") and "control character" in rej.error.message
    assert "\\x" in rej.error.value  # escaped, so the header and the log line stay readable
    assert _map(notes="line one\nline two\ttabbed\r\n").events  # line ends and tabs are text


@pytest.mark.parametrize(
    ("shift_id", "says"),
    [
        ({"nested": 1}, "not a JSON object"),
        (["P-1"], "not a list"),
        (True, "not bool"),
        (7.5, "not float"),
        ("probe\x00A-8", "not an id"),
        ("P 1", "not an id"),
        ("x" * 129, "not an id"),
        ("  ", "empty"),
    ],
)
def test_ids_must_be_of_the_declared_shape(shift_id: object, says: str) -> None:
    out = _map(shift_id=shift_id)
    assert not out.events
    [rej] = out.rejected
    assert (rej.error.field, rej.error.target) == ("data.shift_id", "shift_id") and says in rej.error.message, (
        rej.error.message
    )


def test_ids_that_fit_are_taken_numbers_included() -> None:
    for good in ("P-1", "bk_5531", "healthroster:RHQ:7742445", "NHSP-BK-4410092", 77120):
        [event] = _map(shift_id=good).events
        assert event.data["shift_id"] == f"patchwork:RXX:{good}"


def test_text_converters_refuse_objects_rather_than_print_them() -> None:
    [rej] = _map(ward={"name": "AMU"}).rejected  # ward is a plain path: the Avro check refuses the dict
    assert (rej.error.field, rej.error.target) == ("data.ward", "ward")
    [rej] = _map(shift_id=5, grade={"band": 5}).rejected  # through a code list: refused, never "{'band': 5}"
    assert (rej.error.field, rej.error.target) == ("data.grade", "grade")


def test_every_field_over_a_limit_is_reported_in_one_run() -> None:
    [rej] = _map(ward="w" * (DEFAULT_MAX_LENGTH + 1), notes="n\x00").rejected
    found = {(p.field, p.target, p.rule.rsplit(" ", 1)[-1]) for p in rej.error.problems}
    assert found == {("data.ward", "ward", "[max_length]"), ("data.notes", "notes", "[control_character]")}
