"""The ``rosterhub`` command line: one entry point, one sub-command group per concern.

Each group lives in its own module (``kafka_cmd``, ``mapping_cmd``, ...) and is added
here; commands are thin: they read settings, call library functions and print.
"""

from __future__ import annotations

import typer

from rosterhub.cli import (
    config_cmd,
    explain_cmd,
    hub_cmd,
    identity_cmd,
    kafka_cmd,
    mapping_cmd,
    outbound_cmd,
    passport_cmd,
    payroll_cmd,
    report_cmd,
    schemas_cmd,
    token_cmd,
    tools_cmd,
)

app = typer.Typer(
    name="rosterhub",
    help="rosterhub: an event-driven hub between NHS trusts' rostering and staff-bank platforms.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

app.add_typer(kafka_cmd.app, name="kafka", help="Run a local single-node Kafka broker (KRaft) from Maven jars.")
app.add_typer(config_cmd.app, name="config", help="Show the effective settings; regenerate their docs.")
app.add_typer(mapping_cmd.app, name="mapping", help="Check mapping files; map a vendor payload to canonical events.")
app.add_typer(schemas_cmd.app, name="schemas", help="Event schemas: list, generate models/docs, check compatibility.")
app.add_typer(identity_cmd.app, name="identity", help="Identity resolution: conflicts, people, merge and split.")
app.add_typer(passport_cmd.app, name="passport", help="Trust policies and clearance of the credential passport.")
app.add_typer(tools_cmd.app, name="tools", help="External checkers: HAPI FHIR validator, AsyncAPI parser (fetch, run).")
app.add_typer(report_cmd.app, name="report", help="Reports for programme managers: the monthly KPI report.")
app.add_typer(
    payroll_cmd.app, name="payroll", help="Payroll batches: list, lines, CSV export, close, re-send; statements."
)
hub_cmd.register(app)
explain_cmd.register(app)
outbound_cmd.register(app)
token_cmd.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
