"""The FHIR R4 endpoint through the real ingress and broker: every Bundle type, redelivery,
invalid FHIR of several kinds, and a crash in the middle of publishing a Bundle."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from rosterhub.auth.roles import Role
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.kinds.fhir.endpoint import FhirCall, FhirEndpoint
from rosterhub.connectors.runtime import connector_context
from rosterhub.connectors.simulators.fhir import FhirSimulator
from rosterhub.envelope import KafkaRecord, decode_record, headers_dict
from rosterhub.kafka.access import access_from_settings
from rosterhub.kafka.admin import topic_counts
from rosterhub.kafka.producer import EventSink
from rosterhub.runtime import TopicNames
from rosterhub.settings import Settings
from tests.auth_support import Tokens
from tests.conftest import CONFORMANCE
from tests.integration.helpers import read_topic

pytestmark = pytest.mark.integration

JSON = {"content-type": "application/fhir+json"}
START = date(2026, 3, 27)  # the weekend the clocks go forward
DOMAINS = ("worker", "shift", "credential")
EXT = "https://rosterhub.org/fhir/StructureDefinition/"


def sender(tokens: Tokens) -> Callable[[str], dict[str, str]]:
    """trust -> the headers of that trust's integration (role trust_integration)."""
    return lambda trust: tokens.bearer(Role.TRUST_INTEGRATION, trust)


@pytest.fixture
def settings(declared_hub: Settings, tokens: Tokens) -> Settings:
    return tokens.accepting(declared_hub, max_payload_bytes=256 * 1024)


def count(settings: Settings, *topics: str) -> list[int]:
    assert settings.kafka_bootstrap_servers
    return [c.messages for c in topic_counts(access_from_settings(settings), topics)]


def events(settings: Settings) -> list[Any]:
    """Every canonical event on the test's topics (counted exactly first, then read)."""
    assert settings.kafka_bootstrap_servers
    names, codec = TopicNames(settings.topic_prefix), SingleObjectCodec(default_catalogue())
    out = []
    for domain in DOMAINS:
        [n] = count(settings, names.events(domain))
        for rec in read_topic(settings.kafka_bootstrap_servers, names.events(domain), at_least=n, timeout=30):
            out.append(decode_record(rec.value, rec.headers, codec))
    return out


def expected_counts(bundle: dict[str, Any]) -> Counter[str]:
    kinds = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    return Counter(
        {
            "WorkerRegistered": kinds["Practitioner"],
            "ShiftPosted": kinds["Slot"],
            "CredentialVerified": kinds["VerificationResult"],
        }
    )


def test_each_bundle_type_publishes_its_events(settings: Settings, ingress: str, tokens: Tokens) -> None:
    names = TopicNames(settings.topic_prefix)
    sim = FhirSimulator(ingress, ("RHQ",), seed=11, start=START, auth=sender(tokens))
    want: Counter[str] = Counter()
    sent: list[bytes] = []
    for n, kind in enumerate(("batch", "transaction", "collection"), start=1):
        [(trust, bundle)] = sim.bundles(n)
        assert bundle["type"] == kind
        body = json.dumps(bundle).encode()
        r = sim.post(trust, body)
        assert r.status_code == 200, r.text
        answer = r.json()
        if kind == "collection":
            assert answer["resourceType"] == "OperationOutcome"
            assert {i["severity"] for i in answer["issue"]} == {"information"}
        else:
            assert answer["type"] == f"{kind}-response"
            assert len(answer["entry"]) == len(bundle["entry"])
            assert {e["response"]["status"] for e in answer["entry"]} == {"200 OK"}  # PUTs
        want += expected_counts(bundle)
        sent.append(body)
    got = events(settings)
    assert Counter(e.type.rsplit(".", 1)[-1] for e in got) == want
    assert all(e.source == "/vendors/fhir/RHQ" for e in got)
    shifts = [e for e in got if e.type.endswith("ShiftPosted")]
    assert {s.data["ward"] for s in shifts} <= {
        "Ward 7 Acute Medicine",
        "Labour Ward",
        "Critical Care Unit",
        "Emergency Department",
        "Acute Medical Unit",
        "Physiotherapy Outpatients",
        "Inpatient Pharmacy",
    }
    raw = read_topic(settings.kafka_bootstrap_servers or "", names.raw("fhir"), at_least=3)
    assert [r.value for r in raw] == sent  # untouched, and in order: raw.fhir is keyed by trust
    assert {headers_dict(r.headers)["rh_trust"] for r in raw} == {b"RHQ"}


