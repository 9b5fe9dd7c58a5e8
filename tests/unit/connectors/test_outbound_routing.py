"""Outbound engine, pure parts: routing tables, breaker state machine, back-off bounds, key stability,
the queued-record format and destinations from settings."""

from __future__ import annotations

import json
import random
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.outbound.breaker import Breaker
from rosterhub.connectors.outbound.contract import HttpCall, Update
from rosterhub.connectors.outbound.delivery import backoff_s, idempotency_key
from rosterhub.connectors.outbound.destinations import adapters, destinations, resolve
from rosterhub.connectors.outbound.queue import Queued, StoredRecord, decode_queued, encode_queued, to_update
from rosterhub.connectors.outbound.routing import ShiftMemory, route_outcome, route_view
from rosterhub.envelope import Envelope, encode_event
from rosterhub.errors import ConfigError, DecodeError
from rosterhub.settings import Settings
from tests.unit.connectors.outbound_builders import EchoAdapter, dest, outcome, view, view_event

# RHQ runs HealthRoster (host of the shifts below) and Patchwork for its bank; RXX runs Patchwork; RYY Locum's Nest.
DESTS = [
    dest("hr-RHQ", "RHQ", "healthroster"),
    dest("pw-RHQ", "RHQ", "patchwork"),
    dest("pw-RXX", "RXX", "patchwork"),
    dest("ln-RYY", "RYY", "locums_nest"),
    dest("outcomes-RHQ", "RHQ", "outcomes", options={"all_platforms": True}),
]
HOSTED = ShiftMemory(revision=1, version=1, open_to=("RHQ", "RXX"), host=("healthroster", "RHQ"))


def _routed(env: Envelope, memory: ShiftMemory | None = HOSTED) -> set[tuple[str, str]]:
    return {(r.destination, r.kind) for r in route_outcome(env, memory, DESTS)}


FEED = "outcomes-RHQ"  # RHQ's trust-wide feed: every outcome about a shift RHQ hosts or a request made at RHQ


@pytest.mark.parametrize(
    ("kind", "booking", "extra", "expected"),
    [
        # the requesting platform (from the booking id, or `vendor` when the event carries it) hears the decision
        ("BookingConfirmed", "patchwork:RXX:B1", {}, {("pw-RXX", "booking_confirmed"), (FEED, "booking_confirmed")}),
        (
            "BookingConfirmed",
            "x:RXX:B1",
            {"vendor": "patchwork"},
            {("pw-RXX", "booking_confirmed"), (FEED, "booking_confirmed")},
        ),
        ("BookingRejected", "locums_nest:RYY:B2", {}, {("ln-RYY", "booking_rejected"), (FEED, "booking_rejected")}),
        ("BookingConfirmed", "patchwork:RHQ:B3", {}, {("pw-RHQ", "booking_confirmed"), (FEED, "booking_confirmed")}),
        # the host platform hears fills, cancellations and no-shows; the booking's platform hears its booking ended
        ("ShiftFilled", "patchwork:RXX:B1", {}, {("hr-RHQ", "shift_filled"), (FEED, "shift_filled")}),
        (
            "BookingCancelled",
            "patchwork:RXX:B1",
            {},
            {("hr-RHQ", "booking_cancelled"), ("pw-RXX", "booking_cancelled"), (FEED, "booking_cancelled")},
        ),
        ("NoShow", "patchwork:RXX:B1", {}, {("hr-RHQ", "no_show"), ("pw-RXX", "no_show"), (FEED, "no_show")}),
    ],
)
def test_outcomes_go_to_the_requesting_and_host_platforms(kind: str, booking: str, extra: dict, expected: set) -> None:
    assert _routed(outcome(kind, "healthroster:RHQ:S1", booking, **extra)) == expected


def test_a_shift_hosted_elsewhere_is_not_on_the_feed_of_a_trust_not_involved() -> None:
    env = outcome("BookingConfirmed", "locums_nest:RYY:S7", "patchwork:RXX:B7", host="RYY")
    assert _routed(env, None) == {("pw-RXX", "booking_confirmed")}


def test_vendor_authored_cancellations_are_inputs_not_news() -> None:
    env = outcome("BookingCancelled", "healthroster:RHQ:S1", "patchwork:RXX:B1", source="/vendors/patchwork/RXX")
    assert _routed(env) == set()


def test_without_a_view_every_destination_at_the_host_trust_is_host() -> None:
    env = outcome("ShiftFilled", "healthroster:RHQ:S1", "patchwork:RXX:B1")
    assert _routed(env, None) == {
        ("hr-RHQ", "shift_filled"),
        ("pw-RHQ", "shift_filled"),
        ("outcomes-RHQ", "shift_filled"),
    }


def test_a_rejection_for_an_unknown_shift_goes_to_the_requester_only() -> None:
    env = outcome("BookingRejected", "nope:RZZ:1", "patchwork:RXX:B9", host_trust=None)
    assert _routed(env, None) == {("pw-RXX", "booking_rejected")}


