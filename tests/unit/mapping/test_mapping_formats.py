"""Record readers: CSV, XML, pipe-delimited and JSON quirks."""

from __future__ import annotations

import pytest

from rosterhub.errors import ParseError
from rosterhub.mapping.engine.formats import read_payload
from rosterhub.mapping.engine.model import CsvFormat, JsonFormat, PipeFormat, XmlFormat


def test_csv_quoted_newlines_bom_blank_lines_and_short_rows() -> None:
    body = '\ufeffA,B\r\n1,"two\r\nlines"\r\n\r\n3\r\n4,\r\n'.encode()
    out = read_payload(CsvFormat(type="csv"), body)
    first, short, empty_b = out.records
    assert (first.ref, first.data) == ("line 2", {"A": "1", "B": "two\r\nlines"})
    assert first.raw == b'A,B\r\n1,"two\r\nlines"\r\n'
    assert short.ref == "line 5" and isinstance(short.error, ParseError)
    assert empty_b.data == {"A": "4", "B": None}


def test_csv_redacts_sensitive_columns_and_refuses_bad_encoding() -> None:
    out = read_payload(CsvFormat(type="csv"), b"ni,name\nAB123456C,Al\n", frozenset({"ni"}))
    assert out.records[0].raw == b"ni,name\nREDACTED,Al\n" and out.records[0].data["ni"] == "AB123456C"
    with pytest.raises(ParseError):
        read_payload(CsvFormat(type="csv", encoding="utf-8"), b"\xff\xfe\x00")
    with pytest.raises(ParseError):
        read_payload(CsvFormat(type="csv"), b"")


def test_xml_namespaces_attributes_lists_and_refs() -> None:
    body = b"""<Export xmlns="urn:x" trust="RXX"><Duty id="1" code="A"><code>child</code><Skill>x</Skill></Duty>
    <Duty id="2"><Skill>a</Skill><Skill>b</Skill><Empty/></Duty></Export>"""
    out = read_payload(XmlFormat(type="xml", records="Duty", force_list=["Skill"]), body)
    one, two = out.records
    assert one.ref == "/Export/Duty[1]" and out.variables["document"] == {"trust": "RXX"}
    assert one.data == {"id": "1", "@code": "A", "code": "child", "Skill": ["x"]}
    assert two.data == {"id": "2", "Skill": ["a", "b"], "Empty": None}
    assert b"<Duty" in one.raw


def test_xml_refuses_entity_tricks_and_wrong_records_path() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><x>&b;</x>'
    with pytest.raises(ParseError, match="forbidden"):
        read_payload(XmlFormat(type="xml", records="y"), bomb)
    with pytest.raises(ParseError, match="matches none"):
        read_payload(XmlFormat(type="xml", records="Duty"), b"<Export><Shift/></Export>")
    with pytest.raises(ParseError):
        read_payload(XmlFormat(type="xml", records="Duty"), b"<Export><Duty></Export>")
    assert read_payload(XmlFormat(type="xml", records="Duty"), b"<Export/>").records == []


PIPE = PipeFormat(type="pipe", header_fields=["trust"], record_types={"PER": ["id", "ni"], "CMP": ["id"]})


def test_pipe_records_trailer_and_unknown_types() -> None:
    body = b"HDR|RXX\nPER|1|AB123456C\nXYZ|9\nPER|2\nCMP|1\nTRL|4\n"
    out = read_payload(PIPE, body, frozenset({"ni"}))
    per, unknown, short, cmp_ = out.records
    assert out.variables["header"] == {"trust": "RXX"}
    assert per.data == {"record_type": "PER", "id": "1", "ni": "AB123456C"} and per.raw == b"PER|1|REDACTED"
    assert "unknown record type" in unknown.error.message and short.error is not None
    assert cmp_.data == {"record_type": "CMP", "id": "1"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"PER|1|x\nTRL|1\n", "not a HDR"),
        (b"HDR|RXX\nPER|1|x\n", "without a TRL"),
        (b"HDR|RXX\nPER|1|x\nTRL|2\n", "declares 2"),
        (b"HDR|RXX\nTRL|x\n", "no record count"),
        (b"", "empty"),
    ],
)
def test_pipe_file_level_problems_reject_the_whole_file(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        read_payload(PIPE, body)


def test_json_single_record_keeps_its_bytes_and_refs_can_be_named() -> None:
    body = b'{"a": 1}'
    [rec] = read_payload(JsonFormat(type="json"), body).records
    assert (rec.ref, rec.raw) == ("$", body)
    fmt = JsonFormat(type="json", records="entry[].resource", ref="{resourceType}/{id}")
    out = read_payload(fmt, b'{"entry": [{"resource": {"resourceType": "Slot", "id": "s1"}}, {"resource": {}}]}')
    assert [r.ref for r in out.records] == ["(entry[].resource)[0] Slot/s1", "(entry[].resource)[1]"]
    redacted = read_payload(JsonFormat(type="json"), b'{"ni": "x", "b": {"ni": "y"}}', frozenset({"ni"}))
    assert redacted.records[0].raw == b'{"b":{}}'  # sensitive keys removed: what is left is still a record


def test_json_records_path_that_cannot_apply_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="cannot be applied"):
        read_payload(JsonFormat(type="json", records="length(items)"), b'{"items": 3}')
    with pytest.raises(ParseError, match="not JSON"):
        read_payload(JsonFormat(type="json"), b"\xef\xbb\xbf{")
