"""``rosterhub run``: every hub process on one machine, for a newcomer to watch events flow.

Starts (or reuses) the broker, creates topics, then runs the stream worker, the HTTP
ingress and a simulated trust endpoint as child processes (logs in ``.rosterhub/logs``),
feeds demo traffic through the real HTTP ingress, and prints counts per topic. Ctrl-C
(or SIGTERM, or ``--duration``) stops the children cleanly, then the broker if this
command started it.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import httpx

from rosterhub.connectors.registry import connectors
from rosterhub.demo import DEMO_TRUSTS, DemoFeeder
from rosterhub.errors import BrokerUnavailable
from rosterhub.kafka.admin import ensure_topics, topic_counts
from rosterhub.kafka.resolve import resolve_broker
from rosterhub.runtime import TopicNames
from rosterhub.settings import Settings
from rosterhub.topics import declared_topics

__all__ = ["run_hub"]


class _Stop(Exception):
    pass


def _raise_stop(_sig: int, _frame: FrameType | None) -> None:
    raise _Stop


def _spawn(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    log_dir.mkdir(parents=True, exist_ok=True)
    out = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
    return subprocess.Popen([sys.executable, "-m", "rosterhub", *args], env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_http(url: str, proc: subprocess.Popen[bytes], name: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BrokerUnavailable(f"{name} exited with {proc.returncode}; see .rosterhub/logs/{name}.log")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise BrokerUnavailable(f"{name} did not answer at {url} within {timeout}s")


def _stop_children(children: dict[str, subprocess.Popen[bytes]], timeout: float = 30.0) -> None:
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in children.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _status_line(bootstrap: str, topics: list[str], trust_url: str, elapsed: float) -> str:
    counts = " ".join(f"{c.topic}={c.messages}" for c in topic_counts(bootstrap, topics))
    try:
        outcomes = httpx.get(trust_url, timeout=2).json()
        delivered = f"delivered={len(outcomes['received'])} repeats={outcomes['repeats']}"
    except httpx.HTTPError:
        delivered = "delivered=?"
    return f"[{elapsed:5.0f}s] {counts} | trust endpoint: {delivered}"


def run_hub(settings: Settings, *, demo: bool, duration: float, interval: float) -> int:
    resolved = resolve_broker(settings)
    print(f"Kafka at {resolved.bootstrap} ({resolved.origin}{', ' + resolved.version if resolved.version else ''})")
    names = TopicNames(settings.topic_prefix)
    vendors = list(connectors())
    ensure_topics(
        resolved.bootstrap, declared_topics(vendors, settings.topic_prefix),
        default_partitions=settings.default_partitions, replication_factor=settings.replication_factor,
    )  # fmt: skip
    trust_base = f"http://127.0.0.1:{settings.demo_trust_port}"
    endpoints = settings.outbound_endpoints or {ods: f"{trust_base}/outcomes/{ods}" for ods in DEMO_TRUSTS}
    webhook_secrets = {k: v.get_secret_value() for k, v in settings.webhook_secrets.items()}
    webhook_secrets.setdefault("patchwork", secrets.token_hex(16))
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": resolved.bootstrap,
        "ROSTERHUB_OUTBOUND_ENDPOINTS": json.dumps(endpoints),
        "ROSTERHUB_WEBHOOK_SECRETS": json.dumps(webhook_secrets),
    }
    log_dir = Path(".rosterhub/logs")
    children: dict[str, subprocess.Popen[bytes]] = {}
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    started = time.monotonic()
    try:
        children["trust-endpoint"] = _spawn(
            "trust-endpoint", ["simulate", "trust", "--port", str(settings.demo_trust_port)], env, log_dir
        )
        children["worker"] = _spawn("worker", ["worker"], env, log_dir)
        children["ingress"] = _spawn("ingress", ["serve"], env, log_dir)
        ingress = f"http://{settings.http_host}:{settings.http_port}"
        _wait_http(f"{trust_base}/outcomes", children["trust-endpoint"], "trust-endpoint")
        _wait_http(f"{ingress}/health", children["ingress"], "ingress")
        print(f"ingress {ingress}/ingest/<vendor>  metrics {ingress}/metrics  trust endpoint {trust_base}/outcomes")
        print(f"logs in {log_dir}/; Ctrl-C stops everything")
        feeder = DemoFeeder(ingress, webhook_secrets["patchwork"].encode()) if demo else None
        watched = [names.raw("patchwork"), names.events("shift"), names.events("booking"),
                   names.dlq("mapping"), names.dlq("outbound")]  # fmt: skip
        while duration <= 0 or time.monotonic() - started < duration:
            for name, proc in children.items():
                if proc.poll() is not None:
                    raise BrokerUnavailable(f"{name} exited with {proc.returncode}; see {log_dir}/{name}.log")
            if feeder is not None:
                feeder.feed_batch()
            print(_status_line(resolved.bootstrap, watched, f"{trust_base}/outcomes", time.monotonic() - started),
                  flush=True)  # fmt: skip
            time.sleep(interval)
        return 0
    except (KeyboardInterrupt, _Stop):
        print("\nstopping...")
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop_children(children)
        resolved.close()
        print("stopped")
