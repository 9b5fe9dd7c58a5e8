"""Human merges and splits: events, re-published credentials, refusals, and reversibility both ways."""

from __future__ import annotations

from rosterhub.streams.identity.commands import MergeCommand, SplitCommand
from rosterhub.streams.identity.match import person_id_for
from tests.unit.streams.identity_harness import Hub, conflicted, credential, match_key, worker

PIN = "71A2998E"
BY = {"reason": "NMC register checked by phone", "requested_by": "RHQ-user-0207"}


def _conflicted() -> tuple[Hub, str, str]:
    return conflicted("RCU:DBS:001234567890", PIN)


def _links(hub: Hub) -> dict[str, str | None]:
    return {r: v["p"] for r, v in hub.tables["records"].items()}


def test_merge_moves_records_resolves_the_conflict_and_re_publishes_credentials() -> None:
    hub, p, q = _conflicted()
    [conflict] = hub.of_type("IdentityConflict")
    copies_before = len(hub.passport)
    out = hub.command(MergeCommand(into=p, merge=q, **BY), command_id="cmd-merge")
    merged, linked = out
    assert merged.type.endswith("PersonsMerged") and merged.id == merged.id
    assert (merged.data["person_id"], merged.data["merged_person_id"]) == (p, q)
    assert merged.data["worker_ids"] == ["esr:RCU:2"] and merged.data["credential_ids"] == ["RCU:DBS:001234567890"]
    assert merged.data["resolves"] == [conflict.data["conflict_id"]] and merged.data["command_id"] == "cmd-merge"
    assert (linked.data["worker_id"], linked.data["person_id"], linked.data["match"]) == ("esr:RCU:2", p, "MERGE")
    assert linked.data["previous_person_id"] == q
    assert hub.person_of("esr:RCU:2") == p and hub.tables["persons"][q]["m"] == p
    new = hub.passport[copies_before:]
    assert [(k, e.type.rsplit(".", 1)[-1]) for k, e in new] == [(q, "PersonsMerged"), (p, "CredentialIssued")]
    copy = new[1][1]
    assert copy.data["person_id"] == p and copy.extensions["causationid"] == "cmd-merge"
    assert copy.extensions["localworker"] == "esr:RCU:2"
    assert hub.tables["keys"][f"mk:{match_key('q')}"] == [p]
    # a credential for the merged-away person's record now goes to the survivor
    hub.feed(credential("esr:RCU:2", "RCU:DBS:2"))
    assert hub.passport[-1][0] == p


def test_split_undoes_a_merge_and_revives_the_merged_person_id() -> None:
    hub, p, q = _conflicted()
    before = _links(hub)
    hub.command(MergeCommand(into=p, merge=q, **BY))
    split, linked = hub.command(
        SplitCommand(person=p, records=["esr:RCU:2"], reason="merged in error", requested_by="RHQ-user-0207")
    )
    assert split.data["new_person_id"] == q and split.data["revived"] is True
    assert linked.data["person_id"] == q and linked.data["match"] == "SPLIT"
    assert _links(hub) == before
    assert hub.tables["persons"][q]["m"] is None and hub.tables["persons"][q]["r"] == ["esr:RCU:2"]
    key, copy = hub.passport[-1]
    assert key == q and copy.data["person_id"] == q
    assert [k for k, e in hub.passport if e.type.endswith("PersonSplit")] == [p]


def test_merge_undoes_a_split() -> None:
    hub = Hub()
    hub.feed(worker("esr:RHQ:1", nmc=PIN))
    hub.feed(worker("patchwork:RCU:3", nmc=PIN))
    hub.feed(credential("patchwork:RCU:3", "RCU:DBS:9"))
    p = hub.person_of("esr:RHQ:1")
    assert p
    before = _links(hub)
    [split, _] = hub.command(SplitCommand(person=p, records=["patchwork:RCU:3"], **BY), command_id="cmd-s")
    n = split.data["new_person_id"]
    assert n == person_id_for("split:cmd-s") and split.data["revived"] is False
    assert hub.tables["keys"][f"reg:nmc:{PIN}"] == sorted([p, n])  # both present the PIN: a known shared number
    # a later record with that PIN is ambiguous now: raised, not guessed
    _, conflict = hub.feed(worker("locums_nest:RXX:4", nmc=PIN))
    assert conflict.data["kind"] == "REGISTER_NUMBER_SHARED"
    [merged, _] = hub.command(MergeCommand(into=p, merge=n, **BY))
    assert conflict.data["conflict_id"] in merged.data["resolves"]
    assert {r: v for r, v in _links(hub).items() if r in before} == before


def test_commands_that_do_not_fit_are_refused_and_change_nothing() -> None:
    hub, p, q = _conflicted()
    tables = repr(hub.tables)
    assert hub.command(MergeCommand(into=p, merge="p-nobody", **BY)) == []
    assert hub.command(MergeCommand(into=p, merge=p, **BY)) == []
    assert hub.command(SplitCommand(person=p, records=["esr:RCU:2"], **BY)) == []  # not p's record
    assert hub.command(SplitCommand(person=q, records=["esr:RCU:2"], **BY)) == []  # would empty q
    assert repr(hub.tables) == tables
    assert hub.refused == [
        "unknown person p-nobody",
        "a person cannot be merged into itself",
        f"not records of {p}: esr:RCU:2",
        "a split must leave the person at least one record",
    ]
    hub.command(MergeCommand(into=p, merge=q, **BY))
    assert hub.command(MergeCommand(into=q, merge=p, **BY)) == []
    assert hub.refused[-1] == f"{q} was merged into {p}; use that id"


def test_a_redelivered_command_is_applied_once() -> None:
    hub, p, q = _conflicted()
    hub.command(MergeCommand(into=p, merge=q, **BY))
    events, copies = len(hub.identity), len(hub.passport)
    assert hub.redeliver(len(hub.log) - 1) == []
    assert (len(hub.identity), len(hub.passport)) == (events, copies)
