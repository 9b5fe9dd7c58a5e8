"""The FHIR endpoint over an in-memory sink: trust, options, formats, metadata, replay equivalence."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from rosterhub.connectors.kinds.fhir.endpoint import FhirCall, FhirEndpoint, parse_options
from rosterhub.connectors.kinds.fhir.read import SUPPORTED_TYPES
from rosterhub.connectors.pipeline import map_and_publish
from rosterhub.envelope import headers_dict
from rosterhub.errors import ConfigError
from tests.unit.connectors.test_fhir_harness import Harness

JSON = {"content-type": "application/fhir+json"}
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"


def org(code: str) -> dict[str, Any]:
    return {"resourceType": "Organization", "id": code.lower(), "identifier": [{"system": ODS, "value": code}]}


def practitioner(pid: str, gmc: str = "C1234567", grade: str = "ST3_5") -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": pid,
        "name": [{"text": f"Dr {pid}"}],
        "identifier": [{"system": "https://fhir.hl7.org.uk/Id/gmc-number", "value": gmc}],
        "qualification": [{"code": {"coding": [{"system": "https://rosterhub.org/CodeSystem/grade", "code": grade}]}}],
    }


def collection(*resources: dict[str, Any]) -> bytes:
    return json.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    ).encode()


@pytest.fixture
def hub(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def test_metadata_is_a_valid_capability_statement(hub: Harness) -> None:
    for url in ("/fhir/R4/metadata", "/fhir/RXX/R4/metadata"):
        r = hub.client.get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
        cs = CapabilityStatement.model_validate(r.json())
        # the statement declares exactly the resource types the reader takes, in its order
        assert [res.type for res in cs.rest[0].resource] == list(SUPPORTED_TYPES)
    xml = hub.client.get("/fhir/R4/metadata", params={"_format": "xml"})
    assert xml.headers["content-type"].startswith("application/fhir+xml") and b"<CapabilityStatement" in xml.content


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/fhir/RXX/R4/Slot/slot-1", "PUT"),
        ("GET", "/fhir/R4/Slot", "POST"),
        ("GET", "/fhir/RXX/R4/Slot?identifier=x", "POST"),
        ("GET", "/fhir/RXX/R4", "POST"),
        ("GET", "/fhir/RXX/R4/Slot/slot-1/_history/2", ""),
        ("DELETE", "/fhir/RXX/R4/Slot/slot-1", "PUT"),
        ("POST", "/fhir/RXX/R4/Slot/slot-1", "PUT"),
        ("PUT", "/fhir/RXX/R4", "POST"),
    ],
)
def test_what_the_endpoint_does_not_serve_is_answered_with_an_operation_outcome(
    hub: Harness, method: str, path: str, allow: str
) -> None:
    """Defect 5b of issue 15: a GET used to get FastAPI's {"detail": "Method Not Allowed"}."""
    r = hub.client.request(method, path)
    assert r.status_code == 405 and r.headers["content-type"].startswith("application/fhir+json")
    assert r.headers["allow"] == allow
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome"
    [issue] = outcome["issue"]
    assert issue["severity"] == "error" and issue["code"] == "not-supported"
    assert "write-only" in issue["diagnostics"] and "metadata" in issue["diagnostics"]
    assert not hub.sink.records  # nothing written for a request the endpoint does not take


def test_capability_statement_says_the_endpoint_is_write_only(hub: Harness) -> None:
    cs = hub.client.get("/fhir/RXX/R4/metadata").json()
    [rest] = cs["rest"]
    codes = {i["code"] for r in rest["resource"] for i in r["interaction"]}
    assert codes == {"create", "update"}  # no read, vread, search-type, history
    assert "write-only" in rest["documentation"] and "405" in rest["documentation"]
    assert "write-only" in cs["text"]["div"]


def test_trust_comes_from_the_token_and_the_url_and_bundle_must_name_it(tmp_path: Path) -> None:
    hub = Harness(tmp_path, trust="RTH")
    r = hub.client.post("/fhir/R4", content=collection(org("RTH"), practitioner("p1")), headers=JSON)
    assert r.status_code == 200, r.text
    [worker] = hub.events("worker")
    assert worker.data["worker_id"] == "fhir:RTH:p1" and worker.data["worker"]["identifiers"][0]["value"] == "1234567"
    r = hub.client.post(
        "/fhir/R4", content=collection(practitioner("p2")), headers=JSON
    )  # no Organization: the token's
    assert r.status_code == 200 and hub.events("worker")[-1].data["worker_id"] == "fhir:RTH:p2"
    written = len(hub.sink.records)
    r = hub.client.post("/fhir/R4", content=collection(org("RJ1"), practitioner("p3")), headers=JSON)
    assert r.status_code == 403 and r.json()["issue"][0]["code"] == "forbidden" and "RJ1" in r.text
    r = hub.client.post("/fhir/RJ1/R4", content=collection(practitioner("p4")), headers=JSON)
    assert r.status_code == 403 and r.json()["issue"][0]["code"] == "forbidden"
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = hub.client.post("/fhir/not-an-ods/R4", content=collection(practitioner("p5")), headers=JSON)
    assert r.status_code == 403
    anonymous = hub.client.post(
        "/fhir/RTH/R4", content=collection(practitioner("p6")), headers={**JSON, "authorization": ""}
    )
    assert anonymous.status_code == 401 and anonymous.json()["issue"][0]["code"] == "login"
    assert len(hub.sink.records) == written  # refused: nothing written, not even to a DLQ
    assert [w.data["worker_id"] for w in hub.events("worker")] == ["fhir:RTH:p1", "fhir:RTH:p2"]


