"""``rosterhub kafka ...``: the local broker's lifecycle, and topic set-up on any cluster."""

from __future__ import annotations

from pathlib import Path

import typer

from rosterhub.cli.common import fail
from rosterhub.errors import RosterhubError
from rosterhub.kafka.local import LocalBroker, fetch_jars
from rosterhub.settings import load_settings

app = typer.Typer(no_args_is_help=True)


@app.command()
def fetch() -> None:
    """Download Apache Kafka's jars from Maven Central into the cache (no-op when cached)."""
    settings = load_settings()
    try:
        path = fetch_jars(settings, quiet=False)
    except RosterhubError as exc:
        fail(exc)
    typer.echo(f"Kafka {settings.kafka_version} jars in {path}")


@app.command()
def start(
    wait: bool = typer.Option(True, help="Wait until the broker answers before returning."),
) -> None:
    """Start the local KRaft broker in the background (formats its data dir on first use)."""
    settings = load_settings()
    try:
        status = LocalBroker(settings).start(wait=wait)
    except RosterhubError as exc:
        fail(exc)
    typer.echo(
        f"Kafka {status.version} running (pid {status.pid}) at {status.bootstrap} "
        f"({settings.kafka_security_protocol}); data in {status.data_dir}"
    )


@app.command()
def stop() -> None:
    """Stop the local broker cleanly (SIGTERM, then SIGKILL after 30 s)."""
    stopped = LocalBroker(load_settings()).stop()
    typer.echo("stopped" if stopped else "not running")


@app.command()
def status() -> None:
    """Say whether the local broker runs, where, and which version; exit 1 when it does not."""
    st = LocalBroker(load_settings()).status()
    state = "running" if st.running else "not running"
    typer.echo(f"Kafka {st.version} {state} at {st.bootstrap} (pid {st.pid}); data in {st.data_dir}")
    if not st.running:
        raise typer.Exit(1)


@app.command()
def logs(lines: int = typer.Option(50, "-n", "--lines", help="How many lines from the end.")) -> None:
    """Print the end of the local broker's log."""
    typer.echo(LocalBroker(load_settings()).tail(lines))


@app.command("client-properties")
def client_properties(
    output: Path = typer.Option(Path("client.properties"), "--output", "-o", help="Where to write it (mode 0600)."),
) -> None:
    """Write a client.properties for Kafka's own tools (console consumer, kafka-topics...) that connects exactly as
    the hub does: same address, protocol, SASL user and TLS files (docs/kafka-security.md). Holds the password."""
    from rosterhub.kafka.resolve import resolve_broker

    try:
        access = resolve_broker(load_settings(), keep_running=True).access
    except RosterhubError as exc:
        fail(exc)
    access.write_java_properties(output)
    typer.echo(f"wrote {output} for {access.bootstrap_servers} ({access.security_protocol}); use --command-config")
