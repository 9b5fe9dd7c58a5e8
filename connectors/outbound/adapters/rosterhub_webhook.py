"""``rosterhub_webhook``: the hub's standard update webhook, for a platform without an adapter of its own.

A platform onboarded with a mapping file and configuration only (Lantum: docs/vendors/lantum.md)
is told of updates in one JSON shape the hub defines, which the platform implements once. A
destination uses it with ``adapter = "rosterhub_webhook"`` and its own ``platform`` (the vendor
id its shifts and bookings carry, which routing matches). One signed ``POST`` per update to
``<url><path>``::

    {"update": "shift_filled", "id": "<update key>", "created_at": "2026-10-20T09:00:00+01:00",
     "api_version": "rosterhub-1", "hub_reference": "<update key>",
     "hub_shift_id": "lantum:RHQ:ses_55004", "shift_id": "ses_55004", "organisation_ods": "RHQ",
     "hub_booking_id": "lantum:RHQ:bk_7001", "booking_id": "bk_7001",
     "worker": {"name": "Jo Bloggs", "register": "nmc", "registration_number": "71A2998E"}}

``shift_id`` / ``booking_id`` are the platform's own ids (null for another platform's shift or
booking, known by their hub ids). ``shift_open`` adds ``shift`` (ward, staff group, grade, local
start and end, rate, tier, in the platform's own labels: its mapping's code lists read
backwards); ``booking_rejected`` adds ``reasons``; ``booking_cancelled`` adds ``cancellation``.

Options: ``path`` (``/rosterhub/updates``), ``auth`` (``hmac-sha256``, the default, signs with the
destination's secret as :data:`~rosterhub.connectors.outbound.contract.SIGN` says; ``bearer``;
``none``), ``mapping`` (whose code lists give the labels; default the platform's), ``kinds``
(the update kinds the platform takes; default all), ``tiers`` (the release tiers at which it is
offered shifts: a master vendor that supplies agencies only wants shifts released to agency tiers;
default every tier).

It renders the update kinds listed in :data:`KINDS` and no other (None: nothing to send), so a
kind declared later (pay lines, timesheet queries) reaches no platform until this shape says how.
"""

from __future__ import annotations

from typing import Any

from rosterhub.connectors.outbound.adapters._facts import SHIFT_KINDS, WORKER_KINDS, Facts, facts, local, local_id
from rosterhub.connectors.outbound.adapters._json import dumps
from rosterhub.connectors.outbound.adapters._labels import label
from rosterhub.connectors.outbound.contract import AUTH, SIGN, Destination, HttpCall, Update
from rosterhub.errors import ConfigError

__all__ = ["ADAPTER", "DEFAULT_PATH", "KINDS", "RosterhubWebhookAdapter"]

DEFAULT_PATH = "/rosterhub/updates"
#: The update kinds this webhook shape carries (docs/outbound-adapters.md, "rosterhub_webhook").
KINDS = SHIFT_KINDS
_AUTH = {"hmac-sha256": {SIGN: "hmac-sha256"}, "bearer": {AUTH: "bearer"}, "none": {}}


def _label(mapping: str, codelist: str, code: str | None) -> str | None:
    try:
        return label(mapping, codelist, code)
    except ConfigError:  # no mapping of that name: the hub's codes, unchanged
        return code


def _body(f: Facts, platform: str, mapping: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "update": f.kind,
        "id": f.key,
        "created_at": f.at,
        "api_version": "rosterhub-1",
        "hub_reference": f.key,
        "hub_shift_id": f.shift_id,
        "shift_id": f.own_shift(platform),
        "organisation_ods": f.trust,
    }
    if f.booking_id is not None and f.kind != "shift_open":
        body["hub_booking_id"] = f.booking_id
        body["booking_id"] = local_id(f.booking_id, platform)
    if f.kind == "shift_open":
        body["shift"] = {
            "ward": f.ward,
            "staff_group": _label(mapping, "staff_group", f.staff_group),
            "grade": _label(mapping, "grade", f.grade),
            "start": local(f.start),
            "end": local(f.end),
            "hourly_rate": f.hourly_rate,
            "tier": _label(mapping, "tier", f.tier),
        }
    if f.kind in WORKER_KINDS:
        body["worker"] = f.worker_json()
    if f.kind == "booking_rejected":
        body["reasons"] = list(f.reason_codes)
    if f.kind == "booking_cancelled":
        body["cancellation"] = f.cancellation_json(_label(mapping, "cancel_reason", f.cancel_reason))
    return body


class RosterhubWebhookAdapter:
    platform = "rosterhub_webhook"
    kinds = KINDS

    def render(self, update: Update, destination: Destination) -> HttpCall | None:
        options = destination.options
        kinds = options.get("kinds")
        if update.kind not in KINDS or (kinds and update.kind not in kinds):
            return None
        f = facts(update)
        tiers = options.get("tiers")
        if tiers and update.kind == "shift_open" and f.tier not in tiers:
            return None  # not released to the tiers this platform serves (yet)
        auth = str(options.get("auth", "hmac-sha256"))
        if auth not in _AUTH:
            raise ValueError(f"{destination.name}: auth {auth!r} is not one of {', '.join(_AUTH)}")
        mapping = str(options.get("mapping") or destination.platform)
        body = _body(f, destination.platform, mapping)
        return HttpCall("POST", str(options.get("path", DEFAULT_PATH)), dumps(body), headers=dict(_AUTH[auth]))


ADAPTER = RosterhubWebhookAdapter()