def test_options_default_trust_and_entry_limit(tmp_path: Path) -> None:
    hub = Harness(tmp_path, connectors={"fhir": {"default_trust": "RJ1", "max_entries": 2}})
    # default_trust serves callers of the endpoint that authenticated nobody (tools); HTTP senders are their token's
    reply = FhirEndpoint(hub.settings, hub.ctx).process(
        FhirCall(collection(practitioner("p1")), "application/fhir+json", None, "bundle", None, None, "c1")
    )
    assert reply.status == 200 and hub.events("worker")[0].data["trust"]["ods_code"] == "RJ1"
    r = hub.client.post("/fhir/R4", content=collection(*[practitioner(f"p{i}") for i in range(3)]), headers=JSON)
    assert r.status_code == 413 and r.json()["issue"][0]["code"] == "too-costly"
    with pytest.raises(ConfigError, match=r"connectors\.fhir"):
        parse_options({"max_entries": 0})
    with pytest.raises(ConfigError):
        parse_options({"default_trust": "not an ods code"})


def test_create_and_update_single_resources(hub: Harness) -> None:
    r = hub.client.post("/fhir/RXX/R4/Practitioner", content=json.dumps(practitioner("p1")), headers=JSON)
    assert r.status_code == 201 and r.headers["location"].startswith("Practitioner/p1/_history/sha256:")
    r = hub.client.put("/fhir/RXX/R4/Practitioner/p1", content=json.dumps(practitioner("p1")), headers=JSON)
    assert r.status_code == 200 and r.json()["issue"][0]["code"] == "duplicate"
    r = hub.client.put("/fhir/RXX/R4/Practitioner/p9", content=json.dumps(practitioner("p1")), headers=JSON)
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Practitioner.id"]
    r = hub.client.post("/fhir/RXX/R4/Practitioner", content=json.dumps(practitioner("p2", grade="ST99")), headers=JSON)
    assert r.status_code == 422 and r.json()["issue"][0]["code"] == "business-rule"
    assert len(hub.events("worker")) == 1


def test_xml_answers_when_asked(hub: Harness) -> None:
    r = hub.client.post("/fhir/RXX/R4", content=b"{", headers={**JSON, "accept": "application/fhir+xml"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/fhir+xml") and b"<OperationOutcome" in r.content


def test_replay_of_the_raw_record_maps_exactly_what_the_endpoint_published(hub: Harness) -> None:
    """The mapping_input quirk runs in map_and_publish, so ``rosterhub replay`` sees what the endpoint saw."""
    body = json.dumps(
        {
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [
                {"resource": practitioner("p1"), "request": {"method": "PUT", "url": "Practitioner/p1"}},
                {"resource": practitioner("p2", grade="NOPE"), "request": {"method": "PUT", "url": "Practitioner/p2"}},
                {
                    "resource": {"resourceType": "Slot", "id": "x", "status": "busy"},
                    "request": {"method": "PUT", "url": "Slot/x"},
                },
            ],
        }
    ).encode()
    r = hub.client.post("/fhir/RXX/R4", content=body, headers=JSON)
    assert [e["response"]["status"] for e in r.json()["entry"]] == [
        "200 OK",
        "422 Unprocessable Entity",
        "400 Bad Request",
    ]
    [raw] = hub.sink.on(hub.names.raw("fhir"))
    h = headers_dict(raw.headers)
    replay = map_and_publish(
        hub.ctx,
        "fhir",
        raw.value,
        trust=h["rh_trust"].decode(),
        received_at=datetime.now(UTC),
        origin=(raw.topic, 0, 0),
        original_headers=list(h.items()),
    )
    assert replay.event_ids == [] and replay.duplicates == 1  # p1 again: already published
    assert [x.record.split(" ")[-1] for x in replay.rejected] == ["Practitioner/p2"]  # the invalid Slot never maps
