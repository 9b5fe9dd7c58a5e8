"""The FHIR simulator: reproducible, valid Bundles; and the receiving FHIR server."""

from __future__ import annotations

import json
import random
from datetime import date

from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from rosterhub.connectors.kinds.fhir.bundle import plan_request
from rosterhub.connectors.kinds.fhir.read import SUPPORTED_TYPES
from rosterhub.connectors.simulators.fhir import FhirSimulator, create_fhir_server, register_number
from rosterhub.mapping.functions.identifiers import normalise_register


def test_same_seed_same_bundles_and_all_are_valid_r4() -> None:
    a = FhirSimulator("-", ("RHQ", "RCU"), seed=4, start=date(2026, 10, 23)).bundles(1)
    b = FhirSimulator("-", ("RHQ", "RCU"), seed=4, start=date(2026, 10, 23)).bundles(1)
    assert json.dumps(a) == json.dumps(b)
    for _trust, bundle in a:
        Bundle.model_validate(bundle)
        plan = plan_request(bundle)
        assert plan.problems == []
        kinds = {e.resource_type for e in plan.entries}
        assert kinds == set(SUPPORTED_TYPES)  # a first day's bundle carries every type the endpoint takes


def test_register_numbers_are_valid_in_format() -> None:
    rng = random.Random(1)
    for register in ("gmc", "nmc", "hcpc", "gphc"):
        for _ in range(50):
            number = register_number(register, rng)
            assert normalise_register(register, number) == number


def test_fhir_server_keeps_slots_and_conditional_creates() -> None:
    client = TestClient(create_fhir_server())
    slot = {
        "resourceType": "Slot",
        "id": "s1",
        "status": "busy",
        "schedule": {"reference": "Schedule/w"},
        "start": "2026-04-02T07:30:00+01:00",
        "end": "2026-04-02T20:00:00+01:00",
    }
    r = client.put("/fhir/R4/Slot/s1", json=slot)
    assert r.status_code == 201 and r.headers["etag"] == 'W/"1"'
    assert client.put("/fhir/R4/Slot/s1", json=slot).status_code == 200
    assert client.get("/fhir/R4/Slot/s1").json()["status"] == "busy"
    assert client.put("/fhir/R4/Slot/s2", json=slot).status_code == 400
    appointment = {
        "resourceType": "Appointment",
        "status": "booked",
        "identifier": [{"system": "https://rosterhub.org/Id/booking", "value": "B-1"}],
        "slot": [{"reference": "Slot/s1"}],
        "participant": [{"actor": {"display": "Amara Okafor"}, "status": "accepted"}],
    }
    cond = {"If-None-Exist": "identifier=https://rosterhub.org/Id/booking|B-1"}
    first = client.post("/fhir/R4/Appointment", json=appointment, headers=cond)
    again = client.post("/fhir/R4/Appointment", json=appointment, headers=cond)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert client.app.state.store.repeats == 1  # type: ignore[attr-defined]
    task = {"resourceType": "Task", "status": "requested", "intent": "order"}
    assert client.post("/fhir/R4/Task", json=task).status_code == 201
    assert client.post("/fhir/R4/Task", json={"resourceType": "Task"}).status_code == 400
    assert client.get("/fhir/R4/Appointment").json()["total"] == 1
