"""Reading and planning FHIR requests (pure): kinds.fhir.read, .bundle, .outcome."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome

from rosterhub.connectors.kinds.fhir.bundle import (
    bundle_trusts,
    content_version,
    mapping_input,
    mapping_resources,
    plan_request,
)
from rosterhub.connectors.kinds.fhir.outcome import EntryOutcome, entry_index, http_status_for, operation_outcome
from rosterhub.connectors.kinds.fhir.read import FhirRequestError, Issue, fhirpath, read_document, resource_issues
from rosterhub.errors import ParseError


def slot(sid: str = "s1", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Slot",
        "id": sid,
        "status": "free",
        "schedule": {"reference": "Schedule/w1"},
        "start": "2026-04-02T07:30:00+01:00",
        "end": "2026-04-02T20:00:00+01:00",
        **extra,
    }


def bundle(kind: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def put(resource: dict[str, Any]) -> dict[str, Any]:
    return {"resource": resource, "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}}


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b"[1, 2]", "application/fhir+json", "structure"),
        (b'{"id": "x"}', "application/fhir+json", "required"),
        (b"\xff\xfe{}", "application/json", "structure"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><Slot xmlns="http://hl7.org/fhir">&e;</Slot>',
            "application/fhir+xml",
            "security",
        ),
        (b'<Slot xmlns="urn:not-fhir"/>', "application/fhir+xml", "structure"),
        (b'<Nonsense xmlns="http://hl7.org/fhir"/>', "application/fhir+xml", "not-supported"),
        (b"<Slot", "application/fhir+xml", "structure"),
    ],
    ids=["json-array", "no-resource-type", "not-utf8", "xml-entities", "xml-namespace", "xml-unknown-type", "xml-cut"],
)
def test_unreadable_bodies_are_refused_with_an_issue_code(body: bytes, content_type: str, code: str) -> None:
    with pytest.raises(FhirRequestError) as info:
        read_document(body, content_type)
    assert info.value.status == 400
    assert info.value.issues[0].code == code


def test_xml_becomes_fhir_json() -> None:
    xml = (
        b'<Slot xmlns="http://hl7.org/fhir"><id value="s9"/><schedule><reference value="Schedule/w1"/></schedule>'
        b'<status value="free"/><start value="2022-12-20T11:20:00+07:00"/><end value="2022-12-20T11:40:00+07:00"/>'
        b"</Slot>"
    )
    doc = read_document(xml, "application/fhir+xml; charset=utf-8")
    assert doc["resourceType"] == "Slot" and doc["id"] == "s9"
    assert doc["start"] == "2022-12-20T11:20:00+07:00"  # the offset is kept


def test_resource_issues_name_the_element() -> None:
    assert resource_issues(slot()) == []
    [missing] = resource_issues({"resourceType": "Slot", "status": "free"})
    assert (missing.code, missing.expression) == ("required", ("Slot.schedule",))
    [bad] = resource_issues(slot(identifier=[{"value": 3}]))
    assert (bad.code, bad.expression) == ("value", ("Slot.identifier[0].value",))
    [extra] = resource_issues(slot(colour="blue"))
    assert (extra.code, extra.expression) == ("structure", ("Slot.colour",))
    [code] = resource_issues(slot(status="open"))
    assert (code.code, code.expression) == ("code-invalid", ("Slot.status",))
    assert resource_issues({"resourceType": "Patient"})[0].code == "not-supported"
    assert resource_issues({"resourceType": "Nope"})[0].code == "not-supported"
    assert fhirpath("Practitioner", ("name", 0, "given", 1)) == "Practitioner.name[0].given[1]"


def test_plan_request_checks_every_entry_of_a_batch() -> None:
    plan = plan_request(
        bundle(
            "batch",
            put(slot("a")),
            {"resource": slot("b"), "request": {"method": "PUT", "url": "Slot/other"}},
            {"resource": slot("c"), "request": {"method": "POST", "url": "Slot?identifier=x"}},
            {"resource": slot("d")},
            {"request": {"method": "DELETE", "url": "Slot/e"}},
            {"resource": slot("f", status="open"), "request": {"method": "POST", "url": "Slot"}},
        )
    )
    assert plan.kind == "batch"
    assert [e.ok for e in plan.entries] == [True, False, False, False, False, False]
    codes = [[i.code for i in e.issues] for e in plan.entries]
    assert codes == [[], ["invalid"], ["not-supported"], ["required"], ["not-supported"], ["code-invalid"]]
    assert plan.entries[5].issues[0].expression == ("Bundle.entry[5].resource.status",)


@pytest.mark.parametrize(
    ("document", "status", "code"),
    [
        ({"resourceType": "Slot"}, 422, "not-supported"),
        ({"resourceType": "Bundle", "type": "searchset"}, 422, "not-supported"),
        ({"resourceType": "Bundle", "type": "batch", "entry": {"x": 1}}, 400, "structure"),
        (bundle("batch", *[put(slot(str(i))) for i in range(4)]), 413, "too-costly"),
        ({"resourceType": "Bundle", "type": "batch", "timestamp": "yesterday"}, 400, "structure"),
    ],
    ids=["resource-at-base", "searchset", "entry-not-list", "too-many", "bad-timestamp"],
)
def test_requests_refused_as_a_whole(document: dict[str, Any], status: int, code: str) -> None:
    with pytest.raises(FhirRequestError) as info:
        plan_request(document, max_entries=3)
    assert (info.value.status, info.value.issues[0].code) == (status, code)


def test_single_resource_interactions() -> None:
    assert plan_request(slot(), "create", type_="Slot").entries[0].ok
    [wrong_type] = plan_request(slot(), "create", type_="Schedule").entries[0].issues
    assert wrong_type.code == "invalid"
    [wrong_id] = plan_request(slot("a"), "update", type_="Slot", id_="b").entries[0].issues
    assert wrong_id.expression == ("Slot.id",)


def test_mapping_resources_fill_ids_versions_and_wards() -> None:
    created = {
        "fullUrl": "urn:uuid:6b3e6d0c-0f43-4bd1-9b8e-2f1f5a2b9c11",
        "resource": slot(None),
        "request": {"method": "POST", "url": "Slot"},
    }
    del created["resource"]["id"]
    location = {"resourceType": "Location", "id": "w1-loc", "name": "Ward 1 (Surgical)"}
    schedule = {"resourceType": "Schedule", "id": "w1", "actor": [{"reference": "Location/w1-loc"}]}
    plan = plan_request(bundle("transaction", created, put(location), put(schedule)))
    assert plan.problems == []
    first, *_ = mapping_resources(plan)
    assert first["id"] == "6b3e6d0c-0f43-4bd1-9b8e-2f1f5a2b9c11"
    assert first["meta"]["versionId"].startswith("sha256:")
    assert mapping_resources(plan)[0]["meta"]["versionId"] == first["meta"]["versionId"]  # same bytes, same version
    assert first["schedule"]["display"] == "Ward 1 (Surgical)"  # Schedule actor -> Location name
    assert "display" not in plan.entries[0].resource["schedule"]  # the request itself is untouched


def test_content_version_ignores_meta_and_narrative_only() -> None:
    a = slot()
    assert content_version(a) == content_version(
        {**a, "meta": {"lastUpdated": "2026-01-01T00:00:00Z"}, "text": {"status": "generated", "div": "<div/>"}}
    )
    assert content_version(a) != content_version({**a, "comment": "now a night shift"})


def test_trust_from_organisation_else_site_code() -> None:
    org = {
        "resourceType": "Organization",
        "id": "o",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "rr8"}],
    }
    site = {
        "resourceType": "Location",
        "id": "l",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-site-code", "value": "RTH01"}],
    }
    assert bundle_trusts(plan_request(bundle("collection", {"resource": org}, {"resource": site}))) == {"RR8"}
    assert bundle_trusts(plan_request(bundle("collection", {"resource": site}))) == {"RTH"}
    assert bundle_trusts(plan_request(bundle("collection", {"resource": slot()}))) == set()


def test_mapping_input_is_what_the_endpoint_accepted() -> None:
    body = json.dumps(bundle("batch", put(slot("ok")), put(slot("bad", status="open")))).encode()
    mapped = json.loads(mapping_input(body, [("content-type", b"application/fhir+json")]))
    assert [e["resource"]["id"] for e in mapped["entry"]] == ["ok"]
    transaction = json.dumps(bundle("transaction", put(slot("ok")), put(slot("bad", status="open")))).encode()
    with pytest.raises(ParseError, match="transaction rejected as a whole"):
        mapping_input(transaction, [("content-type", b"application/fhir+json")])
    single = json.dumps(slot("one")).encode()
    headers = [
        ("content-type", b"application/fhir+json"),
        ("rh_fhir_interaction", b"create"),
        ("rh_fhir_type", b"Slot"),
    ]
    assert json.loads(mapping_input(single, headers))["entry"][0]["resource"]["id"] == "one"
    with pytest.raises(ParseError):  # the same bytes posted to the base were refused: a replay refuses them too
        mapping_input(single, [("content-type", b"application/fhir+json")])


def test_outcomes_and_statuses() -> None:
    assert entry_index("(entry[].resource || [@])[12] Slot/x") == 12
    assert entry_index("payload") is None
    assert http_status_for([Issue("error", "value", "x")]) == 400
    assert http_status_for([Issue("error", "business-rule", "x")]) == 422
    assert http_status_for([Issue("error", "not-supported", "x")]) == 422
    OperationOutcome.model_validate(operation_outcome([Issue("error", "value", "bad", ("Slot.start",))]))
    OperationOutcome.model_validate(operation_outcome([]))
    created = EntryOutcome(0, "POST", "Slot/a", "1", event_ids=["e"], published=1)
    assert created.status == 201 and created.response_entry(with_outcome=False)["response"] == {
        "status": "201 Created",
        "location": "Slot/a/_history/1",
    }
    again = EntryOutcome(0, "POST", "Slot/a", "1", event_ids=["e"], duplicates=1)
    assert again.status == 200 and again.note().code == "duplicate"
