"""Every rosterhub setting, in one place.

Values come, highest priority first, from: keyword arguments, environment variables
(``ROSTERHUB_<NAME>``; the two ecosystem-standard names ``KAFKA_BOOTSTRAP_SERVERS`` and
``SCHEMA_REGISTRY_URL`` are also read unprefixed), a TOML config file (path in
``ROSTERHUB_CONFIG``, default ``rosterhub.toml`` in the working directory when present)
and the defaults below. ``docs/configuration.md`` is generated from this module
(``rosterhub config docs``) so the documentation cannot drift from the code.

Settings are frozen: a process reads them once at start and passes them down, so no
module reaches for global state halfway through handling a record.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = [
    "KAFKA_VERSION",
    "TOKEN_ALGORITHMS",
    "AcceptedIssuer",
    "OutboundDestinationConfig",
    "Settings",
    "load_settings",
]

#: The Apache Kafka release the local broker runs. Why this one: docs/decisions/0002-kafka-version.md.
KAFKA_VERSION = "4.3.1"


def _processor_names() -> tuple[str, ...]:
    """The stream processors the features declare (imported here, not at module load: settings come first)."""
    from rosterhub.features import processor_names

    return processor_names()


def _unmet_needs(running: list[str]) -> str | None:
    """Why these processors cannot run on one worker (a processor without one it needs), or None."""
    from rosterhub.features import unmet_needs_message

    return unmet_needs_message(running)


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rosterhub"


class OutboundDestinationConfig(BaseModel):
    """One trust system the hub delivers updates to (``[[outbound_destinations]]`` in TOML, JSON in env)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="Unique; names out.<name> and metrics.")
    trust: str = Field(description="ODS code of the trust whose system this is.")
    platform: str = Field(
        description="The platform (vendor id) this system is; also the adapter's name unless `adapter` says another."
    )
    adapter: str | None = Field(
        default=None,
        description="Adapter that renders the updates, when the platform has none of its own: `rosterhub_webhook` "
        "(the hub's standard update webhook, docs/outbound-adapters.md).",
    )
    url: str | None = Field(default=None, description="Base URL for HTTP platforms.")
    folder: str | None = Field(default=None, description="Drop folder for file platforms.")
    secret: SecretStr | None = Field(default=None, description="HMAC secret or bearer token; never logged.")
    options: dict[str, Any] = Field(default_factory=dict, description="Platform-specific options (adapter docs).")

    @model_validator(mode="after")
    def _reachable(self) -> OutboundDestinationConfig:
        if not self.url and not self.folder:
            raise ValueError(f"outbound destination {self.name!r} needs a url or a folder")
        return self


#: Signature algorithms a bearer token may use: asymmetric only (no ``none``, no HMAC that a published
#: public key could be abused as the secret of).
TOKEN_ALGORITHMS = ("ES256", "ES384", "EdDSA", "Ed25519", "RS256", "PS256")


