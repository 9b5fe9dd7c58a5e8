"""Demo traffic for ``rosterhub run``: signed Patchwork-style webhooks through the real ingress.

Each batch posts a new night or day shift at one of the demo trusts, one or two
booking requests for it (the second loses: already filled), and now and then a
malformed payload, so a newcomer sees raw, canonical, decision, dead-letter and
delivery counts all move.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from rosterhub.connectors.signing import sign

__all__ = ["DEMO_TRUSTS", "DemoFeeder", "booking_requested", "shift_created", "signed_headers"]

LONDON = ZoneInfo("Europe/London")
DEMO_TRUSTS = ("RHQ", "RCU", "RFR")  # Sheffield Teaching, Sheffield Children's, Rotherham
_WARDS = ("Ward 3B", "Acute Medical Unit", "Ward 12 (Surgical)", "Emergency Department")
_GRADES = ("Band 5", "Band 6", "Band 3", "Band 2")
_NMC = ("71A2998E", "04C1234D", "98J0451W", "12B7777S")


def shift_created(shift_id: str, trust: str, start: datetime, hours: float, *, grade: str, ward: str) -> dict[str, Any]:
    # Elapsed-time arithmetic in UTC: aware + timedelta in one zone is wall-clock arithmetic,
    # which is an hour out on the nights the clocks change.
    end = (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(start.tzinfo)
    return {
        "event": "shift.created",
        "id": f"evt-{shift_id}",
        "created_at": start.isoformat(),
        "data": {
            "shift_id": shift_id,
            "organisation_ods": trust,
            "ward": ward,
            "staff_group": "Registered Nursing",
            "grade": grade,
            "start_time": start.isoformat(),
            "end_time": end.isoformat(),
            "break_minutes": 60 if hours > 8 else 30,
            "rate": "24.50",
            "version": 1,
        },
    }


def booking_requested(booking_id: str, shift_id: str, trust: str, nmc: str, at: datetime) -> dict[str, Any]:
    return {
        "event": "booking.requested",
        "id": f"evt-{booking_id}",
        "created_at": at.isoformat(),
        "data": {
            "booking_id": booking_id,
            "shift_id": shift_id,
            "organisation_ods": trust,
            "worker": {"id": f"w-{nmc}", "name": "Demo Worker", "nmc_pin": nmc},
            "requested_at": at.isoformat(),
        },
    }


def signed_headers(secret: bytes, body: bytes, now: float | None = None) -> dict[str, str]:
    ts = str(int(now if now is not None else time.time()))
    return {
        "Content-Type": "application/json",
        "X-Patchwork-Timestamp": ts,
        "X-Patchwork-Signature": sign(secret, ts, body),
    }


class DemoFeeder:
    """Posts one batch of demo webhooks per call to :meth:`feed_batch`."""

    def __init__(self, ingress: str, secret: bytes, seed: int = 7) -> None:
        self.ingress = ingress.rstrip("/")
        self.secret = secret
        self.rng = random.Random(seed)
        self.seq = itertools.count(1)
        self.run_id = f"{int(time.time())}"

    def _post(self, trust: str, payload: dict[str, Any] | bytes) -> int:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            r = httpx.post(f"{self.ingress}/ingest/patchwork", params={"trust": trust}, content=body,
                           headers=signed_headers(self.secret, body), timeout=10)  # fmt: skip
        except httpx.HTTPError:
            return 0
        return r.status_code

    def feed_batch(self) -> None:
        n = next(self.seq)
        trust = self.rng.choice(DEMO_TRUSTS)
        day = datetime.now(LONDON).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1 + n % 14)
        night = n % 2 == 0
        start = day.replace(hour=20 if night else 7, minute=30 if night else 0)
        shift_id = f"S{self.run_id}-{n}"
        self._post(trust, shift_created(shift_id, trust, start, 12 if night else 12.5,
                                        grade=self.rng.choice(_GRADES), ward=self.rng.choice(_WARDS)))  # fmt: skip
        now = datetime.now(LONDON)
        for i in range(1 + n % 2):  # every other shift gets a losing second request
            self._post(trust, booking_requested(f"B{self.run_id}-{n}-{i}", shift_id, trust, _NMC[(n + i) % 4], now))
        if n % 3 == 0:
            self._post(trust, b'{"event": "shift.created", "data": {"shift_id": ')  # truncated JSON -> dead letter
