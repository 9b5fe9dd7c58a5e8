"""Issue #12, finding 10, on the real broker: odd things dropped in an inbox are reported, never left.

A file whose name is not UTF-8, a hidden file, a symbolic link (never followed), a UTF-16
file where a Windows-1252 export is expected, and an empty CSV next to an empty XML: each
ends in ``failed/`` with a report and a dead letter naming the reason, in one pass, while
the other files of the same and of other trusts' inboxes are taken as usual.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from rosterhub.settings import Settings
from tests.integration.connectors.filedrop_support import drop, prepare, reports, run_once

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "mapping" / "samples"
HR_CSV = (SAMPLES / "healthroster_csv" / "bank_requests.input.csv").read_bytes()
HR_XML = (SAMPLES / "healthroster" / "bank_requests.input.xml").read_bytes()
NHSP_BOOKINGS = (SAMPLES / "nhsp" / "bookings.input.csv").read_bytes()


def _hr_options(root: Path) -> dict:
    return {"inboxes": [{"path": str(root / "RXX"), "trust": "RXX"}, {"path": str(root / "RHQ"), "trust": "RHQ"}]}


def test_odd_entries_are_refused_with_a_report_and_the_rest_flows(
    hub_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hub = prepare(hub_settings)
    root = tmp_path / "sftp"
    rxx, rhq = root / "RXX", root / "RHQ"
    drop(rxx, "export_1.csv", HR_CSV)
    drop(rhq, "export_2.xml", HR_XML)  # another trust's file: must not wait behind anything
    bad_name = os.fsencode(rxx) + b"/duties_\xff\xfe.csv"  # not UTF-8: the probe's stall
    with open(bad_name, "wb") as fh:
        fh.write(HR_CSV)
    drop(rxx, ".hidden_export.csv", HR_CSV)
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"not the inbox's to read")
    (rxx / "link.csv").symlink_to(outside)

    with caplog.at_level(logging.INFO):
        run_once(hub, "healthroster", _hr_options(root))

    done = {**reports(rxx / "processed"), **reports(rhq / "processed")}
    assert done["export_1.csv"]["status"] == "processed" and done["export_2.xml"]["status"] == "processed"
    failed = reports(rxx / "failed")
    assert set(failed) == {"duties_%ff%fe.csv", ".hidden_export.csv", "link.csv"}, sorted(failed)
    assert "not valid UTF-8" in failed["duties_%ff%fe.csv"]["reason"]["message"]
    assert "hidden" in failed[".hidden_export.csv"]["reason"]["message"]
    assert "symbolic link" in failed["link.csv"]["reason"]["message"]
    assert [p.name for p in rxx.iterdir() if p.is_file() or p.is_symlink()] == []  # nothing left in the inbox
    assert (rxx / "failed" / "link.csv").is_symlink() and outside.read_bytes() == b"not the inbox's to read"
    dead = {h["rh_file_name"]: (h, v) for h, v in hub.dead_letters("ingest")}
    assert set(dead) == {b"duties_%ff%fe.csv", b".hidden_export.csv", b"link.csv"}
    assert dead[b"link.csv"][1] == b""  # a link is never read through
    assert dead[b"duties_%ff%fe.csv"][1] == HR_CSV and dead[b".hidden_export.csv"][1] == HR_CSV
    assert all(h["rh_correlation_id"] and h["dlq_code"] == b"file_refused" for h, _ in dead.values())
    # no 18,000-line tracebacks: the connector logged no traceback at all, only what became of each entry
    traced = [r.getMessage() for r in caplog.records if r.name.startswith("rosterhub") and r.exc_info]
    assert traced == []


def test_a_utf16_file_fails_whole_for_its_encoding(hub_settings: Settings, tmp_path: Path) -> None:
    hub = prepare(hub_settings)
    inbox = tmp_path / "nhsp"
    drop(inbox, "bookings_20260401.csv", NHSP_BOOKINGS.decode("cp1252").encode("utf-16"))

    run_once(hub, "nhsp", {"inboxes": [{"path": str(inbox)}]})

    [report] = reports(inbox / "failed").values()
    assert report["status"] == "failed" and report["reason"]["code"] == "parse_error"
    assert "UTF-16" in report["reason"]["message"], report["reason"]
    assert [r["record"] for r in report["rejected"]] == ["payload"]  # the whole file, not line by line
    [(headers, _)] = hub.dead_letters("mapping")
    assert headers["dlq_record"] == b"payload" and b"UTF-16" in headers["dlq_message"]


def test_an_empty_csv_is_not_a_duplicate_of_an_empty_xml(hub_settings: Settings, tmp_path: Path) -> None:
    hub = prepare(hub_settings)
    root = tmp_path / "sftp"
    drop(root / "RXX", "a_empty.xml", b"")
    drop(root / "RXX", "b_empty.csv", b"")

    run_once(hub, "healthroster", _hr_options(root))

    failed = reports(root / "RXX" / "failed")
    assert set(failed) == {"a_empty.xml", "b_empty.csv"}
    assert all(r["status"] == "failed" and r["duplicate_of"] is None for r in failed.values()), json.dumps(failed)
    assert {r["reason"]["code"] for r in failed.values()} == {"parse_error"}
