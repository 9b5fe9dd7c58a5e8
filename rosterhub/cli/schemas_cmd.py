"""``rosterhub schemas``: list the event schemas, regenerate what derives from them, guard their evolution.

Thin commands over :mod:`rosterhub.events.generate` and :mod:`rosterhub.events.compat`.
Schemas are read fresh from the ``rosterhub.schemas`` package (``schemas/avro`` in a
checkout) on every run, never from a cache, so an edited ``.avsc`` is seen at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import rosterhub.schemas
from rosterhub.codec.catalogue import SchemaCatalogue
from rosterhub.events.compat import check_all, load_baseline, release, released_versions
from rosterhub.events.generate import repo_root, write_artefacts
from rosterhub.topics import canonical_topic

app = typer.Typer(no_args_is_help=True)


def _current() -> SchemaCatalogue:
    return SchemaCatalogue.from_package()


@app.command("list")
def list_schemas() -> None:
    """List every event: topic, key field, subject field and writer-schema fingerprint.

    The fingerprint (CRC-64-AVRO of the Parsing Canonical Form, wire byte order) is what
    single-object-encoded messages carry, so this is how to tell which schema wrote a record.
    """
    for es in _current():
        topic = canonical_topic(es.domain).name
        typer.echo(
            f"{es.full_name:48} {topic:22} key={es.key_field:16} subject={es.subject_field:16} {es.fingerprint_hex}"
        )


@app.command("gen")
def gen(
    root: Annotated[Path | None, typer.Option(help="Repository root to write into (default: this checkout).")] = None,
) -> None:
    """Regenerate the artefacts derived from schemas/avro: the pydantic models, docs/asyncapi.yaml, docs/events.md.

    Run after editing any .avsc file; the tests fail while a generated file is stale.
    Only files whose content changes are written.
    """
    changed = write_artefacts(_current(), root or repo_root())
    for rel in changed:
        typer.echo(f"wrote {rel}")
    typer.echo(f"{len(changed)} file(s) changed" if changed else "everything is up to date")


@app.command("check")
def check() -> None:
    """Check that the current schemas can read data written with every released baseline.

    Canonical topics keep events forever, so each current event (reader) must resolve each
    released version of it (writer). Prints one line per break, as ``Event.field: reason``,
    and exits 1 if there is any.
    """
    versions = released_versions()
    if not versions:
        typer.echo("no released baseline under schemas/released/: nothing to check against")
        return
    breaks = check_all(_current(), {v: load_baseline(v) for v in versions})
    for b in breaks:
        typer.echo(str(b), err=True)
    if breaks:
        typer.echo(f"{len(breaks)} incompatible change(s) against {', '.join(versions)}", err=True)
        raise typer.Exit(1)
    typer.echo(f"compatible with {', '.join(versions)}")


@app.command("release")
def release_cmd(version: Annotated[str, typer.Argument(help="Baseline name: v1, v2, ...")]) -> None:
    """Copy the current schemas to schemas/released/VERSION, the baseline later changes are checked against.

    Refuses when the version exists (a release is never rewritten) or when the current
    schemas break an earlier release. Commit the new folder with the change that needs it.
    """
    versions = released_versions()
    breaks = check_all(_current(), {v: load_baseline(v) for v in versions})
    if breaks:
        for b in breaks:
            typer.echo(str(b), err=True)
        typer.echo("not released: fix the incompatible changes first", err=True)
        raise typer.Exit(1)
    try:
        target = release(version, Path(rosterhub.schemas.__file__).parent)
    except (ValueError, FileExistsError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"released {version} to {target}")
