"""``rosterhub connect <vendor>``: run one polling or file-drop connector until stopped."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer

from rosterhub.errors import RosterhubError

__all__ = ["connect"]


def connect(
    vendor: str = typer.Argument(..., help="Vendor id, e.g. locums_nest, healthroster, nhsp, esr."),
    once: bool = typer.Option(False, "--once", help="Process what is there now, then exit (cron-style)."),
) -> None:
    """Run the inbound connector of a vendor whose data is pulled (REST polling) or dropped (files).
    Webhook and FHIR vendors are served by `rosterhub serve` instead."""
    from rosterhub.cli.common import fail, prepare
    from rosterhub.connectors.kinds import HTTP_KINDS, runner
    from rosterhub.connectors.registry import connector
    from rosterhub.connectors.runtime import connector_context
    from rosterhub.logs import configure_logging, secret_values
    from rosterhub.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_level, json=settings.log_json, secrets=secret_values(settings))
    try:
        spec = connector(vendor)
        if spec.kind in HTTP_KINDS:
            raise RosterhubError(f"{vendor} is a {spec.kind} connector: it is served by `rosterhub serve`")
        kafka = prepare(settings)
    except RosterhubError as exc:
        fail(exc)
    stop = threading.Event()

    def _stop(_sig: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with connector_context(settings, kafka, client_id=f"rosterhub-connect-{vendor}", owner=vendor) as ctx:
        try:
            runner(spec.kind)(spec, ctx, settings.connectors.get(vendor, {}), stop, once=once)
        except RosterhubError as exc:
            fail(exc)
