"""``rosterhub tools ...``: fetch and run the external checkers (HAPI FHIR validator, AsyncAPI parser)."""

from __future__ import annotations

from pathlib import Path

import typer

from rosterhub.cli.common import fail
from rosterhub.errors import RosterhubError
from rosterhub.settings import load_settings
from rosterhub.tools import asyncapi, hapi

app = typer.Typer(no_args_is_help=True)


@app.command()
def fetch() -> None:
    """Fetch HAPI FHIR's validator (Maven Central) and the AsyncAPI parser (npm) into the cache."""
    settings = load_settings()
    try:
        jars = hapi.fetch_jars(settings, quiet=False)
        parser = asyncapi.install(settings, quiet=False)
    except RosterhubError as exc:
        fail(exc)
    typer.echo(f"HAPI FHIR {hapi.HAPI_VERSION} validator in {jars}")
    typer.echo(f"AsyncAPI parser in {parser}")


@app.command("fhir-validate")
def fhir_validate(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="FHIR R4 JSON files."),
) -> None:
    """Validate FHIR R4 JSON files with HAPI FHIR, offline (R4 core); exit 1 when any has an error."""
    try:
        reports = hapi.validate_files(files, load_settings())
    except RosterhubError as exc:
        fail(exc)
    text, code = render_reports(reports)
    typer.echo(text)
    if code:
        raise typer.Exit(code)


def render_reports(reports: list[hapi.FileReport]) -> tuple[str, int]:
    """What ``fhir-validate`` prints, and its exit status: 1 when any file has an error."""
    lines = []
    for report in reports:
        lines.append(f"{report.name}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
        lines += [f"  {finding}" for finding in report.findings]
    return "\n".join(lines), 1 if any(r.errors for r in reports) else 0


@app.command("asyncapi-validate")
def asyncapi_validate(
    file: Path = typer.Argument(Path("docs/asyncapi.yaml"), exists=True, dir_okay=False),
) -> None:
    """Run the official AsyncAPI parser on a document; exit 1 on errors, 2 on warnings only."""
    try:
        result = asyncapi.validate(file, load_settings())
    except RosterhubError as exc:
        fail(exc)
    typer.echo(result.output.rstrip())
    if result.returncode != 0 or result.errors != 0:
        raise typer.Exit(1)
    if result.warnings != 0:
        raise typer.Exit(2)