def test_uk_core_xml_slot_is_posted_as_xml_and_keeps_its_offset(
    settings: Settings, ingress: str, tokens: Tokens
) -> None:
    body = (CONFORMANCE / "uk-core" / "UKCore-Slot-AvailableWalkInVisit-Example.xml").read_bytes()
    r = httpx.post(
        f"{ingress}/fhir/RXX/R4/Slot",
        content=body,
        headers={"content-type": "application/fhir+xml", "accept": "application/fhir+xml", **sender(tokens)("RXX")},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/fhir+xml")
    assert b"<OperationOutcome" in r.content
    [shift] = [e for e in events(settings) if e.type.endswith("ShiftPosted")]
    assert shift.data["start"] == datetime(2022, 12, 20, 4, 20, tzinfo=UTC)
    names = TopicNames(settings.topic_prefix)
    [raw] = read_topic(settings.kafka_bootstrap_servers or "", names.raw("fhir"), at_least=1)
    assert raw.value == body and headers_dict(raw.headers)["content-type"] == b"application/fhir+xml"


def test_redelivered_bundle_publishes_nothing_twice(settings: Settings, ingress: str, tokens: Tokens) -> None:
    names = TopicNames(settings.topic_prefix)
    sim = FhirSimulator(ingress, ("RCU",), seed=5, start=START, bundle_types=("batch",), auth=sender(tokens))
    [(trust, bundle)] = sim.bundles(1)
    body = json.dumps(bundle).encode()
    first = sim.post(trust, body)
    assert first.status_code == 200
    before = count(settings, *(names.events(d) for d in DOMAINS))
    assert sum(before) == sum(expected_counts(bundle).values())
    again = sim.post(trust, body)
    assert again.status_code == 200
    notes = [e["response"]["outcome"]["issue"][0] for e in again.json()["entry"]]
    assert {n["code"] for n in notes} == {"duplicate", "informational"}
    assert sum(n["code"] == "duplicate" for n in notes) == sum(expected_counts(bundle).values())
    assert count(settings, *(names.events(d) for d in DOMAINS)) == before
    assert count(settings, names.raw("fhir")) == [2]  # both deliveries kept raw


def _slot(sid: str, status: str = "free", start: str = "2026-04-02T07:30:00+01:00") -> dict[str, Any]:
    return {
        "resourceType": "Slot",
        "id": sid,
        "status": status,
        "start": start,
        "end": "2026-04-02T20:00:00+01:00",
        "schedule": {"reference": "Schedule/w1", "display": "Ward 1"},
        "extension": [{"url": f"{EXT}grade", "valueCode": "BAND_5"}],
    }


def _bundle(kind: str, *resources: dict[str, Any]) -> bytes:
    entries = [
        {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in resources
    ]
    return json.dumps({"resourceType": "Bundle", "type": kind, "entry": entries}).encode()


def test_invalid_fhir_is_answered_with_operation_outcomes_and_dead_lettered(
    settings: Settings, ingress: str, tokens: Tokens
) -> None:
    names = TopicNames(settings.topic_prefix)
    base = f"{ingress}/fhir/RHQ/R4"

    def post(body: bytes, headers: dict[str, str] = JSON) -> httpx.Response:
        return httpx.post(base, content=body, headers={**headers, **sender(tokens)("RHQ")}, timeout=30)

    broken = b'{"resourceType": "Bundle", "type": "batch", "entry": ['
    r = post(broken)
    assert r.status_code == 400 and r.json()["issue"][0]["code"] == "structure"

    patient = json.dumps({"resourceType": "Patient", "id": "p1"}).encode()
    r = post(patient)  # a resource the endpoint does not take, posted to the base
    assert r.status_code == 422 and r.json()["issue"][0]["code"] == "not-supported"

    document = json.dumps({"resourceType": "Bundle", "type": "document"}).encode()
    r = post(document)
    assert r.status_code == 422 and r.json()["issue"][0]["expression"] == ["Bundle.type"]

    bad_slot = _slot("s-bad", status="open", start="next tuesday")
    mixed = _bundle("batch", _slot("s-good"), bad_slot)
    r = post(mixed)  # batch: the good entry goes through, the bad one is answered on its own
    assert r.status_code == 200
    good, bad = r.json()["entry"]
    assert good["response"]["status"] == "200 OK"
    assert bad["response"]["status"] == "400 Bad Request"
    issues = bad["response"]["outcome"]["issue"]
    assert {(i["code"], i["expression"][0]) for i in issues} == {("value", "Bundle.entry[1].resource.start")}

    bad_transaction = _bundle("transaction", _slot("s-t1"), _slot("s-t2", status="open"))
    r = post(bad_transaction)  # all or nothing: s-t1 is valid but is not published either
    assert r.status_code == 400
    [issue] = r.json()["issue"]
    assert (issue["code"], issue["expression"]) == ("code-invalid", ["Bundle.entry[1].resource.status"])

    r = post(json.dumps(json.loads(mixed)).encode(), {"content-type": "text/plain"})
    assert r.status_code == 415 and r.json()["issue"][0]["code"] == "not-supported"
    huge = _bundle("batch", *[_slot(f"s{i}") for i in range(800)])
    assert len(huge) > settings.max_payload_bytes
    r = post(huge)
    assert r.status_code == 413 and r.json()["issue"][0]["code"] == "too-costly"

    shifts = [e for e in events(settings) if e.type.endswith("ShiftPosted")]
    assert [s.data["vendor_shift_id"] for s in shifts] == ["s-good"]
    raw_records = read_topic(settings.kafka_bootstrap_servers or "", names.raw("fhir"), at_least=5)
    raw = [r.value for r in raw_records]
    assert raw == [broken, patient, document, mixed, bad_transaction]  # raw first; 415/413 never reach raw
    dlq = read_topic(settings.kafka_bootstrap_servers or "", names.dlq("mapping"), at_least=5)
    by_value = {r.value: headers_dict(r.headers) for r in dlq}
    for payload in (broken, patient, document, bad_transaction):
        assert by_value[payload]["dlq_connector"] == b"fhir"
        assert by_value[payload]["dlq_code"] == b"parse_error"
    assert by_value[broken]["dlq_message"].startswith(b"not a FHIR request the hub takes: the body is not JSON")
    entry_dead = by_value[json.dumps(bad_slot).encode()]  # the bad entry on its own, with where it came from
    assert entry_dead["dlq_record"] == b"Bundle.entry[1]"
    assert entry_dead["dlq_origin_topic"] == names.raw("fhir").encode()
    origin = (int(entry_dead["dlq_origin_partition"]), int(entry_dead["dlq_origin_offset"]))
    assert {(r.partition, r.offset): r.value for r in raw_records}[origin] == mixed
    ingest = read_topic(settings.kafka_bootstrap_servers or "", names.dlq("ingest"), at_least=2)
    assert sorted(headers_dict(r.headers)["dlq_code"] for r in ingest) == [b"parse_error", b"payload_too_large"]


class _CrashingSink(EventSink):
    """Acknowledges ``survive`` records, then the process 'dies' in the middle of a send."""

    def __init__(self, inner: EventSink, survive: int) -> None:
        super().__init__(inner.kafka, producer=inner.producer)
        self.survive = survive

    def send(self, records: Iterable[KafkaRecord]) -> list[tuple[int, int]]:
        records = list(records)
        if self.survive >= len(records):
            self.survive -= len(records)
            return super().send(records)
        written = super().send(records[: self.survive])
        self.survive = 0
        raise SystemExit(f"simulated crash after {len(written)} of {len(records)} records")


@pytest.mark.parametrize("survive", [1, 6], ids=["after-raw-write", "half-the-bundle-published"])
def test_crash_mid_bundle_then_resend_completes_without_loss(settings: Settings, survive: int) -> None:
    """survive=1: the raw write only; survive=6: raw + 5 of the Bundle's events, then the crash."""
    assert settings.kafka_bootstrap_servers
    names = TopicNames(settings.topic_prefix)
    [(trust, bundle)] = FhirSimulator("-", ("RFR",), seed=2, start=START, bundle_types=("transaction",)).bundles(1)
    body = json.dumps(bundle).encode()
    total = sum(expected_counts(bundle).values())
    with connector_context(settings, access_from_settings(settings)) as ctx:
        crashing = type(ctx)(
            sink=_CrashingSink(ctx.sink, survive), encoder=ctx.encoder, names=ctx.names, state=ctx.state
        )
        with pytest.raises(SystemExit):
            FhirEndpoint(settings, crashing).process(
                FhirCall(body, "application/fhir+json", trust, "bundle", None, None, "c1")
            )
    # a new process on the same durable state; the sender retries because it never saw its response
    with connector_context(settings, access_from_settings(settings)) as ctx:
        reply = FhirEndpoint(settings, ctx).process(
            FhirCall(body, "application/fhir+json", trust, "bundle", None, None, "c2")
        )
        assert reply.status == 200
        assert all(e["response"]["status"] == "200 OK" for e in reply.body["entry"])
        again = FhirEndpoint(settings, ctx).process(
            FhirCall(body, "application/fhir+json", trust, "bundle", None, None, "c3")
        )
    assert {
        e["response"]["outcome"]["issue"][0]["code"] for e in again.body["entry"] if "outcome" in e["response"]
    } <= {"duplicate", "informational"}
    got = events(settings)
    ids = Counter(e.id for e in got)
    assert len(ids) == total  # every event of the Bundle, none lost
    repeated = sum(n - 1 for n in ids.values())
    # An event the broker acknowledged just before the crash, whose claim was not yet confirmed, is
    # published again with the same ce_id (consumers drop it); nothing else repeats.
    assert repeated <= survive - 1
    assert count(settings, names.raw("fhir")) == [3]
