"""ESR-style interface files through the file-drop connector, on the real broker.

One inbox per trust. Beyond the common guarantees (events once, bad files reported and
dead-lettered, restart without loss or duplicates) ESR adds: personal data never on a
topic, whole-file rejection on a trailer mismatch, and reconciliation of the monthly
full refresh against what the connector has been told before.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from rosterhub.connectors.receipt import DLQ_VALUE_LIMIT, kept_copy
from rosterhub.connectors.replay import replay_raw
from rosterhub.connectors.simulators.esr import EsrSimulator
from rosterhub.connectors.vendors.esr import MAX_FILE_BYTES as ESR_MAX_FILE_BYTES
from rosterhub.kafka.access import access_from_settings
from rosterhub.settings import Settings
from rosterhub.topics import CANONICAL
from tests.integration.connectors.filedrop_support import (
    Hub,
    SimulatedCrash,
    context,
    drop,
    expected_ids,
    prepare,
    reports,
    run_once,
)

pytestmark = pytest.mark.integration

SECRET = b"integration-collaborative-secret"
SECRETS = {"esr_identity": SECRET}
MAPPINGS = {"*": "esr"}


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> dict:
    """The secret reaches the connector the production way: an environment variable named in the options."""
    monkeypatch.setenv("TEST_ESR_IDENTITY", SECRET.decode())
    return {"secrets": {"esr_identity": "TEST_ESR_IDENTITY"}}


@pytest.fixture
def hub(hub_settings: Settings) -> Hub:
    """The broker side every test starts from: the connector's topics declared under the test's own prefix."""
    return prepare(hub_settings)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The interface hub's SFTP folder, one inbox per trust below it (``root / "RXX"``): where _day drops."""
    return tmp_path / "sftp"


def _options(root: Path, secret_env: dict, **extra: object) -> dict:
    return {
        "inboxes": [{"path": str(root / "RXX"), "trust": "RXX"}, {"path": str(root / "RXY"), "trust": "RXY"}],
        **secret_env,
        **extra,
    }


def _day(sim: EsrSimulator, root: Path, tmp_path: Path) -> list[Path]:
    sim.step()
    return [drop(root / f.parent.name, f.name, f.read_bytes()) for f in sim.export(tmp_path / "esr-export")]


def _personal_data(sim: EsrSimulator) -> set[bytes]:
    out: set[bytes] = set()
    for t in sim.esr.values():
        for p in t.people.values():
            ni = p.ni.replace(" ", "")
            out |= {p.ni.encode(), ni.encode(), p.dob.strftime("%d-%b-%Y").upper().encode(), p.address[0].encode()}
    return out


def _assert_nothing_personal(hub: Hub, sim: EsrSimulator) -> None:
    secrets = _personal_data(sim)
    topics = [
        hub.names.raw("esr"),
        hub.names.dlq("mapping"),
        hub.names.dlq("ingest"),
        *(hub.names.events(d) for d in ("worker", "credential")),
    ]
    for topic in topics:
        for rec in hub.records(topic):
            blob = rec.value + b"".join(v for _, v in rec.headers)
            leaked = [s for s in secrets if s in blob]
            assert not leaked, f"personal data on {topic}: {leaked[:3]}"


def test_refresh_and_change_files_become_events_once_without_personal_data(
    hub: Hub, tmp_path: Path, root: Path, secret_env: dict
) -> None:
    sim = EsrSimulator(2, seed=3, start=date(2026, 3, 28), count=40)
    dropped = [f for _ in range(4) for f in _day(sim, root, tmp_path)]  # a full refresh, then change files
    want = expected_ids(dropped, MAPPINGS, {root / "RXX": "RXX", root / "RXY": "RXY"}, SECRETS)

    run_once(hub, "esr", _options(root, secret_env))

    assert hub.event_ids() == want
    events = hub.events()
    registered = [d for t, _, d in events if t == "WorkerRegistered"]
    assert len(registered) == 80 + 6 and all(len(d["identity_match_key"]) == 64 for d in registered)
    assert {t for t, _, _ in events} >= {"WorkerRegistered", "MembershipChanged", "CredentialIssued"}
    _assert_nothing_personal(hub, sim)
    raw = hub.records(hub.names.raw("esr"))
    assert all(dict(r.headers)["rh_redacted"] == b"address_line_1,date_of_birth,ni_number,postcode,town" for r in raw)
    assert all(b"|REDACTED|" in r.value for r in raw)
    done = reports(root / "RXX" / "processed")
    kinds = [r["esr"]["file_type"] for _, r in sorted(done.items())]
    assert kinds == ["MONTHLY full refresh"] + ["DAILY change file"] * 3  # taken in name (= sequence) order
    monthly = next(r for r in done.values() if r["esr"]["file_type"] == "MONTHLY full refresh")
    assert monthly["esr"]["reconciliation"]["new_in_refresh"]["people"] == 40
    # replay from raw.esr (personal fields redacted there) maps every record again: nothing new, nothing rejected
    with context(hub, secrets=SECRETS) as ctx:
        summary = replay_raw(ctx, access_from_settings(hub.settings), "esr")
    assert (summary.payloads, summary.published, summary.rejected) == (len(dropped), 0, 0)
    assert summary.duplicates == sum(want.values())


