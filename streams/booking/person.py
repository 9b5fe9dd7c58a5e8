"""The person stage of the booking saga: (person's bookings, check or release) -> (new state, answers).

Pure. Keyed by person id on ``_rosterhub.booking-person``, so every booking of one
person, at any trust and through any platform, is checked by one writer in one order:
two overlapping requests at two trusts cannot both pass ``no_overlap``. The stage runs
the rules that need the person (passport clearance, overlap, working time, junior
doctors, moonlighting) against its own table of the person's confirmed bookings; when
every rule (the shift stage's included) passed it records the booking. It always
answers the shift stage, and answers a redelivered check with the answer it gave first
(same results), so a crash or a rebalance never changes a decision.

The answers given are not part of the person's row: the agent keeps each in a table of its own, keyed by
booking id, and the row keeps only which bookings were answered and when their shifts end (``ends``). A row
that held every answer grew with every request the person ever made inside the retention window (up to
months) and was rewritten whole on each one; a row now grows by a few dozen bytes a request, and an answer is
written once (docs/benchmarks.md, "The person row").

An *employment* message (from identity: the person's memberships, ESR's substantive assignments
among them) replaces the memberships the stage holds for the person, when newer; the rules read
them (``RuleContext.employments``, the moonlighting rule).

A *retime* moves a recorded booking to its shift's new times (the platform re-timed a
filled shift). If the new times overlap another of the person's bookings, the booking is
dropped and a *conflict* goes back to the shift stage, which cancels it: the booking that
kept its times stands (docs/decisions/0007-booking-saga.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from rosterhub.streams.booking import messages
from rosterhub.streams.booking.messages import Answer, Check, Conflict, Fence, Memberships, Release, Retime
from rosterhub.streams.booking.policy import BookingPolicies, BookingPolicy
from rosterhub.streams.booking.rules import PERSON, Clearance, Employment, OtherBooking, RuleContext, run, stage
from rosterhub.streams.booking.rules.clock import fmt
from rosterhub.streams.booking.rules.overlap import clash
from rosterhub.streams.booking.saga import booking_request, ordered, shift_spec
from rosterhub.streams.booking.state import ParkedRequest, from_ms

__all__ = [
    "Answered",
    "PersonState",
    "Received",
    "check",
    "employment",
    "fence",
    "receive",
    "refused",
    "release",
    "retime",
    "stamp_fits",
]


@dataclass(frozen=True, slots=True)
class PersonState:
    """One person's confirmed bookings (booking id -> trust, shift id, start/end ms) and which checks were answered.

    ``ends`` holds the end (ms) of each answered booking's shift: that it was answered (the answer itself is kept
    by the agent, :data:`Answered`), and when the answer can be pruned with the bookings
    (:func:`rosterhub.streams.booking.retention.prune`) once the rules no longer look back that far.
    ``answers`` holds only answers a row written by an earlier version kept in itself; retention empties it.
    """

    person_id: str
    bookings: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # earlier versions' rows: booking id -> answer
    ends: dict[str, int] = field(default_factory=dict)  # booking id -> end of the answered shift (ms)
    #: the person's memberships as identity last sent them (None: never), and that message's identity-in offset
    memberships: list[dict[str, Any]] | None = None
    memberships_seq: int = -1
    #: The person's identity version, from the last fence identity sent (docs/decisions/0012)
    version: int = 0

    def to_table(self) -> dict[str, Any]:
        out: dict[str, Any] = {"p": self.person_id, "b": self.bookings, "e": self.ends}
        if self.answers:
            out["a"] = self.answers
        if self.memberships is not None:
            out |= {"m": self.memberships, "ms": self.memberships_seq}
        return {**out, "v": self.version} if self.version else out

    @classmethod
    def from_table(cls, person_id: str, value: dict[str, Any] | None) -> PersonState:
        if value is None:
            return cls(person_id)
        memberships = value.get("m")
        return cls(
            value["p"],
            dict(value.get("b", {})),
            dict(value.get("a", {})),
            dict(value.get("e", {})),
            None if memberships is None else list(memberships),
            int(value.get("ms", -1)),
            int(value.get("v", 0)),
        )

    def employments(self) -> tuple[Employment, ...] | None:
        return None if self.memberships is None else tuple(Employment.from_json(m) for m in self.memberships)

    def others(self, booking_id: str) -> tuple[OtherBooking, ...]:
        return tuple(
            OtherBooking(b, v["trust"], from_ms(v["start"]), from_ms(v["end"]))
            for b, v in sorted(self.bookings.items())
            if b != booking_id
        )


def stamp_fits(state: PersonState, msg: Check) -> int:
    """Compare the check's stamp with the identity fences seen: 0 fits, <0 stale (restamp), >0 not here yet.

    A stamp made from a crosswalk copy at identity version *v* of this person fits only while *v* is the last
    fence seen here: the check is then decided between the identity changes it knew and the next one, as if the
    resolver had stamped it at that moment (docs/decisions/0012-identity-off-the-request-path.md).
    """
    stamped = int(msg.person_v or 0)
    return (stamped > state.version) - (stamped < state.version)


def fence(state: PersonState, msg: Fence) -> PersonState:
    """Identity moved this person's version (merge, split, identity key taken or shared): later stamps must match."""
    version = int(msg.version)
    return replace(state, version=version) if version > state.version else state


