"""Every kind of FHIR resource the hub emits, made by the hub's own code paths, named for the test output.

No tests here; ``test_hapi_fhir.py`` validates all of them with HAPI FHIR in one JVM.

* ``outbound/...``: the FHIR outbound adapter's transaction Bundles (Slots, Appointments), one per
  update kind, for a Slot the FHIR system posted and for a partner's shift;
* ``passport/...``: the passport's FHIR export (Practitioner + VerificationResults) built from
  credentials as they really arrive: ESR-style issues with URL evidence, the FHIR connector's
  VerificationResults (relative evidence references), and the demo issuers' verifiable credentials;
* ``endpoint/...``: what the inbound FHIR endpoint answers over HTTP: the CapabilityStatement (JSON
  and XML), transaction-response and batch-response Bundles, and OperationOutcomes for accepted,
  refused and unsupported requests.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey

from rosterhub.connectors.simulators.fhir import trust_bundle
from rosterhub.demo_market import CredentialWallet, DemoWorker, Workforce, demo_policies, nurse_credentials
from rosterhub.envelope import Envelope
from rosterhub.streams.passport.fhir_export import passport_bundle
from rosterhub.streams.passport.policy import load_policies
from rosterhub.streams.passport.state import Passport, apply
from rosterhub.streams.passport.vc import credential_events, keyring, verify_vc_jwt
from tests.unit.connectors.test_fhir_harness import Harness
from tests.unit.connectors.test_outbound_adapters import adapter, destination, update
from tests.unit.streams.passport_builders import POLICIES, cred_id, nurse_passport, revoked, verified

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
FHIR_JSON = {"content-type": "application/fhir+json"}
UPDATE_KINDS = ("shift_open", "shift_withdrawn", "shift_filled", "booking_cancelled", "no_show")


def outbound() -> dict[str, dict[str, Any]]:
    """The FHIR adapter's Bundle for every update kind it sends, own Slot and partner's shift."""
    out = {}
    for kind in UPDATE_KINDS:
        for whose, shift_id in (("own-slot", "fhir:RXX:slot-1"), ("partner-shift", "healthroster:RXX:7731904")):
            extra: dict[str, Any] = {"shift_reopened": True}
            if kind == "booking_cancelled":
                extra["cancel_reason"] = "DEMAND_CHANGED"
            call = adapter("fhir").render(update(kind, shift_id, **extra), destination("fhir"))
            out[f"outbound/{kind}/{whose}"] = json.loads(call.body)
    closed = adapter("fhir").render(
        update("booking_cancelled", "fhir:RXX:slot-1", shift_reopened=False), destination("fhir")
    )
    out["outbound/booking_cancelled/shift-not-reopened"] = json.loads(closed.body)
    return out


def _passport(person: str, events: list[Envelope]) -> Passport:
    passport = None
    for env in events:
        passport = apply(passport, env, person=person, now=NOW)
    assert passport is not None
    return passport


def _fhir_verifications(tmp: Path) -> list[Envelope]:
    """CredentialVerified events as the FHIR endpoint publishes a trust's VerificationResults."""
    hub = Harness(tmp / "verifications", trust="RHQ")
    bundle = trust_bundle("RHQ", random.Random(3), start=date(2026, 6, 2), bundle_type="collection")
    r = hub.client.post("/fhir/RHQ/R4", content=json.dumps(bundle).encode(), headers=FHIR_JSON)
    assert r.status_code == 200, r.text
    events = [e for e in hub.events("credential") if e.type.endswith("CredentialVerified")]
    assert events, "the simulated Bundle should carry VerificationResults"
    return events


def _demo_vcs(tmp: Path) -> list[Envelope]:
    """The demo issuers' verifiable credentials, verified and mapped as the passport's VC route does."""
    keys = {ods: ECKey.generate_key("P-256", auto_kid=True) for ods in ("RHQ", "RCU", "RFR")}
    env = demo_policies(POLICIES, tmp / "demo-policies", keys)
    policy_dir = Path(env["ROSTERHUB_PASSPORT_POLICY_DIR"])
    wallet = CredentialWallet(Workforce(), "http://unused", policy_dir)
    wallet.keys = keys
    nurse = DemoWorker("RHQ", "71A2998E", "Priya Natarajan", 5)
    ring = keyring(load_policies([policy_dir]))
    events: list[Envelope] = []
    for cred in nurse_credentials(nurse, random.Random(5), NOW):
        vc = verify_vc_jwt(wallet.token(nurse, cred), ring, now=NOW)
        events += credential_events(vc, now=NOW)
    return events


