"""Issue #12's probe, replayed against the real ingress, worker and broker: findings 1, 3, 4, 5, 6 and 11b.

Each test sends what the attacker sent and checks that the hub now refuses it, and that nothing
was written for a refused request (an unauthenticated body is not the hub's to keep).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from rosterhub.auth.roles import Role
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.registry import connectors
from rosterhub.connectors.simulators.patchwork import shift_created, signed_headers
from rosterhub.envelope import decode_record, headers_dict
from rosterhub.instants import LONDON
from rosterhub.kafka.access import access_from_settings
from rosterhub.kafka.admin import topic_counts
from rosterhub.runtime import TopicNames
from rosterhub.settings import Settings
from rosterhub.topics import declared_topics
from tests.auth_support import Tokens
from tests.integration.helpers import read_topic, wait_serving, worker_process
from tests.support import free_port
from tests.unit.streams.passport_builders import POLICIES, nurse_passport

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "mapping" / "samples"
SECRET = "pw-secret-rhq"
SECRETS = {"RHQ": SECRET, "RCU": "pw-secret-rcu"}  # each trust signs with its own


@pytest.fixture
def settings(declared_hub: Settings, tokens: Tokens) -> Settings:
    return tokens.accepting(declared_hub, webhook_secrets={"patchwork": SECRETS}, max_payload_bytes=64 * 1024)


@pytest.fixture
def names(settings: Settings) -> TopicNames:
    """The topics of this test's hub, under its own prefix: the findings are checked by counting records on them."""
    return TopicNames(settings.topic_prefix)


def every_topic(settings: Settings) -> dict[str, int]:
    """Records on every topic the hub declares (raw, events, dlq, internal), by name."""
    assert settings.kafka_bootstrap_servers
    names = [t.name for t in declared_topics(connectors(), settings.topic_prefix)]
    return {c.topic: c.messages for c in topic_counts(access_from_settings(settings), names)}


PROBES = [
    ("nhsp", None, SAMPLES / "nhsp" / "bookings.input.csv", "text/csv"),
    ("healthroster", "RXX", SAMPLES / "healthroster" / "bank_requests.input.xml", "application/xml"),
    ("locums_nest", "RHQ", SAMPLES / "locums_nest" / "changes_page.input.json", "application/json"),
    ("esr", "RHQ", SAMPLES / "esr" / "daily_change.input.txt", "text/plain"),
]


@pytest.mark.parametrize(("vendor", "trust", "sample", "content_type"), PROBES, ids=[p[0] for p in PROBES])
def test_finding_1_unauthenticated_push_is_refused_before_anything_is_written(
    settings: Settings, ingress: str, vendor: str, trust: str | None, sample: Path, content_type: str
) -> None:
    before = every_topic(settings)
    r = httpx.post(
        f"{ingress}/ingest/{vendor}",
        params={"trust": trust} if trust else None,
        content=sample.read_bytes(),
        headers={"content-type": content_type},
        timeout=30,
    )
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert every_topic(settings) == before


def test_finding_1_a_push_needs_the_trust_integration_role_and_publishes_only_its_trusts_records(
    settings: Settings, ingress: str, tokens: Tokens, names: TopicNames
) -> None:
    """NHSP's BankShare file carries rows of several trusts: a trust's token publishes its own rows only."""
    sample = (SAMPLES / "nhsp" / "bookings.input.csv").read_bytes().splitlines(keepends=True)
    other = sample[1].replace(b",RXX,Riverside Hospitals NHS FT,", b",RHQ,Sheffield Teaching Hospitals,")
    body = b"".join([*sample, other.replace(b"NHSP-BK-4410021", b"NHSP-BK-9990001")])
    before = every_topic(settings)
    reader = httpx.post(
        f"{ingress}/ingest/nhsp", content=body, headers=tokens.bearer(Role.TRUST_USER, "RXX"), timeout=30
    )
    assert reader.status_code == 403 and reader.json()["error"]["code"] == "wrong_role"
    assert every_topic(settings) == before
    r = httpx.post(
        f"{ingress}/ingest/nhsp", content=body, headers=tokens.bearer(Role.TRUST_INTEGRATION, "RXX"), timeout=30
    )
    assert r.status_code == 422, r.text
    [foreign] = [x for x in r.json()["rejected"] if x["code"] == "trust_mismatch"]
    assert (
        foreign["field"] == "trust"
        and foreign["value"] == "RHQ"
        and foreign["record"] == f"line {len(sample) + 1} NHSP-BK-9990001"
    )
    assert settings.kafka_bootstrap_servers
    events = [
        decode_record(rec.value, rec.headers, codec(settings))
        for topic in (names.events("shift"), names.events("booking"))
        for rec in read_topic(settings.kafka_bootstrap_servers, topic, at_least=1, timeout=10)
    ]
    assert len(events) == 10 and {e.source for e in events} == {"/vendors/nhsp/RXX"}
    [raw] = read_topic(settings.kafka_bootstrap_servers, names.raw("nhsp"), at_least=1, timeout=10)
    assert headers_dict(raw.headers)["rh_sender_trust"] == b"RXX"  # so a replay holds to the same trust


