"""What the booking processor tells trust systems: its outcomes, each an update kind (docs/outbound.md).

* the **requesting platform** (the platform and trust a booking came through: ``data.vendor``,
  else the ``<vendor>:<trust>:<id>`` booking id) hears ``booking_confirmed`` / ``booking_rejected``;
* the **host platform** (``view.vendor`` at ``view.trust``, from the router's memory of the
  availability view) hears ``shift_filled``, ``booking_cancelled`` and ``no_show``; while the
  router holds no view of the shift yet, every destination at the event's ``host_trust`` is
  treated as host (an adapter with no use for an update renders nothing). The booking's own
  platform, when it is not the host, hears cancellations and no-shows too (its worker's booking ended);
* a trust-wide observer (``all_platforms``) hears every outcome whose host or requesting trust is its trust.
"""

from __future__ import annotations

from rosterhub.connectors.outbound.contract import Destination
from rosterhub.connectors.outbound.kinds import OutboundKind
from rosterhub.connectors.outbound.routing import ShiftMemory, all_platforms, requester_of
from rosterhub.envelope import Envelope
from rosterhub.events.models.booking import BookingCancelled, BookingConfirmed, BookingRejected, NoShow, ShiftFilled
from rosterhub.ods import ods_of
from rosterhub.streams.booking.outcome import SOURCE

__all__ = ["OUTBOUND_KINDS"]


def _host_trust(env: Envelope, memory: ShiftMemory | None) -> str | None:
    if memory is not None and memory.host:
        return memory.host[1]
    return ods_of(env.data.get("host_trust"))


def requester(env: Envelope, dest: Destination, memory: ShiftMemory | None) -> bool:
    platform, trust = requester_of(env.data)
    if all_platforms(dest):
        return dest.trust in (_host_trust(env, memory), trust)
    return (dest.platform, dest.trust) == (platform, trust)


def host(env: Envelope, dest: Destination, memory: ShiftMemory | None) -> bool:
    if all_platforms(dest):
        return dest.trust == _host_trust(env, memory)
    if memory is not None and memory.host:
        return (dest.platform, dest.trust) == memory.host
    return dest.trust == _host_trust(env, memory)


def host_and_booker(env: Envelope, dest: Destination, memory: ShiftMemory | None) -> bool:
    return host(env, dest, memory) or (not all_platforms(dest) and requester(env, dest, memory))


OUTBOUND_KINDS = (
    OutboundKind(
        "booking_confirmed",
        BookingConfirmed.AVRO_NAME,
        SOURCE,
        requester,
        uses_view=True,
        doc="A request made through this platform was confirmed.",
    ),
    OutboundKind(
        "booking_rejected",
        BookingRejected.AVRO_NAME,
        SOURCE,
        requester,
        uses_view=True,
        doc="A request made through this platform was refused (reason codes).",
    ),
    OutboundKind(
        "shift_filled",
        ShiftFilled.AVRO_NAME,
        SOURCE,
        host,
        uses_view=True,
        doc="The host platform's own shift is filled (by whom, which booking).",
    ),
    OutboundKind(
        "booking_cancelled",
        BookingCancelled.AVRO_NAME,
        SOURCE,
        host_and_booker,
        uses_view=True,
        doc="A confirmed booking was cancelled (shift re-opened or withdrawn).",
    ),
    OutboundKind(
        "no_show", NoShow.AVRO_NAME, SOURCE, host_and_booker, uses_view=True, doc="The booked worker did not arrive."
    ),
)
