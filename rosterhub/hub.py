"""``rosterhub run``: every hub process on one machine, for a newcomer to watch events flow.

Starts (or reuses) the broker, creates topics, then runs the stream worker, the HTTP
ingress, a ``rosterhub connect`` process per polled or file-drop connector and a simulated
trust endpoint as child processes (logs in ``.rosterhub/logs``); every vendor simulator
feeds its connector (``rosterhub.demo``), around a working shift market (``rosterhub.demo_market``: known,
credentialed workers, a cascade in minutes); it prints counts per topic, per connector and of the market's
decisions, fills and deliveries.

The children are supervised (``rosterhub.children``, policy in ``rosterhub.supervise``): one that dies
is logged with the real cause (the signal that killed it, or the error it reported) and started again
after a back-off; the hub stops only when asked. Ctrl-C (or SIGTERM or SIGHUP, or ``--duration``)
stops the children within ``stop_timeout_s`` (a second Ctrl-C kills them at once), then the broker if
this command started it.

Access: a local token issuer (``auth_local_issuer_dir``, :mod:`rosterhub.auth.issuer`) is made or
reused, the children accept its tokens (besides any configured ``auth_issuers``), and the demo
traffic authenticates as each trust's integration: Patchwork webhooks signed with a per-trust
secret, FHIR posts and verifiable credentials with tokens minted here. ``rosterhub token`` mints
more from the same issuer for a newcomer's own requests.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import signal
import time
from datetime import timedelta
from pathlib import Path
from types import FrameType

import httpx

from rosterhub.auth.issuer import BearerTokens, LocalIssuer
from rosterhub.auth.roles import Role
from rosterhub.children import Children, ChildSpec
from rosterhub.connectors.kinds import HTTP_KINDS
from rosterhub.connectors.registry import connectors
from rosterhub.dashboard.router import dashboard_url
from rosterhub.demo import DEMO_TRUSTS, DemoContext, DemoSource, demo_sources, free_port
from rosterhub.demo_market import CredentialWallet, Workforce, demo_policies, repo_policies
from rosterhub.errors import ProcessExited, ProcessNotReady
from rosterhub.flow import FlowCounter
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.admin import ensure_topics, topic_counts
from rosterhub.kafka.resolve import resolve_broker
from rosterhub.runtime import TopicNames
from rosterhub.settings import Settings
from rosterhub.supervise import RestartPolicy
from rosterhub.topics import CANONICAL, DLQ_STAGES, declared_topics

__all__ = ["STOP_MARGIN_S", "run_hub"]


class _Stop(Exception):
    pass


#: Seconds the supervisor waits for children after SIGTERM beyond their own bound (``stop_timeout_s``),
#: before it SIGKILLs them: a worker exits by itself at ``stop_timeout_s`` whatever it was doing.
STOP_MARGIN_S = 5.0


class _Signals:
    """SIGINT, SIGTERM and SIGHUP: the first stops the hub (raised as :class:`_Stop` in the main loop), a second
    one during the stop SIGKILLs every child at once."""

    HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self, children: Children) -> None:
        self.children, self.stopping = children, False
        self.previous = {sig: signal.signal(sig, self._on_signal) for sig in self.HANDLED}

    def _on_signal(self, sig: int, _frame: FrameType | None) -> None:
        if not self.stopping:
            self.stopping = True
            raise _Stop(signal.Signals(sig).name)
        print(f"{signal.Signals(sig).name} again: killing every process now", flush=True)
        self.children.kill()

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def _wait_http(url: str, children: Children, name: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    log = children.log_dir / f"{name}.log"
    while time.monotonic() < deadline:
        if children.dead(name):
            raise ProcessExited(f"{name} {children.cause(name)}", process=name, log=str(log))
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise ProcessNotReady(f"{name} did not answer at {url} within {timeout:.0f} s", process=name, log=str(log))


def _status_line(kafka: KafkaAccess, topics: list[str], trust_url: str, elapsed: float) -> str:
    counts = " ".join(f"{c.topic}={c.messages}" for c in topic_counts(kafka, topics))
    try:
        outcomes = httpx.get(trust_url, timeout=2).json()
        delivered = f"delivered={len(outcomes['received'])} repeats={outcomes['repeats']}"
    except httpx.HTTPError:
        delivered = "delivered=?"
    return f"[{elapsed:5.0f}s] {counts} | trust endpoint: {delivered}"


def _child_specs(settings: Settings, pulled: list[str], web_port: int | None) -> list[ChildSpec]:
    """Trust endpoint, the stream workers (:func:`_worker_specs`), ingress, and one `connect` process per
    polled/file-drop vendor."""
    return [
        ChildSpec("trust-endpoint", ["simulate", "trust", "--port", str(settings.demo_trust_port)]),
        *_worker_specs(settings, web_port),
        ChildSpec("ingress", ["serve"]),
        *(ChildSpec(f"connect-{vendor}", ["connect", vendor]) for vendor in pulled),
    ]


def _worker_specs(settings: Settings, web_port: int | None) -> list[ChildSpec]:
    """``run_stream_workers`` workers running every processor in the app id's one group (Kafka shares each topic's
    partitions among them). One: ``worker``, as it always was. More: ``worker-1`` keeps ``state_dir`` and
    ``web_port``, so an earlier run's tables and the demo wallet's address stay where they were; each other worker
    gets a RocksDB folder of its own (RocksDB locks it) and, when the workers serve the web API, a free port of its
    own (a worker forwards a request to the worker owning that person: decision 0009)."""
    count = settings.run_stream_workers
    if count == 1:
        return [ChildSpec("worker", ["worker"])]
    specs = [ChildSpec("worker-1", ["worker"])]
    for n in range(2, count + 1):
        env = {"ROSTERHUB_STATE_DIR": str(settings.state_dir / f"worker-{n}")}
        if web_port is not None:
            env["ROSTERHUB_WORKER_WEB_PORT"] = str(free_port())
        specs.append(ChildSpec(f"worker-{n}", ["worker"], env))
    return specs


def _workers_line(specs: list[ChildSpec], settings: Settings, web_port: int | None) -> str:
    """The banner's line naming each stream worker: its log, state folder and web port."""
    shown = []
    for spec in specs:
        if spec.args != ["worker"]:
            continue
        port = spec.env.get("ROSTERHUB_WORKER_WEB_PORT", str(web_port) if web_port is not None else None)
        web = f", web :{port}" if port is not None else ""
        shown.append(f"{spec.name} (state {spec.env.get('ROSTERHUB_STATE_DIR', str(settings.state_dir))}{web})")
    return f"stream workers, every processor in group {settings.app_id!r}: " + ", ".join(shown)