def codec(_settings: Settings) -> SingleObjectCodec:
    return SingleObjectCodec(default_catalogue())


def test_finding_1_unauthenticated_fhir_create_is_refused_before_anything_is_written(
    settings: Settings, ingress: str, tokens: Tokens
) -> None:
    before = every_topic(settings)
    practitioner = {
        "resourceType": "Practitioner",
        "id": "probe-1",
        "identifier": [{"system": "https://fhir.hl7.org.uk/Id/nmc-number", "value": "99Z9999Z"}],
        "name": [{"family": "Probe", "given": ["Pat"]}],
    }

    def create(bearer: dict[str, str] | None = None) -> httpx.Response:
        """The probe's create of RHQ's practitioner: the same request each time, only its token differs."""
        headers = {"content-type": "application/fhir+json", **(bearer or {})}
        return httpx.post(f"{ingress}/fhir/RHQ/R4/Practitioner", json=practitioner, headers=headers, timeout=30)

    r = create()
    assert r.status_code == 401, r.text
    assert every_topic(settings) == before
    other = create(tokens.bearer(Role.TRUST_INTEGRATION, "RCU"))
    assert other.status_code == 403 and other.json()["resourceType"] == "OperationOutcome"
    assert every_topic(settings) == before
    own = create(tokens.bearer(Role.TRUST_INTEGRATION, "RHQ"))
    assert own.status_code == 201, own.text


def test_finding_11b_oversized_unauthenticated_body_is_not_kept(
    settings: Settings, ingress: str, tokens: Tokens, names: TopicNames
) -> None:
    before = every_topic(settings)
    big = b'{"event": "shift.created", "data": {"notes": "' + b"x" * (settings.max_payload_bytes + 10) + b'"}}'
    unsigned = httpx.post(f"{ingress}/ingest/patchwork", content=big, timeout=30)
    badly_signed = httpx.post(
        f"{ingress}/ingest/patchwork", content=big, headers=signed_headers(b"not-the-secret", big), timeout=30
    )
    no_token = httpx.post(f"{ingress}/ingest/nhsp", content=big, headers={"content-type": "text/csv"}, timeout=30)
    assert [unsigned.status_code, badly_signed.status_code, no_token.status_code] == [401, 401, 401]
    after = every_topic(settings)
    assert after[names.dlq("ingest")] == before[names.dlq("ingest")]
    assert after == before
    # an authenticated sender's oversized body is kept (413), so its sender can be told what happened to it
    signed = httpx.post(f"{ingress}/ingest/patchwork", content=big, headers=signed_headers(SECRET.encode(), big))
    token = httpx.post(
        f"{ingress}/ingest/nhsp", content=big, headers=tokens.bearer(Role.TRUST_INTEGRATION, "RHQ"), timeout=30
    )
    assert [signed.status_code, token.status_code] == [413, 413]
    assert every_topic(settings)[names.dlq("ingest")] == before[names.dlq("ingest")] + 2


