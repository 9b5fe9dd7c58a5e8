"""``rosterhub mapping ...``: check a mapping file, see what a vendor file maps to, or draft one from a sample.

``apply`` runs the very code the live connectors run (``apply_mapping``), so what an
analyst sees here is what the hub will publish: events as JSON lines on stdout,
rejected and skipped records as JSON lines on stderr. Exit codes: 0 every record
mapped (or was skipped by a rule), 2 some record was rejected, 1 the mapping file (or
the command line) is unusable.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from rosterhub.errors import ConfigError, MappingFileError, ParseError
from rosterhub.mapping.engine import apply_mapping, check_mapping, current_catalogue, find_mapping, load_mapping
from rosterhub.mapping.engine.draft import draft_mapping
from rosterhub.mapping.engine.render import event_json, rejection_json, skipped_json
from rosterhub.mapping.engine.sniff import sniff

app = typer.Typer(no_args_is_help=True)

SECRET_ENV_PREFIX = "ROSTERHUB_MAPPING_SECRET_"  # noqa: S105  (a variable-name prefix, not a secret)


def _print_file_errors(errors: list[MappingFileError]) -> None:
    for err in errors:
        typer.secho(f"{err}", fg=typer.colors.RED, err=True)
    typer.secho(f"{len(errors)} error(s)", fg=typer.colors.RED, err=True)


def _resolve(mapping: str, trust: str | None) -> Path:
    path = Path(mapping)
    if path.is_file():
        return path
    try:
        return find_mapping(mapping, trust)
    except ConfigError:
        typer.secho(f"error: {mapping} is neither a mapping file nor a known vendor", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None


def _secrets(given: list[str], needed: list[str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep:
            typer.secho(f"error: --secret takes NAME=VALUE, got {item!r}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
        out[name] = value.encode()
    for name in needed:
        env = os.environ.get(SECRET_ENV_PREFIX + name.upper())
        if name not in out and env is not None:
            out[name] = env.encode()
    return out


@app.command()
def check(file: Annotated[Path, typer.Argument(help="Mapping file to check.")]) -> None:
    """Validate a mapping file: YAML, keys, functions and arguments, schemas; report file, line and key."""
    errors = check_mapping(file)
    if errors:
        _print_file_errors(errors)
        raise typer.Exit(1)
    spec = load_mapping(file)
    types = ", ".join(t.rsplit(".", 1)[-1] for t in spec.event_types)
    typer.echo(f"{file}: OK (vendor {spec.vendor}, {spec.format}, {len(spec.events)} event rule(s): {types})")


@app.command()
def apply(
    mapping: Annotated[str, typer.Option("--mapping", "-m", help="Mapping file, or a vendor name (mapping/vendors).")],
    input_file: Annotated[Path, typer.Option("--input", "-i", help="One payload as the vendor sends it.")],
    trust: Annotated[str | None, typer.Option("--trust", help="ODS code of the trust the payload came from.")] = None,
    received_at: Annotated[
        str | None, typer.Option("--received-at", help="ISO-8601 receipt time (default: now).")
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option(
            "--secret", help=f"NAME=VALUE for a secret the mapping declares (or env {SECRET_ENV_PREFIX}<NAME>)."
        ),
    ] = None,
) -> None:
    """Print the canonical events (stdout) and the rejected/skipped records (stderr) of one payload."""
    path = _resolve(mapping, trust)
    try:
        spec = load_mapping(path)
    except MappingFileError as exc:
        _print_file_errors(getattr(exc, "all_errors", [exc]))
        raise typer.Exit(1) from None
    try:
        at = datetime.fromisoformat(received_at) if received_at else datetime.now(UTC)
    except ValueError:
        typer.secho(f"error: --received-at {received_at!r} is not ISO-8601", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    try:
        outcome = apply_mapping(
            spec,
            input_file.read_bytes(),
            received_at=at,
            trust=trust,
            secrets=_secrets(secret or [], list(spec.secrets)),
        )
    except (ConfigError, OSError) as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    for event in outcome.events:
        typer.echo(json.dumps(event_json(event), ensure_ascii=False))
    for rejection in outcome.rejected:
        for line in rejection_json(rejection):
            typer.echo(json.dumps(line, ensure_ascii=False), err=True)
    for skipped in outcome.skipped:
        typer.echo(json.dumps(skipped_json(skipped), ensure_ascii=False), err=True)
    if outcome.rejected:
        raise typer.Exit(2)


@app.command()
def draft(
    sample: Annotated[Path, typer.Argument(help="A sample export as the vendor sends it (JSON, CSV, XML, pipe).")],
    vendor: Annotated[
        str | None, typer.Option("--vendor", help="Vendor id (lower_snake_case); default: from the file name.")
    ] = None,
    event: Annotated[
        str, typer.Option("--event", help="Event the records become (schema short name).")
    ] = "ShiftPosted",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
) -> None:
    """Propose a starter mapping file from a sample: format, encoding, delimiter, records path, every field's
    kind and date/time layout, code lists with the values seen. It passes `mapping check`; finish it by hand."""
    try:
        payload = sample.read_bytes()
        found = sniff(payload, sample.name)
    except (OSError, ParseError, ValueError) as exc:
        typer.secho(f"error: cannot read {sample}: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    try:
        schema = current_catalogue().by_short_name(event) if "." not in event else current_catalogue().get(event)
    except KeyError:
        typer.secho(f"error: no event schema {event!r}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    name = vendor or _vendor_from(sample)
    text = draft_mapping(found, schema, vendor=name, source=sample.name)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"{output}: draft for {name} ({found.format.type}, {len(found.records)} record(s)); now check it")


def _vendor_from(sample: Path) -> str:
    stem = re.sub(r"[^a-z0-9]+", "_", sample.name.split(".")[0].lower()).strip("_")
    return stem if re.fullmatch(r"[a-z][a-z0-9_]*", stem) else "vendor"
