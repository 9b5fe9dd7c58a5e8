"""Every Kafka client of the hub authenticates to a secured broker, and a wrong credential is named, not waited on.

A second local broker is started for each security mode, with no PLAINTEXT client listener at all:
``SASL_PLAINTEXT`` with SCRAM-SHA-512 users created at format time, and ``SSL`` with mutual TLS
(a client certificate signed by the broker's generated CA is required). Against it run, as in
production, every client the hub creates: topic administration (kafka-python admin), the HTTP
ingress and its producer, the schema publisher and reader, a file-drop connector process, a faust
worker process (identity, passport, booking, availability and outbound agents; the booking is
decided end to end and delivered to a trust endpoint), the read models beside faust (aiokafka and
kafka-python consumers), replay and redrive, and Kafka's own console consumer configured by the
``client.properties`` the hub writes. The broker accepts nothing unauthenticated, so each client
that did its work authenticated.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from rosterhub.api import create_api
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.schema_topic import SchemaTopicReader
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.kinds.filedrop.fence import Inflight, recover
from rosterhub.connectors.outbound.redrive import redrive
from rosterhub.connectors.pipeline import IngestContext
from rosterhub.connectors.registry import connectors
from rosterhub.connectors.replay import replay_raw
from rosterhub.connectors.simulators.nhsp import NhspSimulator
from rosterhub.connectors.simulators.patchwork import booking_requested, shift_created, signed_headers
from rosterhub.connectors.simulators.trust_endpoint import create_trust_endpoint
from rosterhub.connectors.state import ConnectorState, state_file
from rosterhub.envelope import headers_dict
from rosterhub.errors import BrokerUnavailable, KafkaAuthenticationFailed, RosterhubError
from rosterhub.flow import FlowCounter
from rosterhub.instants import LONDON
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.admin import ensure_topics, probe, topic_counts
from rosterhub.kafka.local import jars_dir
from rosterhub.kafka.local_tls import ensure_tls_material
from rosterhub.kafka.producer import EventSink, make_producer
from rosterhub.kafka.resolve import Resolved, resolve_broker
from rosterhub.runtime import Encoder, TopicNames
from rosterhub.settings import Settings
from rosterhub.streams.availability.readmodel import ViewStore, follow
from rosterhub.streams.booking.decision_reader import DecisionReader
from rosterhub.streams.identity.client import IdentityClient
from rosterhub.streams.identity.match import person_id_for
from rosterhub.topics import CANONICAL, DLQ_STAGES, TopicSpec, declared_topics
from tests.integration.helpers import read_topic, serve_in_thread, settings_env, wait_for, worker_process
from tests.support import free_port
from tests.unit.streams.identity_harness import worker
from tests.unit.streams.passport_builders import nurse_passport

pytestmark = pytest.mark.integration

WEBHOOK_SECRET = "security-test-webhook"
USER = "rosterhub-hub"
#: Quotes, a backslash, spaces and non-ASCII: the password survives SCRAM salting, JAAS and .properties quoting.
PASSWORD = 'p@ss "word" \\ with ünïcödé'
PROTOCOLS = ("SASL_PLAINTEXT", "SSL")
CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"


@dataclasses.dataclass
class Secured:
    resolved: Resolved
    settings: Settings  # the broker's (data dir, ports, cache)

    @property
    def kafka(self) -> KafkaAccess:
        return self.resolved.access

    @property
    def protocol(self) -> str:
        return self.kafka.security_protocol


@pytest.fixture(scope="module", params=PROTOCOLS)
def secured(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    protocol = request.param
    options: dict[str, object] = {
        "kafka_data_dir": tmp_path_factory.mktemp(f"kafka-{protocol.lower()}"),
        "kafka_port": free_port(),
        "kafka_controller_port": free_port(),
        "kafka_security_protocol": protocol,
    }
    if protocol.startswith("SASL_"):
        options |= {"kafka_sasl_username": USER, "kafka_sasl_password": PASSWORD}
    settings = Settings(**options)
    try:
        resolved = resolve_broker(settings)
    except RosterhubError as exc:
        pytest.fail(f"no {protocol} Kafka broker could be started: {exc}", pytrace=False)
    yield Secured(resolved, settings)
    resolved.close()


def _hub_settings(secured: Secured, tmp_path: Path, **extra: object) -> Settings:
    """A hub process's settings for the secured cluster, as an operator would give them (an existing cluster)."""
    unique = tmp_path.name[-12:].replace("_", "").replace("-", "")
    return Settings(
        **secured.kafka.settings(),
        topic_prefix=f"sec{unique}.",
        app_id=f"rosterhub-sec-{unique}",
        state_dir=tmp_path / "state",
        default_partitions=2,
        **extra,
    )


