"""Issue #17: SIGTERM during failing outbound deliveries stops the worker at once, and nothing is lost.

A destination is down (connection refused) while updates for it are queued: the delivery loop
retries. On SIGTERM the worker abandons the retries (no attempt after the signal; faust used to let
them run until the very end of its stop, for over a minute when that stop hung) and exits by itself,
cleanly. Restarted with the destination back, it delivers every queued update, each with the
idempotency key it was queued with, none twice.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.registry import connectors
from rosterhub.envelope import Envelope, encode_event, headers_dict
from rosterhub.kafka.admin import ensure_topics
from rosterhub.runtime import TopicNames
from rosterhub.topics import declared_topics
from tests.integration.helpers import read_topic, settings_env, wait_for
from tests.integration.outbound_support import Receiver
from tests.support import free_port, isolated_settings
from tests.unit.connectors.outbound_builders import outcome, view, view_event

pytestmark = pytest.mark.integration

SHIFTS = [f"echo:RHQ:T{i}" for i in range(1, 4)]
ATTEMPT = re.compile(r"outbound A: (\S+) attempt \d+ failed")


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "rosterhub", "worker"], env=env, stdout=out, stderr=out)


def test_sigterm_during_failing_deliveries_abandons_them_and_they_resume_after_restart(
    kafka: Any, tmp_path: Path
) -> None:
    settings = isolated_settings(kafka.bootstrap, tmp_path, partitions=2)
    topics = declared_topics(connectors(), settings.topic_prefix)
    ensure_topics(kafka.access, topics, default_partitions=2, replication_factor=1)
    receiver = Receiver(free_port())  # not started: connection refused
    destination = {"name": "A", "trust": "RHQ", "platform": "echo", "url": receiver.url}
    env = settings_env(
        settings,
        ROSTERHUB_OUTBOUND_DESTINATIONS=json.dumps([destination]),
        ROSTERHUB_OUTBOUND_ADAPTER_MODULES=json.dumps(["tests.integration.outbound_support"]),
        ROSTERHUB_OUTBOUND_BACKOFF_BASE_S="0.1",
        ROSTERHUB_OUTBOUND_BACKOFF_CAP_S="0.3",
        ROSTERHUB_OUTBOUND_BREAKER_FAILURES="100000",  # keep trying: every attempt is logged
        ROSTERHUB_OUTBOUND_TIMEOUT_S="1",
        ROSTERHUB_STOP_TIMEOUT_S="20",
    )
    names = TopicNames(settings.topic_prefix)
    codec = SingleObjectCodec(default_catalogue())
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")

    def send(e: Envelope, topic: str) -> None:
        rec = encode_event(e, codec.catalogue.get(e.type), codec, topic)
        producer.send(topic, key=e.data["shift_id"].encode(), value=rec.value, headers=rec.headers)

    log = tmp_path / "worker.log"
    first = _worker(env, log)
    try:
        for i, shift in enumerate(SHIFTS, start=1):
            send(view_event(view(shift, 1000, visible_to=("RHQ",), vendor="echo")), names.events("view"))
            send(outcome("BookingConfirmed", shift, f"echo:RHQ:B{i}"), names.events("booking"))
        producer.flush()
        wait_for(
            lambda: len(ATTEMPT.findall(log.read_text(errors="replace"))) >= 5,
            timeout=120,
            what="deliveries to A failing and retried",
        )
        first.send_signal(signal.SIGTERM)
        try:
            code = first.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("the worker was still running 60 s after SIGTERM:\n" + log.read_text()[-3000:])
        text = log.read_text(errors="replace")
        assert code == 0, text[-3000:]
        after = text[text.index("Signal received") :]
        # the attempt under way when the signal came may still end (and be logged); none is tried again
        retried = [key for key, n in Counter(ATTEMPT.findall(after)).items() if n > 1]
        assert not retried, f"deliveries retried after SIGTERM:\n{after[:3000]}"
        assert "deliveries in flight abandoned" in after
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()

    # nothing lost: restarted with A back, every queued update arrives, with the key it was queued with, once
    queued = read_topic(kafka.bootstrap, names.outbound("A"), at_least=len(SHIFTS))
    keys = sorted(headers_dict(r.headers)["rh_out_key"].decode() for r in queued)
    receiver.start()
    second = _worker(env, tmp_path / "worker-2.log")
    try:
        wait_for(lambda: len(receiver.got) >= len(keys), timeout=120, what="A's updates after the restart")
        time.sleep(1)  # a repeat would show up here
        assert sorted(receiver.keys()) == keys
    finally:
        second.terminate()
        second.wait(timeout=60)
        receiver.stop()
        producer.close()
