"""``event_ids``: the same UUIDv5 text as ``event_id``, with its first parts hashed once."""

from __future__ import annotations

import random
import uuid

from rosterhub.envelope import event_id, event_ids


def test_event_ids_gives_event_ids_own_text_for_any_parts() -> None:
    rng = random.Random(7)
    alphabet = "abcXYZ019-_:/ é£\u2603"
    for _ in range(2000):
        words = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12))) for _ in range(rng.randrange(1, 5))]
        parts: list[object] = [*words, rng.randrange(0, 10**6)]
        cut = rng.randrange(0, len(parts))  # a prefix, and at least one part after it
        made = event_ids(*parts[:cut])(*parts[cut:])
        assert made == event_id(*parts), parts
        assert uuid.UUID(made).version == 5 and uuid.UUID(made).variant == uuid.RFC_4122


def test_the_kpi_records_ids() -> None:
    ids = event_ids("kpi", "rosterhub.kpi.v1.ShiftKpi")
    assert ids("nhsp:RCU:S-1", 3) == event_id("kpi", "rosterhub.kpi.v1.ShiftKpi", "nhsp:RCU:S-1", 3)
    assert ids("nhsp:RCU:S-1", 3) != ids("nhsp:RCU:S-1", 4)