def _stranger(secured: Secured, tmp_path: Path) -> KafkaAccess:
    """The hub's access with a wrong credential: a wrong password, or a certificate from another CA."""
    if secured.protocol.startswith("SASL_"):
        return dataclasses.replace(secured.kafka, sasl_password=SecretStr("not-the-password"))
    other = ensure_tls_material(tmp_path / "other-ca", hosts=["127.0.0.1"], client_name=USER)
    return dataclasses.replace(secured.kafka, ssl_certfile=other.client_cert, ssl_keyfile=other.client_key)


def _console_consumer(
    secured: Secured, properties: Path, topic: str, *, timeout_ms: int = 60000
) -> subprocess.CompletedProcess[str]:
    cmd = [
        "java",
        "-cp",
        f"{jars_dir(secured.settings)}/*",
        CONSOLE_CONSUMER,
        "--bootstrap-server",
        secured.kafka.bootstrap_servers,
        "--command-config",
        str(properties),
        "--topic",
        topic,
        "--from-beginning",
        "--max-messages",
        "1",
        "--timeout-ms",
        str(timeout_ms),
        "--formatter-property",
        "print.key=true",
        "--formatter-property",
        "key.separator=|",
    ]
    done = subprocess.run(cmd, capture_output=True, timeout=180, check=False)
    # the values are Avro (binary): only keys and messages are read as text
    out, err = (b.decode("utf-8", errors="replace") for b in (done.stdout, done.stderr))
    return subprocess.CompletedProcess(done.args, done.returncode, out, err)


def _post(ingress: str, payload: dict) -> httpx.Response:
    """A Patchwork webhook signed with RHQ's secret (the signature names the trust: docs/security.md)."""
    body = json.dumps(payload).encode()
    headers = signed_headers(WEBHOOK_SECRET.encode(), body)
    return httpx.post(f"{ingress}/ingest/patchwork", content=body, headers=headers, timeout=30)


def _follow_view(kafka: KafkaAccess, topic: str, shift_id: str, codec: SingleObjectCodec) -> dict:
    """Run the worker's availability read model (aiokafka consumer and admin client) until it holds the shift."""

    async def run() -> dict:
        store = ViewStore()
        task = asyncio.create_task(follow(store, kafka=kafka, topic=topic, codec=codec))
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if store.get(shift_id) is not None:
                    return store.get(shift_id) or {}
                await asyncio.sleep(0.2)
            raise AssertionError(f"the availability read model never saw {shift_id} on {topic}")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return asyncio.run(run())


def test_the_secured_broker_has_no_plaintext_client_listener(secured: Secured) -> None:
    path = secured.settings.kafka_data_dir.resolve() / "server.properties"
    props = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    port, controller = secured.settings.kafka_port, secured.settings.kafka_controller_port
    assert props["listeners"] == f"{secured.protocol}://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}"
    assert props["listener.security.protocol.map"] == f"{secured.protocol}:{secured.protocol},CONTROLLER:PLAINTEXT"
    with pytest.raises(BrokerUnavailable):  # a client without security gets no metadata from the client port
        probe(KafkaAccess(secured.kafka.bootstrap_servers), timeout_s=5)
    probe(secured.kafka)  # ...and the hub's access does


