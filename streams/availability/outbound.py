"""What the availability processor tells trust systems: shifts opening to them and closing again.

Both kinds come from transitions of the availability view (``views.availability``), which the
outbound router follows per shift itself (:func:`rosterhub.connectors.outbound.routing.route_view`):
they have no audience function of their own.
"""

from __future__ import annotations

from rosterhub.connectors.outbound.kinds import OutboundKind
from rosterhub.events.models.view import ShiftAvailability
from rosterhub.streams.availability.decide import SOURCE

__all__ = ["OUTBOUND_KINDS"]

OUTBOUND_KINDS = (
    OutboundKind(
        "shift_open",
        ShiftAvailability.AVRO_NAME,
        SOURCE,
        None,
        doc="A shift this destination's workers may now book (posted to / released to their tier).",
    ),
    OutboundKind(
        "shift_withdrawn",
        ShiftAvailability.AVRO_NAME,
        SOURCE,
        None,
        doc="A shift it listed as open is no longer open (filled elsewhere, cancelled): drop it.",
    ),
)
