"""Every HL7 FHIR R4 example and UK Core example in tests/conformance/data is posted to the
FHIR endpoint exactly as published (single resources wrapped in a batch Bundle, or posted
to ``[base]/{type}``), and answers and canonical events are what a person would expect.

Findings recorded here (and in docs/vendors/fhir.md, "Transport"):

* fhir.resources 8.3 (R4B models) accepts all 13 HL7 R4 4.0.0 examples and all 10 UK Core
  XML examples (XML read through its lxml support) without change.
* ``bundle-transaction.json`` is a transaction of *Patient* creates/updates/deletes, a
  ``Parameters`` operation and searches: not workforce data. The hub refuses it as a whole
  (FHIR transactions are all or nothing) with one issue per entry, publishes nothing, and
  keeps and dead-letters the payload.
* UK Core's GMC example value ``C12345678`` fits no GMC number format. The hub accepts the
  Practitioner and keeps the value, but under the system
  ``https://rosterhub.org/Id/unverified/gmc-number``: it is visible, and identity
  resolution can never match a person on it (docs/vendors/fhir.md, "GMC decision").
* Standard FHIR carries no grade: such workers and slots get the trust-local grade
  ``X-<trust>-GRADE_NOT_STATED`` (it matches no shift grade).

Runs the real endpoint code over an in-memory sink (no broker): the broker path is
covered by tests/integration/connectors/test_fhir.py.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from rosterhub.envelope import headers_dict
from tests.conftest import CONFORMANCE
from tests.unit.connectors.test_fhir_harness import Harness

R4 = CONFORMANCE / "fhir-r4"
UK = CONFORMANCE / "uk-core"
JSON = {"content-type": "application/fhir+json"}
XML = {"content-type": "application/fhir+xml"}


def test_the_vendored_conformance_folder_is_there() -> None:
    # fail, never skip: the conformance data is part of the test suite
    assert R4.is_dir(), f"missing {R4} (vendored conformance data)"
    assert UK.is_dir(), f"missing {UK}"
    assert len(list(R4.glob("*.json"))) == 13
    assert len(list(UK.glob("*.xml"))) == 10


@pytest.fixture
def hub(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def r4(name: str) -> dict[str, Any]:
    return json.loads((R4 / name).read_bytes())


def batch(*resources: dict[str, Any]) -> bytes:
    entries = [
        {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in resources
    ]
    return json.dumps({"resourceType": "Bundle", "type": "batch", "entry": entries}).encode()


def xml_batch(*names: str) -> bytes:
    """A batch Bundle in XML whose entries are the UK Core example files, byte for byte."""
    entries = []
    for name in names:
        text = (UK / name).read_text(encoding="utf-8")
        rtype = re.match(r"<(\w+)", text).group(1)  # type: ignore[union-attr]
        rid = re.search(r'<id value="([^"]+)"', text).group(1)  # type: ignore[union-attr]
        entries.append(
            f'<entry><resource>{text}</resource><request><method value="PUT"/>'
            f'<url value="{rtype}/{rid}"/></request></entry>'
        )
    return f'<Bundle xmlns="http://hl7.org/fhir"><type value="batch"/>{"".join(entries)}</Bundle>'.encode()


def by_subject(hub: Harness) -> dict[str, Any]:
    return {e.subject: e for e in hub.all_events()}


@pytest.mark.parametrize("path", sorted(R4.glob("*.json")), ids=lambda p: p.name)
def test_every_hl7_example_is_valid_r4b(path: Path) -> None:
    document = json.loads(path.read_bytes())
    get_fhir_model_class(document["resourceType"]).model_validate(document)


@pytest.mark.parametrize("path", sorted(UK.glob("*.xml")), ids=lambda p: p.name)
def test_every_uk_core_example_reads_as_xml(path: Path) -> None:
    rtype = path.name.split("-")[1]
    get_fhir_model_class(rtype).model_validate_xml(path.read_bytes())


def test_hl7_practitioners_register_workers(hub: Harness) -> None:
    examples = [
        r4("practitioner-example.json"),
        r4("practitioner-example-f001-evdb.json"),
        r4("practitioner-example-f201-ab.json"),
    ]
    r = hub.client.post("/fhir/RXX/R4", content=batch(*examples), headers=JSON)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["type"] == "batch-response"
    assert [e["response"]["status"] for e in answer["entry"]] == ["200 OK"] * 3
    assert answer["entry"][0]["response"]["location"].startswith("Practitioner/example/_history/sha256:")
    events = by_subject(hub)
    careful = events["fhir:RXX:example"]
    assert careful.type == "rosterhub.worker.v1.WorkerRegistered"
    assert careful.data["worker"]["identifiers"] == [{"system": "http://www.acme.org/practitioners", "value": "23"}]
    assert careful.data["worker"]["display_name"] == "Adam Careful"
    assert (careful.data["staff_group"], careful.data["grade"]) == ("OTHER", "X-RXX-GRADE_NOT_STATED")
    assert events["fhir:RXX:f001"].data["worker"]["identifiers"][0] == {
        "system": "urn:oid:2.16.528.1.1007.3.1",
        "value": "938273695",
    }
    assert events["fhir:RXX:f201"].data["worker"]["display_name"] == "Dokter Bronsig"
    assert len(events) == 3


def test_the_general_practitioner_collection_registers_59_workers(hub: Harness) -> None:
    r = hub.client.post("/fhir/RXX/R4", content=(R4 / "practitioner-examples-general.json").read_bytes(), headers=JSON)
    assert r.status_code == 200, r.text
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert {i["severity"] for i in outcome["issue"]} == {"information"}
    events = hub.events("worker")
    assert len(events) == len({e.subject for e in events}) == 59
    assert all(e.type == "rosterhub.worker.v1.WorkerRegistered" for e in events)


def test_free_slot_becomes_a_shift_in_the_schedules_location(hub: Harness) -> None:
    body = batch(r4("schedule-example.json"), r4("slot-example.json"), r4("slot-example-busy.json"))
    r = hub.client.post("/fhir/RXX/R4", content=body, headers=JSON)
    assert r.status_code == 200, r.text
    [shift] = hub.events("shift")
    assert shift.type == "rosterhub.shift.v1.ShiftPosted"
    assert shift.data["vendor_shift_id"] == "example"
    assert shift.data["ward"] == "Burgers UMC, South Wing, second floor"  # Slot.schedule -> Schedule.actor.display
    assert shift.data["start"] == datetime(2013, 12, 25, 9, 15, tzinfo=UTC)
    assert shift.data["end"] == datetime(2013, 12, 25, 9, 30, tzinfo=UTC)
    notes = [e["response"]["outcome"]["issue"][0]["diagnostics"] for e in r.json()["entry"]]
    assert "not published" in notes[0] and "1 event(s) published" in notes[1] and "busy" in notes[2]


@pytest.mark.parametrize(
    "name",
    [
        "practitionerrole-example.json",
        "organization-example.json",
        "organization-example-f001-burgers.json",
        "location-example.json",
        "verificationresult-example.json",
    ],
)
def test_reference_data_and_the_minimal_verification_result_are_accepted_without_events(
    hub: Harness, name: str
) -> None:
    r = hub.client.post("/fhir/RXX/R4", content=batch(r4(name)), headers=JSON)
    assert r.status_code == 200, r.text
    [entry] = r.json()["entry"]
    assert entry["response"]["status"] == "200 OK"
    assert entry["response"]["outcome"]["issue"][0]["severity"] == "information"
    assert "not published" in entry["response"]["outcome"]["issue"][0]["diagnostics"]
    assert hub.all_events() == []
    assert hub.sink.on(hub.names.dlq("mapping")) == []


def test_hl7_transaction_of_patients_is_refused_whole_and_kept(hub: Harness) -> None:
    body = (R4 / "bundle-transaction.json").read_bytes()
    r = hub.client.post("/fhir/RXX/R4", content=body, headers=JSON)
    assert r.status_code == 400, r.text  # among its problems: a conditional PUT url (invalid request)
    issues = r.json()["issue"]
    assert {i["code"] for i in issues} == {"not-supported", "invalid"}  # ValueSet/$lookup names no resource type
    per_entry = {int(re.search(r"entry\[(\d+)\]", i["expression"][0]).group(1)) for i in issues}  # type: ignore[union-attr]
    assert per_entry == set(range(10))  # every one of the 10 entries is named
    assert any("Patient is not taken" in i["diagnostics"] for i in issues)
    assert any("DELETE is not supported" in i["diagnostics"] for i in issues)
    assert hub.all_events() == []
    [raw] = hub.sink.on(hub.names.raw("fhir"))
    [dead] = hub.sink.on(hub.names.dlq("mapping"))
    # kept whole, but the Patients' birth dates taken out before anything was written (issue #12)
    assert body.count(b'"birthDate"') > 1 and b'"birthDate"' not in raw.value and dead.value == raw.value
    kept = json.loads(raw.value)
    assert len(kept["entry"]) == 10 and kept["entry"][0]["resource"]["resourceType"] == "Patient"
    assert headers_dict(raw.headers)["rh_redacted"] == b"address,birthDate"
    assert headers_dict(dead.headers)["dlq_message"].startswith(b"transaction rejected: ")


# --- UK Core (XML) ----------------------------------------------------------------------------------------


def test_uk_core_pharmacist_and_gp_register_with_their_uk_core_identifiers(hub: Harness) -> None:
    for name in (
        "UKCore-Practitioner-PharmacistJimmyChuck-Example.xml",
        "UKCore-Practitioner-DoctorPaulRastall-Example.xml",
    ):
        r = hub.client.post("/fhir/RXX/R4/Practitioner", content=(UK / name).read_bytes(), headers=XML)
        assert r.status_code == 201, r.text
        assert r.headers["location"].startswith("Practitioner/UKCore-Practitioner-")
    events = by_subject(hub)
    chuck = events["fhir:RXX:UKCore-Practitioner-PharmacistJimmyChuck-Example"].data
    assert chuck["worker"]["identifiers"] == [
        {"system": "https://fhir.hl7.org.uk/Id/gphc-number", "value": "2298676"},
        {"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "P12345678"},
    ]
    assert chuck["staff_group"] == "ADD_PROF_SCIENTIFIC_TECHNICAL"
    assert chuck["worker"]["display_name"] == "Jimmy Chuck"
    rastall = events["fhir:RXX:UKCore-Practitioner-DoctorPaulRastall-Example"].data
    gmp = {"system": "https://fhir.hl7.org.uk/Id/gmp-number", "value": "G12345678"}  # not a register: kept as sent
    assert rastall["worker"]["identifiers"] == [gmp]


def test_uk_core_gmc_example_is_accepted_with_its_number_marked_unverified(hub: Harness) -> None:
    body = (UK / "UKCore-Practitioner-ConsultantSandraGose-Example.xml").read_bytes()
    r = hub.client.post("/fhir/RXX/R4/Practitioner", content=body, headers=XML)
    assert r.status_code == 201, r.text
    [worker] = hub.events("worker")
    identifiers = worker.data["worker"]["identifiers"]
    assert {"system": "https://rosterhub.org/Id/unverified/gmc-number", "value": "C12345678"} in identifiers
    assert not any(i["system"] == "https://fhir.hl7.org.uk/Id/gmc-number" for i in identifiers)  # never matched on
    [raw] = hub.sink.on(hub.names.raw("fhir"))
    assert hub.sink.on(hub.names.dlq("mapping")) == []
    # the XML as posted, less the address (personal data, issue #12): still a valid UK Core Practitioner
    assert b"<address>" in body and b"address" not in raw.value and b"C12345678" in raw.value
    get_fhir_model_class("Practitioner").model_validate_xml(raw.value)


def test_uk_core_free_slot_keeps_its_plus_seven_offset(hub: Harness) -> None:
    body = xml_batch(
        "UKCore-Location-GeneralPracticeNurseClinic-Example.xml",
        "UKCore-Schedule-Immunization-Example.xml",
        "UKCore-Slot-AvailableWalkInVisit-Example.xml",
    )
    r = hub.client.post("/fhir/RXX/R4", content=body, headers=XML)
    assert r.status_code == 200, r.text
    assert [e["response"]["status"] for e in r.json()["entry"]] == ["200 OK"] * 3
    [shift] = hub.events("shift")
    assert shift.type == "rosterhub.shift.v1.ShiftPosted"
    assert shift.data["start"] == datetime(2022, 12, 20, 4, 20, tzinfo=UTC)  # 11:20+07:00
    assert shift.data["end"] == datetime(2022, 12, 20, 4, 40, tzinfo=UTC)
    assert shift.data["ward"] == "White Rose GP Practice Nurse Clinic"
    assert shift.data["notes"].startswith("Assessments should be performed")


def test_uk_core_reference_data_names_the_trust_by_ods_code(hub: Harness) -> None:
    """Posted to /fhir/R4 (no trust in the URL): the ODS organisation or site code names the trust, which must be
    the sender's (its token's); another trust's token is refused."""
    for name, rtype, sender in (
        ("UKCore-Organization-LeedsTeachingHospital-Example.xml", "Organization", "RR8"),
        ("UKCore-Location-HospitalSJUH-Example.xml", "Location", "RR8"),
        ("UKCore-Organization-WhiteRoseMedicalCentre-Example.xml", "Organization", "GP5"),
    ):
        body = (UK / name).read_bytes()
        other = hub.client.post(f"/fhir/R4/{rtype}", content=body, headers={**XML, **hub.as_trust("RXX")})
        assert other.status_code == 403, other.text
        r = hub.client.post(f"/fhir/R4/{rtype}", content=body, headers={**XML, **hub.as_trust(sender)})
        assert r.status_code == 200, r.text
        assert r.json()["issue"][0]["severity"] == "information"
    trusts = [headers_dict(rec.headers)["rh_trust"] for rec in hub.sink.on(hub.names.raw("fhir"))]
    assert trusts == [b"RR8", b"RR8", b"GP5"]  # RR813 is a site of RR8


def test_uk_core_practitioner_role_is_reference_data(hub: Harness) -> None:
    body = (UK / "UKCore-PractitionerRole-GeneralPractitioner-Example.xml").read_bytes()
    r = hub.client.put(
        "/fhir/RXX/R4/PractitionerRole/UKCore-PractitionerRole-GeneralPractitioner-Example", content=body, headers=XML
    )
    assert r.status_code == 200, r.text
    assert "not published" in r.json()["issue"][0]["diagnostics"]
    assert hub.all_events() == []
