"""Mapping errors in the vendor's own words (issue #18).

A rejection names the record by its own id (every format), the vendor's field (column, path,
element) and the value it sent, and reports every failure of the record in one run; decoding
errors say which ``encoding:`` to set; a namespace prefix in an XML ``records`` path and a
misplaced key are caught by ``mapping check`` at their own line.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from rosterhub.connectors.simulators.esr import interface_file
from rosterhub.deadletter import dead_letter
from rosterhub.envelope import headers_dict
from rosterhub.errors import MappingError, ParseError
from rosterhub.mapping.engine import apply_mapping, check_mapping, find_mapping, load_mapping
from rosterhub.mapping.engine.render import rejection_json
from tests.unit.mapping.mapping_helpers import BOOKING_JSON, GOOD, RECEIVED, payload, write

ROTAPLUS_HEADER = "Shift Ref;Trust;Site Code;Department;Staff Group;Band;Date;From;To;Unpaid Break;Rate;Posted\n"


def rotaplus(*rows: str) -> bytes:
    return (ROTAPLUS_HEADER + "".join(r + "\n" for r in rows)).encode()


def test_every_failure_of_a_record_is_reported_in_one_run_in_the_vendors_words() -> None:
    spec = load_mapping(find_mapping("rotaplus"))
    good = "RP-1;RXX;RXX01;Ward 7;Nursing;Band 5;28/03/2026;20:00;08:00;60;£24.50;25/03/2026 09:00"
    bad = "RP-2;RXX;RXX01;Ward 7;Nursing;Band 55;31/02/2026;20:00;08:00;60;£2x.50;25/03/2026 09:00"
    out = apply_mapping(spec, rotaplus(good, bad), received_at=RECEIVED)
    assert [e.record_ref for e in out.events] == ["line 2 RP-1"]
    [rejection] = out.rejected
    assert rejection.record_ref == "line 3 RP-2"  # the row by its own id, and where it is
    found = {(p.field, p.value, p.target) for p in rejection.errors}
    # three faults, each in the vendor's column and value; the date is read by start and end: one problem
    assert found == {
        ("Band", "Band 55", "grade"),
        ("Date", "31/02/2026", "let.start, let.end"),
        ("Rate", "£2x.50", "hourly_rate"),
    }
    # shift_type reads start and end, which failed: not reported again as a knock-on
    assert all(p.target != "shift_type" for p in rejection.errors)
    lines = rejection_json(rejection)
    assert len(lines) == 3 and {line["record"] for line in lines} == {"line 3 RP-2"}
    assert rejection.error.as_dict()["problems"][2]["field"] == "Rate"


def test_dead_letter_carries_every_problem() -> None:
    first = MappingError("bad date", record="line 3 RP-2", field="Date", value="31/02/2026", target="let.start")
    second = MappingError("bad rate", record="line 3 RP-2", field="Rate", value="£2x.50", target="hourly_rate")
    error = MappingError.of([first, second])
    record = dead_letter(topic="dlq.mapping", stage="mapping", error=error, original=b"row", record_ref="line 3 RP-2")
    headers = headers_dict(record.headers)
    assert (headers["dlq_field"], headers["dlq_target"]) == (b"Date", b"let.start")
    assert [p["field"] for p in json.loads(headers["dlq_problems"])] == ["Date", "Rate"]


def test_csv_xml_and_pipe_records_are_named_by_their_own_id(tmp_path: Path) -> None:
    xml = load_mapping(find_mapping("healthroster"))
    body = (
        b'<BankRequestExport trustCode="RXX"><Duty id="D-7003" revision="1"><Grade>Band 55</Grade></Duty>'
        b"</BankRequestExport>"
    )
    [rej] = apply_mapping(xml, body, received_at=RECEIVED).rejected
    assert rej.record_ref == "/BankRequestExport/Duty[1] D-7003"
    esr = load_mapping(find_mapping("esr"))
    pipe = b"HDR|RXX|ESR|20260324|021500|DAILY|1\nASG|1004|1004-2|X|W|W|P|Band 5|Nursing|Permanent|x||0\nTRL|1\n"
    [rej] = apply_mapping(esr, pipe, received_at=RECEIVED, secrets={"esr_identity": b"k"}).rejected
    assert rej.record_ref == "line 2 1004-2"
    # a ref that cannot be filled (no such column) leaves the position alone, never an error
    spec = load_mapping(write(tmp_path, _csv_mapping('ref: "{No Such}"')))
    [rej] = apply_mapping(spec, b"Id;Trust\nA1;\n", received_at=RECEIVED).rejected
    assert rej.record_ref == "line 2"


def _csv_mapping(extra: str) -> str:
    return f"""\
rosterhub_mapping: 1
vendor: testvendor
format:
  type: csv
  delimiter: ";"
  {extra}
trust: {{column: Trust}}
events:
  - name: open
    type: ShiftCancelled
    id: [Id]
    fields:
      shift_id: {{column: Id, then: [hub_id]}}
      version: {{const: 1}}
      trust: {{record: {{ods_code: {{var: trust}}}}}}
      reason: {{const: OTHER}}
      cancelled_by: {{const: TRUST}}
      start: {{var: received_at}}
      cancelled_at: {{var: received_at}}
      notice_hours: {{const: 0}}