def refused(state: PersonState, msg: Check) -> Answer:
    """The answer to a check stamped before an identity change the person stage has seen: stamp it again."""
    return Answer(
        booking_id=msg.booking_id,
        shift_id=msg.shift_id,
        person_id=state.person_id,
        results=[],
        recorded=False,
        restamp=state.version,
    )


def check(
    state: PersonState,
    msg: Check,
    *,
    clearance: Clearance | None,
    policy: BookingPolicy | None,
    given: dict[str, Any] | None = None,
) -> tuple[PersonState, Answer]:
    """Run the person rules for one check; record the booking when every rule passed; the answer to send.

    ``given``: the answer this booking's check got before, as kept (:data:`Answered`), if any. The caller has made
    sure the check's stamp fits (:func:`stamp_fits`) unless this booking was answered before.
    """
    booking_id = msg.booking_id
    given = given if given is not None else state.answers.get(booking_id)
    if given is not None:
        return state, Answer.from_wire(given)  # redelivered: the same answer, whatever changed since
    shift_results = list(msg.shift_results)
    if policy is None:  # the shift stage checked it exists; a policy removed since refuses rather than guesses
        person_results: list[dict[str, Any]] = []
    else:
        req = ParkedRequest(
            "", "", booking_id, {"person_id": state.person_id}, msg.request["vendor"], 0, 0, msg.request["extra"]
        )
        spec = shift_spec(msg.shift)
        ctx = RuleContext(
            booking_request(req), spec, policy, state.others(booking_id), clearance, employments=state.employments()
        )
        person_results = [r.to_avro() for r in run(ctx, stage(PERSON))]
    results = ordered([*shift_results, *person_results])
    recorded = policy is not None and all(r["passed"] for r in results)
    out = Answer(
        booking_id=booking_id, shift_id=msg.shift_id, person_id=state.person_id, results=results, recorded=recorded
    )
    bookings = state.bookings
    if recorded:
        s = msg.shift
        bookings = {
            **bookings,
            booking_id: {
                "trust": s["trust"],
                "shift": s["shift_id"],
                "start": s["start"],
                "end": s["end"],
                "v": s.get("version", 0),
            },
        }
    ends = {**state.ends, booking_id: msg.shift["end"]}
    return replace(state, bookings=bookings, ends=ends), out


def employment(state: PersonState, msg: Memberships) -> PersonState:
    """The person's memberships from identity, kept when newer than those held (identity-in is one ordered
    partition, so its offset orders them); a redelivered or older message changes nothing."""
    seq = int(msg.seq)
    if seq <= state.memberships_seq and state.memberships is not None:
        return state
    return replace(state, memberships=list(msg.memberships or ()), memberships_seq=seq)


def release(state: PersonState, msg: Release) -> PersonState:
    """Drop a booking from the person's timeline (cancelled, no-show, or refused by the shift stage after all)."""
    booking_id = msg.booking_id
    if booking_id not in state.bookings:
        return state
    return replace(state, bookings={b: v for b, v in state.bookings.items() if b != booking_id})


