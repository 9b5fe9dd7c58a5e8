"""The passport on the real broker: a faust worker process, its RocksDB tables and its web API.

Credential events are produced to ``_rosterhub.passport-in`` directly, keyed by person id,
as identity resolution would publish them (the end-to-end test through identity lives in
test_passport_end_to_end.py). Trusts: A = RHQ, B = RCU (accepts RHQ's DBS), C = RFR
(accepts RHQ's training only), with the policies shipped in ``policies/``.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from joserfc.jwk import ECKey
from kafka import KafkaProducer
from typer.testing import CliRunner

from rosterhub.auth.roles import Role
from rosterhub.cli.main import app as cli_app
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.schema_topic import publish_schemas
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import Envelope, decode_record, encode_event, headers_dict
from rosterhub.kafka.access import access_from_settings
from rosterhub.runtime import TopicNames
from rosterhub.settings import Settings
from rosterhub.streams.identity.match import person_id_for
from rosterhub.streams.passport.clearance import clearance
from rosterhub.streams.passport.policy import load_policies
from rosterhub.streams.passport.state import apply
from tests.auth_support import Tokens
from tests.integration.helpers import (
    ensure_declared_topics,
    log_digest,
    read_topic,
    wait_for,
    wait_serving,
    worker_process,
)
from tests.support import free_port
from tests.unit.streams.passport_builders import (
    POLICIES,
    cred_id,
    nurse_passport,
    passport_with_fire_safety_expiring,
    revoked,
    sign_vc,
    verified,
)

pytestmark = pytest.mark.integration

NURSE = {"staff_group": "NURSING_MIDWIFERY_REGISTERED", "grade": "BAND_5"}
PURPOSE = "booking"


class PassportHub:
    """One test's view of the hub: topics, a producer to passport-in, worker processes and HTTP calls."""

    def __init__(self, settings: Settings, tmp: Path) -> None:
        self.tokens = Tokens(tmp / "issuer")
        self.settings, self.tmp = self.tokens.accepting(settings), tmp
        self.bootstrap = settings.kafka_bootstrap_servers or ""
        self.kafka = access_from_settings(settings)
        self.names = TopicNames(settings.topic_prefix)
        self.catalogue = default_catalogue()
        self.codec = SingleObjectCodec(self.catalogue)
        ensure_declared_topics(settings)
        self.producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=0)
        publish_schemas(self.producer, self.names.schemas, list(self.catalogue))
        self.ports: list[int] = []

    def close(self) -> None:
        self.producer.close()

    @contextmanager
    def worker(self, name: str = "worker", state: str = "state", **extra: object) -> Iterator[str]:
        """A worker process with its web server, once it answers (see ``start_worker``)."""
        with ExitStack() as stack:
            proc, url = self.start_worker(stack, name, state, **extra)
            wait_serving(
                proc, self.tmp / f"{name}.log", lambda: self.serves(url), what=f"{name} web server and partitions"
            )
            yield url

    def start_worker(
        self, stack: ExitStack, name: str = "worker", state: str = "state", **extra: object
    ) -> tuple[subprocess.Popen[bytes], str]:
        """A worker process with a web port of its own and its log in ``<name>.log``, stopped when ``stack``
        closes, and its URL; not waited for, so that workers started together join in one rebalance. ``state``:
        its RocksDB folder (shared by default, so that a restarted worker finds its files; a new folder makes it
        rebuild every table from the changelogs)."""
        port = free_port()
        env = {
            "ROSTERHUB_WORKER_WEB_PORT": str(port),
            "ROSTERHUB_PASSPORT_POLICY_DIR": str(POLICIES),
            "ROSTERHUB_STATE_DIR": str(self.tmp / state),
            **extra,
        }
        proc = stack.enter_context(worker_process(self.settings, self.tmp / f"{name}.log", **env))
        return proc, f"http://127.0.0.1:{port}"

    def serves(self, url: str) -> bool:
        """Whether the worker at ``url`` answers a clearance: its web server is up and its partitions assigned."""
        answer = httpx.get(f"{url}/passport/nobody/clearance", headers=self.caller("RHQ"), params={**NURSE}, timeout=2)
        return answer.status_code == 200

    def wait_cleared(self, url: str, nmcs: Iterable[str], trust: str, at: datetime, *, timeout: float = 60) -> None:
        """Wait until each nurse (by NMC pin) is cleared at ``trust`` for a shift at ``at``. The booking's person
        stage reads the passport table as it is when its check runs: a test's bookings wait until the credentials
        it published are resolved and applied, as a real rota would."""
        for nmc in nmcs:
            person = person_id_for(f"reg:nmc:{nmc}")
            wait_for(
                lambda p=person: self.clearance(url, p, trust, at)["cleared"],
                timeout=timeout,
                what=f"the passport of {person} cleared at {trust}",
                explain=lambda: log_digest(*sorted(self.tmp.glob("*.log"))),
            )

    def send(self, *events: Envelope) -> None:
        for env in events:
            person = env.data["person_id"]
            rec = encode_event(env, self.catalogue.get(env.type), self.codec, self.names.passport_in)
            self.producer.send(rec.topic, key=person.encode(), value=rec.value, headers=rec.headers)
        self.producer.flush()

    def caller(self, trust: str, user: str = "rota-manager-1", purpose: str = PURPOSE) -> dict[str, str]:
        """A trust user's token (subject ``user``) and the purpose of the read."""
        return self.tokens.caller(trust, user, purpose)

    def integration(self, trust: str) -> dict[str, str]:
        """The trust's integration (role trust_integration): presents verifiable credentials."""
        return {**self.tokens.bearer(Role.TRUST_INTEGRATION, trust), "X-Rosterhub-Purpose": "credential"}

    def clearance(self, url: str, person: str, trust: str, at: datetime, end: datetime | None = None, **q: str) -> dict:
        params = {**NURSE, **q, "at": at.isoformat(), **({"end": end.isoformat()} if end else {})}
        r = httpx.get(f"{url}/passport/{person}/clearance", params=params, headers=self.caller(trust), timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def events(self, topic: str, at_least: int = 0, timeout: float = 10) -> list[Envelope]:
        return [
            decode_record(r.value, r.headers, self.codec)
            for r in read_topic(self.bootstrap, topic, at_least=at_least, timeout=timeout)
        ]


@pytest.fixture
def hub(hub_settings: Settings, tmp_path: Path) -> Iterator[PassportHub]:
    with closing(PassportHub(hub_settings, tmp_path)) as h:
        yield h


def _shift(days: int = 7) -> tuple[datetime, datetime]:
    start = (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return start, start + timedelta(hours=12)


def test_partner_dbs_clears_at_b_not_c_and_a_revocation_at_a_ends_it_at_b(hub: PassportHub) -> None:
    now = datetime.now(UTC)
    person = "p-nurse-a"
    hub.send(*nurse_passport(person, "RHQ", now))
    start, end = _shift()
    with hub.worker() as url:
        at_b = wait_for(
            lambda: (c := hub.clearance(url, person, "RCU", start, end))["cleared"] and c,
            timeout=60,
            what="clearance at B",
        )
        dbs = next(r for r in at_b["requirements"] if r["requirement"].startswith("DBS"))
        assert dbs["met"] and dbs["candidates"][0]["accepted_under"] == "SYB-MOU-2025-01"
        assert hub.clearance(url, person, "RHQ", start, end)["cleared"]  # A's own checks
        at_c = hub.clearance(url, person, "RFR", start, end)
        assert not at_c["cleared"]
        unmet = {r["requirement"].split(":")[0]: r["reason"] for r in at_c["requirements"] if not r["met"]}
        assert unmet == {
            t: "ISSUER_NOT_ACCEPTED"
            for t in ("IDENTITY", "RIGHT_TO_WORK", "PROFESSIONAL_REGISTRATION", "DBS", "OCCUPATIONAL_HEALTH")
        }
        assert "evidence" not in json.dumps(at_b)  # summaries only: no partner's evidence reference

        # revocation at A: B's answer turns from cleared to REVOKED, and stays so. How fast is measured by
        # bench/passport_latency.py (docs/benchmarks.md), not here: a loaded machine must not fail this test.
        dbs_id = cred_id("RHQ", "DBS", None)
        before = hub.clearance(url, person, "RCU", start, end)
        assert before["cleared"] and before["passport_version"] == at_b["passport_version"]
        hub.send(revoked(person, dbs_id, "DBS", "RHQ", datetime.now(UTC), "SuspectNoLongerValid"))
        answer = wait_for(
            lambda: (c := hub.clearance(url, person, "RCU", start, end))["reasons"] and c,
            timeout=60,
            what="the revocation at A reaching B's clearance",
        )
        assert not answer["cleared"] and answer["reasons"] == ["REVOKED"]
        assert answer["passport_version"] > before["passport_version"]  # the revocation, not something older

        def changed_events() -> list[Envelope] | None:
            return [e for e in hub.events(hub.names.events("passport")) if e.type.endswith("ClearanceChanged")] or None

        changed = wait_for(changed_events, what="ClearanceChanged")
        assert sorted(e.data["trust"]["ods_code"] for e in changed) == ["RCU", "RHQ"]  # RFR never relied on it
        assert {e.data["revocation_reason"] for e in changed} == {"SuspectNoLongerValid"}

        # the CLI asks the same API (exit 2: answered, not cleared)
        args = [
            "passport",
            "clearance",
            person,
            "--staff-group",
            NURSE["staff_group"],
            "--grade",
            NURSE["grade"],
            "--at",
            start.isoformat(),
            "--end",
            end.isoformat(),
        ]
        cli_token = hub.tokens.token(Role.TRUST_USER, "RCU", subject="cli-user")
        cli = CliRunner().invoke(cli_app, [*args, "--url", url, "--token", cli_token])
        assert cli.exit_code == 2, cli.output
        assert json.loads(cli.output)["reasons"] == ["REVOKED"]

        # refusals: no token (even with the headers callers used to assert who they were), no purpose, asking
        # about another trust
        asserted = {"X-Rosterhub-Trust": "RCU", "X-Rosterhub-User": "rota-manager-1", "X-Rosterhub-Purpose": PURPOSE}
        r = httpx.get(f"{url}/passport/{person}/clearance", params=NURSE, headers=asserted, timeout=5)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        no_purpose = {k: v for k, v in hub.caller("RCU").items() if k != "X-Rosterhub-Purpose"}
        r = httpx.get(f"{url}/passport/{person}/clearance", params=NURSE, headers=no_purpose, timeout=5)
        assert r.status_code == 400 and r.json()["error"]["code"] == "purpose_required"
        r = httpx.get(
            f"{url}/passport/{person}/clearance", params={**NURSE, "trust": "RHQ"}, headers=hub.caller("RCU"), timeout=5
        )
        assert r.status_code == 403 and r.json()["error"]["code"] == "other_trust"

        # FHIR: B sees every qualification but none of A's evidence; A sees its own
        r = httpx.get(f"{url}/passport/{person}/fhir", headers=hub.caller("RCU"), timeout=5)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
        bundle = Bundle.model_validate(r.json())
        practitioner = bundle.entry[0].resource
        assert len(practitioner.qualification) == 10
        assert "evidence.rhq" not in r.text and "checks.rhq" not in r.text
        own = httpx.get(f"{url}/passport/{person}/fhir", headers=hub.caller("RHQ"), timeout=5)
        assert "evidence.rhq" in own.text and "checks.rhq" in own.text

    audit = [json.loads(r.value) for r in read_topic(hub.bootstrap, hub.names.audit, at_least=6)]
    mine = [a for a in audit if a["person"] == person]
    assert {a["trust"] for a in mine} >= {"RHQ", "RCU", "RFR"}
    assert all(a["user"] in ("rota-manager-1", "cli-user") for a in mine)
    assert all(a["purpose"] == PURPOSE for a in mine if a["outcome"] != "refused: purpose_required")
    # refusals of an authenticated caller are audited under the token's trust; an unauthenticated request is not
    assert any(a["status"] == 403 and a["outcome"] == "refused: other_trust" and a["trust"] == "RCU" for a in mine)
    assert any(a["status"] == 400 and a["outcome"] == "refused: purpose_required" for a in mine)
    assert all(a["trust"] and a["token_id"] for a in mine)
    assert {a["resource"] for a in mine} == {"clearance", "fhir"}


def test_training_expiry_flips_clearance_at_the_instant_and_emits_once_across_restart(hub: PassportHub) -> None:
    person = "p-nurse-expiry"
    fire = cred_id("RHQ", "CSTF_TRAINING", "FIRE_SAFETY")
    passport_topic = hub.names.events("passport")
    with hub.worker("first") as url:
        # the course expires 25 s after the worker is up (not after the test began: a slow start on a loaded
        # machine once let it expire before the worker saw it, so no CredentialExpiring was due)
        now = datetime.now(UTC)
        expires = (now + timedelta(seconds=25)).replace(microsecond=0)
        hub.send(*passport_with_fire_safety_expiring(person, "RHQ", now, expires))
        start = expires - timedelta(hours=12)
        wait_for(
            lambda: hub.clearance(url, person, "RHQ", start, expires - timedelta(milliseconds=1))["cleared"],
            what="cleared for a shift ending just before the expiry",
        )
        ends_at_expiry = hub.clearance(url, person, "RHQ", start, expires)
        assert ends_at_expiry["reasons"] == ["EXPIRES_DURING_SHIFT"]
        after = hub.clearance(url, person, "RHQ", expires, expires + timedelta(hours=8))
        assert after["reasons"] == ["EXPIRED"]

        def expired() -> list[Envelope] | None:
            got = [e for e in hub.events(passport_topic) if e.type.endswith("CredentialExpired")]
            return got or None

        [exp] = wait_for(expired, timeout=60, what="CredentialExpired from the timer")
        # driven by the timer (no input event came after the issue), never before the instant; how soon after
        # it is measured by bench/passport_latency.py, not asserted here
        assert exp.data["expired_at"] == expires and exp.data["detected_at"] >= expires
        answers = [hub.clearance(url, person, t, start, expires - timedelta(seconds=1)) for t in ("RHQ", "RCU", "RFR")]
    before_restart = hub.events(passport_topic)
    with hub.worker("second") as url:
        time.sleep(6)  # several timer intervals: nothing is due any more
        again = [hub.clearance(url, person, t, start, expires - timedelta(seconds=1)) for t in ("RHQ", "RCU", "RFR")]
    assert again == answers
    everything = hub.events(passport_topic)
    assert len(everything) == len(before_restart)
    ids = Counter(e.id for e in everything)
    assert max(ids.values()) == 1, "an event was emitted twice"
    kinds = Counter(e.type.rsplit(".", 1)[-1] for e in everything if e.data.get("credential_id") == fire)
    assert kinds["CredentialExpiring"] == 1 and kinds["CredentialExpired"] == 1
    changed = sorted(e.data["trust"]["ods_code"] for e in everything if e.type.endswith("ClearanceChanged"))
    assert changed == ["RCU", "RFR", "RHQ"]  # the course counted at all three (RFR accepts RHQ's training)


def test_worker_stopped_mid_stream_resumes_with_identical_answers_and_no_duplicates(hub: PassportHub) -> None:
    now = datetime.now(UTC)
    people = [f"p-restart-{i:02d}" for i in range(24)]
    stream: list[Envelope] = []
    for i, person in enumerate(people):
        stream += nurse_passport(person, ("RHQ", "RCU")[i % 2], now)
        if i % 3 == 0:
            stream.append(
                revoked(
                    person,
                    cred_id(("RHQ", "RCU")[i % 2], "DBS", None),
                    "DBS",
                    ("RHQ", "RCU")[i % 2],
                    now - timedelta(days=1),
                )
            )
        if i % 4 == 0:
            cid = cred_id(("RHQ", "RCU")[i % 2], "OCCUPATIONAL_HEALTH", None)
            stream.append(verified(person, cid, "OCCUPATIONAL_HEALTH", "RCU", now - timedelta(hours=1), "VAL_FAIL"))
    half = len(stream) // 2
    start, end = _shift()
    with hub.worker("first"):
        hub.send(*stream[:half])
        time.sleep(1.0)
        hub.send(*stream[half:])  # the worker is stopped while these are still being processed
    with hub.worker("second") as url:
        policies = load_policies([POLICIES])
        expected: dict[str, object] = {}
        for env in stream:
            person = env.data["person_id"]
            expected[person] = apply(expected.get(person), env, person=person, now=now)  # type: ignore[arg-type]

        def all_caught_up() -> bool:
            return all(
                hub.clearance(url, p, "RCU", start, end).get("passport_version") == expected[p].version for p in people
            )  # type: ignore[attr-defined]

        wait_for(all_caught_up, timeout=90, what="every passport at its final version")
        for person in people:
            for trust in ("RHQ", "RCU", "RFR"):
                got = hub.clearance(url, person, trust, start, end)
                want = clearance(
                    expected[person],
                    policies.trusts[trust],
                    start=start,
                    end=end,  # type: ignore[arg-type]
                    **NURSE,
                ).as_dict()
                assert {k: got[k] for k in ("cleared", "reasons")} == {k: want[k] for k in ("cleared", "reasons")}
        answers = {p: hub.clearance(url, p, "RCU", start, end) for p in people}
    out = hub.events(hub.names.events("passport"), at_least=1)
    # a third worker with an empty state folder rebuilds every passport from the changelog topic
    with hub.worker("rebuilt", state="state-empty") as url:
        t0 = time.monotonic()
        wait_for(all_caught_up, timeout=90, what="passports rebuilt from the changelog")
        print(f"rebuild from changelog: {time.monotonic() - t0:.1f} s")
        assert {p: hub.clearance(url, p, "RCU", start, end) for p in people} == answers
    assert len(hub.events(hub.names.events("passport"))) == len(out)  # rebuilding emits nothing
    updates = [e for e in out if e.type.endswith("PassportUpdated")]
    assert len(updates) == sum(p.version for p in expected.values())  # type: ignore[attr-defined]
    assert max(Counter(e.id for e in out).values()) == 1, "an event was emitted twice"


def test_verifiable_credential_enters_through_the_api_and_tampered_or_unknown_never_does(
    hub: PassportHub, tmp_path: Path
) -> None:
    key = ECKey.generate_key("P-256", auto_kid=True)
    kid = key.kid
    policies = tmp_path / "policies"
    policies.mkdir()
    for f in POLICIES.glob("*.yaml"):
        text = f.read_text()
        if f.name == "RHQ.yaml":
            text = (
                text.split("vc_issuer:")[0]
                + "vc_issuer:\n  id: https://vc.sth.nhs.uk/issuer\n  keys:\n    - "
                + json.dumps(key.as_dict(private=False))
                + "\n"
            )
        (policies / f.name).write_text(text)
    now = datetime.now(UTC)
    claims = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "NHSStaffPassportCredential"],
        "id": "urn:uuid:6a1c7d2e-0000-4000-8000-000000000001",
        "issuer": "https://vc.sth.nhs.uk/issuer",
        "validFrom": (now - timedelta(days=10)).isoformat(),
        "validUntil": (now + timedelta(days=700)).isoformat(),
        "credentialSubject": {
            "id": "urn:rosterhub:nmc:71A2998E",
            "credentialType": "DBS",
            "attributes": {"dbs_level": "ENHANCED_BARRED"},
        },
    }
    good = sign_vc(claims, key, kid)
    header, _payload, sig = good.split(".")
    tampered = ".".join(
        [
            header,
            sign_vc(
                {**claims, "credentialSubject": {**claims["credentialSubject"], "credentialType": "IDENTITY"}}, key, kid
            ).split(".")[1],
            sig,
        ]
    )
    stranger = sign_vc({**claims, "issuer": "https://vc.example.org/issuer"}, key, kid)
    person = "p-vc-holder"
    start, end = _shift()
    with hub.worker(ROSTERHUB_PASSPORT_POLICY_DIR=str(policies)) as url:

        def post(body):
            return httpx.post(
                f"{url}/passport/credentials/vc",
                content=body,
                headers={**hub.integration("RHQ"), "content-type": "application/vc+jwt"},
                timeout=10,
            )

        bad = post(tampered)
        assert (bad.status_code, bad.json()["reason"]) == (422, "BAD_SIGNATURE")
        unknown = post(json.dumps({"jwt": stranger}))
        assert (unknown.status_code, unknown.json()["reason"]) == (422, "UNKNOWN_ISSUER")
        ok = post(good)
        assert ok.status_code == 202, ok.text
        credential_id = ok.json()["credential_id"]

        # identity resolution's part (tests/integration/test_passport_end_to_end.py runs the real one):
        # the credential events on events.credential, re-keyed by the resolved person onto passport-in
        records = read_topic(hub.bootstrap, hub.names.events("credential"), at_least=2)
        envs = [decode_record(r.value, r.headers, hub.codec) for r in records]
        assert [e.data["credential_id"] for e in envs] == [credential_id, credential_id]  # the rejected ones: nothing
        assert envs[1].data["method"] == "VERIFIABLE_CREDENTIAL"
        assert headers_dict(records[0].headers)["ce_localworker"] == b"vc:RHQ:nmc-71A2998E"
        for env in envs:
            env.data["person_id"] = person
        hub.send(*envs)

        def dbs_met() -> bool:
            got = hub.clearance(url, person, "RCU", start, end)
            return any(r["requirement"].startswith("DBS") and r["met"] for r in got["requirements"])

        wait_for(dbs_met, what="the VC's DBS counting at RCU")
        fhir = httpx.get(f"{url}/passport/{person}/fhir", headers=hub.caller("RHQ"), timeout=5).json()
        results = [e["resource"] for e in fhir["entry"] if e["resource"]["resourceType"] == "VerificationResult"]
        assert results[0]["validationProcess"][0]["coding"][0]["code"] == "VERIFIABLE_CREDENTIAL"


def test_requests_are_routed_to_the_worker_that_owns_the_person(hub: PassportHub) -> None:
    now = datetime.now(UTC)
    people = [f"p-routed-{i}" for i in range(12)]
    for person in people:
        hub.send(*nurse_passport(person, "RHQ", now))
    start, end = _shift()
    with ExitStack() as stack:
        first = stack.enter_context(hub.worker("one", state="state-one"))
        second = stack.enter_context(hub.worker("two", state="state-two"))

        def both_answer_everyone() -> bool:
            return all(hub.clearance(u, p, "RCU", start, end)["cleared"] for u in (first, second) for p in people)

        wait_for(both_answer_everyone, timeout=120, what="both workers answering for every person")
    served = {
        a["served_by"] for a in (json.loads(r.value) for r in read_topic(hub.bootstrap, hub.names.audit, at_least=48))
    }
    assert len(served) == 2, "each worker answered for the people it owns"