@pytest.mark.parametrize(
    ("before", "record", "expected"),
    [
        # posted at its own bank: RHQ's Patchwork sees it; the host HealthRoster is never offered its own shift
        (None, view("S", 1), {("pw-RHQ", "shift_open"), ("outcomes-RHQ", "shift_open")}),
        # released to the collaborative: RXX now sees it, RHQ already did
        (
            ShiftMemory(1, 1, ("RHQ",), ("healthroster", "RHQ")),
            view("S", 2, visible_to=("RHQ", "RXX")),
            {("pw-RXX", "shift_open")},
        ),
        # times changed while open (new version): everyone it is open to gets the new details
        (
            ShiftMemory(2, 1, ("RHQ", "RXX"), ("healthroster", "RHQ")),
            view("S", 3, version=2, visible_to=("RHQ", "RXX")),
            {("pw-RHQ", "shift_open"), ("outcomes-RHQ", "shift_open"), ("pw-RXX", "shift_open")},
        ),
        # filled: withdrawn wherever it was open
        (
            ShiftMemory(3, 2, ("RHQ", "RXX"), ("healthroster", "RHQ")),
            view("S", 4, version=2, open_=False),
            {("pw-RHQ", "shift_withdrawn"), ("outcomes-RHQ", "shift_withdrawn"), ("pw-RXX", "shift_withdrawn")},
        ),
        # a change that does not change who may book (e.g. REQUESTED while open): nothing to tell
        (ShiftMemory(4, 2, ("RHQ",), ("healthroster", "RHQ")), view("S", 5, version=2, status="REQUESTED"), set()),
        # never open: nothing
        (None, view("S", 1, open_=False, status="CANCELLED"), set()),
    ],
)
def test_view_changes_open_and_withdraw_shifts(before: ShiftMemory | None, record: dict, expected: set) -> None:
    routed, after = route_view(before, record, DESTS)
    assert {(r.destination, r.kind) for r in routed} == expected
    assert after is not None and after.revision == record["revision"]
    assert after.open_to == (tuple(sorted(record["visible_to"])) if record["open"] else ())


def test_an_older_or_repeated_view_revision_changes_nothing() -> None:
    mem = ShiftMemory(5, 2, ("RHQ",), ("healthroster", "RHQ"))
    for revision in (5, 4, 1):
        assert route_view(mem, view("S", revision, visible_to=("RXX",)), DESTS) == ([], None)


@given(st.permutations(list(range(1, 7))))
def test_views_in_any_order_end_at_the_newest_revision(order: list[int]) -> None:
    mem = None
    for rev in order:
        _, after = route_view(mem, view("S", rev, visible_to=("RHQ", "RXX") if rev % 2 else ("RHQ",)), DESTS)
        mem = after or mem
    assert mem is not None and mem.revision == 6 and mem.open_to == ("RHQ",)


# --- idempotency keys ------------------------------------------------------------------------------------------
def test_idempotency_key_is_a_stable_uuid5_per_event_and_destination() -> None:
    k = idempotency_key("ev-1", "pw-RXX")
    assert k == idempotency_key("ev-1", "pw-RXX") and uuid.UUID(k).version == 5
    assert len({k, idempotency_key("ev-1", "pw-RHQ"), idempotency_key("ev-2", "pw-RXX")}) == 3


def test_idempotency_key_does_not_change_between_releases() -> None:
    # receivers dedupe on these keys across hub upgrades: this value must never change
    assert idempotency_key("ev-1", "pw-RXX") == str(
        uuid.uuid5(uuid.UUID("2a7d0c4e-8f51-5b2a-b6c3-5e9d1f0a7c21"), "ev-1\x1fpw-RXX")
    )


# --- back-off -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("attempt", "cap"), [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (7, 10.0), (60, 10.0)])
def test_backoff_is_full_jitter_under_an_exponential_cap(attempt: int, cap: float) -> None:
    rng = random.Random(attempt)
    waits = [backoff_s(attempt, base=0.5, cap=10.0, rng=rng) for _ in range(400)]
    assert all(0 <= w <= cap for w in waits)
    assert min(waits) < cap * 0.1 and max(waits) > cap * 0.9  # spread over the whole range (full jitter)


def test_backoff_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        backoff_s(0)


# --- circuit breaker ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("steps", "states"),
    [
        # (op, time): f = failure, s = success, a = acquire; the state after each step
        ([("f", 0), ("f", 1), ("f", 2)], ["closed", "closed", "open"]),
        ([("f", 0), ("f", 1), ("s", 2), ("f", 3), ("f", 4)], ["closed", "closed", "closed", "closed", "closed"]),
        ([("f", 0), ("f", 0), ("f", 0), ("a", 9.9)], ["closed", "closed", "open", "open"]),
        ([("f", 0), ("f", 0), ("f", 0), ("a", 10), ("s", 10.5)], ["closed", "closed", "open", "half_open", "closed"]),
        (
            [("f", 0), ("f", 0), ("f", 0), ("a", 10), ("f", 11), ("a", 20)],
            ["closed", "closed", "open", "half_open", "open", "open"],
        ),
    ],
)
def test_breaker_state_machine(steps: list[tuple[str, float]], states: list[str]) -> None:
    b = Breaker(failure_threshold=3, reset_after_s=10)
    for (op, at), expected in zip(steps, states, strict=True):
        if op == "f":
            b = b.on_failure(at)
        elif op == "s":
            b = b.on_success()
        else:
            _, b = b.acquire(at)
        assert b.state(at) == expected, (op, at)