def test_redelivered_files_publish_nothing(hub: Hub, tmp_path: Path, root: Path, secret_env: dict) -> None:
    sim = EsrSimulator(1, seed=4, start=date(2026, 4, 10), count=20)
    dropped = [f for _ in range(2) for f in _day(sim, root, tmp_path)]
    options = {"inboxes": [{"path": str(root / "RXX"), "trust": "RXX"}], **secret_env}
    run_once(hub, "esr", options)
    before = hub.event_ids()
    for f in dropped:  # the interface hub re-sends both files, one under a new name
        drop(root / "RXX", f.name, (root / "RXX" / "processed" / f.name).read_bytes())
    drop(root / "RXX", "resent_" + dropped[1].name, (root / "RXX" / "processed" / dropped[1].name).read_bytes())

    run_once(hub, "esr", options)

    assert hub.event_ids() == before
    dupes = [r for r in reports(root / "RXX" / "processed").values() if r["status"] == "duplicate"]
    assert len(dupes) == 3


def test_bad_files_fail_whole_or_per_record_and_dead_letters_carry_no_personal_data(
    hub: Hub, tmp_path: Path, root: Path, secret_env: dict
) -> None:
    sim = EsrSimulator(2, seed=6, start=date(2026, 5, 5), count=15)
    good = _day(sim, root, tmp_path)
    rxx = next(f for f in good if f.parent.name == "RXX").read_bytes()
    rxy = next(f for f in good if f.parent.name == "RXY").read_bytes()
    for f in good:
        f.unlink()  # only the bad ones below are dropped
    lines = rxx.decode().splitlines(keepends=True)
    per = next(i for i, line in enumerate(lines) if line.startswith("PER|"))
    short_per = lines.copy()
    short_per[per] = short_per[per].rsplit("|", 1)[0] + "\n"  # one field missing
    other = next(i for i, line in enumerate(lines) if line.startswith("PER|") and i > per)
    short_per[other] = "PRR|" + short_per[other][4:]  # a corrupted record type: rejected without leaking
    band10 = [line.rsplit("|", 1)[0] + "|Band 10\n" if line.startswith("PER|") else line for line in lines]
    bad = {
        "RXX": {
            "ESR_RXX_MONTHLY_20260505_truncated.dat": "".join(lines[:-4] + lines[-1:]).encode(),  # trailer count
            "ESR_RXX_MONTHLY_20260505_utf16.dat": rxx.decode().encode("utf-16"),  # wrong encoding
            "ESR_RXX_MONTHLY_20260505_rxy.dat": rxy,  # another trust's file in RXX's inbox
            "ESR_RXX_MONTHLY_20260505_short.dat": "".join(short_per).encode(),  # a record missing a field
            "ESR_RXX_DAILY_20260505_named_daily.dat": rxx,  # the name says DAILY, the header MONTHLY
        },
        "RXY": {
            "ESR_RXY_MONTHLY_20260505_big.dat": rxy * 3,
            "ESR_RXY_MONTHLY_20260505_band10.dat": "".join(
                line.replace("|RXX|", "|RXY|", 1) if line.startswith("HDR") else line for line in band10
            ).encode(),
        },
    }
    for trust, files in bad.items():
        for name, data in files.items():
            drop(root / trust, name, data)

    run_once(hub, "esr", _options(root, secret_env, max_file_bytes=int(len(rxy) * 2.6)))

    failed = {**reports(root / "RXX" / "failed"), **reports(root / "RXY" / "failed")}
    processed = {**reports(root / "RXX" / "processed"), **reports(root / "RXY" / "processed")}
    assert set(failed) == {
        "ESR_RXX_MONTHLY_20260505_truncated.dat",
        "ESR_RXX_MONTHLY_20260505_utf16.dat",
        "ESR_RXX_MONTHLY_20260505_rxy.dat",
        "ESR_RXX_DAILY_20260505_named_daily.dat",
        "ESR_RXY_MONTHLY_20260505_big.dat",
    }
    truncated = failed["ESR_RXX_MONTHLY_20260505_truncated.dat"]
    assert "trailer declares" in truncated["reason"]["message"] and truncated["records"]["events_published"] == 0
    assert "UTF-16" in failed["ESR_RXX_MONTHLY_20260505_utf16.dat"]["reason"]["message"]  # refused by its BOM
    assert "belongs to RXX" in failed["ESR_RXX_MONTHLY_20260505_rxy.dat"]["reason"]["message"]
    assert "name says DAILY" in failed["ESR_RXX_DAILY_20260505_named_daily.dat"]["reason"]["message"]
    assert failed["ESR_RXY_MONTHLY_20260505_big.dat"]["reason"]["code"] == "payload_too_large"
    short = processed["ESR_RXX_MONTHLY_20260505_short.dat"]
    assert [(r["record"], r["code"]) for r in short["rejected"]] == [
        (f"line {per + 1}", "parse_error"),
        (f"line {other + 1}", "parse_error"),
    ]
    band = processed["ESR_RXY_MONTHLY_20260505_band10.dat"]
    assert band["rejected"] and {r["value"] for r in band["rejected"]} == {"Band 10"}
    # nothing of the failed files was published: only the two processed files' events are on the topics
    assert sum(hub.event_ids().values()) == sum(r["records"]["events_published"] for r in processed.values())

    dlq = {(h.get("rh_file_name", b""), h["dlq_record"]): (h, v) for h, v in hub.dead_letters("mapping")}
    whole = dlq[(b"ESR_RXX_MONTHLY_20260505_truncated.dat", b"payload")]
    assert whole[0]["dlq_code"] == b"parse_error" and whole[1].count(b"\n") == len(lines) - 3  # the file, redacted
    assert b"|REDACTED|" in whole[1]
    assert (b"ESR_RXX_MONTHLY_20260505_utf16.dat", b"payload") in dlq
    assert {h["dlq_code"] for h, _ in hub.dead_letters("ingest")} == {b"payload_too_large"}
    _assert_nothing_personal(hub, sim)


