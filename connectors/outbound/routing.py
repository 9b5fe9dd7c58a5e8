"""Who must be told what: pure routing of hub outcomes and availability changes to destinations.

Inputs are decoded values (an :class:`~rosterhub.envelope.Envelope` and the availability view
as a mapping); outputs are ``(destination, kind)`` pairs plus the router's small per-shift
memory. No Kafka, no clock: the faust agent in ``agent.py`` does the I/O around it.

The rules (docs/outbound.md, "Routing"):

* Only the booking processor's own outcomes (CloudEvents source ``/rosterhub/booking``) are
  routed; vendor-authored cancellations and no-shows are inputs to the hub, not news for it.
* The **requesting platform** (the platform and trust a booking came through: ``data.vendor``,
  else the ``<vendor>:<trust>:<id>`` booking id) gets ``booking_confirmed`` / ``booking_rejected``.
* The **host platform** (``view.vendor`` at ``view.trust``) gets ``shift_filled``,
  ``booking_cancelled`` and ``no_show``. While the hub holds no view of the shift yet, every
  destination at the event's ``host_trust`` is treated as host (a trust usually runs one
  rostering platform; an adapter with no use for an update renders nothing).
  The booking's own platform, when it is not the host, is told of cancellations and
  no-shows too (its worker's booking has ended).
* Every other destination whose trust is in ``visible_to`` gets ``shift_open`` when the shift
  becomes open to it (again when the shift's version changes while open: times or rate
  changed) and ``shift_withdrawn`` when it stops being open to it. The host platform itself is
  never offered its own shift.
* A destination with option ``all_platforms`` (the legacy ``outbound_endpoints`` feeds) is a
  trust-wide observer: it gets every outcome whose host or requesting trust is its trust.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rosterhub.connectors.outbound.contract import Destination, UpdateKind
from rosterhub.envelope import Envelope

__all__ = ["HUB_SOURCE", "OUTCOME_KINDS", "Routed", "ShiftMemory", "requester_of", "route_outcome", "route_view"]

HUB_SOURCE = "/rosterhub/booking"

#: Hub outcome type -> (update kind, who gets it).
OUTCOME_KINDS: dict[str, tuple[UpdateKind, str]] = {
    "rosterhub.booking.v1.BookingConfirmed": ("booking_confirmed", "requester"),
    "rosterhub.booking.v1.BookingRejected": ("booking_rejected", "requester"),
    "rosterhub.booking.v1.ShiftFilled": ("shift_filled", "host"),
    "rosterhub.booking.v1.BookingCancelled": ("booking_cancelled", "host"),
    "rosterhub.booking.v1.NoShow": ("no_show", "host"),
}


@dataclass(frozen=True, slots=True)
class Routed:
    destination: str
    kind: UpdateKind


@dataclass(frozen=True, slots=True)
class ShiftMemory:
    """What the router remembers per shift: the view revision it last applied and who it is open to."""

    revision: int = -1
    version: int = -1
    open_to: tuple[str, ...] = ()
    host: tuple[str, str] | None = None  # (platform, trust ODS) of the host, from the view
    extra: Mapping[str, Any] = field(default_factory=dict)  # room for the agent (e.g. the stored view record)


def _all_platforms(dest: Destination) -> bool:
    return bool(dest.options.get("all_platforms"))


def requester_of(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(platform, trust) the booking came through: ``vendor`` when the event says, else the booking id."""
    parts = str(data.get("booking_id") or "").split(":")
    vendor = data.get("vendor") or (parts[0] if len(parts) >= 3 else None)
    trust = parts[1] if len(parts) >= 3 else None
    return vendor, trust


def _ods(ref: Any) -> str | None:
    return ref.get("ods_code") if isinstance(ref, Mapping) else None


def route_outcome(env: Envelope, memory: ShiftMemory | None, destinations: Sequence[Destination]) -> list[Routed]:
    """Destinations and update kinds for one event on events.booking (empty for anything not routed)."""
    if env.source != HUB_SOURCE or env.type not in OUTCOME_KINDS:
        return []
    kind, audience = OUTCOME_KINDS[env.type]
    req_platform, req_trust = requester_of(env.data)
    host_trust = _ods(env.data.get("host_trust"))
    host = memory.host if memory is not None and memory.host else None
    if host is not None:
        host_trust = host[1]
    out: list[Routed] = []
    for dest in destinations:
        if _all_platforms(dest):
            wanted = dest.trust == host_trust or (audience == "requester" and dest.trust == req_trust)
        elif audience == "requester":
            wanted = (dest.platform, dest.trust) == (req_platform, req_trust)
        else:
            is_host = (dest.platform, dest.trust) == host if host else dest.trust == host_trust
            is_booker = (dest.platform, dest.trust) == (req_platform, req_trust)
            booker = kind in ("booking_cancelled", "no_show") and is_booker
            wanted = is_host or booker
        if wanted:
            out.append(Routed(dest.name, kind))
    return out


def route_view(
    memory: ShiftMemory | None, view: Mapping[str, Any], destinations: Iterable[Destination]
) -> tuple[list[Routed], ShiftMemory | None]:
    """Open/withdrawn transitions for one ShiftAvailability record, and the new memory.

    A record whose ``revision`` is not newer than the one applied (a replay, or the compacted
    topic read again) changes nothing and returns ``None`` as the memory.
    """
    prev = memory or ShiftMemory()
    revision = int(view["revision"])
    if revision <= prev.revision:
        return [], None
    version = int(view["version"])
    open_to = set(view.get("visible_to") or ()) if view.get("open") else set()
    host = (str(view["vendor"]), str(_ods(view.get("trust")) or ""))
    was = set(prev.open_to)
    out: list[Routed] = []
    for dest in destinations:
        if (dest.platform, dest.trust) == host:
            continue
        now_open, was_open = dest.trust in open_to, dest.trust in was
        if now_open and (not was_open or version != prev.version):
            out.append(Routed(dest.name, "shift_open"))
        elif was_open and not now_open:
            out.append(Routed(dest.name, "shift_withdrawn"))
    new = ShiftMemory(revision=revision, version=version, open_to=tuple(sorted(open_to)), host=host, extra=prev.extra)
    return out, new