def test_half_open_lets_exactly_one_trial_through() -> None:
    b = Breaker(failure_threshold=1, reset_after_s=5).on_failure(0)
    assert b.acquire(4)[0] is False and b.retry_at() == 5
    ok, b = b.acquire(5)
    assert ok and b.acquire(5.1)[0] is False  # the others wait for the trial
    assert b.on_success().acquire(5.2)[0] is True


# --- queued records -------------------------------------------------------------------------------------------
def test_queued_update_keeps_the_event_bytes_and_decodes_for_the_adapter() -> None:
    catalogue = default_catalogue()
    codec = SingleObjectCodec(catalogue)
    env = outcome("ShiftFilled", "healthroster:RHQ:S1", "patchwork:RXX:B1")
    rec = encode_event(env, catalogue.get(env.type), codec, "events.booking")
    shown = view_event(view("healthroster:RHQ:S1", 3))
    vrec = encode_event(shown, catalogue.get(shown.type), codec, "views.availability")
    q = Queued(
        "k-1",
        "hr-RHQ",
        "shift_filled",
        "healthroster:RHQ:S1",
        StoredRecord.of(rec.value, rec.headers),
        StoredRecord.of(vrec.value, vrec.headers),
    )
    out = encode_queued(q, "out.hr-rhq")
    assert out.key == b"healthroster:RHQ:S1" and ("rh_out_key", b"k-1") in out.headers
    back = decode_queued(out.value)
    assert back == q and back.event.value == rec.value
    update = to_update(back, codec)
    assert update.event.id == env.id and update.shift is not None and update.shift["vendor_shift_id"] == "S1"
    assert EchoAdapter().render(update, DESTS[0]) is not None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"\xff", "not JSON"),
        (b"[]", "unknown format"),
        (b'{"format": "rosterhub.outbound.queued/1", "kind": "teleport"}', "unknown kind"),
        (b'{"format": "rosterhub.outbound.queued/1", "kind": "no_show"}', "incomplete"),
    ],
)
def test_a_broken_queued_record_is_named(value: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_queued(value)


# --- destinations and adapters ----------------------------------------------------------------------------------
def test_legacy_endpoints_become_trust_wide_outcome_feeds() -> None:
    s = Settings(
        outbound_endpoints={"RHQ": "http://trust/outcomes"},
        outbound_destinations=[
            {"name": "pw-RXX", "trust": "rxx", "platform": "patchwork", "url": "http://pw", "secret": "hush"}
        ],
    )
    got = destinations(s)
    assert [(d.name, d.trust, d.platform) for d in got] == [
        ("pw-RXX", "RXX", "patchwork"),
        ("outcomes-RHQ", "RHQ", "outcomes"),
    ]
    assert got[0].secret == "hush" and "hush" not in repr(got[0]) and "hush" not in repr(s)
    assert got[1].options == {"all_platforms": True}


def test_destination_names_are_unique_ignoring_case() -> None:
    s = Settings(
        outbound_destinations=[
            {"name": "a", "trust": "R", "platform": "p", "url": "http://x"},
            {"name": "A", "trust": "R", "platform": "p", "url": "http://y"},
        ]
    )
    with pytest.raises(ConfigError, match="share a name"):
        destinations(s)


def test_a_destination_needs_a_url_or_folder() -> None:
    with pytest.raises(ValueError, match="needs a url or a folder"):
        Settings(outbound_destinations=[{"name": "a", "trust": "R", "platform": "p"}])


def test_adapters_are_discovered_and_a_missing_one_is_named() -> None:
    found = adapters()
    assert "outcomes" in found
    assert resolve([DESTS[4]])["outcomes-RHQ"] is found["outcomes"]
    with pytest.raises(ConfigError, match="'pw-RXX': no adapter for platform 'patchwork'"):
        resolve([DESTS[2]], {"outcomes": found["outcomes"]})


def test_the_legacy_outcomes_feed_posts_decisions_as_json_and_ignores_the_rest() -> None:
    feed = adapters()["outcomes"]
    env = outcome("BookingRejected", "healthroster:RHQ:S1", "patchwork:RXX:B1")
    update = Update("k", "outcomes-RHQ", "booking_rejected", "healthroster:RHQ:S1", "healthroster:RHQ:S1", env)
    call = feed.render(update, DESTS[4])
    assert isinstance(call, HttpCall) and call.path == "" and call.method == "POST"
    body = json.loads(call.body)
    assert (body["id"], body["type"], body["data"]["reason_codes"]) == (env.id, env.type, ["SHIFT_ALREADY_FILLED"])
    assert body["data"]["decided_at"] == env.data["decided_at"].isoformat()
    filled = Update("k", "outcomes-RHQ", "shift_filled", "s", "s", outcome("ShiftFilled", "s", "patchwork:RXX:B1"))
    assert feed.render(filled, DESTS[4]) is None
