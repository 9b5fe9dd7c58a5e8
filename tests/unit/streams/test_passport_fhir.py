"""The passport as FHIR R4: a Bundle that fhir.resources' R4B models accept, with the viewer's privacy rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fhir.resources.R4B.bundle import Bundle

from rosterhub.auth.audit import AuditRecord
from rosterhub.streams.passport.fhir_export import EVIDENCE_SYSTEM, evidence_identifier, passport_bundle
from rosterhub.streams.passport.state import apply
from tests.unit.streams.passport_builders import cred_id, nurse_passport, revoked, verified

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
CREDENTIAL_ID = "https://rosterhub.org/Id/credential"


def _passport():
    events = [
        *nurse_passport("p-1", "RHQ", NOW),
        verified("p-1", cred_id("RHQ", "DBS", None), "DBS", "RCU", NOW, next_due=NOW + timedelta(days=30)),
        revoked("p-1", cred_id("RHQ", "OCCUPATIONAL_HEALTH", None), "OCCUPATIONAL_HEALTH", "RHQ", NOW),
    ]
    passport = None
    for env in events:
        passport = apply(passport, env, person="p-1", now=NOW)
    assert passport is not None
    return passport


def test_bundle_validates_with_r4b_models() -> None:
    data = passport_bundle(_passport(), viewer="RCU")
    bundle = Bundle.model_validate(data)
    practitioner = bundle.entry[0].resource
    assert practitioner.get_resource_type() == "Practitioner"
    assert [i.value for i in practitioner.identifier] == ["p-1", "71A2998E"]
    assert len(practitioner.qualification) == 10
    dbs = next(q for q in practitioner.qualification if q.code.coding[0].code == "DBS")
    assert dbs.issuer.identifier.value == "RHQ" and dbs.period.start is not None and dbs.period.end is not None
    results = [e.resource for e in bundle.entry[1:]]
    assert {r.get_resource_type() for r in results} == {"VerificationResult"}
    assert len(results) == 6  # five checks by RHQ, one by RCU
    by_rcu = next(r for r in results if r.validator[0].organization.identifier.value == "RCU")
    assert by_rcu.status == "validated" and str(by_rcu.nextScheduled) == "2026-07-01"
    assert by_rcu.targetLocation[0].startswith("Practitioner.qualification[")
    oh = next(q for q in practitioner.qualification if q.code.coding[0].code == "OCCUPATIONAL_HEALTH")
    assert oh.period.end is not None  # revoked: the qualification ended then


def test_a_trust_sees_evidence_only_of_its_own_checks() -> None:
    passport = _passport()
    text = str(passport_bundle(passport, viewer="RCU"))
    assert "evidence.rhq" not in text and "checks.rhq" not in text and "checks.rcu" in text
    own = str(passport_bundle(passport, viewer="RHQ"))
    assert "evidence.rhq" in own and "checks.rhq" in own and "checks.rcu" not in own


def test_evidence_that_is_not_an_absolute_uri_is_not_labelled_as_one() -> None:
    """Defect 3 of issue 15: the FHIR connector's evidence is ``VerificationResult/<id>``, a relative reference;
    under ``urn:ietf:rfc:3986`` (which requires an absolute URI) HAPI FHIR refused the export."""
    cid = cred_id("RHQ", "PROFESSIONAL_REGISTRATION", None)
    events = [
        *nurse_passport("p-1", "RHQ", NOW),
        verified("p-1", cid, "PROFESSIONAL_REGISTRATION", "RCU", NOW, evidence="VerificationResult/rcu-pr1-3-reg"),
    ]
    passport = None
    for env in events:
        passport = apply(passport, env, person="p-1", now=NOW)
    assert passport is not None
    bundle = passport_bundle(passport, viewer="RCU")
    sources = [
        e["resource"]["primarySource"][0]["who"]["identifier"]
        for e in bundle["entry"][1:]
        if "primarySource" in e["resource"]
    ]
    assert sources == [{"system": EVIDENCE_SYSTEM, "value": "VerificationResult/rcu-pr1-3-reg"}]
    own = passport_bundle(passport, viewer="RHQ")
    uris = [
        i for q in own["entry"][0]["resource"]["qualification"] for i in q["identifier"] if i["system"] != CREDENTIAL_ID
    ]
    assert uris and all(i["system"] == "urn:ietf:rfc:3986" and i["value"].startswith("https://") for i in uris)
    assert evidence_identifier("urn:uuid:0d2f5e1a-8c4b-4e7a-9f3d-2b6c1a0e9d87")["system"] == "urn:ietf:rfc:3986"
    assert evidence_identifier("ESR/123")["system"] == EVIDENCE_SYSTEM


def test_every_resource_has_a_narrative_without_evidence() -> None:
    bundle = passport_bundle(_passport(), viewer="RCU")
    for entry in bundle["entry"]:
        text = entry["resource"]["text"]
        assert text["status"] == "generated" and text["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
        assert "evidence" not in text["div"] and "checks." not in text["div"]


def test_audit_records_are_keyed_by_person_and_carry_who_when_why() -> None:
    rec = AuditRecord(
        person="p-1",
        trust="RCU",
        user="u-7",
        purpose="booking",
        resource="clearance",
        at=NOW,
        status=200,
        outcome="cleared",
        query={"grade": "BAND_5"},
        served_by="http://w1",
    )
    key, value = rec.encode()
    assert key == b"p-1"
    assert b'"purpose": "booking"' in value and b'"at": "2026-06-01T09:00:00+00:00"' in value
    assert rec.id == AuditRecord(**{f: getattr(rec, f) for f in rec.__slots__}).id  # deterministic
