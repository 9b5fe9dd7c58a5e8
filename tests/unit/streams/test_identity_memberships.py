"""Identity keeps each record's memberships and hands a person's whole list to the booking person stage.

The moonlighting rule decides on ESR's substantive assignments (docs/booking.md): identity is where an
ESR record becomes a person, so identity sends the person's memberships (an ``employment`` saga message
keyed by person id) whenever they may have changed, and the person stage keeps the newest.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from rosterhub.streams.booking.messages import Memberships
from rosterhub.streams.booking.person import PersonState, employment
from rosterhub.streams.identity.commands import MergeCommand, SplitCommand
from tests.unit.streams.identity_harness import Hub, membership, worker


def _trusts(message: dict) -> list[tuple[str, str, bool]]:
    return [(m["trust"], m["type"], m["ended"]) for m in message["memberships"]]


def test_an_esr_assignment_of_a_linked_person_reaches_the_person_stage() -> None:
    hub = Hub()
    hub.feed(worker("esr:RCU:1004", nmc="71A2998E"))
    person = hub.person_of("esr:RCU:1004")
    assert hub.person == []  # a worker with no memberships: nothing to tell
    hub.feed(membership("esr:RCU:1004", "1004-2", kind="SUBSTANTIVE"))
    [message] = hub.person
    assert (message["kind"], message["person_id"]) == ("employment", person)
    assert _trusts(message) == [("RCU", "SUBSTANTIVE", False)]
    assert message["memberships"][0]["from"] == "2026-03-02" and message["seq"] == 1
    # the assignment ends: the same entry, now ended with its last day
    hub.feed(membership("esr:RCU:1004", "1004-2", 2, kind="SUBSTANTIVE", change="ENDED", end=date(2026, 3, 31)))
    assert _trusts(hub.person[-1]) == [("RCU", "SUBSTANTIVE", True)]
    assert hub.person[-1]["memberships"][0]["to"] == "2026-03-31" and len(hub.person[-1]["memberships"]) == 1


def test_a_membership_before_its_worker_record_is_kept_and_sent_when_the_record_links() -> None:
    hub = Hub()
    hub.feed(membership("esr:RCU:1004", "1004-2", kind="SUBSTANTIVE"))
    assert hub.person == [] and hub.person_of("esr:RCU:1004") is None
    hub.feed(worker("esr:RCU:1004", nmc="71A2998E"))
    [message] = hub.person
    assert message["person_id"] == hub.person_of("esr:RCU:1004")
    assert _trusts(message) == [("RCU", "SUBSTANTIVE", False)]


def test_the_person_gathers_memberships_of_all_its_records_and_merges_and_splits_resend_them() -> None:
    hub = Hub()
    hub.feed(worker("esr:RCU:1004", nmc="71A2998E"))
    hub.feed(membership("esr:RCU:1004", "1004-2", kind="SUBSTANTIVE"))
    hub.feed(worker("esr:RHQ:77", gmc="7012345"))  # someone else, as far as identity can tell
    hub.feed(membership("esr:RHQ:77", "77-1", kind="SUBSTANTIVE"))
    a, b = hub.person_of("esr:RCU:1004"), hub.person_of("esr:RHQ:77")
    assert a and b and a != b
    hub.person.clear()
    hub.command(MergeCommand(into=a, merge=b, reason="same nurse: NMC checked", requested_by="RHQ-user-1"))
    sent = {m["person_id"]: _trusts(m) for m in hub.person}
    assert sent[a] == [("RCU", "SUBSTANTIVE", False), ("RHQ", "SUBSTANTIVE", False)]
    assert sent[b] == []  # merged away: it holds nothing now
    hub.person.clear()
    hub.command(SplitCommand(person=a, records=("esr:RHQ:77",), reason="not the same", requested_by="RHQ-user-1"))
    sent = {m["person_id"]: _trusts(m) for m in hub.person}
    assert sent[a] == [("RCU", "SUBSTANTIVE", False)] and [("RHQ", "SUBSTANTIVE", False)] in sent.values()


def test_the_person_stage_keeps_the_newest_memberships_only() -> None:
    state = PersonState("p1")
    assert state.employments() is None  # identity has said nothing: no ESR record of this person
    newer = Memberships(person_id="p1", seq=9, memberships=[{"trust": "RCU", "type": "SUBSTANTIVE"}])
    older = replace(newer, seq=4, memberships=[])
    state = employment(state, newer)
    assert employment(state, older) == state and employment(state, newer) == state
    assert [e.trust for e in state.employments() or ()] == ["RCU"]
    assert PersonState.from_table("p1", state.to_table()) == state
    assert "m" not in PersonState("p1").to_table()  # unchanged table values for people without memberships


def test_a_record_linked_by_its_credential_brings_its_memberships() -> None:
    from rosterhub.events.codes import IDENTIFIER_SYSTEMS
    from tests.unit.streams.identity_harness import credential

    hub = Hub()
    hub.feed(worker("patchwork:RCU:w1", nmc="71A2998E"))
    hub.feed(membership("esr:RCU:1004", "1004-2", kind="SUBSTANTIVE"))  # ESR's assignment, before any worker record
    assert hub.person == []
    nmc = [{"system": IDENTIFIER_SYSTEMS["nmc"], "value": "71A2998E"}]
    hub.feed(credential("esr:RCU:1004", "RCU:DBS:1", identifiers=nmc))  # links esr:RCU:1004 by its NMC
    [message] = hub.person
    assert message["person_id"] == hub.person_of("patchwork:RCU:w1") == hub.person_of("esr:RCU:1004")
    assert _trusts(message) == [("RCU", "SUBSTANTIVE", False)]
