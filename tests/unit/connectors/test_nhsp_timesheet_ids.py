"""NHSP timesheets name their shift and booking by the ids the shift and booking events use, so payroll can join
them: a partner trust's shift the hub offered to NHSP by its ``Hub Shift ID`` (not NHSP's Request ID), NHSP's own
requests by ``nhsp:<trust>:<Request ID>``. Simulated days through the real mappings."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from rosterhub.connectors.pipeline import packaged_mapping
from rosterhub.connectors.simulators.nhsp import NhspSimulator
from rosterhub.mapping.engine import MappedEvent, apply_mapping

HOST_SHIFT = "healthroster:RXX:7742445"  # a partner's HealthRoster duty the hub offered to NHSP


def _events(files: list[Path], prefix: str, mapping: str) -> list[MappedEvent]:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    out: list[MappedEvent] = []
    for f in files:
        if f.name.startswith(prefix):
            outcome = apply_mapping(packaged_mapping(mapping, None), f.read_bytes(), received_at=at)
            assert not outcome.rejected, outcome.rejected
            out += outcome.events
    return out


def test_timesheets_carry_the_shift_and_booking_ids_of_the_booking_events(tmp_path: Path) -> None:
    sim = NhspSimulator(trusts=1, seed=4, start=date(2026, 10, 12), count=3)
    offered = sim._request(sim.trusts[0], date(2026, 10, 13))
    offered.hub_shift_id = HOST_SHIFT
    files: list[Path] = []
    for _ in range(6):
        sim.step()
        files += sim.export(tmp_path / str(len(files)))
    booked = {
        e.data["booking_id"]: e.data["shift_id"]
        for e in _events(files, "bookings_", "nhsp")
        if e.type.endswith("BookingRequested")
    }
    timesheets = _events(files, "timesheets_", "nhsp_timesheets")
    assert timesheets, "no timesheets in six simulated days"
    for e in timesheets:
        assert booked[e.data["booking_id"]] == e.data["shift_id"], e.data["timesheet_id"]
    shifts = {e.data["shift_id"] for e in timesheets}
    assert HOST_SHIFT in shifts  # the offered request's timesheet names the host's shift
    assert all(s == HOST_SHIFT or s.startswith(f"nhsp:{sim.trusts[0].ods}:NHSP-RQ-") for s in shifts)
