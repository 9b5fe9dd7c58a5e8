"""``rosterhub report monthly``: the programme manager's monthly report (HTML, PDF, CSV of every table)."""

from __future__ import annotations

from pathlib import Path

import typer

from rosterhub.errors import RosterhubError
from rosterhub.settings import load_settings

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)


@app.command()
def monthly(
    collaborative: str = typer.Option(
        ..., help="Collaborative id, as in policies/booking (e.g. south-yorkshire-bassetlaw)."
    ),
    month: str = typer.Option(..., help="The month, YYYY-MM: shifts starting in it (Europe/London days)."),
    out: Path = typer.Option(Path("reports"), help="Folder the HTML, PDF and CSV files go to."),
) -> None:
    """Write the month's report from the KPI view: kpi-<collaborative>-<month>.html and .pdf, and one CSV per
    table. Its figures are the dashboard's for the same month (docs/kpi.md)."""
    from rosterhub.kafka.resolve import resolve_broker
    from rosterhub.report.monthly import build_report, write_report
    from rosterhub.runtime import TopicNames, make_codec
    from rosterhub.streams.kpi.query import KpiQueries, period_of
    from rosterhub.streams.kpi.reader import read_view

    try:
        period_of(month)
    except ValueError:
        raise typer.BadParameter(
            f"{month!r} is not a month: write YYYY-MM, e.g. 2026-11", param_hint="--month"
        ) from None
    settings = load_settings()
    try:
        resolved = resolve_broker(settings, keep_running=True)
        store = read_view(
            resolved.access, TopicNames(settings.topic_prefix).kpi_view, make_codec(settings, resolved.access)
        )
    except (RosterhubError, TimeoutError) as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    if collaborative not in store.dims["collaborative"].codes:
        typer.secho(f"no KPI facts of collaborative {collaborative!r} on the view", fg=typer.colors.YELLOW, err=True)
    report = build_report(KpiQueries(store), collaborative, month)
    for path in write_report(report, out):
        typer.echo(str(path))