def _demo_destinations(settings: Settings, sources: list[DemoSource]) -> dict[str, str]:
    """Every demo simulator that receives the hub's updates becomes a destination, unless destinations are
    configured (then those win, as configured connectors do)."""
    if not sources or settings.outbound_destinations:
        return {}
    return {"ROSTERHUB_OUTBOUND_DESTINATIONS": json.dumps([d for s in sources for d in s.destinations])}


def _demo_env(extras: list[dict[str, str]]) -> dict[str, str]:
    """Demo-only values (a demo identity secret, demo policy folders); settings from the environment win."""
    return {k: v for extra in extras for k, v in extra.items() if k not in os.environ}


def _flow_line(flow: FlowCounter, sources: list[DemoSource], specs: dict[str, object]) -> str:
    """Per-connector flow, the updates each simulator applied, and the market: decisions, fills, deliveries."""
    flow.poll()
    received = {s.vendor: s.received() for s in sources if s.received is not None}
    return flow.line(sorted(s.vendor for s in sources) or specs, received)


def _market(
    settings: Settings, workforce: Workforce, bearer: BearerTokens
) -> tuple[CredentialWallet | None, dict[str, str]]:
    """The demo's shift market (rosterhub.demo_market): the trusts' VC wallet and the settings for the hub's
    children (demo policies with the wallet's keys and a cascade in minutes; a web port on the worker, where
    the passport takes VCs). Nothing when the source tree's policies are not there (an installed wheel)."""
    source = repo_policies()
    if not (source / "booking").is_dir():
        return None, {}
    web_port = settings.worker_web_port or free_port()
    wallet = CredentialWallet(workforce, f"http://127.0.0.1:{web_port}", source, auth=bearer)
    env = demo_policies(source, Path(".rosterhub/demo/policies").resolve(), wallet.keys)
    return wallet, {**env, "ROSTERHUB_WORKER_WEB_PORT": str(web_port)}