def test_finding_3_the_trust_query_parameter_cannot_retarget_a_signed_body(
    settings: Settings, ingress: str, names: TopicNames
) -> None:
    start = datetime(2026, 10, 24, 20, 0, tzinfo=LONDON)
    shift = shift_created("probeA-8", "RHQ", start, 12, grade="Band 5", ward="AMU")
    del shift["data"]["organisation_ods"]  # the probe's body named no trust: the query parameter chose it
    body = json.dumps(shift).encode()
    before = every_topic(settings)
    other = httpx.post(
        f"{ingress}/ingest/patchwork",
        params={"trust": "RCU"},
        content=body,
        headers=signed_headers(SECRET.encode(), body),
        timeout=30,
    )
    assert other.status_code == 403, other.text
    assert every_topic(settings) == before
    # signed with RHQ's secret, the push is RHQ's: without ?trust= the shift is RHQ's
    own = httpx.post(f"{ingress}/ingest/patchwork", content=body, headers=signed_headers(SECRET.encode(), body))
    assert own.status_code == 202, own.text
    # a body naming another trust, signed with RHQ's secret, publishes nothing for that trust
    shift["data"]["organisation_ods"] = "RCU"
    shift["data"]["shift_id"] = "probeA-9"
    body = json.dumps(shift).encode()
    foreign = httpx.post(f"{ingress}/ingest/patchwork", content=body, headers=signed_headers(SECRET.encode(), body))
    assert foreign.status_code == 422 and foreign.json()["rejected"][0]["code"] == "trust_mismatch"
    assert settings.kafka_bootstrap_servers
    shifts = read_topic(settings.kafka_bootstrap_servers, names.events("shift"), at_least=1, timeout=10)
    ids = [decode_record(r.value, r.headers, codec(settings)).data["shift_id"] for r in shifts]
    assert ids == ["patchwork:RHQ:probeA-8"]
    # and RCU's own secret makes it RCU's
    rcu = httpx.post(f"{ingress}/ingest/patchwork", content=body, headers=signed_headers(SECRETS["RCU"].encode(), body))
    assert rcu.status_code == 202, rcu.text


def test_finding_6_identity_and_booking_routes_need_credentials(
    settings: Settings, ingress: str, tokens: Tokens, names: TopicNames
) -> None:
    before = every_topic(settings)
    merge = httpx.post(
        f"{ingress}/identity/merge",
        json={"into": "p-1", "merge": "p-2", "reason": "probe", "requested_by": "probe"},
        params={"wait": 0},
        timeout=30,
    )
    split = httpx.post(
        f"{ingress}/identity/split",
        json={"person": "p-1", "records": ["esr:RHQ:1"], "reason": "probe", "requested_by": "probe"},
        params={"wait": 0},
        timeout=30,
    )
    explain = httpx.get(f"{ingress}/bookings/patchwork:RHQ:1/explain", timeout=30)
    reads = [httpx.get(f"{ingress}{p}", timeout=30) for p in ("/identity/conflicts", "/identity/persons/p-1")]
    assert [r.status_code for r in (merge, split, explain, *reads)] == [401] * 5
    assert every_topic(settings)[names.identity_in] == before[names.identity_in]
    status = httpx.get(f"{ingress}/status/topics", timeout=30)
    metrics = httpx.get(f"{ingress}/metrics", timeout=30)
    assert [status.status_code, metrics.status_code] == [401, 401]
    assert httpx.get(f"{ingress}/health", timeout=30).status_code == 200
    # a trust user may not merge people, nor read operations' counts
    user = tokens.bearer(Role.TRUST_USER, "RHQ")
    merge = httpx.post(
        f"{ingress}/identity/merge",
        json={"into": "p-1", "merge": "p-2", "reason": "probe"},
        params={"wait": 0},
        headers=user,
        timeout=30,
    )
    assert merge.status_code == 403 and merge.headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(f"{ingress}/status/topics", headers=user, timeout=30).status_code == 403
    assert every_topic(settings)[names.identity_in] == before[names.identity_in]
    operator = tokens.bearer(Role.OPERATOR)
    assert httpx.get(f"{ingress}/status/topics", headers=operator, timeout=30).status_code == 200
    assert "rosterhub_connector" in httpx.get(f"{ingress}/metrics", headers=operator, timeout=30).text