def test_full_refresh_reports_who_disappeared_and_deletes_nothing(
    hub: Hub, tmp_path: Path, root: Path, secret_env: dict, caplog: pytest.LogCaptureFixture
) -> None:
    sim = EsrSimulator(2, seed=8, start=date(2026, 6, 1), count=30)
    options = _options(root, secret_env)
    for _ in range(3):  # the initial full refresh and two change files
        _day(sim, root, tmp_path)
    run_once(hub, "esr", options)
    rxx = sim.esr["RXX"]
    gone = sorted(p.number for p in rxx.people.values() if p.active)[:2]
    gone_asg = sorted(a.number for n in gone for a in rxx.people[n].assignments if a.end is None)
    before = hub.events()
    sim.omit_from_next_refresh("RXX", gone)
    sim.force_refresh()
    refresh = [f for f in _day(sim, root, tmp_path) if f.parent.name == "RXX" and "MONTHLY" in f.name]

    with caplog.at_level(logging.WARNING, logger="rosterhub.connectors.vendors.esr"):
        run_once(hub, "esr", options)

    report = reports(root / "RXX" / "processed")[refresh[0].name]
    rec = report["esr"]["reconciliation"]
    assert rec["disappeared"]["people"] == gone
    assert sorted(a["assignment"] for a in rec["disappeared"]["assignments"]) == gone_asg
    assert rec["suspicious"] is False and "nothing was deleted" in rec["action_taken"]
    rxy = reports(root / "RXY" / "processed")
    assert not rxy[max(n for n in rxy if "MONTHLY" in n)]["esr"]["reconciliation"]["disappeared"]["people"]
    assert REGISTRY.get_sample_value("rosterhub_esr_missing", {"trust": "RXX", "record": "person"}) == 2
    warned = [r for r in caplog.records if "disappeared" in r.getMessage()]
    assert warned and warned[0].people == gone and warned[0].trust == "RXX"
    # nothing deleted or ended on their behalf: no leaver update, no ended membership since the refresh
    after = [e for e in hub.events() if e not in before]
    subjects = {f"esr:RXX:{n}" for n in gone}
    assert not [
        e
        for e in after
        if e[2].get("worker_id") in subjects and (e[2].get("change") == "ENDED" or e[2].get("active") is False)
    ]

    sim.force_refresh()  # next month they are back
    back = [f for f in _day(sim, root, tmp_path) if f.parent.name == "RXX" and "MONTHLY" in f.name]
    run_once(hub, "esr", options)
    again = reports(root / "RXX" / "processed")[back[0].name]["esr"]["reconciliation"]
    assert again["reappeared"]["people"] == gone and not again["disappeared"]["people"]
    assert REGISTRY.get_sample_value("rosterhub_esr_missing", {"trust": "RXX", "record": "person"}) == 0


