"""The hub's processes: ``run`` (everything, for a newcomer), ``worker``, ``serve``, ``topics``, ``simulate``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from rosterhub.cli import simulate_cmd
from rosterhub.cli.common import fail, prepare
from rosterhub.cli.connect_cmd import connect
from rosterhub.errors import RosterhubError
from rosterhub.settings import load_settings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rosterhub.kafka.access import KafkaAccess
    from rosterhub.settings import Settings
    from rosterhub.topics import TopicSpec

__all__ = ["register"]


def run(
    demo: bool = typer.Option(True, help="Feed the demo traffic (simulated vendor payloads)."),
    duration: float = typer.Option(0, help="Stop by itself after this many seconds (0: until Ctrl-C)."),
    interval: float = typer.Option(2.0, help="Seconds between status lines and demo batches."),
) -> None:
    """Run the whole hub: local broker if none is configured, topics, stream worker, HTTP ingress,
    a simulated trust endpoint and demo traffic, with a status line of counts per topic. Ctrl-C stops all."""
    from rosterhub.hub import run_hub
    from rosterhub.logs import configure_logging, secret_values

    settings = load_settings()
    configure_logging(settings.log_level, json=settings.log_json, secrets=secret_values(settings))
    try:
        code = run_hub(settings, demo=demo, duration=duration, interval=interval)
    except RosterhubError as exc:
        fail(exc)
    raise typer.Exit(code)


def worker() -> None:
    """Run one stream-processing worker (faust): booking decisions and outbound delivery.
    Start more on other machines to scale out; partitions rebalance between them."""
    from rosterhub.streams.app import create_app, use_event_loop
    from rosterhub.streams.stopping import BoundedWorker

    settings = load_settings()
    try:
        kafka = prepare(settings)
        _refuse_overlapping_layout(settings, kafka)
    except RosterhubError as exc:
        fail(exc)
    use_event_loop(settings)
    app, _ = create_app(settings, kafka)
    runner = BoundedWorker(app, stop_timeout_s=settings.stop_timeout_s, loglevel=settings.log_level.lower(), quiet=True)
    # faust's terminal spinner, kept at WARNING and above, sets the root logger to DEBUG to spin on every record:
    # every aiokafka/faust debug call then builds a LogRecord that the WARNING handler drops (~5 % of the
    # worker's profile under load, docs/benchmarks.md). Without it the root logger stays at the configured level.
    runner.spinner = None
    runner.execute_from_commandline()


def _refuse_overlapping_layout(settings: Settings, kafka: KafkaAccess) -> None:
    """A worker whose processors another running set of workers also runs would double their writes
    (docs/decisions/0017-a-group-per-processor-set.md): stop here, naming both, before joining."""
    from rosterhub.errors import ConfigError
    from rosterhub.features import overlapping_groups, worker_group
    from rosterhub.kafka.admin import live_groups

    clash = overlapping_groups(settings.app_id, settings.worker_processors, live_groups(kafka))
    if clash:
        group = worker_group(settings.app_id, settings.worker_processors)
        raise ConfigError(
            f"worker_processors {settings.worker_processors} (group {group}) overlap the running worker group(s) "
            f"{', '.join(clash)}: each processor runs in one set of workers; stop those workers first to change "
            "the layout"
        )


def serve() -> None:
    """Serve the HTTP ingress (``POST /ingest/{vendor}``), health, topic counts and metrics."""
    import uvicorn

    from rosterhub.api import create_api
    from rosterhub.listen import listen
    from rosterhub.logs import configure_logging, secret_values

    settings = load_settings()
    configure_logging(settings.log_level, json=settings.log_json, secrets=secret_values(settings))
    try:
        listening = listen(settings.http_host, settings.http_port)
        kafka = prepare(settings)
    except RosterhubError as exc:
        fail(exc)
    config = uvicorn.Config(
        create_api(settings, kafka),
        host=settings.http_host,  # what its start-up line says; it listens on the socket bound above
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=int(settings.stop_timeout_s),  # a second Ctrl-C/SIGTERM exits at once (uvicorn)
    )
    uvicorn.Server(config).run(sockets=[listening])


def topics(
    check: bool = typer.Option(
        False,
        "--check",
        help="Change nothing: list the missing topics, the record limits below what the hub needs and the other "
        "configs that differ from what it declares; exit 1 when a start would create or raise something.",
    ),
) -> None:
    """Create every declared topic that does not exist yet (idempotent), raise the record limit of those made by an
    earlier version (docs/deploy.md, "Record size"), and list them with their counts."""
    from rosterhub.connectors.registry import connectors
    from rosterhub.kafka.admin import topic_counts
    from rosterhub.topics import declared_topics

    settings = load_settings()
    specs = declared_topics(connectors(), settings.topic_prefix)
    if check:
        _check_topics(settings, specs)
        return
    try:
        kafka = prepare(settings)
    except RosterhubError as exc:
        fail(exc)
    for count, spec in zip(topic_counts(kafka, [s.name for s in specs]), specs, strict=True):
        policy = "compact" if spec.compacted else "delete"
        typer.echo(f"{spec.name:40} {policy:8} {count.messages:>8}  key: {spec.key}")


def _check_topics(settings: Settings, specs: Sequence[TopicSpec]) -> None:
    from rosterhub.kafka.admin import check_topics
    from rosterhub.kafka.resolve import resolve_broker

    try:
        found = check_topics(resolve_broker(settings, keep_running=True).access, specs)
    except RosterhubError as exc:
        fail(exc)
    plan = found.plan
    for name in found.missing:
        typer.echo(f"missing  {name} (created at the next start)")
    for c in plan.raises:
        typer.echo(f"raise    {c.topic} {c.key} {c.shown} -> {c.declared} (at the next start)")
    for line in plan.drift_warnings():
        typer.echo(f"differs  {line}")
    for name in plan.unread:
        typer.echo(f"unread   {name}: its configs could not be read (no DescribeConfigs right?)")
    if found.missing or plan.raises:
        raise typer.Exit(1)
    if not (plan.drift or plan.unread):
        typer.echo(f"all {len(specs)} declared topics exist with the limits the hub needs")


def replay(
    vendor: str = typer.Argument(..., help="Vendor id whose raw topic to replay, e.g. patchwork."),
    partition: int | None = typer.Option(None, help="Only this partition of raw.<vendor>."),
    from_offset: int | None = typer.Option(None, help="First offset to replay (inclusive)."),
    to_offset: int | None = typer.Option(None, help="Stop before this offset."),
    from_dlq: bool = typer.Option(False, "--from-dlq", help="Only the payloads that dlq.mapping records point at."),
) -> None:
    """Map payloads kept on raw.<vendor> again (after a mapping fix) and publish what is new.
    Events published before are recognised by their ids and not published twice."""
    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.connectors.kinds import HTTP_KINDS
    from rosterhub.connectors.pipeline import IngestContext
    from rosterhub.connectors.registry import connector
    from rosterhub.connectors.replay import dlq_origins, replay_raw
    from rosterhub.connectors.runtime import mapping_secrets
    from rosterhub.connectors.state import ConnectorState, state_file
    from rosterhub.kafka.producer import EventSink
    from rosterhub.runtime import Encoder, TopicNames, make_codec

    settings = load_settings()
    try:
        kafka = prepare(settings)
    except RosterhubError as exc:
        fail(exc)
    names = TopicNames(settings.topic_prefix)
    try:
        http = connector(vendor).kind in HTTP_KINDS  # whose dedupe state knows what was published
    except RosterhubError as exc:
        fail(exc)
    sink = EventSink(kafka, client_id="rosterhub-replay")
    catalogue = default_catalogue()
    ctx = IngestContext(
        sink=sink,
        encoder=Encoder(make_codec(settings, kafka, catalogue), names, catalogue),
        names=names,
        state=ConnectorState(state_file(settings.state_dir, "ingress" if http else vendor), recover=False),
        secrets=mapping_secrets(),
    )
    only = dlq_origins(kafka, names.dlq("mapping"), vendor, names.raw(vendor)) if from_dlq else None
    try:
        summary = replay_raw(ctx, kafka, vendor, partition=partition, start=from_offset, stop=to_offset, only=only)
    finally:
        sink.close()
    typer.echo(
        f"replayed {summary.payloads} payload(s): {summary.published} event(s) published, "
        f"{summary.duplicates} already published, {summary.rejected} still rejected"
    )


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(worker)
    app.command()(serve)
    app.command()(topics)
    app.command()(replay)
    app.command()(connect)
    app.add_typer(simulate_cmd.app, name="simulate")
