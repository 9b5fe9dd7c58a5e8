"""The resolver a batch at a time (streams/identity/batch.py, docs/decisions/0016): whatever the batch boundaries,
it sends exactly what resolving one record at a time sends, in the same order, and leaves the same tables."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from rosterhub.events.codes import IDENTIFIER_SYSTEMS, vendor_system
from rosterhub.streams.identity.batch import Batch, Overlay
from rosterhub.streams.identity.commands import MergeCommand, SplitCommand, command_record
from rosterhub.streams.identity.match import person_id_for
from tests.unit.streams.identity_harness import ENCODER, NAMES, T0, Hub, credential, membership, worker
from tests.unit.streams.test_identity_booking import booking

GARBAGE = b"\x00not avro"
PINS = ("71A2998E", "82B3109F", "93C4210A")
WORKERS = [f"patchwork:RHQ:w{i}" for i in range(4)] + ["esr:RHQ:e0", "esr:RHQ:e1"]

OP = st.one_of(
    st.tuples(st.just("link"), st.sampled_from(WORKERS), st.sampled_from((*PINS, None))),
    st.tuples(st.just("credential"), st.sampled_from(WORKERS), st.integers(0, 3)),
    st.tuples(st.just("membership"), st.sampled_from(WORKERS), st.integers(0, 1)),
    st.tuples(st.just("merge"), st.sampled_from(PINS), st.sampled_from(PINS)),
    st.tuples(st.just("split"), st.sampled_from(PINS), st.sampled_from(WORKERS)),
    st.tuples(st.just("booking"), st.sampled_from(WORKERS), st.sampled_from(PINS)),
    st.just(("garbage",)),
)


def _records(ops: list[tuple]) -> list:
    out = []
    for n, op in enumerate(ops):
        if op[0] == "link":
            out.append(ENCODER.encode(worker(op[1], nmc=op[2], kind="WorkerUpdated", n=n)))
        elif op[0] == "credential":
            out.append(ENCODER.encode(credential(op[1], f"c{op[2]}", n=n)))
        elif op[0] == "membership":
            out.append(ENCODER.encode(membership(op[1], f"a{op[2]}", n=n)))
        elif op[0] == "merge":
            into, merge = (person_id_for(f"reg:nmc:{p}") for p in op[1:])
            cmd = MergeCommand(into=into, merge=merge, reason="r", requested_by="t")
            out.append(command_record(cmd, NAMES.identity_in, source="/t", now=T0, command_id=f"cmd-{n}")[1])
        elif op[0] == "split":
            cmd = SplitCommand(person=person_id_for(f"reg:nmc:{op[1]}"), records=[op[2]], reason="r", requested_by="t")
            out.append(command_record(cmd, NAMES.identity_in, source="/t", now=T0, command_id=f"cmd-{n}")[1])
        elif op[0] == "booking":
            vendor, trust, local = op[1].split(":")
            ids = [{"system": vendor_system(vendor, trust), "value": local}]
            ids.append({"system": IDENTIFIER_SYSTEMS["nmc"], "value": op[2]})
            out.append(ENCODER.encode(booking(f"b{n}", *ids)))
        else:  # a record that cannot be read: dead-lettered in the agent, no state change here
            ok = ENCODER.encode(worker(WORKERS[0], n=n))
            out.append(replace(ok, value=GARBAGE))
    return out


def _outcome(hub: Hub) -> tuple:
    return (hub.identity, hub.passport, hub.booking, hub.person, hub.crosswalk, hub.fences, hub.refused, hub.tables)


def _one_at_a_time(records: list) -> Hub:
    hub = Hub()
    for offset, rec in enumerate(records):
        hub.append(rec)
        _resolve_readable(hub, range(offset, offset + 1), one_by_one=True)
    return hub


def _resolve_readable(hub: Hub, offsets: range, *, one_by_one: bool = False) -> None:
    """What the agent does, less the dead letter: an unreadable record is skipped (its step raises first)."""
    readable = [o for o in offsets if hub.log[o].value != GARBAGE]
    if one_by_one:
        for o in readable:
            hub.redeliver(o)
        return
    # a batch with holes is still one batch: resolve_batch walks the offsets it is given, in order
    hub.resolve_batch(readable)


@settings(max_examples=80, deadline=None)
@given(ops=st.lists(OP, max_size=24), cuts=st.lists(st.integers(1, 8), min_size=1, max_size=24))
def test_any_batching_sends_the_same_records_in_the_same_order_and_leaves_the_same_tables(
    ops: list[tuple], cuts: list[int]
) -> None:
    records = _records(ops)
    single = _one_at_a_time(records)
    batched = Hub()
    for rec in records:
        batched.append(rec)
    start, i = 0, 0
    while start < len(records):
        size = cuts[i % len(cuts)]
        _resolve_readable(batched, range(start, min(start + size, len(records))))
        start, i = start + size, i + 1
    assert _outcome(batched) == _outcome(single)


def test_a_batch_repeated_after_a_crash_before_its_table_writes_sends_the_same_records_again() -> None:
    records = _records([("link", WORKERS[0], PINS[0]), ("credential", WORKERS[0], 1), ("link", WORKERS[1], PINS[0])])
    hub = Hub()
    for rec in records:
        hub.append(rec)
    tables_before = {name: dict(t) for name, t in hub.tables.items()}
    batch = Batch(hub.tables)
    for offset in range(3):  # the batch's steps and outputs, then a crash: no table writes, no acks
        store = batch.store()
        hub._apply(hub.log[offset], offset, store)
        batch.done(store)
    assert hub.tables == tables_before
    sent = _outcome(hub)[:6]
    first = tuple(list(x) for x in sent)
    hub.resolve_batch(range(3))  # redelivered whole after the restart
    again = tuple(list(x)[len(f) :] for x, f in zip(_outcome(hub)[:6], first, strict=True))
    assert again == first


def test_the_overlay_reads_pending_writes_first_and_a_pending_delete_as_absent() -> None:
    base = {"a": 1, "b": 2}
    view = Overlay(base, {"b": None, "c": 3})
    assert (view.get("a"), view.get("b"), view.get("c"), view.get("d", 9)) == (1, None, 3, 9)
    assert dict(view) == {"a": 1, "c": 3} and len(view) == 2
