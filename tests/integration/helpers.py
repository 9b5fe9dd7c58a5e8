"""Helpers for integration tests: servers in threads, worker processes, reading topics."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.simulators.serving import serving
from rosterhub.envelope import Envelope, KafkaRecord, encode_event
from rosterhub.kafka.access import KafkaAccess, access_from_settings
from rosterhub.kafka.producer import EventSink
from rosterhub.runtime import TopicNames
from rosterhub.settings import Settings
from tests.support import stop

T = TypeVar("T")


def serve_in_thread(app: FastAPI, port: int) -> AbstractContextManager[str]:
    """The app served in a thread on ``port`` (its lifespan must start): the base URL once it answers."""
    return serving(app, port, lifespan="on")


def settings_env(settings: Settings, **extra: Any) -> dict[str, str]:
    """Environment that makes a child process build the same settings (Kafka security included)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTERHUB_")}
    if settings.kafka_bootstrap_servers:
        env.update(access_from_settings(settings).env())
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers or "",
            "ROSTERHUB_TOPIC_PREFIX": settings.topic_prefix,
            "ROSTERHUB_APP_ID": settings.app_id,
            "ROSTERHUB_STATE_DIR": str(settings.state_dir),
            "ROSTERHUB_DEFAULT_PARTITIONS": str(settings.default_partitions),
            "ROSTERHUB_OUTBOUND_ENDPOINTS": json.dumps(settings.outbound_endpoints),
        }
    )
    if settings.auth_issuers:  # the child accepts the same tokens
        env["ROSTERHUB_AUTH_ISSUERS"] = json.dumps([i.model_dump(mode="json") for i in settings.auth_issuers])
    env.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in extra.items()})
    return env