@pytest.fixture
def worker_url(settings: Settings, tmp_path: Path, tokens: Tokens) -> Iterator[str]:
    """A stream worker with its web server, holding one passport (person ``p-probe``, checks issued by RHQ)."""
    from tests.integration.test_passport import PassportHub

    hub = PassportHub(settings, tmp_path)
    hub.send(*nurse_passport("p-probe", "RHQ", datetime.now(UTC)))
    port = free_port()
    env = {
        "ROSTERHUB_WORKER_WEB_PORT": str(port),
        "ROSTERHUB_PASSPORT_POLICY_DIR": str(POLICIES),
        **tokens.env(),
    }
    try:
        with worker_process(settings, tmp_path / "worker.log", **env) as proc:
            url = f"http://127.0.0.1:{port}"

            def ready() -> bool:  # up, and past the start-up 503 of the partition map
                headers = tokens.caller("RHQ")
                return httpx.get(f"{url}/passport/p-probe/fhir", headers=headers, timeout=2).status_code == 200

            wait_serving(proc, tmp_path / "worker.log", ready, what="worker web server")
            yield url
    finally:
        hub.close()


def test_findings_4_and_5_the_worker_serves_nothing_without_a_token_and_no_raw_table_views(
    settings: Settings, worker_url: str, tokens: Tokens, names: TopicNames
) -> None:
    audit_before = every_topic(settings)[names.audit]
    self_asserted = {"X-Rosterhub-Trust": "RCU", "X-Rosterhub-User": "probe", "X-Rosterhub-Purpose": "booking"}
    for path in (
        "/passport/p-probe/fhir",
        "/passport/p-probe/clearance?staff_group=NURSING_MIDWIFERY_REGISTERED&grade=BAND_5",
        "/availability/workers/p-probe/shifts?staff_group=NURSING_MIDWIFERY_REGISTERED&grade=BAND_5&home_trust=RCU",
        "/availability/shifts",
        "/metrics",
    ):
        r = httpx.get(f"{worker_url}{path}", headers=self_asserted, timeout=10)
        assert r.status_code == 401, (path, r.status_code, r.text[:300])
        assert "evidence" not in r.text and "p-probe" not in r.text
    for path in (
        "/table/passport/p-probe/",
        "/table/identity-records/esr:RHQ:1/",
        "/table/booking-person-state/p-probe/",
        "/router/",
        "/stats/",
        "/graph/",
        "/",
    ):
        r = httpx.get(f"{worker_url}{path}", timeout=10)
        assert r.status_code == 404, (path, r.status_code, r.text[:300])
    # nothing was read, so nothing is audited; an unauthenticated caller cannot fill the audit trail either
    assert every_topic(settings)[names.audit] == audit_before

    # finding 4 with tokens: RCU's token reads the passport without RHQ's evidence; a header naming RHQ changes
    # nothing; the audit names the token's trust and subject
    rcu = {**tokens.caller("RCU", user="rcu-bank-office"), "X-Rosterhub-Trust": "RHQ"}
    seen = httpx.get(f"{worker_url}/passport/p-probe/fhir", headers=rcu, timeout=10)
    assert seen.status_code == 200 and "evidence.rhq" not in seen.text and "checks.rhq" not in seen.text
    own = httpx.get(f"{worker_url}/passport/p-probe/fhir", headers=tokens.caller("RHQ"), timeout=10)
    assert own.status_code == 200 and "evidence.rhq" in own.text
    assert settings.kafka_bootstrap_servers
    audit = [json.loads(r.value) for r in read_topic(settings.kafka_bootstrap_servers, names.audit, at_least=2)]
    reads = [a for a in audit if a["person"] == "p-probe" and a["user"] == "rcu-bank-office"]
    assert [(a["trust"], a["resource"], a["status"]) for a in reads] == [("RCU", "fhir", 200)]
    assert reads[0]["issuer"] == tokens.issuer.issuer and reads[0]["token_id"] and reads[0]["roles"] == ["trust_user"]
    # the faust views stay unreachable with a token too, and /metrics is the operator's
    assert httpx.get(f"{worker_url}/table/passport/p-probe/", headers=rcu, timeout=10).status_code == 404
    assert httpx.get(f"{worker_url}/metrics", headers=rcu, timeout=10).status_code == 403
    assert httpx.get(f"{worker_url}/metrics", headers=tokens.bearer(Role.OPERATOR), timeout=10).status_code == 200