"""


def test_ref_for_csv_is_accepted_and_a_misspelt_key_is_reported_at_its_own_line(tmp_path: Path) -> None:
    assert check_mapping(write(tmp_path, _csv_mapping('ref: "{Id}"'))) == []
    [error] = check_mapping(write(tmp_path, _csv_mapping('reff: "{Id}"')))
    assert (error.line, error.key, error.message) == (6, "format.reff", "unknown key 'reff'")
    problems = check_mapping(write(tmp_path, _csv_mapping('ref: "Id"')))
    assert [(e.line, e.key) for e in problems] == [(6, "format.ref")] and "braces" in problems[0].message


def test_a_namespace_prefix_in_the_records_path_is_caught_by_check(tmp_path: Path) -> None:
    text = (find_mapping("healthroster")).read_text(encoding="utf-8").replace("records: Duty", "records: cr:Duty")
    [error] = check_mapping(write(tmp_path, text, "healthroster.yaml"))
    assert error.key == "format.records" and "namespace" in error.message and "'Duty'" in error.message
    assert text.splitlines()[error.line - 1].strip().startswith("records: cr:Duty")


def test_decoding_errors_say_which_encoding_to_set() -> None:
    spec = load_mapping(find_mapping("rotaplus"))  # utf-8-sig, the default
    row = "RP-1;RXX;RXX01;Ward 7;Nursing;Band 5;28/03/2026;20:00;08:00;60;£24.50;25/03/2026 09:00\n"
    [rej] = apply_mapping(spec, (ROTAPLUS_HEADER + row).encode("cp1252"), received_at=RECEIVED).rejected
    assert isinstance(rej.error, ParseError)
    message = rej.error.message
    assert "byte 0xa3 at line 2, column 64" in message  # the £ sign, where an editor shows it
    assert "`encoding: cp1252`" in message


def test_xml_without_a_declaration_in_another_encoding_says_how_to_read_it(tmp_path: Path) -> None:
    spec = load_mapping(find_mapping("healthroster"))
    body = '<BankRequestExport trustCode="RXX"><Duty id="1"><Comments>£5</Comments></Duty></BankRequestExport>'
    [rej] = apply_mapping(spec, body.encode("cp1252"), received_at=RECEIVED).rejected
    assert "declares no encoding" in rej.error.message and "`encoding: cp1252`" in rej.error.message
    text = (
        find_mapping("healthroster")
        .read_text(encoding="utf-8")
        .replace("  records: Duty\n", "  records: Duty\n  encoding: cp1252\n")
    )
    fixed = load_mapping(write(tmp_path, text, "healthroster.yaml"))
    out = apply_mapping(fixed, body.encode("cp1252"), received_at=RECEIVED)
    assert not any(isinstance(r.error, ParseError) for r in out.rejected)  # read now: the duty itself is judged


def test_items_of_a_list_are_named_as_the_vendor_would_find_them(tmp_path: Path) -> None:
    text = BOOKING_JSON.replace("  records: items\n", '  records: items\n  ref: "{id}"\n').replace(
        "            list:\n              - {fn: register_identifier, args: {number: nmc, register: {const: nmc}}}\n",
        "            each: registrations\n"
        "            map: {fn: register_identifier, args: {number: number, register: body}}\n",
    )
    spec = load_mapping(write(tmp_path, text))
    item = GOOD | {"registrations": [{"body": "nmc", "number": "71A2998E"}, {"body": "gmc", "number": "123"}]}
    [rej] = apply_mapping(spec, payload(item), received_at=RECEIVED, trust="RXX").rejected
    assert rej.record_ref == "items[0] b1"
    assert (rej.error.field, rej.error.value, rej.error.target) == (
        "registrations[1].number",
        "123",
        "worker.identifiers[1]",
    )


def test_personal_data_stays_out_of_errors() -> None:
    spec = load_mapping(find_mapping("esr"))
    person = (
        "PER|1|N|MR|AL|SMITH|NOT-AN-NI|01-JAN-1990|1 High St|Leeds|LS1 1AA|NMC|71A2998E|"
        "Nursing and Midwifery Registered|Band 5"
    )
    body = interface_file("RXX", date(2026, 3, 24), "DAILY", 412, [person])
    [rej] = apply_mapping(spec, body, received_at=RECEIVED, secrets={"esr_identity": b"k"}).rejected
    assert (rej.error.field, rej.error.value) == ("ni_number", "<redacted>")
    assert b"NOT-AN-NI" not in json.dumps(rejection_json(rej)).encode()


def test_a_personal_argument_not_listed_as_sensitive_is_still_redacted(tmp_path: Path) -> None:
    """identity_match_key's inputs are personal whatever the mapping's ``sensitive:`` says: the vendor's field is
    named, its value never shown (the failing argument read from a column not listed as sensitive)."""
    mapping = _csv_mapping("").replace("trust: {column: Trust}\n", "trust: {column: Trust}\nsecrets: [k]\n")
    mapping = mapping.replace(
        "      reason: {const: OTHER}\n",
        "      reason: {const: OTHER}\n"
        "      reason_detail:\n"
        "        fn: identity_match_key\n"
        "        args: {ni: {column: NI}, dob: {column: DOB}, surname: {column: Surname}}\n"
        "        with: {secret: k, date_format: '%d/%m/%Y'}\n",
    )
    spec = load_mapping(write(tmp_path, mapping))
    body = b"Id;Trust;NI;DOB;Surname\nA1;RXX;NOT-AN-NI;01/01/1990;Smith\n"
    [rej] = apply_mapping(spec, body, received_at=RECEIVED, secrets={"k": b"s"}).rejected
    assert rej.error.field == "NI" and rej.error.value == "<redacted>" and rej.error.target == "reason_detail"
    assert b"NOT-AN-NI" not in json.dumps(rejection_json(rej)).encode()