def test_every_client_of_the_hub_authenticates(secured: Secured, tmp_path: Path) -> None:
    kafka = secured.kafka
    test_started_ms = int(time.time() * 1000)
    catalogue = default_catalogue()
    codec = SingleObjectCodec(catalogue)
    with serve_in_thread(create_trust_endpoint(), free_port()) as trust_url:
        settings = _hub_settings(
            secured,
            tmp_path,
            outbound_endpoints={"RHQ": f"{trust_url}/outcomes/RHQ"},
            webhook_secrets={"patchwork": {"RHQ": WEBHOOK_SECRET}},  # RHQ's own secret: its pushes are RHQ's
        )
        names = TopicNames(settings.topic_prefix)

        # admin (kafka-python): every declared topic created, counts read
        declared = [t.name for t in declared_topics(connectors(), settings.topic_prefix)]
        assert sorted(ensure_topics(kafka, declared_topics(connectors(), settings.topic_prefix), **_sizes())) == sorted(
            declared
        )
        assert {c.topic for c in topic_counts(kafka, declared)} == set(declared)

        # a connector's producer (EventSink, kafka-python): a nurse and her passport, as connectors would send them
        local = "patchwork:RHQ:w-71A2998E"
        person = person_id_for("reg:nmc:71A2998E")
        credentials = nurse_passport(local, "RHQ", datetime.now(UTC))
        sink = EventSink(kafka, client_id="rosterhub-security-test")
        encoder = Encoder(codec, names, catalogue)
        try:
            sink.send([encoder.encode(e) for e in [worker(local, nmc="71A2998E"), *credentials]])
        finally:
            sink.close()

        web = free_port()
        with (
            worker_process(settings, tmp_path / "worker.log", ROSTERHUB_WORKER_WEB_PORT=str(web)) as proc,
            serve_in_thread(create_api(settings, kafka), free_port()) as ingress,
        ):
            # the schema publisher ran when the ingress started; the schema reader (kafka-python) reads them back
            assert SchemaTopicReader(kafka, names.schemas).refresh() == len(list(catalogue))

            # the faust worker's identity and passport agents (and IdentityInReader, aiokafka) built her passport
            def passport_built() -> bool | None:
                records = read_topic(kafka, names.events("passport"), at_least=len(credentials), timeout=2)
                updated = [r for r in records if r.key == person.encode()]
                return (len(updated) >= len(credentials)) or None

            wait_for(passport_built, timeout=180, what=f"{len(credentials)} PassportUpdated for {person}")
            assert proc.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]

            # the ingress's producer: a shift and a booking through the real HTTP ingress
            start = datetime.now(LONDON).replace(microsecond=0) + timedelta(days=3)
            shift = shift_created("SEC-1", "RHQ", start, 8, grade="Band 5", ward="Ward 9")
            assert _post(ingress, shift).status_code == 202
            nurse = {"grade": "Band 5", "staff_group": "Registered Nursing"}
            booking = booking_requested("SEC-B1", "SEC-1", "RHQ", "71A2998E", datetime.now(UTC), **nurse)
            assert _post(ingress, booking).status_code == 202

            # booking decided by the worker's agents and delivered by its outbound loop (aiokafka) to the trust
            def delivered() -> list[dict] | None:
                got = httpx.get(f"{trust_url}/outcomes", timeout=5).json()["received"]
                return got or None

            [outcome] = wait_for(delivered, timeout=180, what="the booking outcome at the trust endpoint")
            failed = [r for r in outcome["data"].get("rule_results", []) if not r["passed"]]
            assert outcome["type"] == "rosterhub.booking.v1.BookingConfirmed", failed
            booking_id = outcome["data"]["booking_id"]

            # the read models beside faust: decisions (kafka-python), identity view (kafka-python),
            # availability view (aiokafka consumer + admin), the run command's flow counter (kafka-python)
            with DecisionReader(kafka, names.events("booking"), codec) as reader:
                found = reader.lookup(booking_id, timeout=60)
            assert found is not None and found[0].type == "rosterhub.booking.v1.BookingConfirmed"
            identity = IdentityClient(kafka, names.events("identity"), names.identity_in, codec, None, "/test").start()  # type: ignore[arg-type]
            try:
                assert identity.read(lambda v: v.knows(person), timeout=60)
            finally:
                identity.stop()
            view = _follow_view(kafka, names.availability_view, "patchwork:RHQ:SEC-1", codec)
            assert view["shift_id"] == "patchwork:RHQ:SEC-1"
            flow = FlowCounter(
                kafka,
                events=[names.events(d) for d in CANONICAL],
                dlq=[names.dlq(s) for s in DLQ_STAGES],
                raw={names.raw("patchwork"): "patchwork"},
            )
            try:
                flow.poll()
                assert flow.raw["patchwork"] == 2 and flow.outcomes["BookingConfirmed"] == 1
            finally:
                flow.close()

        # a file-drop connector in its own process (`rosterhub connect nhsp --once`), configured only by env
        inbox = tmp_path / "nhsp-inbox"
        inbox.mkdir()
        sim = NhspSimulator(3, seed=5, start=start.date(), count=4)
        sim.step()
        for f in sim.export(tmp_path / "nhsp-export"):
            (inbox / f.name).write_bytes(f.read_bytes())
        options = {"nhsp": {"inboxes": [{"path": str(inbox)}], "settle_s": 0}}
        done = subprocess.run(
            [sys.executable, "-m", "rosterhub", "connect", "nhsp", "--once"],
            env=settings_env(settings, ROSTERHUB_CONNECTORS=json.dumps(options)),
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout.decode()[-3000:] + done.stderr.decode()[-3000:]
        assert topic_counts(kafka, [names.raw("nhsp")])[0].messages > 0
        assert not list(inbox.glob("*.csv"))

        # the file-drop fence (kafka-python consumer), which settles a crashed file's claims from what the broker holds
        nhsp_ids = [
            h["ce_id"].decode()
            for h in (headers_dict(r.headers) for r in read_topic(kafka, names.events("shift"), at_least=2))
            if h["ce_source"].startswith(b"/vendors/nhsp/")
        ]
        fence_state = ConnectorState(tmp_path / "fence.sqlite")
        try:
            crashed = Inflight(started_ms=test_started_ms, events=[nhsp_ids[0], "never-sent"])
            recovery = recover(fence_state, "nhsp", "0" * 64, crashed, kafka=kafka, names=names)
        finally:
            fence_state.close()
        assert (recovery.found_events, recovery.released_events) == (1, 1)

        # replay (kafka-python consumer on raw.patchwork): everything it maps again was published before
        state = ConnectorState(state_file(settings.state_dir, "ingress"), recover=False)
        sink = EventSink(kafka, client_id="rosterhub-replay")
        try:
            ctx = IngestContext(sink=sink, encoder=Encoder(codec, names, catalogue), names=names, state=state)
            summary = replay_raw(ctx, kafka, "patchwork")
        finally:
            sink.close()
            state.close()
        assert (summary.payloads, summary.published) == (2, 0)

        # redrive (kafka-python consumers on dlq.outbound and events.delivery): nothing was dead-lettered
        assert redrive(kafka, names, ["outcomes-RHQ"], dry_run=True) == []

        # Kafka's own console consumer, configured by the client.properties `rosterhub kafka client-properties` writes
        props = tmp_path / "client.properties"
        wrote = subprocess.run(
            [sys.executable, "-m", "rosterhub", "kafka", "client-properties", "--output", str(props)],
            env=settings_env(settings),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert wrote.returncode == 0, wrote.stderr[-2000:]
        assert props.stat().st_mode & 0o077 == 0  # holds a password or a key: owner only
        out = _console_consumer(secured, props, names.events("shift"))
        assert out.returncode == 0, out.stderr[-3000:]
        keys = {r.key.decode() for r in read_topic(kafka, names.events("shift"), at_least=2)}
        assert out.stdout.split("|", 1)[0] in keys, out.stdout[:300] + out.stderr[-2000:]
        assert "Processed a total of 1 messages" in out.stderr


def _sizes() -> dict[str, int]:
    return {"default_partitions": 2, "replication_factor": 1}


def test_a_wrong_credential_is_refused_and_named(secured: Secured, tmp_path: Path) -> None:
    stranger = _stranger(secured, tmp_path)

    # the hub's probe names the refusal (kafka-python alone retries a refused login until its bootstrap time-out,
    # then reports only "Unable to bootstrap": a BrokerUnavailable naming no cause, which the checks below refuse)
    with pytest.raises(KafkaAuthenticationFailed) as refused:
        probe(stranger, timeout_s=30)
    message = str(refused.value)
    assert "refused the hub's login" in message and secured.protocol in message
    cause = {"SASL_PLAINTEXT": "SaslAuthenticationFailed", "SSL": "TLS handshake"}[secured.protocol]
    assert cause in message, message
    assert "not-the-password" not in message

    # a worker process started with it stops at once with that error, before faust starts
    settings = _hub_settings(secured, tmp_path)
    env = settings_env(settings)
    env.update(stranger.env())
    done = subprocess.run(
        [sys.executable, "-m", "rosterhub", "worker"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "[kafka_auth_failed]" in done.stderr and cause in done.stderr, done.stderr[-2000:]
    assert "not-the-password" not in done.stdout + done.stderr

    # Kafka's own console consumer with that credential reads nothing from a topic that holds a record (the Java
    # tools log nothing here: their SLF4J binding is missing), while the hub's own credential reads it
    topic = f"{settings.topic_prefix}refused"
    ensure_topics(secured.kafka, [TopicSpec(topic, partitions=1)], **_sizes())
    producer = make_producer(secured.kafka)
    try:
        producer.send(topic, key=b"k", value=b"kept").get(timeout=30)
    finally:
        producer.close()
    refused_out = _console_consumer(
        secured, stranger.write_java_properties(tmp_path / "bad.properties"), topic, timeout_ms=15000
    )
    assert "Processed a total of 0 messages" in refused_out.stderr, refused_out.stderr[-2000:]
    accepted_out = _console_consumer(secured, secured.kafka.write_java_properties(tmp_path / "good.properties"), topic)
    assert accepted_out.stdout.strip() == "k|kept", accepted_out.stderr[-2000:]