def test_restart_in_the_middle_of_a_full_refresh(hub: Hub, tmp_path: Path, root: Path, secret_env: dict) -> None:
    sim = EsrSimulator(1, seed=9, start=date(2026, 7, 1), count=250)
    dropped = [f for _ in range(2) for f in _day(sim, root, tmp_path)]
    want = expected_ids(dropped, MAPPINGS, {root / "RXX": "RXX"}, SECRETS)
    options = {"inboxes": [{"path": str(root / "RXX"), "trust": "RXX"}], **secret_env, "max_file_bytes": 4_000_000}
    with pytest.raises(SimulatedCrash):
        run_once(hub, "esr", options, crash_after=1200)  # the refresh's raw copy and 1199 of its events
    assert 0 < sum(hub.event_ids().values()) < sum(want.values())

    run_once(hub, "esr", options)

    assert hub.event_ids() == want
    done = reports(root / "RXX" / "processed")
    assert all(r["status"] == "processed" for r in done.values()) and len(done) == len(dropped)
    monthly = next(r for r in done.values() if r["esr"]["file_type"] == "MONTHLY full refresh")
    assert monthly["esr"]["reconciliation"]["new_in_refresh"]["people"] == 250
    assert any("interrupted" in n for n in monthly["notes"])


def test_a_large_trusts_full_refresh_over_8_mib_is_taken_whole_and_a_larger_file_refused_whole(
    hub: Hub, tmp_path: Path, root: Path, secret_env: dict
) -> None:
    """Issue #16: the 10,000-staff refresh the bench drops (9,685,985 bytes, over the old 8 MiB record limit) is
    one raw record and all its events, with the vendor's default ``max_file_bytes``; a file over that limit is
    still refused whole, named with its size and the limit, its head kept on dlq.ingest."""
    sim = EsrSimulator(1, seed=3, start=date(2026, 8, 3), count=10_000)  # as bench/issue16.py's esr_side
    sim.force_refresh()
    [refresh] = _day(sim, root, tmp_path)
    data = refresh.read_bytes()
    assert len(data) > 8 * 1024 * 1024
    over_bytes = (data * 4)[: ESR_MAX_FILE_BYTES + 1]
    over = drop(root / "RXX", "ESR_RXX_MONTHLY_20260803_over.dat", over_bytes)

    run_once(hub, "esr", {"inboxes": [{"path": str(root / "RXX"), "trust": "RXX"}], **secret_env})

    report = reports(root / "RXX" / "processed")[refresh.name]
    records = len(data.splitlines()) - 2  # all but the header and the trailer
    assert report["status"] == "processed" and report["records"]["events_published"] == records
    assert report["esr"]["reconciliation"]["new_in_refresh"]["people"] == 10_000
    [raw] = hub.records(hub.names.raw("esr"))  # read back whole by a consumer with the default fetch sizes
    headers = dict(raw.headers)
    assert headers["rh_file_name"] == refresh.name.encode()
    assert headers["rh_file_sha256"] == hashlib.sha256(data).hexdigest().encode()
    with context(hub, secrets=SECRETS) as ctx:
        assert raw.value == kept_copy(ctx, "esr", data, trust="RXX").value  # the file's bytes, personal data redacted
    assert len(json.loads(headers["rh_keyed"])) == 10_000  # each person's identity match key, for a replay
    assert sum(hub.counts(*(hub.names.events(d) for d in CANONICAL)).values()) == records

    refused = reports(root / "RXX" / "failed")[over.name]
    assert refused["reason"]["code"] == "payload_too_large"
    assert f"{ESR_MAX_FILE_BYTES + 1} bytes, over the limit of {ESR_MAX_FILE_BYTES}" in refused["reason"]["message"]
    [(dlq_headers, kept)] = hub.dead_letters("ingest")
    assert dlq_headers["dlq_code"] == b"payload_too_large" and dlq_headers["rh_file_name"] == over.name.encode()
    with context(hub, secrets=SECRETS) as ctx:  # its first 4 MiB, personal data redacted
        assert kept == kept_copy(ctx, "esr", over_bytes[:DLQ_VALUE_LIMIT], trust="RXX").value
