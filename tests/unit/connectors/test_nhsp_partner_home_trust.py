"""An NHSP worker who books a partner trust's shift the hub offered is a bank worker of the trust whose bank NHSP
runs for that offer (the destination's trust), not of the host: the hub writes it in the Offer's ``Bank Trust
Code``, NHSP keeps it on the request and exports it on the request's bookings, and the mapping takes it as
``home_trust``. Offer rendered by the real adapter, received and booked by the simulator, mapped by the real
mapping."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

from rosterhub.connectors.outbound.adapters.nhsp import ADAPTER
from rosterhub.connectors.outbound.contract import Destination, FileDrop
from rosterhub.connectors.pipeline import packaged_mapping
from rosterhub.connectors.simulators.nhsp import NhspSimulator
from rosterhub.mapping.engine import apply_mapping
from tests.unit.connectors.outbound_builders import open_offer

AT = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)


def test_a_partner_shift_booked_through_nhsp_records_the_bank_the_offer_came_through(tmp_path: Path) -> None:
    sim = NhspSimulator(trusts=2, seed=3, start=date(2026, 10, 12), count=0)
    host, bank = sim.trusts[0].ods, sim.trusts[1].ods
    shift = f"healthroster:{host}:7742445"
    drop = ADAPTER.render(open_offer(shift), Destination(f"nhsp-{bank}", bank, "nhsp", folder=str(tmp_path)))
    assert isinstance(drop, FileDrop)
    [row] = list(csv.DictReader(io.StringIO(drop.content.decode("cp1252"))))
    assert (row["Trust Code"], row["Bank Trust Code"]) == (host, bank)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / drop.name).write_bytes(drop.content)
    assert sim.receive_outbound(tmp_path / "in") == 1
    assert sim.book_offered(shift) is not None
    [export] = [f for f in sim.export(tmp_path / "out") if f.name.startswith("bookings_")]
    outcome = apply_mapping(packaged_mapping("nhsp", None), export.read_bytes(), received_at=AT)
    [event] = outcome.events
    assert event.data["shift_id"] == shift and event.data["home_trust"] == bank  # not the host
    assert event.source == f"/vendors/nhsp/{host}"  # the row is still the host's


def test_nhsps_own_requests_keep_the_rows_trust_as_home_trust(tmp_path: Path) -> None:
    sim = NhspSimulator(trusts=2, seed=4, start=date(2026, 10, 12), count=4)
    sim.step()
    spec = packaged_mapping("nhsp", None)
    events = [
        e
        for f in sim.export(tmp_path)
        if f.name.startswith("bookings_")
        for e in apply_mapping(spec, f.read_bytes(), received_at=AT).events
    ]
    booked = [e for e in events if e.type.endswith("BookingRequested")]
    assert booked and all(e.data["home_trust"] == e.data["shift_id"].split(":")[1] for e in booked)
