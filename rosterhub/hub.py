"""``rosterhub run``: every hub process on one machine, for a newcomer to watch events flow.

Starts (or reuses) the broker, creates topics, then runs the stream worker, the HTTP
ingress, a ``rosterhub connect`` process per polled or file-drop connector and a simulated
trust endpoint as child processes (logs in ``.rosterhub/logs``); every vendor simulator
feeds its connector (``rosterhub.demo``), around a working shift market (``rosterhub.demo_market``: known,
credentialed workers, a cascade in minutes); it prints counts per topic, per connector and of the market's
decisions, fills and deliveries. Ctrl-C
(or SIGTERM, or ``--duration``) stops the children cleanly, then the broker if this
command started it.
"""

from __future__ import annotations

import itertools
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

from rosterhub.connectors.kinds import HTTP_KINDS
from rosterhub.connectors.registry import connectors
from rosterhub.demo import DEMO_TRUSTS, DemoContext, DemoSource, demo_sources, free_port
from rosterhub.demo_market import CredentialWallet, Workforce, demo_policies, repo_policies
from rosterhub.errors import BrokerUnavailable
from rosterhub.flow import FlowCounter
from rosterhub.kafka.admin import ensure_topics, topic_counts
from rosterhub.kafka.resolve import resolve_broker
from rosterhub.runtime import TopicNames
from rosterhub.settings import Settings
from rosterhub.topics import CANONICAL, DLQ_STAGES, declared_topics

__all__ = ["run_hub"]


class _Stop(Exception):
    pass


def _raise_stop(_sig: int, _frame: FrameType | None) -> None:
    raise _Stop