def _demo(
    settings: Settings, ingress: str, webhook_secrets: dict[str, dict[str, str]], issuer: LocalIssuer
) -> tuple[list[DemoSource], CredentialWallet | None, dict[str, str]]:
    """Every simulator, sharing one workforce, and the market around them (:func:`_market`)."""
    workforce = Workforce()
    bearer = BearerTokens(issuer, Role.TRUST_INTEGRATION, "demo-integration")
    ctx = DemoContext(ingress, Path(".rosterhub/demo").resolve(), webhook_secrets, workforce=workforce, bearer=bearer)
    sources = demo_sources(ctx)
    wallet, env = _market(settings, workforce, bearer)
    return sources, wallet, env


def _access_env(settings: Settings, issuer: LocalIssuer) -> dict[str, str]:
    """The children accept the configured issuers and the local one."""
    accepted = [*settings.auth_issuers, issuer.accepted()]
    unique = {i.issuer: i for i in accepted}.values()
    return {"ROSTERHUB_AUTH_ISSUERS": json.dumps([i.model_dump(mode="json") for i in unique])}


def _webhook_secrets(settings: Settings) -> dict[str, dict[str, str]]:
    """Configured per-trust webhook secrets, and a fresh secret for each demo trust of Patchwork's when none is set."""
    configured = {
        vendor: {trust: s.get_secret_value() for trust, s in by_trust.items()}
        for vendor, by_trust in settings.webhook_secrets.items()
    }
    configured.setdefault("patchwork", {t: secrets.token_hex(16) for t in DEMO_TRUSTS})
    return configured


def _banner(ingress: str, trust_base: str, log_dir: Path, sources: list[DemoSource]) -> None:
    print(
        f"ingress {ingress}/ingest/<vendor>  fhir {ingress}/fhir/<ODS>/R4  metrics {ingress}/metrics  "
        f"trust endpoint {trust_base}/outcomes"
    )
    print(
        "every route but /health wants a token (docs/security.md): "
        f'curl -H "Authorization: Bearer $(rosterhub token --role operator)" {ingress}/status/topics'
    )
    print(
        f"connectors: {', '.join(sorted(s.vendor for s in sources)) or 'none (no demo)'}; "
        f"logs in {log_dir}/; Ctrl-C stops everything (twice: at once)"
    )


def _dashboard_token(settings: Settings, issuer: LocalIssuer) -> str:
    """A demo programme manager's token for the dashboard (12 hours), from the run's local issuer."""
    return issuer.mint(
        "demo-programme-manager",
        [Role.PROGRAMME_MANAGER],
        collaborative=_collaborative(settings),
        ttl=timedelta(hours=12),
    )


def _collaborative(settings: Settings) -> str | None:
    """The collaborative the dashboard opens on: the first one the booking policies declare (docs/kpi.md)."""
    from rosterhub.streams.booking.policy import load_booking_policies

    folder = settings.booking_policy_dir
    if not folder.is_dir():
        folder = repo_policies() / "booking"
    if not folder.is_dir():
        return None
    found = sorted({p.collaborative for p in load_booking_policies([folder]).trusts.values() if p.collaborative})
    return found[0] if found else None


