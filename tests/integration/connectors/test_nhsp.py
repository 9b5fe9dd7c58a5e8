"""NHSP-style bookings and timesheets CSV files through the file-drop connector, on the real broker.

One inbox for the whole collaborative (BankShare: every row names its trust); the file
name routes a file to the bookings or the timesheets mapping.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from rosterhub.connectors.kinds.filedrop import process as filedrop_process
from rosterhub.connectors.pipeline import packaged_mapping
from rosterhub.connectors.replay import replay_raw
from rosterhub.connectors.simulators.nhsp import NhspSimulator
from rosterhub.connectors.state import ConnectorState
from rosterhub.kafka.access import access_from_settings
from rosterhub.mapping.engine import find_mapping, load_mapping
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
from tests.integration.helpers import settings_env, wait_for

pytestmark = pytest.mark.integration

MAPPINGS = {"bookings_*.csv": "nhsp", "timesheets_*.csv": "nhsp_timesheets"}


def _files(tmp_path: Path, days: int, count: int = 12) -> list[Path]:
    sim = NhspSimulator(3, seed=5, start=date(2026, 3, 24), count=count)
    files: list[Path] = []
    for _ in range(days):
        sim.step()
        files += sim.export(tmp_path / "nhsp-export")
    return files


def _drop_all(files: list[Path], inbox: Path) -> list[Path]:
    return [drop(inbox, f.name, f.read_bytes()) for f in files]


def test_bookings_and_timesheets_become_events_once(hub_settings: Settings, tmp_path: Path) -> None:
    hub = prepare(hub_settings)
    inbox = tmp_path / "sftp" / "nhsp"
    dropped = _drop_all(_files(tmp_path, days=8), inbox)
    want = expected_ids(dropped, MAPPINGS, {})
    assert {f.name.split("_")[0] for f in dropped} == {"bookings", "timesheets"}

    run_once(hub, "nhsp", {"inboxes": [{"path": str(inbox)}]})

    assert hub.event_ids() == want
    events = hub.events()
    types = {t for t, _, _ in events}
    assert {"BookingRequested", "BookingCancelled", "TimesheetSubmitted", "TimesheetApproved"} <= types
    assert {d["host_trust"]["ods_code"] for t, _, d in events if t == "BookingCancelled"} <= {"RXX", "RXY", "RHQ"}
    late = [d for t, _, d in events if t == "BookingCancelled" and d["late_cancellation_fee"]]
    assert late and all(d["notice_hours"] < 4 and d["fee_hours"] == Decimal("2.00") for d in late)
    # the night across the spring clock change is paid on its real length (11 h less the break)
    nights = [
        d
        for t, _, d in events
        if t == "TimesheetSubmitted" and d["actual_start"].date() == date(2026, 3, 28) and d["actual_start"].hour == 20
    ]
    assert nights and all(d["hours"] == Decimal("10.00") for d in nights if d["actual_end"].minute == 0)
    done = reports(inbox / "processed")
    assert set(done) == {f.name for f in dropped} and all(r["status"] == "processed" for r in done.values())
    assert {r["kind"] for r in done.values()} == {"bookings", "timesheets"}
    # an approved timesheet restates its submission: same event id, counted as a duplicate, not republished
    assert sum(r["records"]["duplicates"] for n, r in done.items() if n.startswith("timesheets")) > 0
    raw = hub.records(hub.names.raw("nhsp"))
    mappings = {dict(r.headers)["rh_file_name"].decode(): dict(r.headers)["rh_mapping"].decode() for r in raw}
    assert mappings == {f.name: "nhsp" if f.name.startswith("bookings") else "nhsp_timesheets" for f in dropped}
    with context(hub) as ctx:  # replay picks each file's mapping from its rh_mapping header
        summary = replay_raw(ctx, access_from_settings(hub.settings), "nhsp")
    assert (summary.payloads, summary.published, summary.rejected) == (len(dropped), 0, 0)


def test_redropped_files_publish_nothing(hub_settings: Settings, tmp_path: Path) -> None:
    hub = prepare(hub_settings)
    inbox = tmp_path / "inbox"
    files = _files(tmp_path, days=4)
    _drop_all(files, inbox)
    run_once(hub, "nhsp", {"inboxes": [{"path": str(inbox)}]})
    before, raw_before = hub.event_ids(), hub.count(hub.names.raw("nhsp"))
    _drop_all(files, inbox)  # the vendor's SFTP job runs again and uploads everything a second time

    run_once(hub, "nhsp", {"inboxes": [{"path": str(inbox)}]})

    assert hub.event_ids() == before
    assert hub.count(hub.names.raw("nhsp")) == raw_before  # a byte-identical file is not even re-read into raw
    dupes = [r for r in reports(inbox / "processed").values() if r["status"] == "duplicate"]
    assert len(dupes) == len(files) and {r["duplicate_of"]["file"] for r in dupes} == {f.name for f in files}


def test_bad_files_are_reported_and_dead_lettered(hub_settings: Settings, tmp_path: Path) -> None:
    hub = prepare(hub_settings)
    inbox = tmp_path / "inbox"
    files = _files(tmp_path, days=6)
    bookings = next(b for f in files if f.name.startswith("bookings") and b",Cancelled," in (b := f.read_bytes()))
    timesheets = next(f for f in files if f.name.startswith("timesheets")).read_bytes()
    rows = bookings.decode("cp1252").split("\r\n")
    cancelled = next(i for i, r in enumerate(rows) if ",Cancelled," in r)
    agency = rows.copy()
    agency[cancelled] = agency[cancelled].replace(",Worker,", ",Agency,").replace(",Trust,", ",Agency,")
    header = rows[0].split(",")
    no_status_date = "\r\n".join(
        ",".join(c for i, c in enumerate(r.split(",")) if i != header.index("Status Date")) for r in rows if r
    )
    bad = {
        "timesheets_latin1.csv": timesheets.replace(b"Query Detail", "D\u00e9tail".encode("latin-1")),  # not UTF-8
        "bookings_unknown_party.csv": "\r\n".join(agency).encode("cp1252"),  # "Cancelled By" nobody mapped
        "bookings_broken_quote.csv": bookings + b'NHSP-BK-1,"NHSP-RQ-1,RXX,unterminated\r\n',  # malformed CSV
        "bookings_no_status_date.csv": no_status_date.encode("cp1252"),  # a required column missing
        "bookings_big.csv": bookings + b"\r\n" * 300_000,  # over this deployment's limit
        "payments_20260324.csv": b"Payment Run,Amount\r\n1,2\r\n",  # a file kind NHSP sends but the hub does not read
    }
    for name, data in bad.items():
        drop(inbox, name, data)

    run_once(hub, "nhsp", {"inboxes": [{"path": str(inbox)}], "max_file_bytes": 250_000})

    failed, processed = reports(inbox / "failed"), reports(inbox / "processed")
    assert set(failed) == {
        "timesheets_latin1.csv",
        "bookings_no_status_date.csv",
        "bookings_big.csv",
        "payments_20260324.csv",
    }
    assert "not valid utf-8" in failed["timesheets_latin1.csv"]["reason"]["message"]
    assert failed["bookings_no_status_date.csv"]["reason"]["code"] == "all_records_rejected"
    assert failed["bookings_big.csv"]["reason"]["code"] == "payload_too_large"
    assert "file name patterns" in failed["payments_20260324.csv"]["reason"]["message"]
    unknown = processed["bookings_unknown_party.csv"]
    assert [r["value"] for r in unknown["rejected"]] == ["Agency"]
    assert unknown["records"]["events_published"] == 0 and unknown["records"]["duplicates"] > 0  # seen just before
    broken = processed["bookings_broken_quote.csv"]
    assert [r["code"] for r in broken["rejected"]] == ["parse_error"] and broken["records"]["events_published"] > 0

    mapping_dlq = {(h["rh_file_name"], h["dlq_record"]): (h, v) for h, v in hub.dead_letters("mapping")}
    latin = mapping_dlq[(b"timesheets_latin1.csv", b"payload")]
    assert latin[1] == bad["timesheets_latin1.csv"] and latin[0]["dlq_code"] == b"parse_error"
    assert any(f == b"bookings_unknown_party.csv" and b"Agency" in v for (f, _), (_, v) in mapping_dlq.items())
    assert any(f == b"bookings_broken_quote.csv" and b"unterminated" in v for (f, _), (_, v) in mapping_dlq.items())
    assert sum(f == b"bookings_no_status_date.csv" for f, _ in mapping_dlq) > 0
    ingest_dlq = {h["rh_file_name"]: (h, v) for h, v in hub.dead_letters("ingest")}
    assert ingest_dlq[b"bookings_big.csv"][1] == bad["bookings_big.csv"]
    assert ingest_dlq[b"payments_20260324.csv"][1] == bad["payments_20260324.csv"]


def test_a_file_moved_to_reprocess_after_a_mapping_fix_publishes_only_what_failed(
    hub_settings: Settings, tmp_path: Path
) -> None:
    hub = prepare(hub_settings)
    inbox = tmp_path / "inbox"
    files = _files(tmp_path, days=6)
    bookings = next(b for f in files if f.name.startswith("bookings") and b",Cancelled," in (b := f.read_bytes()))
    rows = bookings.decode("cp1252").split("\r\n")
    at = next(i for i, r in enumerate(rows) if ",Cancelled," in r)
    rows[at] = rows[at].replace(",Worker,", ",Agency,").replace(",Trust,", ",Agency,").replace(",NHSP,", ",Agency,")
    drop(inbox, "bookings_20260329.csv", "\r\n".join(rows).encode("cp1252"))
    run_once(hub, "nhsp", {"inboxes": [{"path": str(inbox)}]})
    first = reports(inbox / "processed")["bookings_20260329.csv"]
    assert first["records"]["rejected"] == 1
    before = hub.event_ids()
    # the trust agrees "Agency" means NHSP cancelled for an agency worker: the mapping learns it
    fixed_file = tmp_path / "nhsp.yaml"
    fixed_file.write_text(
        find_mapping("nhsp").read_text().replace("      NHSP: UNKNOWN", "      NHSP: UNKNOWN\n      Agency: UNKNOWN")
    )
    fixed = load_mapping(fixed_file)
    (inbox / "processed" / "bookings_20260329.csv").rename(inbox / "reprocess" / "bookings_20260329.csv")

    run_once(
        hub,
        "nhsp",
        {"inboxes": [{"path": str(inbox)}]},
        mapping_for=lambda m, t: fixed if m == "nhsp" else packaged_mapping(m, t),
    )

    again = reports(inbox / "processed")["bookings_20260329-1.csv"]
    assert again["status"] == "processed" and "reprocessed on request" in " ".join(again["notes"])
    # the fixed row's cancellation, and its request's shift when no earlier row posted it (NHSP's own requests)
    assert again["records"]["event_types"]["BookingCancelled"] == 1 and again["records"]["rejected"] == 0
    assert set(again["records"]["event_types"]) <= {"BookingCancelled", "ShiftPosted", "ShiftUpdated"}
    assert again["records"]["duplicates"] == first["records"]["events_published"]
    assert set(hub.event_ids().values()) == {1}
    assert sum(hub.event_ids().values()) == sum(before.values()) + again["records"]["events_published"]


def test_killed_connector_process_resumes_without_loss_or_duplicates(hub_settings: Settings, tmp_path: Path) -> None:
    hub = prepare(hub_settings)
    inbox = tmp_path / "inbox"
    dropped = _drop_all(_files(tmp_path, days=10, count=40), inbox)
    want = expected_ids(dropped, MAPPINGS, {})
    options = {"nhsp": {"inboxes": [{"path": str(inbox)}], "settle_s": 0, "poll_interval_s": 0.2}}
    env = settings_env(hub_settings, ROSTERHUB_CONNECTORS=json.dumps(options))
    log = (tmp_path / "connect.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rosterhub", "connect", "nhsp"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(lambda: hub.count(hub.names.raw("nhsp")) >= 4, timeout=120, interval=0.05, what="four files taken")
        os.kill(proc.pid, signal.SIGKILL)  # no clean-up of any kind
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert list(inbox.glob("*.csv"))  # it died with work left

    done = subprocess.run(
        [sys.executable, "-m", "rosterhub", "connect", "nhsp", "--once"],
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout.decode()[-3000:]

    assert hub.event_ids() == want
    assert not list(inbox.glob("*.csv"))
    assert {n for n, r in reports(inbox / "processed").items() if r["status"] == "processed"} == {
        f.name for f in dropped
    }


@pytest.mark.parametrize("killed_in", ["set_position", "claim", "confirm"])
def test_a_kill_between_the_state_writes_of_a_finished_file_never_makes_it_a_duplicate_of_itself(
    hub_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, killed_in: str
) -> None:
    """CI once saw a file reported "duplicate" of itself after a SIGKILL: the connector had marked it seen
    but not yet stored its details. The details now go first; a kill at any later write is finished as the
    file's own, like a kill before the move."""
    hub = prepare(hub_settings)
    inbox = tmp_path / "inbox"
    dropped = _drop_all(_files(tmp_path, days=2), inbox)
    want = expected_ids(dropped, MAPPINGS, {})
    real = getattr(ConnectorState, killed_in)

    def die_on_a_file(self: ConnectorState, vendor: str, keys: str | Sequence[str], *rest: str) -> object:
        if any(k.startswith("file:") for k in ([keys] if isinstance(keys, str) else keys)):
            raise SimulatedCrash(f"killed in {killed_in}")
        return real(self, vendor, keys, *rest)

    monkeypatch.setattr(ConnectorState, killed_in, die_on_a_file)
    with pytest.raises(SimulatedCrash):
        run_once(hub, "nhsp", {"inboxes": [{"path": str(inbox)}]})
    monkeypatch.setattr(ConnectorState, killed_in, real)

    run_once(hub, "nhsp", {"inboxes": [{"path": str(inbox)}]})

    assert hub.event_ids() == want
    assert {n: r["status"] for n, r in reports(inbox / "processed").items()} == {f.name: "processed" for f in dropped}


