"""The collaborative bank market that the end-to-end tests (shift market, payroll, onboarded platforms) set up.

Trust A's HealthRoster approves a nursing duty for bank; the collaborative's cascade releases it to the
collaborative bank within seconds; a nurse known through Patchwork at trust B, whose passport B issued, asks for
it with Patchwork's signed webhook; the hub delivers every update to the platforms with short backoffs.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

from rosterhub.api import create_api
from rosterhub.connectors.simulators.healthroster import Duty
from rosterhub.connectors.simulators.patchwork import booking_requested, create_patchwork_platform, signed_headers
from rosterhub.connectors.simulators.platform_state import PlatformState
from rosterhub.connectors.simulators.serving import serving
from rosterhub.kafka.resolve import Resolved
from tests.integration.helpers import serve_in_thread
from tests.integration.test_booking_saga import SagaHub
from tests.support import free_port, isolated_settings
from tests.unit.streams.identity_harness import worker
from tests.unit.streams.passport_builders import nurse_passport


@dataclass(frozen=True)
class BankMarket:
    """What ``open_market`` sets up: the hub, the worker settings of the host's cascade, Patchwork's platform side
    (its state, and its destination for the hub's updates) and the hub's ingress (its URL)."""

    hub: SagaHub
    cascade: dict[str, str]
    patchwork: PlatformState
    patchwork_destination: dict[str, Any]
    ingress: str


def open_market(
    stack: ExitStack,
    kafka: Resolved,
    tmp: Path,
    *,
    host: str,
    release_after: str,
    employer: str,
    secret: str,
    nmc: str,
    now: datetime,
) -> BankMarket:
    """On ``stack`` (all closed with it): a saga hub whose ingress takes Patchwork's webhooks signed with
    ``employer``'s own secret (its webhooks are ``employer``'s), holding a nurse known through Patchwork at
    ``employer`` (registration and credentials as the connectors publish them; Patchwork's webhook API has no
    worker event) with a passport ``employer`` issued ``now``; ``host``'s cascade (``cascade_env``); Patchwork's
    platform side at ``employer`` served, receiving the hub's updates signed with ``secret``; the ingress served."""
    hub = SagaHub(isolated_settings(kafka.bootstrap, tmp, webhook_secrets={"patchwork": {employer: secret}}), tmp)
    stack.callback(hub.close)
    local = f"patchwork:{employer}:w-{nmc}"  # the worker id Patchwork's webhooks carry (data.worker.id)
    hub.publish(worker(local, nmc=nmc), *nurse_passport(local, employer, now))
    app = create_patchwork_platform(secret.encode())
    url = stack.enter_context(serving(app, free_port()))
    ingress = stack.enter_context(serve_in_thread(create_api(hub.settings, kafka.access), free_port()))
    destination = {"name": f"patchwork-{employer}", "trust": employer, "platform": "patchwork", "url": url}
    cascade = cascade_env(tmp, host, release_after)
    return BankMarket(hub, cascade, app.state.platform, {**destination, "secret": secret}, ingress)


def cascade_env(tmp: Path, host: str, after: str) -> dict[str, str]:
    """The collaborative's cascade (collaborative bank after 48 h) with ``host``'s release shortened to ``after``,
    written to ``tmp/cascade``, and the worker settings that read it with a fast timer: the timer releases a
    test's shift within the test."""
    folder = tmp / "cascade"
    folder.mkdir()
    (folder / "syb.yaml").write_text(
        f"""collaborative: south-yorkshire-bassetlaw
cascade:
  - {{to: COLLABORATIVE_BANK, after: 48h}}
trusts:
  {host}:
    cascade:
      - {{to: COLLABORATIVE_BANK, after: {after}}}
"""
    )
    return {"ROSTERHUB_AVAILABILITY_POLICY_DIR": str(folder), "ROSTERHUB_AVAILABILITY_TIMER_INTERVAL_S": "0.3"}


def outbound_env(destinations: list[dict[str, Any]]) -> dict[str, str]:
    """The worker settings that deliver to ``destinations``, retrying within seconds (not the minutes of
    production): a platform that missed an update gets it during the test."""
    return {
        "ROSTERHUB_OUTBOUND_DESTINATIONS": json.dumps(destinations),
        "ROSTERHUB_OUTBOUND_BACKOFF_BASE_S": "0.2",
        "ROSTERHUB_OUTBOUND_BACKOFF_CAP_S": "2",
    }


def approve_for_bank(duty: Duty, code: str, day: date) -> None:
    """The roster approves ``duty`` for temporary staff: a Band 5 registered nursing duty of pattern ``code`` on
    ``day``, with no preferred worker."""
    duty.staff_group, duty.band, duty.code, duty.preferred = "Nursing and Midwifery Registered", 5, code, None
    duty.state, duty.day = "Approve Temp Staff Request", day


def nurse_asks(booking: str, employer: str, nmc: str, name: str, offered_as: str) -> dict[str, Any]:
    """Patchwork's ``booking.requested`` webhook: the Band 5 registered nurse ``name`` at ``employer`` asks for
    the shift Patchwork was offered as ``offered_as``."""
    payload = booking_requested(
        booking,
        None,
        employer,
        nmc,
        datetime.now(UTC),
        grade="Band 5",
        staff_group="Registered Nursing",
        hub_shift_id=offered_as,
    )
    payload["data"]["worker"]["name"] = name
    return payload


def post_patchwork(ingress: str, secret: str, payload: dict[str, Any]) -> httpx.Response:
    """``payload`` as Patchwork's webhook to the ingress, signed with ``secret``."""
    body = json.dumps(payload).encode()
    return httpx.post(
        f"{ingress}/ingest/patchwork", content=body, timeout=30, headers=signed_headers(secret.encode(), body)
    )
