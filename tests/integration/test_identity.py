"""Identity resolution through the real broker and a real faust worker subprocess.

Canonical events are produced to events.worker / events.credential as connectors do;
the worker forwards them to _rosterhub.identity-in, resolves, and publishes to
events.identity and _rosterhub.passport-in. The CLI and the HTTP API merge and split.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from rosterhub.api import create_api
from rosterhub.auth.roles import Role
from rosterhub.cli.main import app as cli
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import Envelope, decode_record, headers_dict
from rosterhub.kafka.access import access_from_settings
from rosterhub.kafka.producer import EventSink
from rosterhub.runtime import Encoder, TopicNames
from rosterhub.settings import Settings
from tests.auth_support import Tokens
from tests.integration.helpers import ensure_declared_topics, read_topic, serve_in_thread, wait_for, worker_process
from tests.support import free_port
from tests.unit.streams.identity_harness import Hub, credential, match_key, worker

pytestmark = pytest.mark.integration

PIN = "71A2998E"
CODEC = SingleObjectCodec(default_catalogue())


class Feed:
    """Produces canonical events as a connector would, and reads what the worker made of them."""

    def __init__(self, settings: Settings) -> None:
        assert settings.kafka_bootstrap_servers
        self.bootstrap = settings.kafka_bootstrap_servers
        self.kafka = access_from_settings(settings)
        self.names = TopicNames(settings.topic_prefix)
        ensure_declared_topics(settings)
        self.encoder = Encoder(CODEC, self.names, default_catalogue())
        self.sink = EventSink(self.kafka)
        self.env = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "ROSTERHUB_TOPIC_PREFIX": settings.topic_prefix}

    def send(self, *envs: Envelope) -> None:
        self.sink.send([self.encoder.encode(e) for e in envs])

    def identity(self, at_least: int, timeout: float = 90) -> list[Envelope]:
        records = read_topic(self.bootstrap, self.names.events("identity"), at_least=at_least, timeout=timeout)
        assert len(records) >= at_least, f"only {len(records)} identity events"
        return [decode_record(r.value, r.headers, CODEC) for r in records]

    def passport(self, at_least: int, timeout: float = 90) -> list[tuple[str, dict[str, bytes], Envelope]]:
        records = read_topic(self.bootstrap, self.names.passport_in, at_least=at_least, timeout=timeout)
        assert len(records) >= at_least, f"only {len(records)} passport-in records"
        return [
            ((r.key or b"").decode(), headers_dict(r.headers), decode_record(r.value, r.headers, CODEC))
            for r in records
        ]

    def cli(self, *args: str) -> str:
        result = CliRunner().invoke(cli, ["identity", *args], env=self.env)
        assert result.exit_code == 0, result.output
        return result.output

    def close(self) -> None:
        self.sink.close()


def _of(events: list[Envelope], name: str) -> list[Envelope]:
    return [e for e in events if e.type.endswith("." + name)]


def test_two_platforms_at_two_trusts_become_one_person_and_credentials_reach_the_passport(
    hub_settings: Settings, tmp_path: Path
) -> None:
    feed = Feed(hub_settings)
    early = credential("patchwork:RCU:pw-20931", "RCU:DBS:001234567890")  # before its worker: parked
    later = credential("healthroster:RHQ:HR-004512", "RHQ:CSTF_TRAINING:LMS-1")
    with worker_process(hub_settings, tmp_path / "worker.log"):
        feed.send(early)
        feed.send(worker("healthroster:RHQ:HR-004512", nmc=PIN))
        feed.send(worker("patchwork:RCU:pw-20931", nmc=PIN))
        feed.send(later)
        linked = _of(feed.identity(at_least=2), "PersonLinked")
        copies = feed.passport(at_least=2)
    assert {e.data["worker_id"] for e in linked} == {"healthroster:RHQ:HR-004512", "patchwork:RCU:pw-20931"}
    [person] = {e.data["person_id"] for e in linked}
    assert sorted(e.data["match"] for e in linked) == ["NEW_PERSON", "REGISTER_NUMBER"]
    by_id = {env.id: (key, headers, env) for key, headers, env in copies}
    assert set(by_id) == {early.id, later.id}  # the same events, same ce_id
    for sent in (early, later):
        key, headers, env = by_id[sent.id]
        assert key == person and env.data["person_id"] == person and env.type == sent.type
        assert headers["ce_localworker"] == sent.data["person_id"].encode()
    feed.close()


def test_conflict_is_raised_not_merged_then_a_human_merges_by_cli_and_splits_by_api(
    hub_settings: Settings, tmp_path: Path
) -> None:
    feed = Feed(hub_settings)
    with worker_process(hub_settings, tmp_path / "worker.log"):
        feed.send(worker("esr:RHQ:1", nmc=PIN), worker("esr:RCU:2", mk=match_key("q")))
        wait_for(lambda: len(feed.identity(at_least=2)) >= 2, what="two people")
        feed.send(credential("esr:RCU:2", "RCU:DBS:001234567890"))
        feed.send(worker("patchwork:RCU:3", nmc=PIN, mk=match_key("q")))
        events = feed.identity(at_least=4)
        [conflict] = _of(events, "IdentityConflict")
        p, q = conflict.data["person_ids"]
        assert conflict.data["kind"] == "MATCH_KEY_DISAGREES" and not _of(events, "PersonsMerged")
        listed = feed.cli("conflicts")
        assert (
            conflict.data["conflict_id"] in listed and "MATCH_KEY_DISAGREES" in listed and "patchwork:RCU:3" in listed
        )

        out = feed.cli("merge", p, q, "--reason", "NMC register checked", "--by", "RHQ-user-0207")
        assert f"merged {q} into {p}: 1 record(s), 1 credential(s), resolved 1 conflict(s)" in out
        assert "no open conflicts" in feed.cli("conflicts")
        assert "esr:RCU:2" in feed.cli("show", p)
        rekeyed = [(k, h, e) for k, h, e in feed.passport(at_least=3) if h.get("ce_causationid")]
        assert [(k, e.type.rsplit(".", 1)[-1]) for k, _, e in rekeyed] == [
            (q, "PersonsMerged"),
            (p, "CredentialIssued"),
        ]

        tokens = Tokens(tmp_path / "issuer")
        settings = tokens.accepting(hub_settings, state_dir=tmp_path / "api-state")
        admin = {**tokens.bearer(Role.IDENTITY_ADMIN, subject="RHQ-user-0207"), "X-Rosterhub-Purpose": "merge review"}
        with serve_in_thread(create_api(settings, feed.kafka), free_port()) as api:
            body = {"person": p, "records": ["esr:RCU:2"], "reason": "merged in error", "requested_by": "someone-else"}
            user = tokens.bearer(Role.TRUST_USER, "RCU")
            refused = httpx.post(f"{api}/identity/split", json=body, params={"wait": 0}, headers=user, timeout=60)
            assert refused.status_code == 403  # a trust user may not split people
            r = httpx.post(f"{api}/identity/split", json=body, params={"wait": 30}, headers=admin, timeout=60)
            assert r.status_code == 200, r.text
            assert r.json()["result"]["new_person_id"] == q and r.json()["result"]["revived"] is True
            assert r.json()["result"]["requested_by"] == "RHQ-user-0207"  # the token's subject, not the body's
            got = httpx.get(f"{api}/identity/records/esr:RCU:2", headers=admin, timeout=30)
            assert got.json()["person_id"] == q
            assert httpx.get(f"{api}/identity/persons/{q}", headers=admin, timeout=30).json()["records"] == [
                "esr:RCU:2"
            ]
            bad = httpx.post(
                f"{api}/identity/merge",
                json={"into": p, "merge": "p-nobody", "reason": "x"},
                headers=admin,
                timeout=30,
            )
            assert bad.status_code == 404
        audit = [
            json.loads(r.value) for r in read_topic(feed.bootstrap, TopicNames(settings.topic_prefix).audit, at_least=2)
        ]
        reads = [(a["person"], a["resource"], a["user"], a["purpose"]) for a in audit]
        assert (q, "identity", "RHQ-user-0207", "merge review") in reads  # each read of a person is audited
        split_id = r.json()["command_id"].encode()
        back = [
            (k, e.type.rsplit(".", 1)[-1])
            for k, h, e in feed.passport(at_least=5)
            if h.get("ce_causationid") == split_id
        ]
        assert sorted(back) == sorted([(p, "PersonSplit"), (q, "CredentialIssued")])
    feed.close()


#: People in the restart test. Each has three inputs (a credential and two worker records), sent in three rounds:
#: every person's first input before the first worker starts, the second ones just before it is stopped (in
#: flight: it may or may not get to them), the third ones while no worker runs. So the restarted worker, its
#: RocksDB wiped, must link third-round records to people it knows only from the changelogs, whatever the
#: machine's speed.
PEOPLE = 150


def _people(n: int) -> list[list[Envelope]]:
    """n people's inputs in three rounds. Each person is known at two trusts through two platforms and holds one
    credential; a third of them have the credential before either worker record."""
    rounds: list[list[Envelope]] = [[], [], []]
    for i in range(n):
        pin = f"{i % 100:02d}A{i:04d}E"
        cred = credential(f"esr:RCU:{i}", f"RCU:DBS:{i:012d}")
        workers = [worker(f"esr:RCU:{i}", nmc=pin), worker(f"patchwork:RHQ:pw-{i}", nmc=pin)]
        for r, env in enumerate([cred, *workers] if i % 3 == 0 else [*workers, cred]):
            rounds[r].append(env)
    return rounds


def _identity_count(feed: Feed) -> int:
    return len(read_topic(feed.bootstrap, feed.names.events("identity"), at_least=1, timeout=2))


def test_restart_mid_stream_gives_the_same_answers_and_emits_no_event_twice(
    hub_settings: Settings, tmp_path: Path
) -> None:
    feed = Feed(hub_settings)
    first, in_flight, after = _people(PEOPLE)
    inputs = [*first, *in_flight, *after]
    resolved_first = sum(1 for e in first if e.type.endswith("Registered"))  # one identity event per worker record
    feed.send(*first)
    log = tmp_path / "worker.log"
    with worker_process(hub_settings, log):
        wait_for(lambda: _identity_count(feed) >= resolved_first or None, timeout=120, what="the first round")
        feed.send(*in_flight)  # the worker is stopped with these arriving
    stopped_at = _identity_count(feed)
    feed.send(*after)
    shutil.rmtree(hub_settings.state_dir, ignore_errors=True)  # local RocksDB gone: rebuilt from the changelogs
    with worker_process(hub_settings, log):
        events = feed.identity(at_least=2 * PEOPLE, timeout=180)
        copies = feed.passport(at_least=PEOPLE, timeout=120)
    assert resolved_first <= stopped_at < 2 * PEOPLE
    counts = Counter(e.id for e in events)
    assert [i for i, c in counts.items() if c > 1] == [] and len(events) == 2 * PEOPLE
    assert len({e.id for _, _, e in copies}) == PEOPLE

    # same answers as a fresh resolution of the identity-in log, in its order
    hub = Hub()
    for r in read_topic(feed.bootstrap, feed.names.identity_in, at_least=len(inputs)):
        hub.log.append(_as_record(r))
        hub._apply(hub.log[-1], len(hub.log) - 1)
    assert {e.id for e in hub.identity} == set(counts)
    links = {e.data["worker_id"]: e.data["person_id"] for e in events}
    assert links == {w: v["p"] for w, v in hub.tables["records"].items()}
    assert len(set(links.values())) == PEOPLE  # one person each, across the restart


def _as_record(r):
    from rosterhub.envelope import KafkaRecord

    return KafkaRecord(r.topic, r.key, r.value, list(r.headers))