def test_stop_after_claiming_but_before_the_move_finishes_the_move(
    hub_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = prepare(hub_settings)
    inbox = tmp_path / "inbox"
    dropped = _drop_all(_files(tmp_path, days=2), inbox)
    want = expected_ids(dropped, MAPPINGS, {})
    real_move = filedrop_process.move_with_report

    def die_moving(*args: object, **kwargs: object) -> None:
        raise SimulatedCrash("killed between the report and the move")

    monkeypatch.setattr(filedrop_process, "move_with_report", die_moving)
    with pytest.raises(SimulatedCrash):
        run_once(hub, "nhsp", {"inboxes": [{"path": str(inbox)}]})
    monkeypatch.setattr(filedrop_process, "move_with_report", real_move)
    published = hub.event_ids()
    raw = hub.count(hub.names.raw("nhsp"))

    run_once(hub, "nhsp", {"inboxes": [{"path": str(inbox)}]})

    first = reports(inbox / "processed")[dropped[0].name]
    assert first["status"] == "processed" and "completed now" in " ".join(first["notes"])
    assert first["correlation_id"] and first["raw"]["offset"] >= 0
    assert hub.event_ids() == want
    assert sum(published.values()) > 0
    assert hub.count(hub.names.raw("nhsp")) == raw + len(dropped) - 1  # the finished file is not read again
