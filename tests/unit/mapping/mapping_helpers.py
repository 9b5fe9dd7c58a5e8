"""Small mapping files for engine tests, written to a temporary folder."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

RECEIVED = datetime(2026, 3, 25, 10, 0, tzinfo=UTC)

BOOKING_JSON = """\
rosterhub_mapping: 1
vendor: testvendor
format:
  type: json
  records: items
codelists:
  kind:
    entries: {request: BookingRequested}
skip:
  - when: "kind == 'ping'"
    reason: health check
events:
  - name: booking
    when: "kind == 'request'"
    type: BookingRequested
    id: [id]
    fields:
      booking_id: {path: id, then: [hub_id]}
      shift_id: {path: shift, then: [hub_id]}
      worker:
        record:
          identifiers:
            list:
              - {fn: register_identifier, args: {number: nmc, register: {const: nmc}}}
          display_name: name
      vendor: {var: vendor}
      requested_at: {path: at, then: [instant]}
"""

#: A record BOOKING_JSON maps to one BookingRequested.
GOOD = {"kind": "request", "id": "b1", "shift": "s1", "nmc": "71a2998e", "name": "Sam", "at": "2026-03-25T09:00:00Z"}


def payload(*items: dict) -> bytes:
    """The JSON body BOOKING_JSON reads: its records under ``items``."""
    return json.dumps({"items": list(items)}).encode()


def write(tmp_path: Path, text: str, name: str = "testvendor.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path
