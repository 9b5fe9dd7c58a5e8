"""The availability processor's pure step: transitions, version order, idempotency, the cascade timer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rosterhub.envelope import Envelope
from rosterhub.instants import LONDON
from rosterhub.streams.availability.decide import SOURCE, VIEW, Step, step, tick
from rosterhub.streams.availability.policy import AvailabilityPolicy, CascadeStep
from rosterhub.streams.availability.state import ShiftView, to_ms
from rosterhub.streams.booking.outcome import SOURCE as HUB
from rosterhub.streams.booking.policy import BookingPolicies, BookingPolicy

SHIFT = "healthroster:RHQ:SH-1"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
START = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
VENDOR = "/vendors/healthroster/RHQ"
WORKER = {"person_id": "p-1", "identifiers": [], "display_name": None}


def _policy(*steps: CascadeStep, members: tuple[str, ...] = ("RCU", "RFR", "RHQ")) -> AvailabilityPolicy:
    booking = BookingPolicies({t: BookingPolicy(trust=t, collaborative="syb", members=members) for t in members})
    return AvailabilityPolicy({"RHQ": tuple(steps)}, booking)


CASCADE = _policy(
    CascadeStep(to="COLLABORATIVE_BANK", after=timedelta(hours=48)),
    CascadeStep(to="AGENCY_TIER_1", after=timedelta(hours=24), within=timedelta(hours=48)),
)


def shift_event(
    kind: str = "ShiftPosted",
    version: int = 1,
    *,
    ward: str = "Ward 1",
    eid: str | None = None,
    source: str = VENDOR,
    **extra: object,
) -> Envelope:
    data: dict[str, object] = {
        "shift_id": SHIFT,
        "version": version,
        "vendor": "healthroster",
        "vendor_shift_id": "SH-1",
        "trust": {"ods_code": "RHQ", "name": None},
        "ward": ward,
        "staff_group": "NURSING_MIDWIFERY_REGISTERED",
        "grade": "BAND_5",
        "shift_type": "DAY",
        "start": START,
        "end": START + timedelta(hours=12),
        "tier": "OWN_BANK",
        "hourly_rate": Decimal("21.50"),
        "posted_at": T0,
    }
    if kind == "ShiftCancelled":
        data = {"shift_id": SHIFT, "version": version, "trust": {"ods_code": "RHQ", "name": None}}
    if kind == "ShiftReleased":
        data = {
            "shift_id": SHIFT,
            "version": version,
            "trust": {"ods_code": "RHQ", "name": None},
            "from_tier": "OWN_BANK",
            "to_tier": "COLLABORATIVE_BANK",
            "released_at": T0,
        }
    data.update(extra)
    return Envelope(type=f"rosterhub.shift.v1.{kind}", source=source, data=data, id=eid or f"{kind}-{version}-{ward}")


def booking_event(kind: str, booking: str = "b-1", *, source: str = HUB, **extra: object) -> Envelope:
    data = {"shift_id": SHIFT, "booking_id": booking, "worker": WORKER, **extra}
    return Envelope(type=f"rosterhub.booking.v1.{kind}", source=source, data=data, id=f"{kind}-{booking}-{source}")


def run(
    *events: Envelope, policy: AvailabilityPolicy = CASCADE, state: ShiftView | None = None, now: datetime = T0
) -> tuple[ShiftView | None, list[Envelope]]:
    outputs: list[Envelope] = []
    for env in events:
        result: Step = step(state, env, policy=policy, now=now)
        state = result.state
        outputs += result.outputs
    return state, outputs


def views(outputs: list[Envelope]) -> list[dict]:
    return [o.data for o in outputs if o.type == VIEW]


def test_posted_shift_is_open_at_own_bank_with_its_next_release() -> None:
    state, out = run(shift_event())
    (view,) = views(out)
    assert (view["status"], view["open"], view["tier"], view["revision"]) == ("POSTED", True, "OWN_BANK", 1)
    assert view["visible_to"] == ["RHQ"] and view["agency_visible"] is False
    assert view["next_release_at"] == T0 + timedelta(hours=48)
    assert state is not None and state.due_ms == to_ms(T0 + timedelta(hours=48))
    assert out[0].source == SOURCE and out[0].data["hourly_rate"] == Decimal("21.50")


@pytest.mark.parametrize(
    ("events", "status", "open_"),
    [
        ([booking_event("BookingRequested", source=VENDOR)], "REQUESTED", True),
        ([booking_event("BookingRequested", source=VENDOR), booking_event("BookingRejected")], "POSTED", True),
        ([booking_event("BookingConfirmed")], "FILLED", False),
        ([booking_event("ShiftFilled")], "FILLED", False),
        ([booking_event("BookingConfirmed"), booking_event("BookingCancelled", shift_reopened=True)], "POSTED", True),
        (
            [booking_event("BookingConfirmed"), booking_event("BookingCancelled", shift_reopened=False)],
            "CANCELLED",
            False,
        ),
        ([booking_event("BookingConfirmed"), booking_event("NoShow")], "NO_SHOW", False),
        ([shift_event("ShiftCancelled", 2)], "CANCELLED", False),
        ([shift_event("ShiftReleased", 2)], "RELEASED", True),
        (
            [shift_event("ShiftReleased", 2), booking_event("BookingConfirmed"), booking_event("BookingCancelled")],
            "RELEASED",
            True,
        ),
        # vendor-authored outcomes are inputs to the booking processor only
        ([booking_event("BookingConfirmed", source=VENDOR)], "POSTED", True),
        ([booking_event("BookingConfirmed"), booking_event("BookingCancelled", source=VENDOR)], "FILLED", False),
        # two pending requests: one rejection leaves the shift REQUESTED
        (
            [
                booking_event("BookingRequested", "b-1", source=VENDOR),
                booking_event("BookingRequested", "b-2", source=VENDOR),
                booking_event("BookingRejected", "b-1"),
            ],
            "REQUESTED",
            True,
        ),
        # a cancellation of another booking does not free the shift
        ([booking_event("BookingConfirmed", "b-1"), booking_event("BookingCancelled", "b-9")], "FILLED", False),
        # a late request for a filled shift does not make it REQUESTED; cancelled is terminal
        ([booking_event("BookingConfirmed"), booking_event("BookingRequested", "b-2", source=VENDOR)], "FILLED", False),
        ([shift_event("ShiftCancelled", 2), booking_event("BookingConfirmed")], "CANCELLED", False),
    ],
)
def test_transitions(events: list[Envelope], status: str, open_: bool) -> None:
    state, out = run(shift_event(), *events)
    assert state is not None and (state.status, state.open) == (status, open_)
    assert views(out)[-1]["status"] == status and views(out)[-1]["open"] is open_


def test_filled_view_names_booking_worker_and_platform() -> None:
    _, out = run(shift_event(), booking_event("BookingConfirmed", vendor="patchwork"))
    last = views(out)[-1]
    assert (last["booking_id"], last["filled_by"], last["filled_via"]) == ("b-1", WORKER, "patchwork")
    assert last["visible_to"] == [] and last["next_release_at"] is None


def test_redelivered_event_changes_nothing() -> None:
    state, _ = run(shift_event(), booking_event("BookingConfirmed"))
    again = step(state, booking_event("BookingConfirmed"), policy=CASCADE, now=T0)
    assert again.state == state and again.outputs == []
    # a redelivered request with a new event id, for a booking already decided, is still ignored
    state2, _ = run(shift_event(), booking_event("BookingRequested", source=VENDOR), booking_event("BookingRejected"))
    re = Envelope(
        type="rosterhub.booking.v1.BookingRequested",
        source=VENDOR,
        data={"shift_id": SHIFT, "booking_id": "b-1", "worker": WORKER},
        id="other-id",
    )
    assert step(state2, re, policy=CASCADE, now=T0).outputs == []


def test_booking_outcome_before_the_shift_is_kept_and_published_with_it() -> None:
    state, out = run(booking_event("BookingConfirmed"))
    assert state is not None and not state.known and out == []
    state, out = run(shift_event(), state=state)
    assert views(out)[-1]["status"] == "FILLED"


@settings(max_examples=200, deadline=None)
@given(st.permutations(list(range(1, 7))), st.lists(st.integers(1, 6), max_size=4))
def test_older_versions_never_overwrite_newer(order: list[int], replays: list[int]) -> None:
    """Whatever order versions 1..6 arrive in (and replays of any of them), the view ends on version 6."""
    events = [shift_event("ShiftPosted" if v == 1 else "ShiftUpdated", v, ward=f"Ward {v}") for v in order]
    events += [shift_event("ShiftUpdated", v, ward=f"Ward {v}", eid=f"replay-{i}") for i, v in enumerate(replays)]
    state, out = run(*events)
    assert state is not None and (state.version, state.ward) == (6, "Ward 6")
    revisions = [v["revision"] for v in views(out)]
    assert revisions == list(range(1, len(revisions) + 1))
    assert views(out)[-1]["ward"] == "Ward 6"


def test_replayed_older_version_publishes_nothing() -> None:
    state, _ = run(shift_event(), shift_event("ShiftUpdated", 3, ward="Ward 3"))
    assert step(state, shift_event("ShiftUpdated", 2, ward="Ward 2"), policy=CASCADE, now=T0).outputs == []
    assert step(state, shift_event("ShiftPosted", 1, eid="replay"), policy=CASCADE, now=T0).outputs == []


def test_timer_releases_when_due_and_not_before() -> None:
    state, _ = run(shift_event())
    assert state is not None
    early = tick(state, policy=CASCADE, now=T0 + timedelta(hours=47))
    assert early.outputs == [] and early.state == state
    due = T0 + timedelta(hours=48)
    result = tick(state, policy=CASCADE, now=due)
    released, view = result.outputs
    assert released.type == "rosterhub.shift.v1.ShiftReleased" and released.source == SOURCE
    assert (released.data["from_tier"], released.data["to_tier"], released.data["automatic"]) == (
        "OWN_BANK",
        "COLLABORATIVE_BANK",
        True,
    )
    assert released.data["version"] == 2 and "48 h at OWN_BANK" in released.data["reason"]
    assert (view.data["tier"], view.data["status"], view.data["version"]) == ("COLLABORATIVE_BANK", "RELEASED", 2)
    assert view.data["visible_to"] == ["RCU", "RFR", "RHQ"]
    # next: AGENCY_TIER_1 24 h later, or 48 h before the start, whichever first
    assert view.data["next_release_at"] == min(due + timedelta(hours=24), START - timedelta(hours=48))
    # reading our own ShiftReleased back changes nothing
    assert result.state is not None
    assert step(result.state, released, policy=CASCADE, now=due).outputs == []


def test_the_platforms_next_update_still_applies_after_a_hub_release() -> None:
    state, _ = run(shift_event())
    assert state is not None
    released = tick(state, policy=CASCADE, now=T0 + timedelta(hours=48)).state
    assert released is not None and released.version == 2
    after = step(released, shift_event("ShiftUpdated", 2, ward="Ward 9"), policy=CASCADE, now=T0)
    assert after.state is not None and after.state.ward == "Ward 9" and after.state.tier == "COLLABORATIVE_BANK"


def test_several_due_steps_release_in_one_tick_and_agency_tier_carries_the_cap() -> None:
    state, _ = run(shift_event())
    assert state is not None
    late = START - timedelta(hours=2)  # every step due: 48 h passed, and the start is within 48 h
    outs = tick(state, policy=CASCADE, now=late).outputs
    releases = [o.data["to_tier"] for o in outs if o.type.endswith("ShiftReleased")]
    assert releases == ["COLLABORATIVE_BANK", "AGENCY_TIER_1"]
    assert [o.data["version"] for o in outs if o.type.endswith("ShiftReleased")] == [2, 3]
    view = views(outs)[-1]
    assert (view["agency_visible"], view["next_release_at"], view["revision"]) == (True, None, 2)


def test_no_release_once_started_or_when_not_open() -> None:
    state, _ = run(shift_event())
    started = tick(state, policy=CASCADE, now=START + timedelta(minutes=1))  # type: ignore[arg-type]
    assert [o.type for o in started.outputs] == [VIEW]  # no release; the view drops its next release
    assert started.outputs[0].data["next_release_at"] is None and started.state.due_ms is None  # type: ignore[union-attr]
    filled, _ = run(booking_event("BookingConfirmed"), state=state)
    assert tick(filled, policy=CASCADE, now=START - timedelta(hours=1)).outputs == []  # type: ignore[arg-type]


def test_filled_shift_completes_after_its_end() -> None:
    state, _ = run(shift_event(), booking_event("BookingConfirmed"))
    assert state is not None and state.due_ms == to_ms(START + timedelta(hours=12))
    assert tick(state, policy=CASCADE, now=START + timedelta(hours=11)).outputs == []
    done = tick(state, policy=CASCADE, now=START + timedelta(hours=12))
    assert views(done.outputs)[-1]["status"] == "COMPLETED" and done.state is not None and done.state.due_ms is None


def test_cascade_counts_real_hours_across_the_october_clock_change() -> None:
    posted = datetime(2026, 10, 24, 12, 0, tzinfo=LONDON)  # Saturday 12:00 BST
    start = datetime(2026, 10, 30, 8, 0, tzinfo=LONDON)
    policy = _policy(CascadeStep(to="COLLABORATIVE_BANK", after=timedelta(hours=24)))
    state, out = run(shift_event(posted_at=posted, start=start, end=start + timedelta(hours=8)), policy=policy)
    due = views(out)[0]["next_release_at"]
    assert due == posted.astimezone(UTC) + timedelta(hours=24)  # (aware arithmetic in one zone is wall-clock)
    assert due.astimezone(LONDON).hour == 11  # 24 real hours later is 11:00 GMT on the Sunday
    assert tick(state, policy=policy, now=due - timedelta(seconds=1)).outputs == []  # type: ignore[arg-type]
    assert len(tick(state, policy=policy, now=due).outputs) == 2  # type: ignore[arg-type]


def test_within_counts_real_hours_back_from_a_start_after_the_spring_change() -> None:
    start = datetime(2026, 3, 29, 8, 0, tzinfo=LONDON)  # Sunday 08:00 BST, after 01:00 GMT jumped to 02:00 BST
    policy = _policy(CascadeStep(to="COLLABORATIVE_BANK", within=timedelta(hours=12)))
    posted = datetime(2026, 3, 20, 9, 0, tzinfo=LONDON)
    _, out = run(shift_event(posted_at=posted, start=start, end=start + timedelta(hours=8)), policy=policy)
    due = views(out)[0]["next_release_at"]
    assert due == start.astimezone(UTC) - timedelta(hours=12)
    assert due.astimezone(LONDON).hour == 19  # Saturday 19:00 GMT: the lost hour is not counted


@pytest.mark.parametrize(
    ("tier", "visible_to", "agency"),
    [
        ("OWN_BANK", ["RHQ"], False),
        ("COLLABORATIVE_BANK", ["RCU", "RFR", "RHQ"], False),
        ("AGENCY_TIER_1", ["RCU", "RFR", "RHQ"], True),
        ("AGENCY_TIER_3", ["RCU", "RFR", "RHQ"], True),
    ],
)
def test_visibility_per_tier(tier: str, visible_to: list[str], agency: bool) -> None:
    _, out = run(shift_event(tier=tier))
    view = views(out)[-1]
    assert (view["tier"], view["visible_to"], view["agency_visible"]) == (tier, visible_to, agency)


def test_a_trust_outside_any_collaborative_sees_only_itself() -> None:
    _, out = run(shift_event(tier="COLLABORATIVE_BANK"), policy=AvailabilityPolicy())
    assert views(out)[-1]["visible_to"] == ["RHQ"] and views(out)[-1]["next_release_at"] is None
