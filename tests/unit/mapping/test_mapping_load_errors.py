"""Broken mapping files: every error names the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from rosterhub.errors import MappingFileError
from rosterhub.mapping.engine import check_mapping, load_mapping
from tests.unit.mapping.mapping_helpers import BOOKING_JSON, write


def only_error(path: Path) -> MappingFileError:
    errors = check_mapping(path)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def test_the_helper_file_is_valid(tmp_path: Path) -> None:
    spec = load_mapping(write(tmp_path, BOOKING_JSON))
    assert (spec.vendor, spec.format) == ("testvendor", "json")


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "message"),
    [
        ("vendor: testvendor", "vendr: testvendor", 2, "vendr", "unknown key 'vendr'"),
        (
            "      shift_id: {path: shift, then: [hub_id]}",
            "      shift_id: {path: shift, then: [hub_idd]}",
            19,
            "events[0].fields.shift_id.then[0]",
            "unknown function 'hub_idd'; did you mean 'hub_id'?",
        ),
        (
            "      requested_at: {path: at, then: [instant]}",
            "      requested_at: {path: at, then: [{instant: {zone: UTC}}]}",
            27,
            "events[0].fields.requested_at.then[0].instant.zone",
            "instant has no setting 'zone'",
        ),
        (
            "      booking_id: {path: id, then: [hub_id]}",
            "      booking_ref: {path: id, then: [hub_id]}",
            18,
            "events[0].fields.booking_ref",
            "BookingRequested has no field 'booking_ref'",
        ),
        (
            "    type: BookingRequested",
            "    type: BookingAsked",
            15,
            "events[0].type",
            "no event schema 'BookingAsked'",
        ),
        ("    when: \"kind == 'request'\"", '    when: "kind == \'request"', 14, "events[0].when", "invalid JMESPath"),
        (
            "      vendor: {var: vendor}",
            "      vendor: {var: vendorr}",
            26,
            "events[0].fields.vendor.var",
            "unknown variable 'vendorr'",
        ),
        (
            "      display_name: name",
            "      display_name: {pth: name}",
            25,
            "events[0].fields.worker.record.display_name",
            "a value is a JMESPath string",
        ),
        (
            "args: {number: nmc, register: {const: nmc}}",
            "args: {numbr: nmc, register: {const: nmc}}",
            24,
            "events[0].fields.worker.record.identifiers.list[0].args.numbr",
            "register_identifier() has no argument 'numbr'",
        ),
        ("  - when: \"kind == 'ping'\"", "  - whenn: \"kind == 'ping'\"", 10, "skip[0].whenn", "unknown key 'whenn'"),
        ("rosterhub_mapping: 1", "rosterhub_mapping: 2", 1, "rosterhub_mapping", "rosterhub_mapping must be 1"),
    ],
)
def test_error_names_file_line_and_key(tmp_path: Path, old: str, new: str, line: int, key: str, message: str) -> None:
    assert old in BOOKING_JSON
    path = write(tmp_path, BOOKING_JSON.replace(old, new))
    errors = check_mapping(path)
    matching = [e for e in errors if e.key == key]
    assert matching, [str(e) for e in errors]
    err = matching[0]
    assert (err.file, err.line, err.key) == (str(path), line, key)
    assert message in err.message
    assert str(err).startswith(f"{path}:{line} [{key}]: ")


def test_missing_required_key_points_at_its_parent(tmp_path: Path) -> None:
    text = BOOKING_JSON.replace("    id: [id]\n", "")
    err = only_error(write(tmp_path, text))
    assert (err.line, err.key, err.message) == (13, "events[0].id", "missing key 'id'")


def test_required_schema_field_not_mapped(tmp_path: Path) -> None:
    err = only_error(write(tmp_path, BOOKING_JSON.replace("      vendor: {var: vendor}\n", "")))
    assert err.key == "events[0].fields" and "BookingRequested.vendor is required and not mapped" in err.message


def test_codelist_and_secret_names_are_checked(tmp_path: Path) -> None:
    text = BOOKING_JSON.replace("display_name: name", "display_name: {path: name, then: [{codelist: grades}]}")
    err = only_error(write(tmp_path, text))
    assert "no code list named 'grades'" in err.message and err.line == 25
    text = BOOKING_JSON.replace(
        "display_name: name",
        "display_name: {fn: identity_match_key, args: {ni: a, dob: b, surname: c}, with: {secret: s}}",
    )
    err = only_error(write(tmp_path, text))
    assert "secret 's' is not declared under secrets" in err.message


def test_setting_types_are_checked_against_the_signature(tmp_path: Path) -> None:
    text = BOOKING_JSON.replace(
        "display_name: name", 'display_name: {path: name, then: [{split: {sep: "-", index: "1"}}]}'
    )
    err = only_error(write(tmp_path, text))
    assert "split setting 'index'" in err.message and err.key.endswith("split.index")


def test_yaml_syntax_error_and_duplicate_keys(tmp_path: Path) -> None:
    err = only_error(write(tmp_path, "vendor: x\nformat: [unclosed\n"))
    assert err.line == 3 and "not valid YAML" in err.message
    err = only_error(write(tmp_path, BOOKING_JSON.replace("vendor: testvendor", "vendor: testvendor\nvendor: again")))
    assert (err.line, err.key) == (3, "vendor")


def test_duplicate_codes_after_case_folding(tmp_path: Path) -> None:
    text = BOOKING_JSON.replace("entries: {request: BookingRequested}", "entries: {Band 5: A, band  5: B}")
    err = only_error(write(tmp_path, text))
    assert "same code" in err.message and err.key == "codelists.kind.entries.band  5"


def test_all_errors_are_reported_at_once(tmp_path: Path) -> None:
    text = BOOKING_JSON.replace("then: [hub_id]", "then: [hub_idd]").replace("{var: vendor}", "{var: nope}")
    errors = check_mapping(write(tmp_path, text))
    assert len(errors) == 3
    with pytest.raises(MappingFileError) as exc:
        load_mapping(write(tmp_path, text))
    assert len(exc.value.all_errors) == 3


def test_extends_errors_and_variant_lines(tmp_path: Path) -> None:
    write(tmp_path, BOOKING_JSON, "base.yaml")
    err = only_error(write(tmp_path, "rosterhub_mapping: 1\nextends: nothere.yaml\n", "v1.yaml"))
    assert (err.line, err.key) == (2, "extends") and "no such file" in err.message
    variant = write(
        tmp_path, "extends: base.yaml\ncodelists:\n  kind:\n    entries: {ping: NOPE}\n    oops: 1\n", "v2.yaml"
    )
    err = only_error(variant)
    assert (err.file, err.line, err.key) == (str(variant), 5, "codelists.kind.oops")
    cyclic = write(tmp_path, "extends: cyc.yaml\n", "cyc.yaml")
    assert "cycle" in only_error(cyclic).message


def test_variant_merges_onto_its_base(tmp_path: Path) -> None:
    write(tmp_path, BOOKING_JSON, "base.yaml")
    variant = write(
        tmp_path, "extends: base.yaml\ncodelists:\n  kind:\n    entries: {req: BookingRequested}\n", "v.yaml"
    )
    spec = load_mapping(variant)
    assert spec.codelists["kind"].lookup("REQ") == "BookingRequested"
    assert spec.codelists["kind"].lookup("request") == "BookingRequested"


def test_yaml_12_scalars(tmp_path: Path) -> None:
    text = BOOKING_JSON.replace("entries: {request: BookingRequested}", "entries: {N: NO, Y: 19:30}")
    spec = load_mapping(write(tmp_path, text))
    assert spec.codelists["kind"].lookup("n") == "NO"
    assert spec.codelists["kind"].lookup("Y") == "19:30"


def test_xml_records_path_is_checked(tmp_path: Path) -> None:
    text = BOOKING_JSON.replace("  type: json\n  records: items", "  type: xml\n  records: 'Duty[@'")
    err = only_error(write(tmp_path, text))
    assert (err.line, err.key) == (5, "format.records") and "invalid ElementTree path" in err.message