def _spawn(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    log_dir.mkdir(parents=True, exist_ok=True)
    out = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
    return subprocess.Popen([sys.executable, "-m", "rosterhub", *args], env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_http(url: str, proc: subprocess.Popen[bytes], name: str, timeout: float = 180.0) -> None:
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


def _start_children(
    children: dict[str, subprocess.Popen[bytes]], settings: Settings, env: dict[str, str], pulled: list[str]
) -> None:
    """Trust endpoint, stream worker, ingress, and one `connect` process per polled/file-drop vendor."""
    log_dir = Path(".rosterhub/logs")
    children["trust-endpoint"] = _spawn(
        "trust-endpoint", ["simulate", "trust", "--port", str(settings.demo_trust_port)], env, log_dir
    )
    children["worker"] = _spawn("worker", ["worker"], env, log_dir)
    children["ingress"] = _spawn("ingress", ["serve"], env, log_dir)
    for vendor in pulled:
        children[f"connect-{vendor}"] = _spawn(f"connect-{vendor}", ["connect", vendor], env, log_dir)


def _demo_destinations(settings: Settings, sources: list[DemoSource]) -> dict[str, str]:
    """Every demo simulator that receives the hub's updates becomes a destination, unless destinations are
    configured (then those win, as configured connectors do)."""
    if not sources or settings.outbound_destinations:
        return {}
    return {"ROSTERHUB_OUTBOUND_DESTINATIONS": json.dumps([d for s in sources for d in s.destinations])}


def _demo_env(extras: list[dict[str, str]]) -> dict[str, str]:
    """Demo-only values (a demo identity secret, demo policy folders); settings from the environment win."""
    return {k: v for extra in extras for k, v in extra.items() if k not in os.environ}


def _check_children(children: dict[str, subprocess.Popen[bytes]], log_dir: Path) -> None:
    for name, proc in children.items():
        if proc.poll() is not None:
            raise BrokerUnavailable(f"{name} exited with {proc.returncode}; see {log_dir}/{name}.log")


def _flow_line(flow: FlowCounter, sources: list[DemoSource], specs: dict[str, object]) -> str:
    """Per-connector flow, the updates each simulator applied, and the market: decisions, fills, deliveries."""
    flow.poll()
    received = {s.vendor: s.received() for s in sources if s.received is not None}
    return flow.line(sorted(s.vendor for s in sources) or specs, received)


def _market(settings: Settings, workforce: Workforce) -> tuple[CredentialWallet | None, dict[str, str]]:
    """The demo's shift market (rosterhub.demo_market): the trusts' VC wallet and the settings for the hub's
    children (demo policies with the wallet's keys and a cascade in minutes; a web port on the worker, where
    the passport takes VCs). Nothing when the source tree's policies are not there (an installed wheel)."""
    source = repo_policies()
    if not (source / "booking").is_dir():
        return None, {}
    web_port = settings.worker_web_port or free_port()
    wallet = CredentialWallet(workforce, f"http://127.0.0.1:{web_port}", source)
    env = demo_policies(source, Path(".rosterhub/demo/policies").resolve(), wallet.keys)
    return wallet, {**env, "ROSTERHUB_WORKER_WEB_PORT": str(web_port)}


def _demo(
    settings: Settings, ingress: str, webhook_secrets: dict[str, str]
) -> tuple[list[DemoSource], CredentialWallet | None, dict[str, str]]:
    """Every simulator, sharing one workforce, and the market around them (:func:`_market`)."""
    workforce = Workforce()
    ctx = DemoContext(ingress, Path(".rosterhub/demo").resolve(), webhook_secrets, workforce=workforce)
    sources = demo_sources(ctx)
    wallet, env = _market(settings, workforce)
    return sources, wallet, env


def run_hub(settings: Settings, *, demo: bool, duration: float, interval: float) -> int:
    resolved = resolve_broker(settings)
    print(f"Kafka at {resolved.bootstrap} ({resolved.origin}{', ' + resolved.version if resolved.version else ''})")
    names = TopicNames(settings.topic_prefix)
    specs = connectors()
    ensure_topics(
        resolved.bootstrap,
        declared_topics(specs, settings.topic_prefix),
        default_partitions=settings.default_partitions,
        replication_factor=settings.replication_factor,
    )
    trust_base = f"http://127.0.0.1:{settings.demo_trust_port}"
    ingress = f"http://{settings.http_host}:{settings.http_port}"
    endpoints = settings.outbound_endpoints or {ods: f"{trust_base}/outcomes/{ods}" for ods in DEMO_TRUSTS}
    webhook_secrets = {k: v.get_secret_value() for k, v in settings.webhook_secrets.items()}
    webhook_secrets.setdefault("patchwork", secrets.token_hex(16))
    log_dir = Path(".rosterhub/logs")
    sources, wallet, market_env = _demo(settings, ingress, webhook_secrets) if demo else ([], None, {})
    options = {s.vendor: s.connector_options for s in sources if s.connector_options is not None}
    options.update(settings.connectors)  # configured connectors win over the demo's
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": resolved.bootstrap,
        "ROSTERHUB_OUTBOUND_ENDPOINTS": json.dumps(endpoints),
        "ROSTERHUB_WEBHOOK_SECRETS": json.dumps(webhook_secrets),
        "ROSTERHUB_CONNECTORS": json.dumps(options),
        **_demo_destinations(settings, sources),
        **_demo_env([market_env, *(s.env for s in sources)]),
    }
    children: dict[str, subprocess.Popen[bytes]] = {}
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    started = time.monotonic()
    flow: FlowCounter | None = None
    try:
        _start_children(children, settings, env, [v for v in sorted(options) if specs[v].kind not in HTTP_KINDS])
        _wait_http(f"{trust_base}/outcomes", children["trust-endpoint"], "trust-endpoint")
        _wait_http(f"{ingress}/health", children["ingress"], "ingress")
        print(
            f"ingress {ingress}/ingest/<vendor>  fhir {ingress}/fhir/<ODS>/R4  metrics {ingress}/metrics  "
            f"trust endpoint {trust_base}/outcomes"
        )
        print(
            f"connectors: {', '.join(sorted(s.vendor for s in sources)) or 'none (no demo)'}; "
            f"logs in {log_dir}/; Ctrl-C stops everything"
        )
        if wallet is not None:
            wallet.start()
        watched = [
            names.raw("patchwork"),
            names.events("shift"),
            names.events("booking"),
            names.dlq("mapping"),
            names.dlq("outbound"),
        ]
        flow = FlowCounter(
            resolved.bootstrap,
            events=[names.events(d) for d in CANONICAL],
            dlq=[names.dlq(s) for s in DLQ_STAGES],
            raw={names.raw(v): v for v in specs},
        )
        for round_no in itertools.count(1):
            if duration > 0 and time.monotonic() - started >= duration:
                break
            _check_children(children, log_dir)
            for source in sources:
                if round_no % source.every == 0:
                    source.tick()
            elapsed = time.monotonic() - started
            print(_status_line(resolved.bootstrap, watched, f"{trust_base}/outcomes", elapsed), flush=True)
            nurses = f" | {wallet.summary()}" if wallet is not None else ""
            print(f"        {_flow_line(flow, sources, specs)}{nurses}", flush=True)
            time.sleep(interval)
        return 0
    except (KeyboardInterrupt, _Stop):
        print("\nstopping...")
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        for closeable in (flow, wallet):
            if closeable is not None:
                closeable.close()
        for source in sources:
            source.close()
        _stop_children(children)
        resolved.close()
        print("stopped")
