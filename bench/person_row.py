"""How big a person's ``booking-person-state`` row grows, and what a check costs, with the checks they get (run by
hand, not in the tests).

    .venv/bin/python bench/person_row.py [--checks 600]

The person stage rewrites the person's row on every check it answers (streams/booking/agents.py), so the row's
size is what each check costs to encode and what each changelog record carries. This runs the stage's pure step
(:func:`rosterhub.streams.booking.person.check`) for one person over one-hour shifts six hours apart, the check the
saga sends for the unit tests' shift as the template, and prints the row's bytes (compact JSON, as stored) after
10, 40, 100, 330 and 600 checks, with the milliseconds the step took for each (the mean of the ten checks up to
the mark: the rules read every booking the person holds). Run it in two trees (``git worktree add``) to compare
versions: before answers moved to their own table the row held every answer (every rule's result) until retention;
before session 12 the working-time rules cost the square of the bookings held.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rosterhub.instants import to_ms  # noqa: E402
from rosterhub.streams.booking import person  # noqa: E402
from rosterhub.streams.booking.messages import Check  # noqa: E402
from rosterhub.streams.row_table import json_bytes  # noqa: E402
from tests.unit.streams.saga_harness import CLEARED, NOW, POLICIES, Saga, posted, request  # noqa: E402

HOUR_MS = 3_600_000
MARKS = (10, 40, 100, 330, 600)


def row_sizes(checks: int) -> dict[str, object]:
    saga = Saga()
    saga.send(posted())
    saga.send(request("b1"))
    wire = saga.to_person[0]
    state = person.PersonState("p1")
    sizes: dict[int, int] = {}
    check_ms: dict[int, float] = {}
    spent: list[float] = []
    answer = 0
    for i in range(checks):
        start = to_ms(NOW) + i * 6 * HOUR_MS
        shift = {**wire["shift"], "shift_id": f"s{i}", "start": start, "end": start + HOUR_MS}
        msg = Check.from_wire({**wire, "booking_id": f"patchwork:RHQ:B-{i}-0", "shift_id": f"s{i}", "shift": shift})
        began = time.perf_counter()
        state, out = person.check(state, msg, clearance=CLEARED, policy=POLICIES.get("RHQ"))
        spent.append(time.perf_counter() - began)
        answer = len(json_bytes(out.to_wire()))
        if i + 1 in MARKS:
            sizes[i + 1] = len(json_bytes(state.to_table()))
            check_ms[i + 1] = round(1000 * sum(spent[-10:]) / len(spent[-10:]), 2)
    return {
        "row_bytes_after_n_checks": sizes,
        "check_ms_at_n_checks": check_ms,
        "one_answer_bytes": answer,
        "bookings_recorded": len(state.bookings),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checks", type=int, default=max(MARKS))
    print(json.dumps(row_sizes(ap.parse_args().checks)))


if __name__ == "__main__":
    main()
