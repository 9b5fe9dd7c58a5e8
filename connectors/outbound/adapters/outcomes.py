"""``outcomes``: the hub's own JSON outcome feed (the original ``outbound_endpoints`` behaviour).

A trust-wide observer (routing option ``all_platforms``): booking confirmations and refusals
involving the trust, POSTed as one JSON document each, the hub event as CloudEvents-style
JSON (``id``, ``type``, ``time``, ``subject``, ``data``). Every other update kind is ignored.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from rosterhub.connectors.outbound.contract import Destination, HttpCall, Rendered, Update
from rosterhub.leaves import map_leaves

__all__ = ["ADAPTER", "OutcomesAdapter"]


def _jsonable(value: Any) -> Any:
    """A leaf as JSON text: an instant as ISO text, a decimal as its digits."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class OutcomesAdapter:
    platform = "outcomes"
    kinds = frozenset({"booking_confirmed", "booking_rejected"})

    def render(self, update: Update, destination: Destination) -> Rendered | None:
        if update.kind not in self.kinds:
            return None
        env = update.event
        body = {
            "id": env.id,
            "type": env.type,
            "time": env.time.isoformat(),
            "subject": env.subject,
            "data": map_leaves(env.data, _jsonable, sequences=(list, tuple)),
        }
        return HttpCall("POST", "", json.dumps(body).encode())


ADAPTER = OutcomesAdapter()
