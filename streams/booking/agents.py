"""The thin faust layer around the booking saga (:mod:`.decide`, :mod:`.person`).

* ``booking-decider`` (the shift stage) reads events.shift, events.booking (vendors' requests,
  cancellations and no-shows), ``_rosterhub.booking-requests`` (requests identity stamped, and the
  person stage's answers) and the timer ticks, all keyed by shift id on co-partitioned topics, so one
  writer owns each shift. It stamps a vendor's request with the person from this worker's read-only copy
  of identity's crosswalk (:mod:`rosterhub.streams.identity.crosswalk`); a request the copy cannot resolve
  goes to ``_rosterhub.identity-in`` and comes back stamped (docs/decisions/0012).
* ``booking-person`` (the person stage) reads ``_rosterhub.booking-person``, keyed by
  person id with the same partition count as ``_rosterhub.passport-in``: faust assigns the
  same partition number of co-subscribed topics with equal partition counts to one worker,
  so this worker also holds the person's passport table partition, which it reads only.

The ``booking-parked-timer`` does not scan the shift table: the due instant of every shift with a parked
request or a hold (:func:`.decide.due_ms`) is kept in a :class:`~rosterhub.streams.schedule.Schedule`,
updated by the agent after each input and rebuilt from the table after recovery or a rebalance, so a beat
costs in proportion to what is due.

Both ``concurrency=1`` (faust #606). Outputs go before table writes: a crash in between
repeats the step on the old state after recovery, with the same ids (docs/decisions/0007).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import faust

from rosterhub.envelope import Envelope, headers_dict
from rosterhub.streams import faust_pause, faust_typed, outbox
from rosterhub.streams.booking import person, retention
from rosterhub.streams.booking.admission import Admission, waiting
from rosterhub.streams.booking.answer_delay import AnswerDelay, tick_delay_ms, tick_value
from rosterhub.streams.booking.decide import (
    HoldTimers,
    Step,
    answer,
    conflict,
    due_ms,
    restamp,
    restamped,
    step,
    tick,
)
from rosterhub.streams.booking.messages import (
    HEADER,
    Answer,
    Check,
    Conflict,
    SagaMessage,
    decode,
    dumps,
    loads,
)
from rosterhub.streams.booking.outcome import BOOKING_REQUESTED
from rosterhub.streams.booking.policy import BookingPolicies, load_booking_policies
from rosterhub.streams.booking.rules import Clearance
from rosterhub.streams.booking.state import ShiftState, from_ms, to_ms
from rosterhub.streams.faust_typed import RawEvent, RawStream
from rosterhub.streams.identity.crosswalk import Crosswalk
from rosterhub.streams.identity.crosswalk_reader import follow
from rosterhub.streams.identity.outputs import booking_copy
from rosterhub.streams.identity.records import forwarded_booking
from rosterhub.streams.outbox import Sent
from rosterhub.streams.passport.clearance import clearance as passport_clearance
from rosterhub.streams.passport.clearance import required_types
from rosterhub.streams.passport.policy import PolicySet, load_policies
from rosterhub.streams.passport.state import Passport
from rosterhub.streams.row_table import RowTable, cached_table, json_bytes
from rosterhub.streams.schedule import TICKS_PER_BEAT, Schedule

if TYPE_CHECKING:
    from rosterhub.streams.app import StreamContext

__all__ = ["register"]

log = logging.getLogger(__name__)

PASSPORT_TABLE = "passport"
SHIFT_TABLE = "booking-shift-state"
PERSON_TABLE = "booking-person-state"
#: The person stage's answers, keyed by booking id: written once each, from the person's partition, so a
#: redelivered check finds its answer without the person's row carrying every answer (streams/booking/person.py).
ANSWERS_TABLE = "booking-person-answers"
#: Decoded rows each stage keeps in memory (streams/row_table.py). A shift's row is a few KB of JSON (its outbox
#: keeps the records of its last inputs); a person's keeps every answer until retention, up to hundreds of KB for
#: someone booked daily, several times that as objects: few people are kept, a miss is only a read as before.
CACHED_SHIFTS = 5_000
CACHED_PEOPLE = 256
#: Answers are read again only for a redelivered check (a resend after a lost answer, a replay after a crash):
#: the recent ones are enough in memory.
CACHED_ANSWERS = 1_000
#: Holds and parked requests are due seconds after their last write, so every one sits inside this horizon; the
#: timer rescans its table partitions once per horizon (and after every recovery or rebalance) as a safety net.
HORIZON_MS = 24 * 3600 * 1000
#: How often a worker looks at its saga's waiting records to hold its input back or resume it (streams/booking/
#: admission.py): a fifth of a second is a few dozen decisions flat out.
ADMISSION_BEAT_S = 0.2
#: How the person stage sends a saga message (the shift stage's ``send_saga``): to a topic, under a key.
SendSaga = Callable[[faust.TopicT, str, SagaMessage], Awaitable[Sent]]


def register(app: faust.App, ctx: StreamContext) -> None:
    settings = ctx.settings
    timers = HoldTimers(
        grace=timedelta(seconds=settings.booking_unknown_shift_grace_s),
        resend=timedelta(seconds=settings.booking_hold_resend_s),
        timeout=timedelta(seconds=settings.booking_hold_timeout_s),
    )
    policies = _booking_policies(ctx)
    passport_policies = (
        load_policies([settings.passport_policy_dir]) if settings.passport_policy_dir.exists() else PolicySet({})
    )
    partitions = settings.default_partitions
    shifts = cached_table(
        app, SHIFT_TABLE, partitions=partitions, decode=shift_row, encode=_encode_shift, limit=CACHED_SHIFTS
    )
    people = cached_table(
        app, PERSON_TABLE, partitions=partitions, decode=person_row, encode=_encode_person, limit=CACHED_PEOPLE
    )
    answers = cached_table(
        app, ANSWERS_TABLE, partitions=partitions, decode=json.loads, encode=json_bytes, limit=CACHED_ANSWERS
    )
    names = ctx.names
    delay = AnswerDelay()
    read = _admission(app, ctx, Admission.from_setting(settings.booking_admission_waiting))
    stage = _ShiftStage(
        app=app,
        ctx=ctx,
        shifts=shifts,
        timers=timers,
        policies=policies,
        copy=_crosswalk(app, ctx),
        schedule=_timer(
            app, shifts, ctx.raw_topic(app, names.booking_ticks), timers, delay, settings.booking_timer_interval_s
        ),
        delay=delay,
        read=read,
    )
    source = ctx.raw_topic(
        app, names.events("shift"), names.events("booking"), names.booking_requests, names.booking_ticks
    )

    @app.agent(source, name="booking-decider", concurrency=1)
    async def decide(stream: RawStream) -> None:
        async for event in stream.events():
            await stage.handle(event)

    send_saga = stage.send_saga
    _person_stage(app, ctx, people, answers, policies, passport_policies, send_saga, read)


@dataclass
class _ShiftStage:
    """The shift stage's agent body: one input record -> outputs, then the table write (in that order)."""

    app: faust.App
    ctx: StreamContext
    shifts: RowTable[ShiftState]
    timers: HoldTimers
    policies: BookingPolicies
    copy: Crosswalk
    schedule: Schedule
    #: How long the person stage has lately taken to answer this worker (its re-sends wait for it)
    delay: AnswerDelay
    #: The next offset to process, per saga partition (:func:`_admission`)
    read: dict[Any, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = self.ctx.names
        self.ticks_name, self.booking_topic = names.booking_ticks, names.events("booking")
        self.out = self.ctx.raw_topic(self.app, names.events("booking"))
        self.to_person = self.ctx.raw_topic(self.app, names.booking_person)
        self.to_identity = self.ctx.raw_topic(self.app, names.identity_in)
        self.topics: dict[str, faust.TopicT] = {}

    async def send_saga(self, topic: faust.TopicT, key: str, msg: SagaMessage) -> Sent:
        sent = Sent(topic.get_topic_name(), key.encode(), dumps(msg), ((HEADER, msg.KIND.encode()),))
        await topic.send(key=sent.key, value=sent.value, headers=list(sent.headers))
        return sent

    async def resend(self, records: list[Sent]) -> None:
        for rec in records:
            if rec.topic not in self.topics:
                self.topics[rec.topic] = self.ctx.raw_topic(self.app, rec.topic)
            await self.topics[rec.topic].send(key=rec.key, value=rec.value, headers=list(rec.headers))

    async def handle(self, event: RawEvent) -> None:
        # Decide at the input's own time, so a record re-processed after a crash or a rebalance gives the
        # same decision byte for byte (decided_at included); timers run on this worker's clock (restamp).
        clock = datetime.now(UTC)
        now = _record_time(event) or clock
        policies, shifts = self.policies, self.shifts
        topic, hdrs = event.message.topic, headers_dict(event.headers)
        self.read[(event.message.topic, event.message.partition)] = event.message.offset + 1  # equal to faust TP
        key = (event.key or b"").decode()
        env: Envelope | None = None
        if topic != self.ticks_name and HEADER not in hdrs:
            env = await self._decoded(event, topic)
            if env is None:
                return
            key = str(env.data.get("shift_id"))
        before = shifts.get(key)
        received = outbox.input_id(topic, event.message.partition, event.message.offset)
        again = outbox.kept(before.outbox, received) if before is not None else None
        if again is not None:  # applied before a crash that may have lost its outputs: the same records again
            await self.resend(again)
            log.info("booking shift %s: outputs of %s sent again (%d)", key, received, len(again))
            return
        if env is not None:
            env = await self._stamped(event, env, topic)
            if env is None:
                return
            result = step(before, env, now=now, policies=policies)
        elif topic == self.ticks_name:
            delay_ms = tick_delay_ms(event.value)
            result = (
                tick(before, now=now, timers=self.timers, policies=policies, delay_ms=delay_ms)
                if before
                else Step(None)
            )
        else:
            reply = decode(loads(event.value))
            if isinstance(reply, Conflict):
                result = conflict(before, reply, now=now, policies=policies)
            elif isinstance(reply, Answer):
                self._observe(before, reply, clock)
                result = answer(before, reply, now=now, policies=policies)
            else:
                log.warning("booking shift %s: a %s message on booking-requests ignored", key, reply.KIND)
                result = Step(before)
        # Outputs, then the state that keeps them (docs/decisions/0013): a crash before the table write decides
        # again on the old state (the same records); one after it finds them in the outbox and sends them again.
        result = _restamp_hold(self.copy, result, now, policies)
        sent: list[Sent] = []
        for decision in result.outputs:
            rec = self.ctx.encoder.encode(decision)
            await self.out.send(key=rec.key, value=rec.value, headers=rec.headers)
            sent.append(Sent(rec.topic, rec.key, rec.value, tuple(rec.headers)))
            log.info("booking %s: %s", decision.subject, decision.type.rsplit(".", 1)[-1])
        for msg in result.person:
            if msg.person_id:
                sent.append(await self.send_saga(self.to_person, msg.person_id, msg))
        after = restamp(before, result.state, clock=clock)
        if after is not None and sent:
            after = replace(after, outbox=outbox.remember(after.outbox, received, sent))
        if after is not None and after != before:
            shifts.set(key, after)
        self.schedule.set(key, _due(after or before, self.timers, self.delay.current(to_ms(clock))))

    def _observe(self, held: ShiftState | None, reply: Answer, clock: datetime) -> None:
        """The answer to the check this shift holds: how long it took since the check was (last) sent."""
        if held is None or held.hold is None or not held.hold_sent_ms or held.hold.booking_id != reply.booking_id:
            return  # an answer for a booking no longer held: late, after a timeout or a re-send's first answer
        now_ms = to_ms(clock)
        self.delay.observe(now_ms - held.hold_sent_ms, now_ms)

    async def _decoded(self, event: RawEvent, topic: str) -> Envelope | None:
        """A shift or booking event to decide on; None: undecodable (dead-lettered) or a request the hub wrote."""
        env = await self.ctx.decoded(self.app, event, "booking-decider")
        if env is None:
            return None
        if env.type == BOOKING_REQUESTED and topic == self.booking_topic and not forwarded_booking(event.headers):
            return None  # a request the hub wrote itself
        return env

    async def _stamped(self, event: RawEvent, env: Envelope, topic: str) -> Envelope | None:
        """A vendor's request stamped from the copy; None: sent to the resolver instead. Anything else as it is."""
        if env.type != BOOKING_REQUESTED or topic != self.booking_topic:
            return env
        stamped = _stamp(self.copy, env)
        if stamped is None:  # the copy cannot tell (yet): the resolver stamps it, as before the copy
            hdrs = list(headers_dict(event.headers).items())
            await self.to_identity.send(key=event.key, value=event.value, headers=hdrs)
        return stamped


def _crosswalk(app: faust.App, ctx: StreamContext) -> Crosswalk:
    """This worker's read-only copy of identity's crosswalk, followed for as long as the worker runs."""
    copy = Crosswalk()

    @faust_typed.task(app)
    async def follow_crosswalk() -> None:
        await follow(copy, kafka=ctx.kafka, topic=ctx.names.identity_crosswalk)

    return copy


def _restamp_hold(copy: Crosswalk, result: Step, now: datetime, policies: BookingPolicies) -> Step:
    """A hold whose stamp the person stage refused, stamped again once this copy has the identity change."""
    state = result.state
    if state is None or state.hold is None or state.hold_restamp is None:
        return result
    if not copy.ready or copy.step < state.hold_restamp:
        return result  # not yet: the next input or tick for this shift tries again
    ids = state.hold.worker.get("identifiers") or ()
    # by the request's identity keys; a request with none was stamped by the person id it gave: follow merges
    found = copy.resolve(ids) if ids else copy.resolve((), state.hold.person_id)
    again = restamped(
        state, found.person if found else None, found.version if found else None, now=now, policies=policies
    )
    return Step(again.state, [*result.outputs, *again.outputs], [*result.person, *again.person])


def _stamp(copy: Crosswalk, env: Envelope) -> Envelope | None:
    """The vendor's request with the person (and their identity version) from the copy; None: ask the resolver."""
    worker = env.data.get("worker") or {}
    found = copy.resolve(worker.get("identifiers") or (), worker.get("person_id"))
    return None if found is None else booking_copy(env, found.person, found.version)


def _booking_policies(ctx: StreamContext) -> BookingPolicies:
    """The booking policies, validated with the person stage's retention before any table or agent exists."""
    settings = ctx.settings
    policies = (
        load_booking_policies([settings.booking_policy_dir])
        if settings.booking_policy_dir.exists()
        else BookingPolicies({})
    )
    if not policies.trusts:
        log.warning("no booking policies in %s: every request will be refused", settings.booking_policy_dir)
    retention.check_retention(settings.booking_person_retention_days, policies)
    return policies


def shift_row(raw: bytes | str) -> ShiftState:
    """A ``booking-shift-state`` row as stored (JSON, also as faust's ``json`` serializer wrote it before)."""
    state = ShiftState.from_table(json.loads(raw))
    assert state is not None  # from_table is None only for no value
    return state


def _encode_shift(state: ShiftState) -> bytes:
    return json_bytes(state.to_table())


def person_row(raw: bytes | str) -> person.PersonState:
    """A ``booking-person-state`` row as stored (JSON, also as faust's ``json`` serializer wrote it before)."""
    value = json.loads(raw)
    return person.PersonState.from_table(value["p"], value)


def _encode_person(state: person.PersonState) -> bytes:
    return json_bytes(state.to_table())


def _record_time(event: RawEvent) -> datetime | None:
    ts = getattr(event.message, "timestamp", None)
    return datetime.fromtimestamp(ts, UTC) if ts else None


def _ms(event: RawEvent) -> int:
    """The record's time (so a re-processed record prunes the same), else this worker's clock."""
    return to_ms(_record_time(event) or datetime.now(UTC))


def _due(state: ShiftState | None, timers: HoldTimers, delay_ms: int) -> int | None:
    return due_ms(state, timers=timers, delay_ms=delay_ms) if state is not None else None


def _timer(
    app: faust.App,
    shifts: RowTable[ShiftState],
    ticks: faust.TopicT,
    timers: HoldTimers,
    delay: AnswerDelay,
    interval: float,
) -> Schedule:
    """The timer and the schedule it reads; the agent keeps the schedule up to date after each input."""
    schedule = Schedule(HORIZON_MS)

    @faust_typed.timer(app, interval=interval, name="booking-parked-timer")
    async def find_overdue() -> None:
        """Parked requests past the grace and holds waiting for an answer: a tick through the shift's partition,
        so the one writer of the shift acts on it (the timer runs on every worker, over its own partitions)."""
        if faust_typed.settling(app):
            return  # the table is being recovered; on_rebalance_complete marks the schedule stale afterwards
        now_ms = to_ms(datetime.now(UTC))
        delay_ms = delay.current(now_ms)
        if schedule.stale or now_ms >= schedule.horizon_end:
            await _rebuild(shifts, schedule, timers, now_ms, delay_ms)
        value = tick_value(delay_ms)  # the tick decides with the delay its beat saw, again after a crash
        for key in schedule.pop_due(now_ms, TICKS_PER_BEAT):
            await ticks.send(key=key.encode(), value=value)

    app.on_rebalance_complete.connect(schedule.invalidate)
    return schedule


def _admission(app: faust.App, ctx: StreamContext, admission: Admission) -> dict[Any, int]:
    """The beat that holds this worker's input back while the saga's own records wait (streams/booking/admission.py);
    the stages record in the dict it returns the next offset they will process of each saga partition. With the
    setting at 0 (the default) no beat is installed: the worker reads its input as faust fetches it."""
    read: dict[Any, int] = {}
    if not admission.pause_at:
        return read
    names = ctx.names
    saga = {names.booking_person, names.booking_requests}
    inputs = {names.events("shift"), names.events("booking")}
    held = False

    @faust_typed.timer(app, interval=ADMISSION_BEAT_S, name="booking-admission")
    async def admit() -> None:
        nonlocal held
        consumer = app.consumer
        assigned = consumer.assignment()
        ends = {tp: _end(consumer, tp) for tp in assigned if tp.topic in saga}
        behind = waiting(ends, read)
        hold = admission.paused(behind, paused=held)
        tps = [tp for tp in assigned if tp.topic in inputs]
        if hold:  # every beat: a rebalance may have given this worker more input partitions
            await faust_pause.hold(consumer, tps)
        elif held:
            await faust_pause.release(consumer, tps)
        if hold != held:
            log.info(
                "booking admission: %s input (%d saga records waiting)", "holding back" if hold else "resumed", behind
            )
        held = hold

    return read


def _end(consumer: Any, tp: Any) -> int | None:
    """The partition's end as the consumer last fetched it; None while unknown or no longer assigned."""
    try:
        return consumer.highwater(tp)  # type: ignore[no-any-return]
    except AssertionError:  # aiokafka asserts the partition is assigned: a rebalance between two calls
        return None


async def _rebuild(
    shifts: RowTable[ShiftState], schedule: Schedule, timers: HoldTimers, now_ms: int, delay_ms: int
) -> None:
    """Rescan the owned partitions of the shift table for holds and parked requests (yielding as it goes)."""
    schedule.begin_rebuild()
    entries: list[tuple[str, int | None]] = []
    for n, (key, state) in enumerate(shifts.items()):
        entries.append((key, _due(state, timers, delay_ms)))
        if n % 5000 == 4999:
            await asyncio.sleep(0)
    schedule.rebuild(entries, now_ms)
    log.info("booking schedule rebuilt: %d of %d shifts have a hold or a parked request", len(schedule), len(entries))


def _person_stage(
    app: faust.App,
    ctx: StreamContext,
    people: RowTable[person.PersonState],
    answers: RowTable[dict[str, Any]],
    policies: BookingPolicies,
    passport_policies: PolicySet,
    send: SendSaga,
    read: dict[Any, int],
) -> None:
    """The person stage's agent: one writer per person, answers keyed by shift id."""
    stage = _PersonStage(
        people,
        answers,
        policies,
        functools.partial(_clearance, app, passport_policies),
        send,
        ctx.raw_topic(app, ctx.names.booking_requests),
        ctx.settings.booking_person_retention_days,
        read,
    )

    @app.agent(ctx.raw_topic(app, ctx.names.booking_person), name="booking-person", concurrency=1)
    async def person_stage(stream: RawStream) -> None:
        async for event in stream.events():
            await stage.handle(event)


@dataclass
class _PersonStage:
    """The person stage's agent body: one saga message -> its answer, then the person's row (in that order)."""

    people: RowTable[person.PersonState]
    answers: RowTable[dict[str, Any]]  # booking id -> the answer its check got (ANSWERS_TABLE)
    policies: BookingPolicies
    clearance: Callable[[str, Check], Clearance | None]  # the passport's verdict for a person and a check
    send: SendSaga
    to_shift: faust.TopicT
    retention_days: int
    read: dict[Any, int] = field(default_factory=dict)  # the next offset to process, per saga partition (_admission)

    async def handle(self, event: RawEvent) -> None:
        self.read[(event.message.topic, event.message.partition)] = event.message.offset + 1  # equal to faust TP
        pid = (event.key or b"").decode()
        try:
            msg = decode(loads(event.value))
        except ValueError as exc:  # not JSON, or a kind the person stage does not know
            log.warning("booking-person: unreadable saga message for %s dropped: %s", pid, exc)
            return
        before = self.people.get(pid) or person.PersonState(pid)
        clearance = functools.partial(self.clearance, pid)
        got = person.receive(before, msg, policies=self.policies, clearance=clearance, answered=self.answers.get)
        if got.reply is not None:
            await self.send(self.to_shift, got.reply.shift_id, got.reply)
        _log_received(pid, msg, got)
        if got.keep is not None:
            self.answers.set(got.keep.booking_id, got.keep.to_wire())
        after = got.state
        if after != before:  # pruned only when written anyway: no scans, no extra writes
            after = retention.prune(after, now_ms=_ms(event), retention_days=self.retention_days)
            for gone in got.state.ends.keys() - after.ends.keys():
                self.answers.delete(gone)
            self.people.set(pid, after)


def _log_received(pid: str, msg: SagaMessage, got: person.Received) -> None:
    booking = getattr(msg, "booking_id", None)
    if isinstance(got.reply, Conflict):
        shift, detail = got.reply.shift_id, got.reply.detail
        log.warning("booking %s: re-timed shift %s now clashes for person %s: %s", booking, shift, pid, detail)
    elif got.outcome == "waits":  # stamped from a copy that has an identity change whose fence is not here yet
        log.info("booking %s: check for %s waits for identity's fence", booking, pid)  # the shift stage re-sends it
    elif got.outcome == "restamp":
        log.info("booking %s: stamp of %s older than identity's; restamp", booking, pid)
    elif isinstance(got.reply, Answer):
        log.info("booking %s: person %s answered (recorded=%s)", booking, pid, got.reply.recorded)
    elif got.outcome == "ignored":  # an answer or a conflict: the shift stage's messages, never sent here
        log.warning("booking-person: a %s message for %s ignored", msg.KIND, pid)


def _clearance(app: faust.App, policies: PolicySet, pid: str, msg: Check) -> Clearance:
    """The passport's verdict for this person and shift, read from the passport table this worker holds.

    The table is there: booking ``needs`` passport, so a worker without it is refused at install (rosterhub/
    features.py). It is looked up here, not taken at install, because passport installs after booking (its
    ``order``, which also names the processor sets' groups)."""
    shift = msg.shift
    policy = policies.get(shift["trust"])
    if policy is None:
        return Clearance(cleared=False, unmet=(("passport policy", f"NO_TRUST_POLICY for {shift['trust']}"),))
    table = app.tables[PASSPORT_TABLE]
    types = required_types(policy, shift["staff_group"], shift["grade"])
    row = table.get(pid.encode())  # type: ignore[attr-defined]  # faust: CollectionT lacks the Mapping API of its tables
    passport = Passport.from_table(row, types=types)
    verdict = passport_clearance(
        passport,
        policy,
        staff_group=shift["staff_group"],
        grade=shift["grade"],
        start=from_ms(shift["start"]),
        end=from_ms(shift["end"]),
        person=pid,
    )
    return Clearance(cleared=verdict.cleared, unmet=tuple((r.requirement, r.reason or "") for r in verdict.unmet))
