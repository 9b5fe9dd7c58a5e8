"""File-drop transport without a broker: options, routing, settling, reports and moves."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from rosterhub.connectors.kinds.filedrop import FileDropQuirks, FileKind
from rosterhub.connectors.kinds.filedrop.fence import InflightClaims, clear_inflight, load_inflight
from rosterhub.connectors.kinds.filedrop.report import move_with_report, unique_destination
from rosterhub.connectors.kinds.filedrop.routes import route
from rosterhub.connectors.kinds.filedrop.scan import Settler
from rosterhub.connectors.kinds.filedrop.transport import MAX_FILE_BYTES_CAP, build_plans, parse_options
from rosterhub.connectors.pipeline import IngestContext
from rosterhub.connectors.registry import connector
from rosterhub.connectors.state import ConnectorState
from rosterhub.connectors.vendors.esr import MAX_FILE_BYTES as ESR_MAX_FILE_BYTES
from rosterhub.errors import ConfigError
from rosterhub.kafka.access import KafkaAccess


def _ctx(tmp_path: Path, **kw: object) -> IngestContext:
    """Enough of a context to plan inboxes: the sink is only asked for its Kafka access (the fence's)."""
    sink = SimpleNamespace(kafka=KafkaAccess("127.0.0.1:9092"))
    return IngestContext(sink=sink, encoder=None, names=None, state=ConnectorState(tmp_path / "s.sqlite"), **kw)  # type: ignore[arg-type]


# --- options ----------------------------------------------------------------------------------


def test_options_errors_name_the_setting(tmp_path: Path) -> None:
    spec = connector("healthroster")
    with pytest.raises(ConfigError, match=r"connectors.healthroster options are invalid: inboxes: "):
        parse_options(spec, {"inboxes": []})
    with pytest.raises(ConfigError, match=r"inboxes.0.trust: .*'R1' is not an ODS code"):
        parse_options(spec, {"inboxes": [{"path": "x", "trust": "R1"}]})
    with pytest.raises(ConfigError, match=r"poll_seconds: Extra inputs are not permitted"):
        parse_options(spec, {"inboxes": [{"path": "x"}], "poll_seconds": 3})
    with pytest.raises(ConfigError, match=r"max_file_bytes"):
        parse_options(spec, {"inboxes": [{"path": "x"}], "max_file_bytes": MAX_FILE_BYTES_CAP + 1})


def test_inbox_defaults_and_plans(tmp_path: Path) -> None:
    spec = connector("healthroster")
    opts = parse_options(spec, {"inboxes": [{"path": str(tmp_path / "rxy"), "trust": "rxy"}]})
    inbox = opts.inboxes[0]
    assert (inbox.trust, inbox.processed, inbox.failed, inbox.reprocess) == (
        "RXY",
        tmp_path / "rxy" / "processed",
        tmp_path / "rxy" / "failed",
        tmp_path / "rxy" / "reprocess",
    )
    [plan] = build_plans(spec, _ctx(tmp_path), opts, environ={})
    assert plan.specs["healthroster"].path.name == "healthroster.RXY.yaml"  # the trust's variant
    assert plan.specs["healthroster_csv"].path.name == "healthroster_csv.yaml"
    assert plan.max_file_bytes == 1_048_576 and plan.kafka == KafkaAccess("127.0.0.1:9092")
    assert all(p.is_dir() for p in (inbox.path, inbox.processed, inbox.failed, inbox.reprocess))
    variant = parse_options(spec, {"inboxes": [{"path": str(tmp_path / "a"), "trust": "RHQ", "variant": "RXY"}]})
    assert build_plans(spec, _ctx(tmp_path), variant, environ={})[0].specs["healthroster"].path.stem.endswith("RXY")


def test_folders_must_exist_when_not_created(tmp_path: Path) -> None:
    spec = connector("nhsp")
    opts = parse_options(spec, {"inboxes": [{"path": str(tmp_path / "none")}], "create_dirs": False})
    with pytest.raises(ConfigError, match="does not exist"):
        build_plans(spec, _ctx(tmp_path), opts, environ={})


def test_esr_needs_a_trust_per_inbox_and_the_secret(tmp_path: Path) -> None:
    spec = connector("esr")
    with pytest.raises(ConfigError, match="must name its trust"):
        build_plans(spec, _ctx(tmp_path), parse_options(spec, {"inboxes": [{"path": str(tmp_path)}]}), environ={})
    opts = parse_options(spec, {"inboxes": [{"path": str(tmp_path / "rxx"), "trust": "RXX"}]})
    with pytest.raises(ConfigError, match="ROSTERHUB_MAPPING_SECRET_ESR_IDENTITY"):
        build_plans(spec, _ctx(tmp_path), opts, environ={})
    [plan] = build_plans(spec, _ctx(tmp_path), opts, environ={"ROSTERHUB_MAPPING_SECRET_ESR_IDENTITY": "s3cret"})
    assert plan.secrets == {"esr_identity": b"s3cret"} and plan.max_file_bytes == ESR_MAX_FILE_BYTES
    named = parse_options(
        spec, {"inboxes": [{"path": str(tmp_path / "rxx"), "trust": "RXX"}], "secrets": {"esr_identity": "MY_VAR"}}
    )
    assert build_plans(spec, _ctx(tmp_path), named, environ={"MY_VAR": "x"})[0].secrets == {"esr_identity": b"x"}
    given = build_plans(spec, _ctx(tmp_path, secrets={"esr_identity": b"ctx"}), opts, environ={})
    assert given[0].secrets == {"esr_identity": b"ctx"}  # the runtime's secrets win


# --- routing -----------------------------------------------------------------------------------


def test_file_names_route_to_mappings_case_insensitively() -> None:
    quirks = connector("nhsp").quirks
    assert isinstance(quirks, FileDropQuirks)
    kinds = quirks.files
    assert route("bookings_20260320.csv", kinds).mapping == "nhsp"
    assert route("TIMESHEETS_20260320.CSV", kinds).mapping == "nhsp_timesheets"
    assert route("payments_20260320.csv", kinds) is None
    assert FileKind("*.xml", "x").matches("EXPORT.XML")


# --- settling ---------------------------------------------------------------------------------------


def test_only_complete_uploads_are_taken(tmp_path: Path) -> None:
    settler = Settler(5.0, done_suffix=None, partial_suffixes=(".part",))
    old = time.time() - 60
    for name in ("b.csv", "a.csv", "c.csv.part", ".hidden", "x.csv.report.json"):
        (tmp_path / name).write_text("1")
        os.utime(tmp_path / name, (old, old))
    (tmp_path / "processed").mkdir()
    fresh = tmp_path / "d.csv"
    fresh.write_text("still being written")
    t0 = time.time() + 1000  # a clock of the test's own, mtimes set to match
    os.utime(fresh, (t0, t0))
    ready, waiting = settler.scan(tmp_path, t0 + 1)
    assert [c.path.name for c in ready] == [".hidden", "a.csv", "b.csv"] and [c.path.name for c in waiting] == ["d.csv"]
    assert [c.problem for c in ready] == ["hidden", None, None]  # reported (failed/), not taken and not left
    assert "d.csv" not in [c.path.name for c in settler.scan(tmp_path, t0 + 3)[0]]
    fresh.write_text("still being written, more")  # it grew: the clock starts again
    os.utime(fresh, (t0 + 4, t0 + 4))
    assert [c.path.name for c in settler.scan(tmp_path, t0 + 6)[1]] == ["d.csv"]
    assert "d.csv" in [c.path.name for c in settler.scan(tmp_path, t0 + 10)[0]]


def test_done_markers_gate_files_when_configured(tmp_path: Path) -> None:
    settler = Settler(0, done_suffix=".done", partial_suffixes=())
    (tmp_path / "a.csv").write_text("1")
    assert settler.scan(tmp_path, time.time())[0] == []
    (tmp_path / "a.csv.done").write_text("")
    [ready], _ = settler.scan(tmp_path, time.time())
    assert ready.path.name == "a.csv" and ready.marker == tmp_path / "a.csv.done"


# --- reports and moves -------------------------------------------------------------------------------


def test_moves_never_overwrite_and_carry_report_and_marker(tmp_path: Path) -> None:
    inbox, done = tmp_path / "in", tmp_path / "in" / "processed"
    inbox.mkdir()
    for n in range(3):
        (inbox / "export.v1.xml").write_text(str(n))
        (inbox / "export.v1.xml.done").write_text("")
        target = unique_destination(done, "export.v1.xml")
        move_with_report(inbox / "export.v1.xml", target, {"n": n}, marker=inbox / "export.v1.xml.done")
    assert sorted(p.name for p in done.iterdir()) == [
        "export-1.v1.xml",
        "export-1.v1.xml.done",
        "export-1.v1.xml.report.json",
        "export-2.v1.xml",
        "export-2.v1.xml.done",
        "export-2.v1.xml.report.json",
        "export.v1.xml",
        "export.v1.xml.done",
        "export.v1.xml.report.json",
    ]
    assert json.loads((done / "export-2.v1.xml.report.json").read_text()) == {"n": 2}
    assert (done / "export-2.v1.xml").read_text() == "2" and not list(inbox.glob("export*"))


# --- the in-flight record -----------------------------------------------------------------------------


def test_inflight_claims_are_recorded_and_never_released_by_the_pipeline(tmp_path: Path) -> None:
    state = ConnectorState(tmp_path / "s.sqlite")
    claims = InflightClaims(state, "nhsp", "abc", now_ms=1000)
    claims.set_raw(("raw.nhsp", 0, 7))
    assert claims.claim("nhsp", ["e1", "e2"]) == ["e1", "e2"]
    assert claims.claim("nhsp", ["reject:x", "e1"]) == ["reject:x"]
    claims.release("nhsp", ["e1", "e2"])  # what the pipeline does when a send fails: deferred to recovery
    assert state.seen("nhsp", "e1")
    record = load_inflight(state, "nhsp", "abc")
    assert record is not None and (record.started_ms, record.raw) == (1000, ("raw.nhsp", 0, 7))
    assert (record.events, record.rejects) == (["e1", "e2"], ["reject:x"])
    clear_inflight(state, "nhsp", "abc")
    assert load_inflight(state, "nhsp", "abc") is None
