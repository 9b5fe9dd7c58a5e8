"""NHSP books an offered partner shift only with a worker the hub's grade rule accepts.

The whole way without a broker: the hub's ``Offer`` of a shift rendered by the real NHSP adapter, applied by
the NHSP simulator, booked there, its bookings file mapped by the packaged NHSP mapping, and the resulting
request checked by ``grade_match`` against the offered shift. The demo's STAFF_GROUP_MISMATCH refusals came
from offers of staff groups NHSP does not supply (doctors' shifts from Locums Nest, Patchwork or FHIR): the
simulator kept its random ward's staff group for them and booked, say, a nurse onto a doctor's shift.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from rosterhub.connectors.outbound.adapters.nhsp import ADAPTER
from rosterhub.connectors.outbound.contract import Destination, FileDrop, Update
from rosterhub.connectors.pipeline import packaged_mapping
from rosterhub.connectors.simulators.nhsp import NhspSimulator
from rosterhub.events.models.common import StaffGroup
from rosterhub.mapping.engine import apply_mapping
from rosterhub.streams.booking.rules.grade import grade_match
from tests.unit.connectors.outbound_builders import open_offer
from tests.unit.streams.booking_builders import ctx, request, shift

AT = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
SEEDS = range(6)  # the simulator's ward (and so its own staff group) is random: several draws per offer


def _offer(shift_id: str, staff_group: str, grade: str) -> Update:
    """The hub's ``shift_open`` of ``shift_id``, on an Emergency Department ward."""
    return open_offer(shift_id, staff_group, grade, ward="Emergency Department")


def _offer_file(folder: Path, shift_id: str, staff_group: str, grade: str, options: dict | None = None) -> None:
    """The hub's ``shift_open`` of ``shift_id`` rendered by the NHSP adapter, dropped where NHSP reads it."""
    destination = Destination("nhsp", "RXY", "nhsp", folder=str(folder), options=options or {})
    drop = ADAPTER.render(_offer(shift_id, staff_group, grade), destination)
    assert isinstance(drop, FileDrop)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / drop.name).write_bytes(drop.content)


def _sim(seed: int) -> NhspSimulator:
    return NhspSimulator(trusts=1, seed=seed, start=date(2026, 10, 12), count=0)


@pytest.mark.parametrize(
    ("staff_group", "grade"),
    [
        ("NURSING_MIDWIFERY_REGISTERED", "BAND_5"),
        ("NURSING_MIDWIFERY_REGISTERED", "BAND_7"),
        ("ADDITIONAL_CLINICAL_SERVICES", "BAND_3"),
        ("ALLIED_HEALTH_PROFESSIONALS", "BAND_6"),
    ],
)
def test_a_booking_of_an_offered_shift_is_at_its_staff_group_and_grade(
    tmp_path: Path, staff_group: str, grade: str
) -> None:
    booked = 0
    for seed in SEEDS:
        sim = _sim(seed)
        host = f"patchwork:{sim.trusts[0].ods}:88{seed}"
        _offer_file(tmp_path / f"in{seed}", host, staff_group, grade)
        assert sim.receive_outbound(tmp_path / f"in{seed}") == 1
        booking = sim.book_offered(host)
        if booking is None:  # no worker in this pool holds the grade: nothing booked, nothing to refuse
            continue
        [export] = [f for f in sim.export(tmp_path / f"out{seed}") if f.name.startswith("bookings_")]
        outcome = apply_mapping(packaged_mapping("nhsp", None), export.read_bytes(), received_at=AT, trust=None)
        [event] = outcome.events
        assert event.data["shift_id"] == host and not outcome.rejected
        req = request(staff_group=StaffGroup(str(event.data["staff_group"])), grade=str(event.data["grade"]))
        result = grade_match(ctx(shift(staff_group=StaffGroup(staff_group), grade=grade), req))
        assert result.passed and result.reason_code is None, (seed, result.detail)
        booked += 1
    assert booked >= len(SEEDS) // 2  # most pools have a worker at the grade


