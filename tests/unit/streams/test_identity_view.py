"""The API/CLI read model: folding events.identity in any partition order, and command records."""

from __future__ import annotations

import itertools
import json

import pytest

from rosterhub.errors import DecodeError
from rosterhub.streams.identity.commands import MergeCommand, SplitCommand, command_record, is_command, parse_command
from rosterhub.streams.identity.view import IdentityView
from tests.unit.streams.identity_harness import T0, Hub, conflicted, match_key, worker

PIN = "71A2998E"
BY = {"reason": "checked", "requested_by": "RHQ-user-1"}


def _story() -> Hub:
    hub, p, q = conflicted("RCU:DBS:1", PIN)
    hub.command(MergeCommand(into=p, merge=q, **BY), command_id="m1")
    hub.command(SplitCommand(person=p, records=["esr:RCU:2"], **BY), command_id="s1")
    hub.command(MergeCommand(into=p, merge=q, **BY), command_id="m2")
    return hub


def _fold(events) -> IdentityView:
    view = IdentityView()
    for e in events:
        view.apply(e)
    return view


def test_the_view_matches_the_worker_state_whatever_the_partition_interleaving() -> None:
    hub = _story()
    truth = {r: v["p"] for r, v in hub.tables["records"].items()}
    by_person: dict[str, list] = {}
    for e in hub.identity:  # events.identity is keyed by person: one list per key stands in for partitions
        by_person.setdefault(e.data["person_id"], []).append(e)
    for order in itertools.permutations(by_person.values()):
        view = _fold(itertools.chain(*order))
        assert {r: view.person_of(r) for r in truth} == truth
        p = truth["esr:RHQ:1"]
        q = next(x for x in by_person if x != p and view.merged_into(x) == p)
        assert view.person(q) == {"person_id": q, "merged_into": p, "records": [], "open_conflicts": []}
        assert view.open_conflicts() == [] and view.results["s1"]["revived"] is True


def test_open_conflicts_and_command_checks() -> None:
    hub = Hub()
    hub.feed(worker("esr:RHQ:1", nmc=PIN))
    hub.feed(worker("esr:RCU:2", mk=match_key("q")))
    hub.feed(worker("patchwork:RCU:3", nmc=PIN, mk=match_key("q")))
    view = _fold(hub.identity)
    [conflict] = view.open_conflicts()
    p, q = conflict["person_ids"]
    assert conflict["status"] == "open" and conflict["raised_at"].startswith("2026-03-02")
    assert view.open_conflicts(person=q) == [conflict] and view.open_conflicts(person="p-x") == []
    assert view.check_merge(p, q) is None
    assert view.check_merge(p, "p-x") == "unknown person p-x"
    assert view.check_split(p, ["esr:RHQ:1"]) is None
    assert view.check_split(p, ["esr:RHQ:1", "patchwork:RCU:3"]) == "a split must leave the person at least one record"
    assert view.check_split(q, ["esr:RHQ:1"]) == f"not records of {q}: esr:RHQ:1"
    json.dumps(view.person(p))  # JSON-able for the API


def test_command_records_round_trip_and_reject_bad_bodies() -> None:
    cmd = SplitCommand(person="p-1", records=["esr:RHQ:1"], **BY)
    command_id, rec = command_record(cmd, "_rosterhub.identity-in", source="/rosterhub/cli", now=T0)
    assert is_command(rec.headers) and rec.key == b"command:p-1"
    parsed = parse_command(rec.value, rec.headers)
    assert (parsed.command_id, parsed.time, parsed.source, parsed.command) == (command_id, T0, "/rosterhub/cli", cmd)
    with pytest.raises(DecodeError):
        parse_command(b'{"kind": "merge", "into": "p-1"}', rec.headers)
    with pytest.raises(ValueError, match="records"):
        SplitCommand(person="p-1", records=[], **BY)
