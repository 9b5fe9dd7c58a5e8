"""Who must be told what: pure routing of hub events and availability changes to destinations.

Inputs are decoded values (an :class:`~rosterhub.envelope.Envelope` and the availability view
as a mapping); outputs are ``(destination, kind)`` pairs plus the router's small per-shift
memory. No Kafka, no clock: the faust agent in ``agent.py`` does the I/O around it.

What an event becomes, and for whom, is declared by the processor that emits it
(:mod:`.kinds`: ``rosterhub.streams.<processor>.outbound``): the booking processor's outcomes
go to the requesting and host platforms (``streams/booking/outbound.py``), the payroll
processor's queries back to the platform a timesheet came from and its pay lines to the
employing trust (``streams/payroll/outbound.py``). Only a processor's own events are routed
(its CloudEvents source): a vendor-authored cancellation is an input to the hub, not news.

Availability is routed here, from the view's transitions (docs/outbound.md): every destination
whose trust is in ``visible_to`` gets ``shift_open`` when the shift becomes open to it (again
when its version changes while open: times or rate changed) and ``shift_withdrawn`` when it
stops being open to it. The host platform itself is never offered its own shift.

A destination with option ``all_platforms`` (the legacy ``outbound_endpoints`` feeds) is a
trust-wide observer of booking outcomes: it gets every outcome whose host or requesting trust
is its trust.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rosterhub.connectors.outbound.contract import Destination, UpdateKind
from rosterhub.connectors.outbound.kinds import for_event
from rosterhub.envelope import Envelope
from rosterhub.ods import ods_of

__all__ = ["Routed", "ShiftMemory", "all_platforms", "requester_of", "route_outcome", "route_view"]


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


def all_platforms(dest: Destination) -> bool:
    """A trust-wide observer (the legacy outcome feeds), rather than one platform."""
    return bool(dest.options.get("all_platforms"))


def requester_of(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(platform, trust) the booking came through: ``vendor`` when the event says, else the booking id."""
    parts = str(data.get("booking_id") or "").split(":")
    vendor = data.get("vendor") or (parts[0] if len(parts) >= 3 else None)
    trust = parts[1] if len(parts) >= 3 else None
    return vendor, trust


def route_outcome(env: Envelope, memory: ShiftMemory | None, destinations: Sequence[Destination]) -> list[Routed]:
    """Destinations and update kinds for one hub event (empty for an input, or an event no kind declares)."""
    out: list[Routed] = []
    for kind in for_event(env):
        assert kind.audience is not None
        mem = memory if kind.uses_view else None
        out += [Routed(d.name, kind.name) for d in destinations if kind.audience(env, d, mem)]
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
    host = (str(view["vendor"]), str(ods_of(view.get("trust")) or ""))
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