def retime(state: PersonState, msg: Retime) -> tuple[PersonState, Conflict | None]:
    """Move a recorded booking to its shift's new times; a *conflict* to send when they overlap another booking.

    Idempotent: a booking not recorded here (rejected, released, or already dropped for a conflict) or already at
    this shift version is left alone, so a redelivered retime sends nothing new. On a clash the booking is dropped
    (the shift stage cancels it) and the conflict names every booking it now overlaps.
    """
    booking_id, shift = msg.booking_id, msg.shift
    current = state.bookings.get(booking_id)
    if current is None or current.get("v", 0) >= shift.get("version", 0):
        return state, None
    start, end = from_ms(shift["start"]), from_ms(shift["end"])
    clashes = [
        f"booking {o.booking_id} at {o.trust} ({fmt(o.start)}-{fmt(o.end)})"
        for o in state.others(booking_id)
        if clash(start, end, o.start, o.end).total_seconds() > 0
    ]
    if not clashes:
        moved = {**current, "start": shift["start"], "end": shift["end"], "v": shift.get("version", 0)}
        return replace(state, bookings={**state.bookings, booking_id: moved}), None
    detail = (
        f"shift {shift['shift_id']} was re-timed to {fmt(start)}-{fmt(end)}, which overlaps "
        + "; ".join(clashes)
        + f": {state.person_id} cannot work both; the hub cancels this one"
    )
    out = Conflict(
        booking_id=booking_id, shift_id=msg.shift_id, person_id=state.person_id, detail=detail, cause=msg.cause
    )
    dropped = {b: v for b, v in state.bookings.items() if b != booking_id}
    return replace(state, bookings=dropped), out


@dataclass(frozen=True, slots=True)
class Received:
    """What one saga message did to a person: the new state, the reply for the shift stage, and which case it was.

    ``outcome``: ``applied``; ``clash`` (a retime overlaps: ``reply`` is the conflict); ``waits`` (a check stamped
    with an identity change whose fence is not here yet: the shift stage re-sends it); ``restamp`` (a check stamped
    before identity's latest change: ``reply`` refuses it); ``answered`` (``reply`` is the answer); ``ignored`` (a
    shift-stage message, never sent here).
    """

    state: PersonState
    reply: Answer | Conflict | None = None
    outcome: Literal["applied", "clash", "waits", "restamp", "answered", "ignored"] = "applied"
    #: An answer given for the first time, for the agent to keep under its booking id (after sending it)
    keep: Answer | None = None


#: The answer kept for a booking id (the agent's table of answers), or None.
Answered = Callable[[str], dict[str, Any] | None]


def _none(_booking_id: str) -> None:
    return None


def receive(
    state: PersonState,
    msg: messages.SagaMessage,
    *,
    policies: BookingPolicies,
    clearance: Callable[[Check], Clearance | None],
    answered: Answered = _none,
) -> Received:
    """One saga message for this person, as the person stage's agent applies it (``clearance``: the passport's
    verdict on a check, asked only when the check is run; ``answered``: the answers kept, asked only for a
    booking the person's row says was answered)."""
    if isinstance(msg, Memberships):
        return Received(employment(state, msg))
    if isinstance(msg, Fence):
        return Received(fence(state, msg))
    if isinstance(msg, Release):
        return Received(release(state, msg))
    if isinstance(msg, Retime):
        after, clashed = retime(state, msg)
        return Received(after, clashed, "clash" if clashed is not None else "applied")
    if isinstance(msg, Check):
        booking_id = msg.booking_id
        given = state.answers.get(booking_id) or (answered(booking_id) if booking_id in state.ends else None)
        fits = 0 if given is not None else stamp_fits(state, msg)
        if fits > 0:
            return Received(state, None, "waits")
        if fits < 0:
            return Received(state, refused(state, msg), "restamp")
        policy = policies.get(msg.shift["trust"])
        after, answer = check(
            state, msg, clearance=None if given is not None else clearance(msg), policy=policy, given=given
        )
        return Received(after, answer, "answered", keep=answer if given is None else None)
    return Received(state, None, "ignored")