@pytest.mark.parametrize(
    ("staff_group", "grade"),
    [
        ("MEDICAL_DENTAL", "ST3_5"),
        ("ADMIN_CLERICAL", "BAND_3"),
        ("ADD_PROF_SCIENTIFIC_TECHNICAL", "BAND_6"),
        ("NURSING_MIDWIFERY_REGISTERED", "BAND_8A"),
        ("NURSING_MIDWIFERY_REGISTERED", "X-RXX-BAND_5_PRECEPTOR"),
    ],
)
def test_an_offer_nhsp_cannot_staff_makes_no_request_and_no_booking(
    tmp_path: Path, staff_group: str, grade: str
) -> None:
    # the adapter does not offer it to a destination configured with the grades NHSP supplies (staff groups: by
    # default those of NHSP's code list) ...
    supplied = Destination("n", "RXY", "nhsp", options={"grades": [f"BAND_{n}" for n in range(2, 8)]})
    assert ADAPTER.render(_offer("locums_nest:RXX:770", staff_group, grade), supplied) is None
    # ... and were it told to (a destination configured to offer everything), NHSP would still decline it
    everything = {"staff_groups": [g.value for g in StaffGroup], "grades": [grade]}
    for seed in SEEDS:
        sim = _sim(seed)
        host = f"locums_nest:{sim.trusts[0].ods}:77{seed}"
        _offer_file(tmp_path / f"in{seed}", host, staff_group, grade, everything)
        assert sim.receive_outbound(tmp_path / f"in{seed}") == 0
        assert all(r.hub_shift_id != host for r in sim.requests.values())
        assert sim.book_offered(host) is None
        sim.step()  # a day of bank activity books offered requests too: still none of this shift
        assert all(b.request.hub_shift_id != host for b in sim.bookings.values())


def test_an_older_shift_posted_document_makes_a_request_at_its_own_staff_group_and_band(tmp_path: Path) -> None:
    sim = _sim(1)
    ods = sim.trusts[0].ods
    docs = {
        f"healthroster:{ods}:{n}": (group, grade)
        for n, group, grade in ((1, "ADDITIONAL_CLINICAL_SERVICES", "BAND_4"), (2, "MEDICAL_DENTAL", "ST3_5"))
    }
    (tmp_path / "out").mkdir()
    for i, (shift_id, (group, grade)) in enumerate(docs.items()):
        doc = {
            "id": f"s-{i}",
            "type": "rosterhub.shift.v1.ShiftPosted",
            "data": {
                "shift_id": shift_id,
                "trust": {"ods_code": ods},
                "start": "2026-10-24T19:00:00+00:00",
                "end": "2026-10-25T07:00:00+00:00",
                "staff_group": group,
                "grade": grade,
            },
        }
        (tmp_path / "out" / f"s-{i}.json").write_text(json.dumps(doc))
    assert sim.receive_outbound(tmp_path / "out") == 1  # the doctor's shift is not NHSP's to staff
    [req] = [r for r in sim.requests.values() if r.hub_shift_id]
    assert (req.hub_shift_id, req.group, req.band) == (f"healthroster:{ods}:1", "Additional Clinical Services", 4)


@pytest.mark.parametrize(
    ("staff_group", "offered"),
    [
        ("NURSING_MIDWIFERY_REGISTERED", True),
        ("ADDITIONAL_CLINICAL_SERVICES", True),
        ("ALLIED_HEALTH_PROFESSIONALS", True),
        ("MEDICAL_DENTAL", False),
        ("ADMIN_CLERICAL", False),
        ("HEALTHCARE_SCIENTISTS", False),
    ],
)
def test_by_default_nhsp_is_offered_the_staff_groups_of_its_code_list(staff_group: str, offered: bool) -> None:
    drop = ADAPTER.render(_offer("patchwork:RXX:1", staff_group, "BAND_5"), Destination("n", "RXY", "nhsp"))
    assert (drop is not None) is offered


def test_the_staff_groups_and_grades_offered_are_configured_per_destination() -> None:
    hca_only = Destination("n", "RXY", "nhsp", options={"staff_groups": "ADDITIONAL_CLINICAL_SERVICES"})
    assert ADAPTER.render(_offer("patchwork:RXX:1", "NURSING_MIDWIFERY_REGISTERED", "BAND_5"), hca_only) is None
    assert ADAPTER.render(_offer("patchwork:RXX:1", "ADDITIONAL_CLINICAL_SERVICES", "BAND_3"), hca_only) is not None
    low_bands = Destination("n", "RXY", "nhsp", options={"grades": ["BAND_2", "BAND_3"]})
    assert ADAPTER.render(_offer("patchwork:RXX:1", "ADDITIONAL_CLINICAL_SERVICES", "BAND_4"), low_bands) is None


def test_nhsps_own_requests_are_told_whatever_their_staff_group() -> None:
    """The filter is for offers of partners' shifts: a withdrawal of NHSP's own request always goes."""
    update = _offer("nhsp:RXX:NHSP-RQ-1", "MEDICAL_DENTAL", "ST3_5")
    withdrawn = replace(update, key="k-w", kind="shift_withdrawn")
    assert ADAPTER.render(update, Destination("n", "RXY", "nhsp")) is None  # own shift: never offered back
    assert ADAPTER.render(withdrawn, Destination("n", "RXY", "nhsp")) is not None