def run_cli(env: dict[str, str], *args: str) -> str:
    """``python -m rosterhub <args>`` as an operator would type it, in ``env`` (from ``settings_env``): its
    standard output, after asserting it succeeded (the assertion shows both streams)."""
    done = subprocess.run(
        [sys.executable, "-m", "rosterhub", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@contextmanager
def worker_process(settings: Settings, log_path: Path, **extra: Any) -> Iterator[subprocess.Popen[bytes]]:
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rosterhub", "worker"],
            env=settings_env(settings, **extra),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        stop(proc)


def wait_serving(
    proc: subprocess.Popen[bytes], log: Path, answers: Callable[[], bool], *, timeout: float = 120, what: str
) -> None:
    """Wait until ``answers()``, an HTTP probe of the process's server, is true. A refused connection means "not
    yet"; a process that exited fails the test at once, with the end of its log, rather than at the timeout."""

    def ready() -> bool:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            return answers()
        except httpx.HTTPError:
            return False

    wait_for(ready, timeout=timeout, what=what)


def read_topic(
    bootstrap: str | KafkaAccess, topic: str, *, at_least: int, timeout: float = 60.0
) -> list[ConsumerRecord]:
    """Every record of ``topic`` from the beginning, once at least ``at_least`` are there (or timeout).

    ``bootstrap``: an address (PLAINTEXT) or the hub's :class:`KafkaAccess` (a secured cluster)."""
    access = bootstrap if isinstance(bootstrap, KafkaAccess) else KafkaAccess(bootstrap)
    consumer = KafkaConsumer(**access.kafka_python(), enable_auto_commit=False)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
            if len(records) >= at_least:
                # drain anything else already there
                for batch in consumer.poll(timeout_ms=500).values():
                    records.extend(batch)
                return records
        return records
    finally:
        consumer.close()


def wait_for(
    check: Callable[[], T | None],
    *,
    timeout: float = 90.0,
    interval: float = 0.5,
    what: str = "",
    explain: Callable[[], str] | None = None,
) -> T:
    """``explain``: what the failure should also show (worker logs, say), read only when the wait times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    detail = f"\n{explain()}" if explain else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check}{detail}")


#: The lines of a worker's log that tell where it was: rebalances, recovery, readiness, anything it warned about.
MILESTONE = re.compile(r"Joined group|Worker ready|Restore complete|Recovery\]: Starting|WARNING|ERROR|overlapping")


def log_digest(*logs: Path, keep: int = 40) -> str:
    """The last ``keep`` milestones of each log, with the log's last line: a timed-out wait on workers says what
    they were doing (a rebalance that never ended, a recovery, a stall) even when CI keeps no files."""
    parts = []
    for log in logs:
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        marks = [line for line in lines if MILESTONE.search(line)][-keep:]
        parts.append("\n".join([f"--- {log.name}: {len(lines)} lines; milestones:", *marks, "last:", *lines[-1:]]))
    return "\n".join(parts)


def console_consume_one(bootstrap: str, topic: str, *, check: bool) -> str:
    """The first record of ``topic`` as Kafka's own ConsoleConsumer (from the broker's jars) prints it, key and
    headers included: a client nobody here wrote. ``check=False`` where its ``--timeout-ms`` ending the read (exit
    1) is expected. The text is decoded leniently: Avro bodies are binary."""
    from rosterhub.kafka.local import jars_dir

    out = subprocess.run(
        [
            "java",
            "-cp",
            f"{jars_dir(Settings())}/*",
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            "--bootstrap-server",
            bootstrap,
            "--topic",
            topic,
            "--from-beginning",
            "--max-messages",
            "1",
            "--property",
            "print.headers=true",
            "--property",
            "print.key=true",
            "--timeout-ms",
            "30000",
        ],
        capture_output=True,
        timeout=90,
        check=check,
    )
    return out.stdout.decode("utf-8", errors="replace")


def ensure_declared_topics(settings: Settings) -> None:
    """Every topic the connectors declare, created under ``settings``' prefix, as the hub creates them at start."""
    from rosterhub.connectors.registry import connectors
    from rosterhub.kafka.admin import ensure_topics
    from rosterhub.topics import declared_topics

    ensure_topics(
        access_from_settings(settings),
        declared_topics(connectors(), settings.topic_prefix),
        default_partitions=settings.default_partitions,
        replication_factor=1,
    )


def produce_events(bootstrap: str, names: TopicNames, events: Iterable[tuple[str, str, Envelope]]) -> None:
    """Each (domain, key, event) encoded as the hub encodes it and sent to that domain's events topic, all acked."""
    codec = SingleObjectCodec(default_catalogue())
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    for domain, key, env in events:
        rec = encode_event(env, codec.catalogue.get(env.type), codec, names.events(domain))
        producer.send(rec.topic, key=key.encode(), value=rec.value, headers=rec.headers)
    producer.flush()
    producer.close()


@dataclass
class ProducingHub:
    """A test's handle on the hub's topics: its settings, topic names, the codec and a producer to write events
    straight to a topic as a connector or stage would."""

    settings: Settings
    names: TopicNames
    codec: SingleObjectCodec
    producer: KafkaProducer

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka_bootstrap_servers or ""

    def produce(self, topic: str, env: Envelope, key: str) -> None:
        """``env`` encoded (schema fingerprint and CloudEvents headers) to ``topic`` under ``key``; not flushed."""
        rec = encode_event(env, self.codec.catalogue.get(env.type), self.codec, topic)
        self.producer.send(topic, key=key.encode(), value=rec.value, headers=rec.headers)


class CrashingSink(EventSink):
    """Acknowledges the first ``survive`` sends, then the process 'dies' (SystemExit) mid-request or mid-page."""

    def __init__(self, inner: EventSink, survive: int) -> None:
        super().__init__(inner.kafka, producer=inner.producer)
        self.survive = survive

    def send(self, records: Iterable[KafkaRecord]) -> list[tuple[int, int]]:
        if self.survive == 0:
            raise SystemExit("simulated crash")
        self.survive -= 1
        return super().send(records)
