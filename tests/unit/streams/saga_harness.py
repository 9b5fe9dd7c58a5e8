"""Both booking stages in memory: the shift table, the person table and the two internal topics as lists.

Used by the step tests and the interleaving property: messages are delivered in whatever
order a test chooses, as the broker may (per key order is kept, as Kafka keeps it per partition).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rosterhub.envelope import Envelope
from rosterhub.instants import LONDON
from rosterhub.streams.booking import decide, outcome, person
from rosterhub.streams.booking.messages import Conflict, decode
from rosterhub.streams.booking.policy import BookingPolicies
from rosterhub.streams.booking.rules import Clearance
from rosterhub.streams.booking.state import ShiftState
from tests.unit.streams.booking_builders import POLICY

NOW = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
CLEARED = Clearance(cleared=True)
POLICIES = BookingPolicies({"RHQ": POLICY, "RCU": POLICY.model_copy(update={"trust": "RCU"})})


def posted(
    shift_id: str = "patchwork:RHQ:s1",
    *,
    version: int = 1,
    trust: str = "RHQ",
    start: datetime | None = None,
    hours: int = 13,
    tier: str = "OWN_BANK",
) -> Envelope:
    # Default: a night across the October clock change: 20:00 BST -> 08:00 GMT is 13 hours.
    start = start or datetime(2026, 10, 24, 20, 0, tzinfo=LONDON)
    end = datetime.fromtimestamp(start.timestamp() + hours * 3600, tz=UTC)
    return Envelope(
        type=outcome.SHIFT_POSTED,
        source=f"/vendors/patchwork/{trust}",
        data={
            "shift_id": shift_id,
            "version": version,
            "trust": {"ods_code": trust, "name": "Trust " + trust},
            "start": start,
            "end": end,
            "staff_group": "NURSING_MIDWIFERY_REGISTERED",
            "grade": "BAND_5",
            "shift_type": "NIGHT",
            "tier": tier,
            "vendor": "patchwork",
            "hourly_rate": None,
        },
    )


def request(
    booking: str,
    shift_id: str = "patchwork:RHQ:s1",
    *,
    person_id: str | None = "p1",
    vendor: str = "patchwork",
    **extra: Any,
) -> Envelope:
    data = {
        "booking_id": booking,
        "shift_id": shift_id,
        "vendor": vendor,
        "requested_at": NOW,
        "worker": {
            "person_id": person_id,
            "identifiers": [{"system": "nmc", "value": "71A2998E"}],
            "display_name": None,
        },
        "membership": "BANK",
        "grade": "BAND_5",
        "staff_group": "NURSING_MIDWIFERY_REGISTERED",
        "home_trust": "RHQ",
        **extra,
    }
    return Envelope(type=outcome.BOOKING_REQUESTED, source=f"/vendors/{vendor}/RHQ", id=f"req-{booking}", data=data)


@dataclass
class Saga:
    """Runs the stages like the agents do: outputs first, then the state write."""

    clearance: Clearance | None = CLEARED
    shifts: dict[str, dict[str, Any]] = field(default_factory=dict)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # the person stage's answers, by booking id
    to_person: list[dict[str, Any]] = field(default_factory=list)
    to_shift: list[dict[str, Any]] = field(default_factory=list)
    events: list[Envelope] = field(default_factory=list)

    def state(self, shift_id: str = "patchwork:RHQ:s1") -> ShiftState | None:
        return ShiftState.from_table(self.shifts.get(shift_id))

    def _apply(self, key: str, result: decide.Step) -> None:
        self.events += result.outputs
        self.to_person += [m.to_wire() for m in result.person]  # the topics carry the wire form
        if result.state is not None:
            self.shifts[key] = result.state.to_table()

    def send(self, env: Envelope) -> None:
        key = env.data["shift_id"]
        self._apply(key, decide.step(self.state(key), env, now=NOW, policies=POLICIES))

    def person_step(self, i: int = 0) -> None:
        msg = decode(self.to_person.pop(i))
        pid = msg.person_id
        assert pid is not None
        got = person.receive(
            person.PersonState.from_table(pid, self.people.get(pid)),
            msg,
            policies=POLICIES,
            clearance=lambda _check: self.clearance,
            answered=self.answers.get,
        )
        assert got.outcome != "ignored", f"a {msg.KIND} message is the shift stage's"
        self.to_shift += [got.reply.to_wire()] if got.reply is not None else []
        if got.keep is not None:
            self.answers[got.keep.booking_id] = got.keep.to_wire()
        if got.outcome not in ("waits", "restamp"):  # as the agent: those leave the person as it was (decisions/0012)
            self.people[pid] = got.state.to_table()

    def shift_step(self, i: int = 0) -> None:
        msg = decode(self.to_shift.pop(i))
        key = msg.shift_id
        if isinstance(msg, Conflict):
            self._apply(key, decide.conflict(self.state(key), msg, now=NOW, policies=POLICIES))
        else:
            self._apply(key, decide.answer(self.state(key), msg, now=NOW, policies=POLICIES))

    def tick(
        self, now: datetime, timers: decide.HoldTimers, shift_id: str = "patchwork:RHQ:s1", *, delay_ms: int = 0
    ) -> None:
        """The timer's tick for one shift, at ``now``, carrying the answer delay its beat saw."""
        state = self.state(shift_id)
        self._apply(shift_id, decide.tick(state, now=now, timers=timers, policies=POLICIES, delay_ms=delay_ms))

    def settle(self) -> None:
        while self.to_person or self.to_shift:
            if self.to_person:
                self.person_step()
            if self.to_shift:
                self.shift_step()

    def decisions(self) -> dict[str, tuple[str, list[str]]]:
        return {
            e.data["booking_id"]: (e.type.rsplit(".", 1)[-1], e.data.get("reason_codes", []))
            for e in self.events
            if e.type in (outcome.BOOKING_CONFIRMED, outcome.BOOKING_REJECTED)
        }


def deliver(saga: Saga, action: str, reqs: dict[str, Envelope]) -> bool:
    """One step of an interleaving the property tests draw: a request sent, or the next person- or shift-stage
    message delivered (``person``/``shift``) or lost (``person-lost``: a check only, ``shift-lost``).

    False when ``action`` is none of these (the caller's own actions: ticks, restarts), or nothing is waiting.
    """
    if action in reqs:
        saga.send(reqs[action])
    elif action.startswith("person") and saga.to_person:
        if action.endswith("lost") and saga.to_person[0]["kind"] == "check":
            saga.to_person.pop(0)  # only checks are lost here; the timer must recover them
        else:
            saga.person_step()
    elif action.startswith("shift") and saga.to_shift:
        if action.endswith("lost"):
            saga.to_shift.pop(0)
        else:
            saga.shift_step()
    else:
        return False
    return True