def passport_exports(tmp: Path) -> dict[str, dict[str, Any]]:
    builders = [
        *nurse_passport("p-1", "RHQ", NOW),
        verified("p-1", cred_id("RHQ", "DBS", None), "DBS", "RCU", NOW, next_due=NOW + timedelta(days=30)),
        revoked("p-1", cred_id("RHQ", "OCCUPATIONAL_HEALTH", None), "OCCUPATIONAL_HEALTH", "RHQ", NOW),
    ]
    by_builders = _passport("p-1", builders)
    by_fhir = _passport("p-2", _fhir_verifications(tmp))
    by_vc = _passport("p-3", _demo_vcs(tmp))
    return {
        "passport/issuer-view (RHQ)": passport_bundle(by_builders, viewer="RHQ"),
        "passport/partner-view (RCU)": passport_bundle(by_builders, viewer="RCU"),
        "passport/fhir-verification-results (RHQ)": passport_bundle(by_fhir, viewer="RHQ"),
        "passport/demo-verifiable-credentials (RHQ)": passport_bundle(by_vc, viewer="RHQ"),
    }


def endpoint_answers(tmp: Path) -> dict[str, dict[str, Any] | str]:
    """The inbound endpoint's answers to good, bad and unsupported requests (over its HTTP routes)."""
    hub = Harness(tmp / "endpoint", trust="RHQ")
    rng = random.Random(11)
    start = date(2026, 6, 2)
    out: dict[str, dict[str, Any] | str] = {}

    def post(name: str, path: str, body: bytes, headers: dict[str, str] = FHIR_JSON) -> None:
        r = hub.client.post(path, content=body, headers=headers)
        out[f"endpoint/{name} ({r.status_code})"] = r.json()

    out["endpoint/metadata (json)"] = hub.client.get("/fhir/RHQ/R4/metadata").json()
    out["endpoint/metadata (xml)"] = hub.client.get("/fhir/RHQ/R4/metadata", params={"_format": "xml"}).text
    for kind in ("transaction", "batch", "collection"):
        bundle = trust_bundle("RHQ", rng, start=start, bundle_type=kind, tag=f"{kind}-")
        post(f"{kind} accepted", "/fhir/RHQ/R4", json.dumps(bundle).encode())
    bad = trust_bundle("RHQ", rng, start=start, bundle_type="batch", tag="bad-")
    bad["entry"][-1]["resource"]["status"] = "maybe"
    post("batch with an invalid entry", "/fhir/RHQ/R4", json.dumps(bad).encode())
    post("transaction with an invalid entry", "/fhir/RHQ/R4", json.dumps({**bad, "type": "transaction"}).encode())
    post("not JSON", "/fhir/RHQ/R4", b"{not json")
    post("wrong content type", "/fhir/RHQ/R4", b"{}", {"content-type": "text/plain"})
    post("resource type not taken", "/fhir/RHQ/R4/Patient", json.dumps({"resourceType": "Patient"}).encode())
    slot = next(
        e["resource"] for e in trust_bundle("RHQ", rng, start=start)["entry"] if e["resource"]["resourceType"] == "Slot"
    )
    post("create", "/fhir/RHQ/R4/Slot", json.dumps(slot).encode())
    for path in ("/fhir/RHQ/R4/Slot/x", "/fhir/RHQ/R4/Slot", "/fhir/RHQ/R4"):
        r = hub.client.get(path)
        out[f"endpoint/GET {path} ({r.status_code})"] = r.json()
    # access refusals are OperationOutcomes too: no token, and another trust's token
    r = hub.client.post("/fhir/RHQ/R4", content=b"{}", headers={**FHIR_JSON, "Authorization": ""})
    out[f"endpoint/no credentials ({r.status_code})"] = r.json()
    r = hub.client.post("/fhir/RHQ/R4", content=b"{}", headers={**FHIR_JSON, **hub.as_trust("RCU")})
    out[f"endpoint/another trust's token ({r.status_code})"] = r.json()
    return out


def all_resources(tmp: Path) -> dict[str, dict[str, Any] | str]:
    return {**outbound(), **passport_exports(tmp), **endpoint_answers(tmp)}
