"""HealthRoster-style exports through the file-drop connector, on the real broker.

Files come from the HealthRoster simulator (RXX exports CSV, RXY exports XML with its
own grade titles), are dropped in one inbox per trust, and must come out as canonical
shift events exactly once, whatever is re-dropped, broken or interrupted.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from rosterhub.connectors.replay import replay_raw
from rosterhub.connectors.simulators.healthroster import HealthRosterSimulator
from rosterhub.kafka.access import access_from_settings
from rosterhub.settings import Settings
from tests.integration.connectors.filedrop_support import (
    SimulatedCrash,
    context,
    drop,
    expected_ids,
    prepare,
    reports,
    run_once,
)

pytestmark = pytest.mark.integration

MAPPINGS = {"*.xml": "healthroster", "*.csv": "healthroster_csv"}


def _exports(tmp_path: Path, days: int = 1, count: int = 12) -> tuple[Path, list[Path]]:
    sim = HealthRosterSimulator(2, seed=11, start=date(2026, 3, 20), count=count, formats="mixed")
    out = tmp_path / "sftp"
    files: list[Path] = []
    for _ in range(days):
        sim.step()
        files += sim.export(tmp_path / "exports")
    return out, files


def _options(out: Path) -> dict:
    return {"inboxes": [{"path": str(out / "RXX"), "trust": "RXX"}, {"path": str(out / "RXY"), "trust": "RXY"}]}


def _move_in(files: list[Path], out: Path) -> None:
    for f in files:
        drop(out / f.parent.name, f.name, f.read_bytes())


def test_exports_become_shift_events_once(hub_settings: Settings, tmp_path: Path) -> None:
    hub = prepare(hub_settings)
    out, files = _exports(tmp_path, days=2)
    _move_in(files, out)
    dropped = sorted((out / f.parent.name / f.name for f in files), key=lambda p: p.name)
    want = expected_ids(dropped, MAPPINGS, {out / "RXX": "RXX", out / "RXY": "RXY"})
    assert {f.suffix for f in dropped} == {".csv", ".xml"}

    run_once(hub, "healthroster", _options(out))

    assert hub.event_ids() == want
    events = hub.events()
    rxy = [d for _, _, d in events if d["trust"]["ods_code"] == "RXY" and "grade" in d]
    assert rxy and all(d["grade"].startswith("BAND_") for d in rxy)  # RXY's titles, through its variant
    nights = [
        d
        for t, _, d in events
        if t == "ShiftPosted" and d["shift_type"] == "NIGHT" and d["start"].date() == date(2026, 3, 28)
    ]
    assert nights and all(d["end"] - d["start"] == timedelta(hours=11) for d in nights)  # clocks go forward
    for trust in ("RXX", "RXY"):
        assert not list((out / trust).glob("bank_requests_*"))  # nothing left behind
        done = reports(out / trust / "processed")
        assert len(done) == 2 and all(r["status"] == "processed" for r in done.values())
        assert all(r["raw"]["topic"] == hub.names.raw("healthroster") for r in done.values())
    raw = hub.records(hub.names.raw("healthroster"))
    assert len(raw) == 4
    assert {dict(r.headers)["rh_file_name"].decode() for r in raw} == {f.name for f in dropped}
    assert {r.value for r in raw} == {f.read_bytes() for f in files}  # untouched payloads
    # replay maps each raw file with the mapping it was taken with (CSV, XML, RXY's variant): all known already
    with context(hub) as ctx:
        summary = replay_raw(ctx, access_from_settings(hub.settings), "healthroster")
    assert (summary.payloads, summary.published, summary.rejected) == (4, 0, 0)


def test_redropped_file_and_overlapping_export_publish_nothing_twice(hub_settings: Settings, tmp_path: Path) -> None:
    hub = prepare(hub_settings)
    out, files = _exports(tmp_path)
    _move_in(files, out)
    run_once(hub, "healthroster", _options(out))
    before = hub.event_ids()
    first = files[0]
    drop(out / first.parent.name, first.name, first.read_bytes())  # same name, same bytes
    drop(out / first.parent.name, "again_" + first.name, first.read_bytes())  # other name, same bytes
    # a re-export: same duties, different bytes (another export time)
    text = first.read_bytes().replace(b"05:40", b"06:40") if first.suffix == ".xml" else first.read_bytes() + b"\r\n"
    drop(out / first.parent.name, "reexport_" + first.name, text)

    run_once(hub, "healthroster", _options(out))

    assert hub.event_ids() == before  # every event still exactly once
    done = reports(out / first.parent.name / "processed")
    dupes = [r for r in done.values() if r["status"] == "duplicate"]
    assert len(dupes) == 2 and all(r["duplicate_of"]["file"] == first.name for r in dupes)
    assert any(n.endswith("-1" + first.suffix) for n in done)  # same name kept apart in processed/
    reexport = done["reexport_" + first.name]
    assert reexport["status"] == "processed" and reexport["records"]["events_published"] == 0
    assert reexport["records"]["duplicates"] == done[first.name]["records"]["events_published"] > 0


def test_bad_exports_end_in_failed_or_processed_with_dead_letters(hub_settings: Settings, tmp_path: Path) -> None:
    hub = prepare(hub_settings)
    out, files = _exports(tmp_path, count=4)
    xml = next(f for f in files if f.suffix == ".xml").read_bytes()
    export_csv = next(f for f in files if f.suffix == ".csv").read_bytes()
    rxx, rxy = out / "RXX", out / "RXY"
    bad = {
        "malformed.xml": (rxy, xml[: len(xml) // 2]),  # truncated mid-element
        "utf16.csv": (rxx, export_csv.decode("utf-8-sig").encode("utf-16")),  # wrong encoding
        "no_grade.csv": (rxx, _drop_column(export_csv, "Grade")),  # a required column missing
        "unknown_grade.xml": (rxy, _unknown_grade(xml)),  # a code nobody mapped
        "huge.xml": (rxy, xml + b"<!--" + b"x" * 1_100_000 + b"-->"),  # over the 1 MiB default
        "notes.txt": (rxx, b"not an export"),  # a name no file kind matches
    }
    for name, (inbox, data) in bad.items():
        drop(inbox, name, data)

    run_once(hub, "healthroster", _options(out))

    failed = {**reports(rxx / "failed"), **reports(rxy / "failed")}
    processed = {**reports(rxx / "processed"), **reports(rxy / "processed")}
    assert set(failed) == {"malformed.xml", "utf16.csv", "no_grade.csv", "huge.xml", "notes.txt"}
    assert failed["malformed.xml"]["reason"]["code"] == "parse_error"
    assert "UTF-16" in failed["utf16.csv"]["reason"]["message"]  # refused whole, by its byte-order mark
    assert failed["no_grade.csv"]["reason"]["code"] == "all_records_rejected"
    assert {(r["field"], r["target"]) for r in failed["no_grade.csv"]["rejected"]} == {("Grade", "grade")}
    assert failed["huge.xml"]["reason"]["code"] == "payload_too_large" and failed["huge.xml"]["raw"] is None
    assert failed["notes.txt"]["reason"]["code"] == "input_error"
    unknown = processed["unknown_grade.xml"]
    assert unknown["status"] == "processed" and unknown["records"]["rejected"] == 1
    assert (unknown["rejected"][0]["field"], unknown["rejected"][0]["value"]) == ("Grade", "Matron")
    for name in failed:
        assert (rxx / "failed" / name).exists() or (rxy / "failed" / name).exists()

    by_record = {(h["rh_file_name"], h["dlq_record"]): v for h, v in hub.dead_letters("mapping")}
    assert by_record[(b"malformed.xml", b"payload")] == bad["malformed.xml"][1]  # original bytes
    assert by_record[(b"utf16.csv", b"payload")] == bad["utf16.csv"][1]
    assert sum(1 for (f, _) in by_record if f == b"no_grade.csv") == failed["no_grade.csv"]["records"]["rejected"]
    assert any(f == b"unknown_grade.xml" and b"Matron" in v for (f, _), v in by_record.items())
    ingest_dlq = {h["rh_file_name"]: (h, v) for h, v in hub.dead_letters("ingest")}
    assert ingest_dlq[b"huge.xml"][0]["dlq_code"] == b"payload_too_large"
    assert ingest_dlq[b"huge.xml"][1] == bad["huge.xml"][1][: 4 * 1024 * 1024]
    assert ingest_dlq[b"notes.txt"][1] == b"not an export"
    # raw first: everything that was taken (not refused) is on the raw topic
    assert hub.count(hub.names.raw("healthroster")) == 4


def test_restart_in_the_middle_of_a_batch_loses_and_repeats_nothing(hub_settings: Settings, tmp_path: Path) -> None:
    hub = prepare(hub_settings)
    out, files = _exports(tmp_path, days=3, count=10)
    _move_in(files, out)
    dropped = [out / f.parent.name / f.name for f in files]
    want = expected_ids(dropped, MAPPINGS, {out / "RXX": "RXX", out / "RXY": "RXY"})
    # the first file's raw copy and a part of its events are acknowledged, then the process dies
    with pytest.raises(SimulatedCrash):
        run_once(hub, "healthroster", _options(out), crash_after=5)
    partial = hub.event_ids()
    assert 0 < sum(partial.values()) < sum(want.values())
    # a second death, later in the batch
    with pytest.raises(SimulatedCrash):
        run_once(hub, "healthroster", _options(out), crash_after=25)

    run_once(hub, "healthroster", _options(out))

    assert hub.event_ids() == want  # every event once: none lost, none repeated
    done = {**reports(out / "RXX" / "processed"), **reports(out / "RXY" / "processed")}
    assert len(done) == len(files) and all(r["status"] == "processed" for r in done.values())
    assert any("interrupted" in note for r in done.values() for note in r["notes"])


def _drop_column(data: bytes, column: str) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    index = rows[0].index(column)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([c for i, c in enumerate(row) if i != index] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def _unknown_grade(xml: bytes) -> bytes:
    """The first approved duty's grade replaced by a title no mapping knows."""
    duty = next(m for m in re.finditer(rb"<Duty .*?</Duty>", xml, re.S) if b"Approve Temp Staff Request" in m[0])
    changed = re.sub(rb"<Grade>[^<]*</Grade>", b"<Grade>Matron</Grade>", duty[0])
    return xml[: duty.start()] + changed + xml[duty.end() :]