def run_hub(settings: Settings, *, demo: bool, duration: float, interval: float) -> int:
    resolved = resolve_broker(settings)
    print(
        f"Kafka at {resolved.bootstrap} ({resolved.origin}{', ' + resolved.version if resolved.version else ''}, "
        f"{resolved.access.security_protocol})"
    )
    names = TopicNames(settings.topic_prefix)
    specs = connectors()
    ensure_topics(
        resolved.access,
        declared_topics(specs, settings.topic_prefix),
        default_partitions=settings.default_partitions,
        replication_factor=settings.replication_factor,
    )
    trust_base = f"http://127.0.0.1:{settings.demo_trust_port}"
    ingress = f"http://{settings.http_host}:{settings.http_port}"
    endpoints = settings.outbound_endpoints or {ods: f"{trust_base}/outcomes/{ods}" for ods in DEMO_TRUSTS}
    webhook_secrets = _webhook_secrets(settings)
    issuer = LocalIssuer(settings.auth_local_issuer_dir)
    log_dir = Path(".rosterhub/logs")
    sources, wallet, market_env = _demo(settings, ingress, webhook_secrets, issuer) if demo else ([], None, {})
    options = {s.vendor: s.connector_options for s in sources if s.connector_options is not None}
    options.update(settings.connectors)  # configured connectors win over the demo's
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": resolved.bootstrap,
        **resolved.access.env(),  # the children reach the broker exactly as this process does (SASL, TLS files)
        "ROSTERHUB_OUTBOUND_ENDPOINTS": json.dumps(endpoints),
        "ROSTERHUB_WEBHOOK_SECRETS": json.dumps(webhook_secrets),
        **_access_env(settings, issuer),
        "ROSTERHUB_CONNECTORS": json.dumps(options),
        **_demo_destinations(settings, sources),
        **_demo_env([market_env, *(s.env for s in sources)]),
    }
    pulled = [v for v in sorted(options) if specs[v].kind not in HTTP_KINDS]
    web_port = int(env["ROSTERHUB_WORKER_WEB_PORT"]) if env.get("ROSTERHUB_WORKER_WEB_PORT") else None
    child_specs = _child_specs(settings, pulled, web_port)
    children = Children(env, log_dir, RestartPolicy(cap_s=settings.restart_backoff_max_s), _say)
    signals = _Signals(children)
    flow: FlowCounter | None = None
    try:
        for spec in child_specs:
            children.start(spec)
        _wait_http(f"{trust_base}/outcomes", children, "trust-endpoint")
        _wait_http(f"{ingress}/health", children, "ingress")
        _banner(ingress, trust_base, log_dir, sources)
        print(_workers_line(child_specs, settings, web_port), flush=True)
        print(f"dashboard {dashboard_url(ingress, _dashboard_token(settings, issuer))}", flush=True)
        if wallet is not None:
            wallet.start()
        flow = FlowCounter(
            resolved.access,
            events=[names.events(d) for d in CANONICAL],
            dlq=[names.dlq(s) for s in DLQ_STAGES],
            raw={names.raw(v): v for v in specs},
        )
        outcomes = f"{trust_base}/outcomes"
        _rounds(resolved.access, names, children, sources, wallet, flow, dict(specs), outcomes, duration, interval)
        return 0
    except (KeyboardInterrupt, _Stop) as stop:
        print(f"\nstopping ({stop or 'SIGINT'})...", flush=True)
        return 0
    finally:
        signals.stopping = True  # from here a signal SIGKILLs the children instead of interrupting the cleanup
        for closeable in (flow, wallet):
            if closeable is not None:
                closeable.close()
        for source in sources:
            source.close()
        children.stop(settings.stop_timeout_s + STOP_MARGIN_S)
        resolved.close()
        signals.restore()
        print("stopped", flush=True)


def _rounds(
    kafka: KafkaAccess,
    names: TopicNames,
    children: Children,
    sources: list[DemoSource],
    wallet: CredentialWallet | None,
    flow: FlowCounter,
    specs: dict[str, object],
    outcomes_url: str,
    duration: float,
    interval: float,
) -> None:
    """Until ``duration`` is over (or a signal): supervise the children, feed the demo, print the status."""
    watched = [names.raw("patchwork"), names.events("shift"), names.events("booking")]
    watched += [names.dlq("mapping"), names.dlq("outbound")]
    started = time.monotonic()
    for round_no in itertools.count(1):
        if duration > 0 and time.monotonic() - started >= duration:
            return
        children.supervise()
        for source in sources:
            if round_no % source.every == 0:
                _tick(source)
        elapsed = time.monotonic() - started
        restarts = f" | restarts={children.restarts()} ({children.restarted()})" if children.restarts() else ""
        print(_status_line(kafka, watched, outcomes_url, elapsed) + restarts, flush=True)
        nurses = f" | {wallet.summary()}" if wallet is not None else ""
        print(f"        {_flow_line(flow, sources, specs)}{nurses}", flush=True)
        time.sleep(interval)


def _say(line: str) -> None:
    """The supervisor's news (starts, deaths and their causes, restarts, kills) on the hub's own output."""
    print(f"[supervisor] {line}", flush=True)


def _tick(source: DemoSource) -> None:
    """One demo batch; a hub process being restarted (the ingress) costs that batch, not the demo."""
    try:
        source.tick()
    except httpx.HTTPError as exc:
        print(f"demo {source.vendor}: batch not sent: {type(exc).__name__}: {exc}", flush=True)
