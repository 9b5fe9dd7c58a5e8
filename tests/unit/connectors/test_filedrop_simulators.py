"""The file-based platform simulators: realistic files the mappings accept, reproducible, and able to receive."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rosterhub.connectors.pipeline import packaged_mapping
from rosterhub.connectors.simulators.esr import EsrSimulator
from rosterhub.connectors.simulators.files import clock_change_dates, ni_number, nmc_pin
from rosterhub.connectors.simulators.healthroster import HealthRosterSimulator
from rosterhub.connectors.simulators.hub_drops import read_outbound
from rosterhub.connectors.simulators.nhsp import NhspSimulator
from rosterhub.mapping.engine import apply_mapping
from rosterhub.mapping.functions.identifiers import normalise_hcpc, normalise_nmc
from rosterhub.mapping.functions.identity import normalise_ni

SECRETS = {"esr_identity": b"unit"}


def _map(path: Path, mapping: str, trust: str | None = None) -> Counter[str]:
    out = apply_mapping(
        packaged_mapping(mapping, trust), path.read_bytes(), received_at=datetime.now(UTC), trust=trust, secrets=SECRETS
    )
    assert not out.rejected, [r.error for r in out.rejected][:3]
    return Counter(e.type.rsplit(".", 1)[-1] for e in out.events)


def _outbound(folder: Path, *docs: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, doc in enumerate(docs):
        (folder / f"{i:03d}-{doc['id']}.json").write_text(json.dumps(doc))


def test_identifier_generators_make_valid_formats() -> None:
    import random

    rng = random.Random(1)
    for _ in range(500):
        assert normalise_nmc(nmc_pin(rng))
        assert normalise_ni(ni_number(rng))
    assert clock_change_dates(date(2026, 3, 20), 14) == [date(2026, 3, 28)]
    assert clock_change_dates(date(2026, 10, 20), 14) == [date(2026, 10, 24)]


def test_healthroster_exports_map_cleanly_and_receive_bookings(tmp_path: Path) -> None:
    sim = HealthRosterSimulator(3, seed=2, start=date(2026, 10, 12), count=25, formats="mixed")
    types: Counter[str] = Counter()
    files = []
    for _ in range(4):
        sim.step()
        files += sim.export(tmp_path / "out")
    for f in files:
        types += _map(f, "healthroster" if f.suffix == ".xml" else "healthroster_csv", f.parent.name)
    assert {f.suffix for f in files} == {".xml", ".csv"} and not list(tmp_path.rglob("*.part"))
    assert {"ShiftPosted", "ShiftUpdated", "ShiftCancelled"} <= set(types)
    assert all(f.suffix == ".xml" for f in files if f.parent.name == "RXY")  # RXY's variant reads XML
    assert any(b"NGT" in f.read_bytes() for f in files if f.parent.name == "RXY")
    assert any(d.code == "N" and d.day == date(2026, 10, 24) for d in sim.duties.values())  # clocks go back
    # the hub books a duty on the bank platform: HealthRoster marks it Filled (a new revision)
    duty = next(d for d in sim.duties.values() if d.state == "Approve Temp Staff Request")
    confirmed = {
        "id": "ev-1",
        "type": "rosterhub.booking.v1.BookingConfirmed",
        "data": {"shift_id": f"healthroster:{duty.trust.ods}:{duty.id}", "booking_id": "b-1"},
    }
    _outbound(tmp_path / "outbound", confirmed, {**confirmed, "id": "ev-2", "data": {"shift_id": "nope:X:1"}})
    assert sim.receive_outbound(tmp_path / "outbound") == 1
    assert sim.receive_outbound(tmp_path / "outbound") == 0  # files moved to received/
    assert (duty.state, duty.revision) == ("Filled", 2)
    [export] = [f for f in sim.export(tmp_path / "out2") if f.parent.name == duty.trust.ods]
    assert f'id="{duty.id}" revision="2"'.encode() in export.read_bytes() or f"{duty.id},2,".encode() in (
        export.read_bytes()
    )
    assert sorted(p.name for p in (tmp_path / "outbound" / "received").iterdir()) == ["000-ev-1.json", "001-ev-2.json"]


def test_nhsp_files_map_cleanly_and_receive_updates(tmp_path: Path) -> None:
    sim = NhspSimulator(3, seed=3, start=date(2026, 3, 23), count=15)
    types: Counter[str] = Counter()
    for _ in range(9):
        sim.step()
        for f in sim.export(tmp_path):
            types += _map(f, "nhsp" if f.name.startswith("bookings") else "nhsp_timesheets")
    assert {"BookingRequested", "BookingCancelled", "TimesheetSubmitted", "TimesheetApproved"} <= set(types)
    bookings = next(tmp_path.glob("bookings_*.csv")).read_bytes()
    # cp1252 and CRLF, as the Windows export
    assert b"Pay Rate (\xa3/hr),Hub Reference,Hub Shift ID,Bank Trust Code\r\n" in bookings
    assert all(normalise_hcpc(w.number) for w in sim.workers if w.body == "HCPC")
    provisional = next(b for b in sim.bookings.values() if b.status == "Provisional")
    posted = {
        "id": "s-1",
        "type": "rosterhub.shift.v1.ShiftPosted",
        "data": {
            "shift_id": "healthroster:RXX:1",
            "trust": {"ods_code": "RXX"},
            "start": "2026-04-02T19:00:00+00:00",
            "end": "2026-04-03T07:00:00+00:00",
            "break_minutes": 60,
            "staff_group": "NURSING_MIDWIFERY_REGISTERED",
            "grade": "BAND_5",
        },
    }
    confirmed = {
        "id": "b-1",
        "type": "rosterhub.booking.v1.BookingConfirmed",
        "data": {"booking_id": f"nhsp:{provisional.request.trust.ods}:{provisional.ref}"},
    }
    _outbound(tmp_path / "out", posted, confirmed)
    requests = len(sim.requests)
    assert sim.receive_outbound(tmp_path / "out") == 2
    assert len(sim.requests) == requests + 1 and provisional.status == "Booked"
    new = next(r for r in sim.requests.values() if r.hub_shift_id == "healthroster:RXX:1")
    assert (new.day, new.start, new.end) == (date(2026, 4, 2), "20:00", "08:00")  # local (BST) times


def test_esr_files_map_cleanly_and_receive_payroll_and_bank_memberships(tmp_path: Path) -> None:
    sim = EsrSimulator(2, seed=4, start=date(2026, 5, 29), count=60)
    types: Counter[str] = Counter()
    names = []
    for _ in range(5):
        sim.step()
        for f in sim.export(tmp_path):
            types += _map(f, "esr", f.parent.name)
            names.append(f.name)
    assert {"WorkerRegistered", "WorkerUpdated", "MembershipChanged", "CredentialIssued"} <= set(types)
    monthly = sorted(n.split("_")[2] for n in names if n.endswith("_MONTHLY.dat"))
    assert monthly == ["20260529", "20260529", "20260601", "20260601"]  # the initial load, then the 1st of June
    rxx = [n for n in names if n.startswith("ESR_RXX_")]
    assert rxx == sorted(rxx)  # name order is the order ESR produced them in (the connector relies on it)
    person = next(p for p in sim.esr["RXX"].people.values() if p.active)
    pay = {
        "id": "p-1",
        "type": "rosterhub.timesheet.v1.PayrollLine",
        "data": {
            "worker": {"identifiers": [{"system": "https://rosterhub.org/Id/esr-person/RXX", "value": person.number}]},
            "amount": "120.50",
        },
    }
    bank = {
        "id": "m-1",
        "type": "rosterhub.worker.v1.MembershipChanged",
        "data": {"worker_id": f"esr:RXX:{person.number}", "membership_type": "BANK", "change": "JOINED"},
    }
    _outbound(tmp_path / "out", pay, bank, {**bank, "id": "m-2"})
    assert sim.receive_outbound(tmp_path / "out") == 2  # the second bank membership is not a new assignment
    assert person.pay_lines[0]["amount"] == "120.50"
    sim.step()
    daily = next(f for f in sim.export(tmp_path / "next") if f.parent.name == "RXX")
    assert f"|{person.number}-2|N|".encode() in daily.read_bytes() and b"|Bank|" in daily.read_bytes()
    assert _map(daily, "esr", "RXX")["MembershipChanged"] >= 1


def test_esr_refresh_can_leave_people_out(tmp_path: Path) -> None:
    sim = EsrSimulator(1, seed=5, start=date(2026, 6, 10), count=10)
    sim.step()
    sim.export(tmp_path)
    left_out = sorted(sim.esr["RXX"].people)[:2]
    sim.omit_from_next_refresh("RXX", left_out)
    sim.force_refresh()
    sim.step()
    refresh = next(f for f in sim.export(tmp_path) if "MONTHLY" in f.name).read_text()
    assert all(f"PER|{n}|" not in refresh for n in left_out)
    assert sim.esr["RXX"].people[left_out[0]].active  # still employed in ESR


def test_same_seed_same_files(tmp_path: Path) -> None:
    def run(folder: Path) -> list[bytes]:
        sim = NhspSimulator(2, seed=9, start=date(2026, 1, 5), count=5)
        sim.step()
        return [f.read_bytes() for f in sim.export(folder)]

    assert run(tmp_path / "a") == run(tmp_path / "b")


def test_read_outbound_accepts_json_lists_and_jsonl(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps([{"id": 1}, {"id": 2}]))
    (tmp_path / "b.jsonl").write_text('{"id": 3}\n\n{"id": 4}\n')
    (tmp_path / "c.json").write_text("{not json")
    (tmp_path / "d.txt").write_text("ignored")
    assert [d["id"] for d in read_outbound(tmp_path)] == [1, 2, 3, 4]
    assert sorted(p.name for p in (tmp_path / "received").iterdir()) == ["a.json", "b.jsonl", "c.json"]


@pytest.mark.parametrize("vendor", ["healthroster", "nhsp", "esr"])
def test_demo_sources_feed_their_connector_options(
    vendor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib import import_module

    from rosterhub.connectors.kinds.filedrop.transport import parse_options
    from rosterhub.connectors.registry import connector
    from rosterhub.demo import DemoContext

    monkeypatch.delenv("ROSTERHUB_MAPPING_SECRET_ESR_IDENTITY", raising=False)
    source = import_module(f"rosterhub.connectors.simulators.{vendor}").demo_source(
        DemoContext("http://127.0.0.1:1", tmp_path, {})
    )
    options = parse_options(connector(vendor), source.connector_options)
    first = {p for inbox in options.inboxes for p in inbox.path.iterdir()}
    assert first and all(f.is_file() for f in first)
    source.tick()
    assert {p for inbox in options.inboxes for p in inbox.path.iterdir()} > first
    if vendor == "esr":
        assert source.env["ROSTERHUB_MAPPING_SECRET_ESR_IDENTITY"]  # the demo's secret, for the connect process


@pytest.mark.parametrize("vendor", ["healthroster", "nhsp", "esr"])
def test_simulate_commands_write_files(vendor: str, tmp_path: Path) -> None:
    from rosterhub.cli.simulate_cmd import app

    result = CliRunner().invoke(
        app,
        [
            vendor,
            "--trusts",
            "2",
            "--out",
            str(tmp_path),
            "--count",
            "5",
            "--seed",
            "1",
            "--start",
            "2026-03-27",
            "--batches",
            "2",
            "--interval",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    written = [Path(line) for line in result.output.split()]
    assert written and all(p.is_file() for p in written) and not list(tmp_path.rglob("*.part"))