class AcceptedIssuer(BaseModel):
    """One issuer whose bearer tokens the hub accepts (``[[auth_issuers]]`` in TOML, JSON in env)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issuer: str = Field(min_length=1, description="The tokens' `iss`, compared exactly.")
    audience: str = Field(default="rosterhub", min_length=1, description="The `aud` the tokens must name.")
    jwks_url: str | None = Field(
        default=None, description="HTTPS URL of the issuer's JWKS (cached, re-read on an unknown `kid`)."
    )
    jwks_file: Path | None = Field(default=None, description="A JWKS file (the local issuer's `jwks.json`).")
    algorithms: list[str] = Field(
        default_factory=lambda: ["ES256", "EdDSA", "RS256", "PS256"],
        description=f"Signature algorithms accepted from this issuer; a subset of {', '.join(TOKEN_ALGORITHMS)}.",
    )

    @model_validator(mode="after")
    def _one_key_source(self) -> AcceptedIssuer:
        if (self.jwks_url is None) == (self.jwks_file is None):
            raise ValueError(f"issuer {self.issuer!r} needs exactly one of jwks_url and jwks_file")
        refused = [a for a in self.algorithms if a not in TOKEN_ALGORITHMS]
        if refused or not self.algorithms:
            raise ValueError(
                f"issuer {self.issuer!r}: algorithms {refused or '[]'} are not accepted ({TOKEN_ALGORITHMS})"
            )
        return self


class Settings(BaseSettings):
    """Runtime configuration of a rosterhub process (hub, worker, connector or tool)."""

    model_config = SettingsConfigDict(
        env_prefix="ROSTERHUB_",
        frozen=True,
        extra="forbid",
        populate_by_name=True,
    )

    # --- Kafka -----------------------------------------------------------------
    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "ROSTERHUB_KAFKA_BOOTSTRAP_SERVERS"),
        description="host:port[,host:port] of an existing Kafka cluster. When unset, the hub "
        "starts its own local KRaft broker (see the `kafka_*` settings below).",
    )
    topic_prefix: str = Field(
        default="",
        description="Prepended to every topic name (e.g. `staging.`); lets several hubs or "
        "test runs share one cluster without seeing each other's events.",
    )
    default_partitions: PositiveInt = Field(
        default=6, description="Partitions for topics that do not declare their own count."
    )
    replication_factor: PositiveInt = Field(
        default=1, description="Replication factor for topics the hub creates (3 in production)."
    )
    # --- Kafka security (every client of the hub; docs/kafka-security.md) ------------
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"] = Field(
        default="PLAINTEXT",
        description="How every client of the hub talks to Kafka: `PLAINTEXT`, `SASL_PLAINTEXT` (SCRAM, loopback or "
        "a private network only), `SASL_SSL` (SCRAM or PLAIN over TLS) or `SSL` (TLS; with `kafka_ssl_certfile`: "
        "mutual TLS). The local broker opens its client listener with the same protocol.",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] = Field(
        default="SCRAM-SHA-512",
        description="SASL mechanism for the `SASL_*` protocols. `PLAIN` sends the password itself, so it is "
        "accepted only over `SASL_SSL` (managed services such as Confluent Cloud or Azure Event Hubs use it); "
        "the local broker supports the SCRAM mechanisms.",
    )
    kafka_sasl_username: str | None = Field(
        default=None, description="SASL user of the hub's processes (required by the `SASL_*` protocols)."
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None, description="Password of `kafka_sasl_username`; never logged."
    )
    kafka_ssl_cafile: Path | None = Field(
        default=None,
        description="PEM file of the CA(s) that signed the brokers' certificates. Unset: the system's trust store "
        "(the local broker's own CA when it generated one).",
    )
    kafka_ssl_certfile: Path | None = Field(
        default=None,
        description="PEM client certificate (chain) for mutual TLS; needs `kafka_ssl_keyfile`. Unset with `SSL`: "
        "TLS without a client certificate (the local broker then generates one for the hub).",
    )
    kafka_ssl_keyfile: Path | None = Field(default=None, description="PEM private key of `kafka_ssl_certfile`.")
    kafka_ssl_key_password: SecretStr | None = Field(
        default=None, description="Password of an encrypted `kafka_ssl_keyfile`; never logged."
    )
    kafka_ssl_check_hostname: bool = Field(
        default=True,
        description="Check that a broker's certificate names the host connected to. Turn off only for a test "
        "cluster whose certificates do not name its hosts.",
    )
    # --- Local broker (used only when kafka_bootstrap_servers is unset) ----------
    kafka_version: str = Field(
        default=KAFKA_VERSION, description="Apache Kafka version fetched from Maven Central for the local broker."
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Where fetched Kafka jars are cached (outside the work tree, reused across runs).",
    )
    kafka_data_dir: Path = Field(
        default=Path(".rosterhub/kafka"),
        description="Data, logs and pid file of the local broker.",
    )
    kafka_port: int = Field(
        default=19092,
        description="Client listener port of the local broker (its protocol is `kafka_security_protocol`).",
    )
    kafka_controller_port: int = Field(default=19093, description="KRaft controller port of the local broker.")
    kafka_heap: str = Field(default="512m", description="-Xmx/-Xms of the local broker JVM.")
    kafka_start_timeout_s: float = Field(default=60.0, description="How long to wait for the local broker to answer.")
    # --- Schemas -----------------------------------------------------------------
    schema_registry_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SCHEMA_REGISTRY_URL", "ROSTERHUB_SCHEMA_REGISTRY_URL"),
        description="Confluent-compatible schema registry. Set: Confluent wire format. Unset: Avro "
        "single-object encoding with writer schemas on the `_rosterhub.schemas` topic.",
    )
    # --- HTTP ------------------------------------------------------------------------
    http_host: str = Field(default="127.0.0.1", description="Bind address of the hub's HTTP ingress and API.")
    http_port: int = Field(default=8080, description="Port of the hub's HTTP ingress and API.")
    max_payload_bytes: PositiveInt = Field(
        default=1_048_576, description="Inbound payloads above this size are refused (413) and dead-lettered."
    )
    ingress_max_in_flight: PositiveInt = Field(
        default=64,
        description="Webhook requests the ingress works on at once; more are answered 429 with Retry-After.",
    )
    ingress_max_lag: NonNegativeInt = Field(
        default=20_000,
        description="Records of events.booking and events.shift the stream workers may be behind before the "
        "ingress answers 429 (Retry-After from the drain rate) and polling and file connectors wait before reading "
        "more (connectors/kinds/backpressure.py). 0: never.",
    )
    ingress_lag_poll_s: PositiveFloat = Field(
        default=2.0, description="How often the ingress and connectors ask the broker for the workers' lag."
    )
    # --- Stream processing -----------------------------------------------------------
    app_id: str = Field(default="rosterhub", description="Faust application id (consumer group, changelog names).")
    store: str = Field(
        default="rocksdb://",
        description="Faust table store: `rocksdb://` (RocksDB via rocksdict, survives restarts) or `memory://`.",
    )
    state_dir: Path = Field(default=Path(".rosterhub/state"), description="Faust table data directory.")
    booking_unknown_shift_grace_s: PositiveFloat = Field(
        default=300.0,
        description="A booking request whose shift the hub has not seen is parked this long before it is "
        "rejected with SHIFT_UNKNOWN (requests and shifts travel on different topics, so either may come first).",
    )
    booking_policy_dir: Path = Field(
        default=Path("policies/booking"),
        description="Folder of booking policy files (`collaborative.yaml`, `<ODS>.yaml`), validated when a worker "
        "starts; see docs/booking.md.",
    )
    booking_timer_interval_s: PositiveFloat = Field(
        default=5.0,
        description="How often the booking processor's timer looks for overdue parked requests and holds.",
    )
    booking_hold_resend_s: PositiveFloat = Field(
        default=30.0,
        description="A shift held for a request whose person check has not been answered this long re-sends the "
        "same check (same ids: the person stage answers a redelivered check from its stored answer). Under a "
        "backlog the wait is longer: twice the longest answer delay the worker saw in the last minute.",
    )
    booking_hold_timeout_s: PositiveFloat = Field(
        default=180.0,
        description="A hold whose person check is still unanswered this long after it began (and after enough "
        "re-sends to span it) is rejected with PERSON_CHECK_TIMEOUT, the person released and the shift freed for "
        "the next request. Keep it a multiple of booking_hold_resend_s.",
    )
    booking_admission_waiting: NonNegativeInt = Field(
        default=0,
        description="A stream worker stops reading new shifts and booking requests while this many of the booking "
        "saga's own checks and answers wait in it, until a quarter of that is left, so that under overload it "
        "decides the requests it has read before reading more and the backlog waits, in order, in the input topics "
        "(where the ingress's 429s see it). 0 (the default): never hold input back. 1000 (with the default fetch "
        "size) decided 76 requests a second at twice the rate a worker can decide, 0.92 of its flat-out maximum, "
        "but lowered that maximum by about a fifth; see docs/booking.md.",
    )
    booking_person_retention_days: PositiveInt = Field(
        default=210,
        description="The booking person stage forgets a person's bookings, and the answers it gave, once their "
        "shift ended this many days ago (pruned when the person is next written). Must cover the longest look-back "
        "of the loaded booking policies' rules (WTR reference period, up to 52 weeks): a worker refuses to start "
        "with less, naming the minimum (183 days for a 26-week reference period; see docs/booking.md).",
    )
    stream_producer_linger_s: float = Field(
        default=0.005,
        ge=0,
        le=1.0,
        description="How long the stream worker's producer waits to fill a batch before sending it (faust "
        "`producer_linger`). 0 sends at once, one produce request (a loopback socket write, the largest single "
        "cost in an empty hop's profile) per few records; 5 ms batches them at up to 5 ms more per hop (3 hops "
        "per decision); see docs/benchmarks.md.",
    )
    stream_event_loop: Literal["uvloop", "asyncio"] = Field(
        default="uvloop",
        description="The stream worker's event loop. uvloop schedules faust's per-record tasks and callbacks for "
        "less CPU than asyncio's pure-Python loop; see docs/benchmarks.md ('Per-hop cost').",
    )
    stream_fast_drain: bool = Field(
        default=True,
        description="Hand each fetched record to the agents in place when that does not have to wait, instead of "
        "racing four asyncio tasks per record (streams/faust_drain.py; faust #221's ordering guarantee is kept).",
    )
    stream_buffer_maxsize: int = Field(
        default=256,
        ge=16,
        description="Records faust queues per agent input before it pauses fetching (faust `stream_buffer_maxsize`, "
        "4096 by default). A booking request queues behind at most this many records of a bulk shift load in "
        "the shift stage's one input queue: smaller keeps requests' latency bounded under a backlog.",
    )
    stream_fetch_partition_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="The most a stream worker fetches from one partition at a time (faust `consumer_max_fetch_size`). "
        "faust hands its agents everything one fetch brought before fetching again, so under a backlog a 1 MB fetch "
        "is thousands of shifts and requests. Smaller fetches let a `booking_admission_waiting` hold take effect "
        "sooner, but cost more: 32768 lowered the flat-out maximum by 41 % and did worse under overload than the "
        "default. See docs/booking.md ('Under overload: decisions before new input').",
    )
    stream_standby_replicas: NonNegativeInt = Field(
        default=0,
        description="faust `table_standby_replicas`: copies of each table partition other workers keep warm by "
        "re-reading every changelog write. 0: a worker taking over a partition rebuilds it from the changelog "
        "(slower failover) and no worker pays to follow the others' writes; see docs/benchmarks.md.",
    )
    worker_processors: list[str] = Field(
        default_factory=lambda: list(_processor_names()),
        min_length=1,
        description="Which stream processors a worker runs (default: all; each processor declares its name in its "
        "package's `feature` module, rosterhub/features.py). Lets a deployment give a processor its "
        'own workers (e.g. `["booking", "passport", "open-shifts"]` on some workers, the rest on others, scaled '
        "apart); every processor must run on some worker of the app id. Workers with the same set share a consumer "
        "group, named `<app_id>.run.<processors>` (the plain app id when a worker runs all); each processor runs "
        "in one set: a worker refuses to start while a running group's set overlaps its own "
        "(docs/decisions/0017-a-group-per-processor-set.md). A processor runs with the processors it needs (it "
        "reads their tables in its own worker: booking and open-shifts need passport); a set without them is "
        "refused, naming what to add (docs/deploy.md, Worker layout).",
    )
    worker_web_port: int | None = Field(
        default=None,
        description="Port of the stream worker's own web server (the hub's FastAPI app inside the worker, "
        "docs/decisions/0009-worker-web-server.md), which serves the passport and availability APIs "
        "(docs/passport.md) to bearer tokens (docs/security.md) and forwards each request to the worker owning "
        "that person. Unset: no web server on the worker. Every worker needs its own port.",
    )
    worker_web_host: str = Field(
        default="127.0.0.1",
        description="Address the worker's web server binds to and advertises to other workers for request routing.",
    )
    passport_policy_dir: Path = Field(
        default=Path("policies"),
        description="Folder of trust policy files (`<ODS>.yaml`, `collaborative.yaml`), validated when a worker "
        "starts; see docs/passport.md.",
    )
    passport_expiring_days: list[int] = Field(
        default_factory=lambda: [30, 7],
        description="CredentialExpiring is sent this many days before a credential expires, once per threshold.",
    )
    passport_timer_interval_s: PositiveFloat = Field(
        default=1.0,
        description="How often the passport's timer sends ticks for credentials whose notices are due.",
    )
    passport_block_cache_mb: PositiveInt = Field(
        default=64,
        description="RocksDB block cache of each partition of the passport table, in MiB (faust's default is "
        "2 GiB per partition; this bounds a worker's memory, see docs/benchmarks.md).",
    )
    passport_schedule_horizon_s: PositiveFloat = Field(
        default=86400.0,
        description="The passport timer keeps in memory only the notices due within this horizon and rescans its "
        "table once per horizon (bounded memory for 1.5 million passports).",
    )
    # --- Availability ------------------------------------------------------------------
    availability_policy_dir: Path = Field(
        default=Path("policies/availability"),
        description="Folder of release cascade files (`<collaborative>.yaml`), validated when a worker starts; "
        "see docs/availability.md.",
    )
    availability_timer_interval_s: PositiveFloat = Field(
        default=1.0,
        description="How often the availability timer looks for shifts whose release or completion is due.",
    )
    # --- KPIs ---------------------------------------------------------------------------
    kpi_policy_dir: Path = Field(
        default=Path("policies/kpi"),
        description="Folder of KPI settings per collaborative (`<collaborative>.yaml`: late-cancellation notice, "
        "agency reference rates, bank-holiday calendar), validated when a worker starts; a collaborative without a "
        "file gets the documented defaults (docs/kpi.md).",
    )
    # --- Payroll -----------------------------------------------------------------------
    payroll_policy_dir: Path = Field(
        default=Path("policies/payroll"),
        description="Folder of payroll policy files (`collaborative.yaml`, `<ODS>.yaml`: tolerances, approval, "
        "rate cards, enhancements, cut-offs, employment model), validated when a worker starts; see docs/payroll.md. "
        "Missing: the payroll processor does not run.",
    )
    payroll_timer_interval_s: PositiveFloat = Field(
        default=30.0,
        description="How often the payroll timer looks for unmatched timesheets past their grace and bookings whose "
        "timesheet is missing.",
    )
    # --- Outbound ----------------------------------------------------------------------
    outbound_endpoints: dict[str, str] = Field(
        default_factory=dict,
        description="Trust ODS code -> URL that receives that trust's booking outcomes (JSON POST).",
    )
    outbound_destinations: list[OutboundDestinationConfig] = Field(
        default_factory=list,
        description="Trust systems the hub delivers updates to, each `{name, trust, platform, url or folder, "
        "secret, options}` (docs/outbound.md). Each `outbound_endpoints` entry is added as a destination "
        "`outcomes-<ODS>` of platform `outcomes` unless one of that name is configured here.",
    )
    outbound_adapter_modules: list[str] = Field(
        default_factory=list,
        description="Extra modules exposing an outbound `ADAPTER`, imported at start (a plugin without packaging; "
        "packaged plugins use the `rosterhub.outbound_adapters` entry point group).",
    )
    outbound_timeout_s: float = Field(default=5.0, description="HTTP timeout of one outbound delivery attempt.")
    outbound_max_attempts: NonNegativeInt = Field(
        default=0,
        description="Delivery attempts before an update is dead-lettered; 0: no limit, only `outbound_max_age_s`.",
    )
    outbound_max_age_s: PositiveFloat = Field(
        default=86400.0,
        description="An update still not delivered this long after it was queued goes to `dlq.outbound` "
        "(`rosterhub redrive` sends it again).",
    )
    outbound_backoff_base_s: PositiveFloat = Field(
        default=0.5, description="First retry waits up to this long (exponential back-off, full jitter)."
    )
    outbound_backoff_cap_s: PositiveFloat = Field(default=60.0, description="Longest wait between two retries.")
    outbound_breaker_failures: PositiveInt = Field(
        default=5, description="Consecutive retriable failures that open a destination's circuit breaker."
    )
    outbound_breaker_reset_s: PositiveFloat = Field(
        default=30.0, description="How long an open breaker waits before letting one trial call through."
    )
    outbound_concurrency: PositiveInt = Field(
        default=8, description="Shifts delivered at the same time per destination (each shift stays in order)."
    )
    demo_trust_port: int = Field(
        default=8090, description="Port of the simulated trust endpoint that `rosterhub run` starts for the demo."
    )
    # --- Connectors --------------------------------------------------------------------
    connectors: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Vendor id -> that connector's options (inbox folders, poll URLs, trusts...), validated by "
        "the connector's own options model at start; see docs/connectors.md.",
    )
    connector_state_retention_days: PositiveFloat = Field(
        default=35.0, description="How long connectors remember published event ids for deduplication."
    )
    webhook_secrets: dict[str, dict[str, SecretStr]] = Field(
        default_factory=dict,
        description="Vendor id -> trust ODS code -> that trust's HMAC-SHA256 secret for the vendor's signed webhooks "
        '(`{"patchwork": {"RHQ": "..."}}`). The secret that verifies a push names its trust, so each trust\'s '
        "secret must differ; a vendor pushing without a signature authenticates with a bearer token instead "
        "(docs/security.md).",
    )
    # --- Access ----------------------------------------------------------------------------
    auth_issuers: list[AcceptedIssuer] = Field(
        default_factory=list,
        description="Token issuers whose bearer tokens (JWT access tokens) the hub's HTTP routes accept, each "
        "`{issuer, audience, jwks_url or jwks_file, algorithms}`. None configured: every route but /health and "
        "FHIR metadata answers 401. `rosterhub run` adds its local issuer (docs/security.md).",
    )
    auth_leeway_s: float = Field(
        default=30.0, ge=0, le=300, description="Clock skew allowed when checking a token's exp, nbf and iat."
    )
    auth_jwks_cache_s: PositiveFloat = Field(
        default=300.0, description="How long a JWKS fetched from a URL is used before it is fetched again."
    )
    auth_local_issuer_dir: Path = Field(
        default=Path(".rosterhub/issuer"),
        description="Key folder of the local token issuer that `rosterhub run` and `rosterhub token` use (private "
        "key, `jwks.json`); created on first use.",
    )
    auth_accept_local_issuer: bool = Field(
        default=False,
        description="Also accept the tokens of the local issuer in `auth_local_issuer_dir` (made on first use): for "
        "a demo whose processes share that folder (docker/compose.yaml). A production hub lists its identity "
        "providers in `auth_issuers` instead.",
    )
    # --- Processes ------------------------------------------------------------------------
    run_stream_workers: PositiveInt = Field(
        default=2,
        description="How many stream workers `rosterhub run` starts, each running every processor in the app id's "
        "one consumer group, so Kafka gives each a share of every topic's partitions (the outbound delivery groups' "
        "too). 1: one `worker`, as before; more: `worker-1`, `worker-2`... (logs `.rosterhub/logs/worker-<n>.log`), "
        "worker-1 on `state_dir` and `worker_web_port`, the others on `state_dir`/worker-<n> and a free port each. "
        "A worker is CPU-bound on one core, so 2 uses both cores of a 2-core machine "
        "(docs/decisions/0017-a-group-per-processor-set.md, docs/benchmarks.md).",
    )
    stop_timeout_s: float = Field(
        default=30.0,
        ge=2.0,
        description="A stop or a rebalance finishes within this time, whatever is in flight. A worker waits at "
        "most half of it for records its agents have started (the rest are read again, after a restart or by the "
        "partition's new owner), abandons outbound retries at once (they resume on restart, same idempotency key), "
        "and exits by itself when still running this long after SIGTERM; a second SIGTERM/SIGINT exits at once. "
        "`rosterhub run` kills a child still running 5 s after that.",
    )
    restart_backoff_max_s: PositiveFloat = Field(
        default=30.0,
        description="`rosterhub run` starts a child that died again after 1 s, doubling for each death in a row "
        "within a minute of its start, up to this many seconds (docs/deploy.md).",
    )
    # --- Logging -------------------------------------------------------------------------
    log_level: str = Field(default="INFO", description="Log level of every rosterhub process.")
    log_json: bool = Field(default=False, description="Structured JSON logs (for production) instead of console lines.")

    @field_validator("worker_processors")
    @classmethod
    def _known_processors(cls, names: list[str]) -> list[str]:
        known = _processor_names()
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(
                f"worker_processors: unknown processor {', '.join(map(repr, unknown))}; known: {', '.join(known)}"
            )
        if (unmet := _unmet_needs(names)) is not None:
            raise ValueError(unmet)
        return names

    @model_validator(mode="after")
    def _kafka_security_consistent(self) -> Settings:
        protocol = self.kafka_security_protocol
        if protocol.startswith("SASL_") and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(f"kafka_security_protocol={protocol} needs kafka_sasl_username and kafka_sasl_password")
        if self.kafka_sasl_mechanism == "PLAIN" and protocol == "SASL_PLAINTEXT":
            raise ValueError(
                "kafka_sasl_mechanism=PLAIN sends the password in clear over SASL_PLAINTEXT: use SASL_SSL or SCRAM"
            )
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            raise ValueError("kafka_ssl_certfile and kafka_ssl_keyfile go together (mutual TLS needs both)")
        tls_files = [self.kafka_ssl_cafile, self.kafka_ssl_certfile, self.kafka_ssl_keyfile]
        if not protocol.endswith("SSL") and any(tls_files):
            raise ValueError(f"kafka_ssl_* files are set but kafka_security_protocol={protocol} does not use TLS")
        return self

    @property
    def kafka_url(self) -> str:
        """Bootstrap servers as faust wants them (``kafka://host:port``)."""
        if not self.kafka_bootstrap_servers:
            raise RuntimeError("no Kafka bootstrap servers resolved yet")
        return ";".join(f"kafka://{hp.strip()}" for hp in self.kafka_bootstrap_servers.split(","))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_path = Path(os.environ.get("ROSTERHUB_CONFIG", "rosterhub.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_path))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment and config file, with explicit overrides on top."""
    return Settings(**overrides)
