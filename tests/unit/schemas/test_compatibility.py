"""Every current event can read what its released versions wrote (schemas/released/), and breaks are named.

Canonical topics keep events forever, so the check is transitive: against every released
baseline, not only the last. Statically (Avro resolution rules, per field) and
dynamically (fastavro writes a sample with the old schema, reads with the new one).
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from typer.testing import CliRunner

from rosterhub.codec.catalogue import SchemaCatalogue
from rosterhub.events.compat import (
    check_all,
    dynamic_breaks,
    load_baseline,
    release,
    released_versions,
    sample_datum,
    static_breaks,
)

REPO = Path(__file__).resolve().parents[3]


VERSIONS = released_versions()


def _files(root: Path) -> dict[str, dict[str, Any]]:
    return {str(p.relative_to(root)): json.loads(p.read_text(encoding="utf-8")) for p in sorted(root.rglob("*.avsc"))}


def _field(files: dict[str, dict[str, Any]], path: str, name: str) -> dict[str, Any]:
    return next(f for f in files[path]["fields"] if f["name"] == name)


@pytest.fixture(scope="module")
def v1() -> SchemaCatalogue:
    return load_baseline("v1")


def test_release_1_exists_and_covers_every_event(catalogue: SchemaCatalogue, v1: SchemaCatalogue) -> None:
    assert VERSIONS and VERSIONS[0] == "v1"
    assert {e.full_name for e in v1} <= {e.full_name for e in catalogue}
    assert len(v1) >= 23


@pytest.mark.parametrize("version", VERSIONS)
def test_current_reads_every_release(catalogue: SchemaCatalogue, version: str) -> None:
    breaks = check_all(catalogue, {version: load_baseline(version)})
    assert not breaks, "incompatible with a released baseline:\n" + "\n".join(map(str, breaks))


@pytest.mark.parametrize("version", VERSIONS)
def test_fastavro_resolves_old_samples(catalogue: SchemaCatalogue, version: str) -> None:
    """The dynamic check on its own, for every event: write with the old schema, read with the new one."""
    for old in load_baseline(version):
        new = catalogue.get(old.full_name)
        datum = sample_datum(old.source)
        buf = io.BytesIO()
        schemaless_writer(buf, old.parsed, datum)
        buf.seek(0)
        record = schemaless_reader(buf, old.parsed, parse_schema(new.source, _write_hint=False))
        assert set(record) == {f["name"] for f in new.source["fields"]}, old.name


def _broken(mutate) -> SchemaCatalogue:
    files = _files(REPO / "schemas" / "avro")
    mutate(files)
    return SchemaCatalogue(files)


def _reasons(catalogue: SchemaCatalogue, v1: SchemaCatalogue) -> list[str]:
    return [str(b) for b in check_all(catalogue, {"v1": v1})]


def test_changed_field_type_is_named(v1: SchemaCatalogue) -> None:
    broken = _broken(lambda f: _field(f, "shift/ShiftPosted.avsc", "vendor").update(type="int"))
    assert "ShiftPosted.vendor: type changed from string to int (against released v1)" in _reasons(broken, v1)


def test_required_field_added_without_default_is_named(v1: SchemaCatalogue) -> None:
    def add(files: dict[str, dict[str, Any]]) -> None:
        files["booking/NoShow.avsc"]["fields"].append({"name": "ward", "type": "string", "doc": "x"})

    reasons = _reasons(_broken(add), v1)
    assert any(r.startswith("NoShow.ward: field added without a default") for r in reasons), reasons


def test_nested_field_added_without_default_is_named(v1: SchemaCatalogue) -> None:
    """A required field added to a shared record breaks every event using it; the path says where."""

    def add(files: dict[str, dict[str, Any]]) -> None:
        files["common/OrganisationRef.avsc"]["fields"].append({"name": "region", "type": "string", "doc": "x"})

    reasons = _reasons(_broken(add), v1)
    expected = (
        "ShiftPosted.trust.region: field added without a default, so old data cannot fill it (against released v1)"
    )
    assert expected in reasons


def test_meaning_changes_are_named(v1: SchemaCatalogue) -> None:
    def mutate(files: dict[str, dict[str, Any]]) -> None:
        rate = _field(files, "timesheet/PayrollLine.avsc", "rate")
        rate["type"][1] = {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 4}
        _field(files, "timesheet/PayrollLine.avsc", "created_at").update(type="long")
        symbols = files["common/StaffGroup.avsc"]
        symbols["symbols"].remove("STUDENTS")
        del symbols["default"]
        files["booking/ShiftFilled.avsc"]["rosterhub.key"] = "booking_id"
        del files["booking/NoShow.avsc"]

    reasons = _reasons(_broken(mutate), v1)
    for expected in (
        "PayrollLine.rate: decimal scale changed from 2 to 4",
        "PayrollLine.created_at: logical type changed from timestamp-millis to none",
        "ShiftPosted.staff_group: enum StaffGroup lost symbols ['STUDENTS'] and has no default",
        "ShiftFilled: rosterhub.key changed from shift_id to booking_id",
        "NoShow: event removed, but its data stays on the topic",
    ):
        assert any(r.startswith(expected) for r in reasons), (expected, reasons)


def test_compatible_evolution_passes(v1: SchemaCatalogue) -> None:
    """Adding an optional field, an enum symbol or promoting int to long is fine."""

    def evolve(files: dict[str, dict[str, Any]]) -> None:
        files["shift/ShiftPosted.avsc"]["fields"].append(
            {"name": "parking", "type": ["null", "string"], "default": None, "doc": "x"}
        )
        files["common/ShiftType.avsc"]["symbols"].insert(0, "SLEEP_IN")
        _field(files, "shift/ShiftPosted.avsc", "break_minutes").update(type="long")

    assert _reasons(_broken(evolve), v1) == []


def test_dynamic_check_catches_what_fastavro_refuses(catalogue: SchemaCatalogue, v1: SchemaCatalogue) -> None:
    broken = _broken(lambda f: _field(f, "shift/ShiftPosted.avsc", "vendor").update(type="int"))
    old, new = v1.get("rosterhub.shift.v1.ShiftPosted"), broken.get("rosterhub.shift.v1.ShiftPosted")
    assert static_breaks(old, new)[0].path == "vendor"
    found = dynamic_breaks(old, new, "v1")
    assert found and found[0].event == "ShiftPosted" and "fastavro cannot resolve" in found[0].reason


def test_release_copies_and_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "avro" / "shift").mkdir(parents=True)
    (tmp_path / "avro" / "shift" / "X.avsc").write_text("{}", encoding="utf-8")
    target = release("v2", tmp_path)
    assert (target / "shift" / "X.avsc").read_text(encoding="utf-8") == "{}"
    with pytest.raises(FileExistsError):
        release("v2", tmp_path)
    with pytest.raises(ValueError, match="v1, v2"):
        release("2.0", tmp_path)


def test_cli_check_reports_and_exits_nonzero_on_a_break(monkeypatch: pytest.MonkeyPatch, v1: SchemaCatalogue) -> None:
    from rosterhub.cli import schemas_cmd

    runner = CliRunner()
    ok = runner.invoke(schemas_cmd.app, ["check"])
    assert ok.exit_code == 0, ok.output
    assert "compatible with v1" in ok.output

    broken = _broken(lambda f: _field(f, "shift/ShiftPosted.avsc", "vendor").update(type="int"))
    monkeypatch.setattr(schemas_cmd, "_current", lambda: copy.copy(broken))
    bad = runner.invoke(schemas_cmd.app, ["check"])
    assert bad.exit_code == 1
    assert "ShiftPosted.vendor: type changed from string to int" in bad.output
