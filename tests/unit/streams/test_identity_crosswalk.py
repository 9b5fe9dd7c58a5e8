"""Every worker's crosswalk copy (streams/identity/crosswalk.py, docs/decisions/0012): exact as of a resolver step,
never a guess, and every identity change that could move a stamp fences the person stage."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rosterhub.events.codes import IDENTIFIER_SYSTEMS, vendor_system
from rosterhub.streams.booking import person
from rosterhub.streams.booking.messages import Check, Fence
from rosterhub.streams.identity.commands import MergeCommand, SplitCommand
from rosterhub.streams.identity.crosswalk import Crosswalk, changes, decode
from rosterhub.streams.identity.match import person_id_for
from rosterhub.streams.identity.state import Store
from tests.unit.streams.identity_harness import Hub, worker
from tests.unit.streams.test_identity_booking import booking

PINS = ("71A2998E", "82B3109F", "93C4210A")


def nmc(pin: str) -> dict[str, str]:
    return {"system": IDENTIFIER_SYSTEMS["nmc"], "value": pin}


def copy_of(hub: Hub, upto: int | None = None) -> Crosswalk:
    copy = Crosswalk(ready=True)
    for key, value in hub.crosswalk[:upto]:
        copy.apply(*decode(key, value))
    return copy


def stamped(hub: Hub, *ids: dict[str, str]) -> tuple[str | None, str | None]:
    """What the resolver stamps on a request with these identifiers: (person, version)."""
    hub.feed(booking(f"b{len(hub.log)}", *ids))
    env = hub.booking[-1][1]
    return env.data["worker"]["person_id"], env.extensions.get("personversion")


def test_the_copy_stamps_what_the_resolver_stamps_and_leaves_the_rest_to_it() -> None:
    hub = Hub()
    hub.feed(worker("patchwork:RHQ:pw-1", nmc=PINS[0]))
    hub.feed(worker("nhsp:RCU:N-77", nmc=PINS[0]))
    copy = copy_of(hub)
    found = copy.resolve([{"system": vendor_system("nhsp", "RCU"), "value": "N-77"}])
    assert found is not None and found.person == person_id_for(f"reg:nmc:{PINS[0]}")
    assert stamped(hub, {"system": vendor_system("nhsp", "RCU"), "value": "N-77"}) == (found.person, "0")
    assert copy.resolve([nmc(PINS[1])]) is None  # a key the copy does not know: the resolver decides
    assert copy.resolve([]) is None  # nothing to go on: the resolver decides (null)
    assert copy.resolve([nmc(PINS[0]), nmc(PINS[1])]) is None  # one key unknown: not a guess
    assert Crosswalk().resolve([nmc(PINS[0])]) is None  # a copy still loading never answers


def test_a_merge_moves_both_versions_fences_both_and_an_older_stamp_is_refused() -> None:
    hub = Hub()
    hub.feed(worker("patchwork:RHQ:pw-1", nmc=PINS[0]))
    hub.feed(worker("esr:RCU:E-1", nmc=PINS[1]))
    a, b = person_id_for(f"reg:nmc:{PINS[0]}"), person_id_for(f"reg:nmc:{PINS[1]}")
    before = copy_of(hub)
    n = len(hub.crosswalk)
    hub.command(MergeCommand(into=a, merge=b, reason="same NMC holder", requested_by="t"))
    merge_step = len(hub.log) - 1
    assert sorted(hub.fences) == sorted([(a, merge_step), (b, merge_step)])
    old = before.resolve([nmc(PINS[1])])
    assert old is not None and (old.person, old.version) == (b, 0)
    # B's person stage has had the fence: the stamp from the older copy does not fit
    state = person.fence(person.PersonState(b), Fence(person_id=b, version=merge_step))
    assert person.stamp_fits(state, _check(old.version)) < 0
    assert person.refused(state, _check(old.version)).restamp == merge_step
    # a copy with the merge stamps the survivor at the merge's version, which fits A's partition after its fence
    after = copy_of(hub)
    new = after.resolve([nmc(PINS[1])])
    assert new is not None and (new.person, new.version) == (a, merge_step)
    assert stamped(hub, nmc(PINS[1])) == (a, str(merge_step))
    assert person.stamp_fits(person.PersonState(a), _check(new.version)) > 0  # fence not here yet: wait
    fenced = person.fence(person.PersonState(a), Fence(person_id=a, version=merge_step))
    assert person.stamp_fits(fenced, _check(new.version)) == 0
    # half the merge's records applied: the copy is still exactly as before the merge
    half = copy_of(hub, n + 1)
    assert half.step == before.step
    assert half.resolve([nmc(PINS[1])]) == old


def test_a_split_fences_both_sides_and_a_new_link_fences_nobody() -> None:
    hub = Hub()
    hub.feed(worker("patchwork:RHQ:pw-1", nmc=PINS[0]))
    assert hub.fences == []  # a new person with new keys: no stamp could have named anyone else
    hub.feed(worker("nhsp:RCU:N-77", nmc=PINS[0]))
    assert hub.fences == []
    p = person_id_for(f"reg:nmc:{PINS[0]}")
    hub.command(SplitCommand(person=p, records=["nhsp:RCU:N-77"], reason="two people", requested_by="t"))
    step = len(hub.log) - 1
    assert {who for who, _ in hub.fences} >= {p} and all(v == step for _, v in hub.fences)
    new = next(who for who, _ in hub.fences if who != p)
    copy = copy_of(hub)
    # the shared register number now names two people: the copy does not guess, and neither does the resolver
    assert copy.resolve([nmc(PINS[0])]) is None
    assert stamped(hub, nmc(PINS[0])) == (None, None)
    found = copy.resolve([{"system": vendor_system("nhsp", "RCU"), "value": "N-77"}])
    assert found is not None and (found.person, found.version) == (new, step)


def test_a_step_whose_records_compaction_thinned_is_applied_when_a_later_step_begins() -> None:
    copy = Crosswalk(ready=True)
    copy.apply("k:reg:nmc:1", {"o": ["p-1"], "s": 4, "of": 3})  # 2 of its 3 records compacted away
    assert copy.step == -1
    copy.apply("k:reg:nmc:2", {"o": ["p-2"], "s": 9, "of": 1})
    assert copy.step == 9 and copy.owners == {"reg:nmc:1": ("p-1",), "reg:nmc:2": ("p-2",)}


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("link"), st.integers(0, 5), st.sampled_from(PINS)),
        st.tuples(st.just("merge"), st.sampled_from(PINS), st.sampled_from(PINS)),
        st.tuples(st.just("split"), st.sampled_from(PINS), st.integers(0, 5)),
        st.tuples(st.just("relink"), st.integers(0, 5), st.sampled_from(PINS)),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(ops=OPS, asks=st.lists(st.tuples(st.integers(0, 5), st.sampled_from(PINS)), min_size=1, max_size=4))
def test_whatever_happened_the_copy_either_agrees_with_the_resolver_or_defers_to_it(
    ops: list[tuple], asks: list[tuple[int, str]]
) -> None:
    hub = Hub()
    for op in ops:
        if op[0] in ("link", "relink"):
            hub.feed(worker(f"patchwork:RHQ:w{op[1]}", nmc=op[2], kind="WorkerUpdated", n=len(hub.log)))
        elif op[0] == "merge":
            hub.command(
                MergeCommand(into=hub_person(hub, op[1]), merge=hub_person(hub, op[2]), reason="r", requested_by="t")
            )
        else:
            hub.command(
                SplitCommand(
                    person=hub_person(hub, op[1]), records=[f"patchwork:RHQ:w{op[2]}"], reason="r", requested_by="t"
                )
            )
    copy = copy_of(hub)
    for w, pin in asks:
        ids = [{"system": vendor_system("patchwork", "RHQ"), "value": f"w{w}"}, nmc(pin)]
        found = copy.resolve(ids)
        if found is not None:
            assert stamped(hub, *ids) == (found.person, str(found.version))


def hub_person(hub: Hub, pin: str) -> str:
    return person_id_for(f"reg:nmc:{pin}")


def test_a_key_shared_with_someone_else_moves_the_version_of_the_person_who_had_it() -> None:
    tables = {"records": {}, "keys": {"reg:nmc:1": ["p-x"]}, "persons": {"p-x": {"r": ["w1"]}}, "conflicts": {}}
    store = Store(tables)
    store.put_owners("reg:nmc:1", ["p-x", "p-z"])
    published = changes(store, 12)
    assert dict(published.fences) == {"p-x": 12, "p-z": 12}


def _check(person_v: int) -> Check:
    """A check as the shift stage sends it, stamped at identity version ``person_v``."""
    return Check(booking_id="x", shift_id="s", person_id="p", request={}, person_v=person_v, shift={}, shift_results=[])
