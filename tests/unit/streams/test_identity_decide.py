"""Identity resolution, broker-free: linking, conflicts, parked credentials, idempotency and replay."""

from __future__ import annotations

from rosterhub.events.codes import IDENTIFIER_SYSTEMS
from rosterhub.streams.identity.match import person_id_for
from tests.unit.streams.identity_harness import Hub, credential, match_key, membership, worker

PIN = "71A2998E"


def test_two_platforms_two_trusts_sharing_an_nmc_pin_are_one_person() -> None:
    hub = Hub()
    [first] = hub.feed(worker("healthroster:RHQ:HR-004512", nmc=PIN))
    [second] = hub.feed(worker("patchwork:RCU:pw-20931", nmc="71a 2998e"))  # typed differently, normalised
    person = person_id_for(f"reg:nmc:{PIN}")
    assert first.data["person_id"] == second.data["person_id"] == person
    assert (first.data["match"], second.data["match"]) == ("NEW_PERSON", "REGISTER_NUMBER")
    assert {"system": IDENTIFIER_SYSTEMS["nmc"], "value": PIN} in second.data["identifiers"]
    assert hub.tables["keys"][f"reg:nmc:{PIN}"] == [person]
    assert sorted(hub.tables["persons"][person]["r"]) == ["healthroster:RHQ:HR-004512", "patchwork:RCU:pw-20931"]


def test_esr_rule_links_records_without_register_numbers_and_never_stores_clear_values() -> None:
    hub = Hub()
    key = match_key("QQ123456C|1990-04-12|NATARAJAN")
    hub.feed(worker("esr:RHQ:20311457", mk=key))
    [linked] = hub.feed(worker("esr:RCU:20418876", mk=key))
    assert linked.data["match"] == "MATCH_KEY"
    assert hub.person_of("esr:RHQ:20311457") == hub.person_of("esr:RCU:20418876")
    assert "QQ123456C" not in repr(hub.tables) and all("identity_match_key" not in repr(e.data) for e in hub.identity)


def test_vendor_ids_link_a_roster_record_to_the_esr_record_it_names() -> None:
    hub = Hub()
    hub.feed(worker("esr:RHQ:20311457", vids=(("esr-person", "RHQ", "20311457"),)))
    [linked] = hub.feed(worker("healthroster:RHQ:HR-1", vids=(("esr-person", "RHQ", "20311457"),)))
    assert linked.data["match"] == "VENDOR_ID"
    assert hub.person_of("healthroster:RHQ:HR-1") == hub.person_of("esr:RHQ:20311457")


def test_register_number_wins_over_the_match_key_and_the_disagreement_is_raised_not_merged() -> None:
    hub = Hub()
    hub.feed(worker("esr:RHQ:1", nmc=PIN))
    hub.feed(worker("esr:RCU:2", mk=match_key("someone")))
    out = hub.feed(worker("patchwork:RCU:3", nmc=PIN, mk=match_key("someone")))
    linked, conflict = out
    assert linked.data["person_id"] == hub.person_of("esr:RHQ:1") and linked.data["match"] == "REGISTER_NUMBER"
    assert conflict.type.endswith("IdentityConflict")
    assert conflict.data["kind"] == "MATCH_KEY_DISAGREES" and conflict.data["match_key_involved"] is True
    assert conflict.data["person_ids"] == [hub.person_of("esr:RHQ:1"), hub.person_of("esr:RCU:2")]
    assert conflict.data["worker_ids"] == ["patchwork:RCU:3", "esr:RCU:2"]
    assert conflict.data["identifiers"] == []  # the match key's value is never repeated
    assert hub.person_of("esr:RHQ:1") != hub.person_of("esr:RCU:2")  # nothing merged
    assert not hub.of_type("PersonsMerged")


def test_one_record_presenting_two_pins_is_a_conflict_and_neither_pin_links() -> None:
    hub = Hub()
    hub.feed(worker("esr:RHQ:1", nmc=PIN))
    linked, conflict = hub.feed(worker("patchwork:RCU:9", nmc=[PIN, "04C1234D"]))
    assert conflict.data["kind"] == "REGISTER_NUMBERS_DIFFER"
    assert {i["value"] for i in conflict.data["identifiers"]} == {PIN, "04C1234D"}
    assert linked.data["person_id"] != hub.person_of("esr:RHQ:1")
    assert "reg:nmc:04C1234D" not in hub.tables["keys"]


def test_a_register_number_on_two_people_already_distinct_is_a_conflict() -> None:
    hub = Hub()
    hub.feed(worker("esr:RHQ:1", nmc=PIN))
    hub.feed(worker("esr:RCU:2", gmc="7012345"))
    _linked, conflict = hub.feed(worker("locums_nest:RXX:5", nmc=PIN, gmc="7012345"))
    assert conflict.data["kind"] == "REGISTER_NUMBER_SHARED"
    assert set(conflict.data["person_ids"][1:]) == {hub.person_of("esr:RHQ:1"), hub.person_of("esr:RCU:2")}
    assert hub.person_of("esr:RHQ:1") != hub.person_of("esr:RCU:2")


def test_a_linked_record_changing_to_someone_elses_pin_stays_put_and_raises_a_conflict() -> None:
    hub = Hub()
    hub.feed(worker("esr:RHQ:1", nmc=PIN))
    hub.feed(worker("esr:RCU:2", nmc="04C1234D"))
    before = hub.person_of("esr:RHQ:1")
    [conflict] = hub.feed(worker("esr:RHQ:1", nmc="04C1234D", kind="WorkerUpdated", n=2))
    assert conflict.data["kind"] == "REGISTER_NUMBER_SHARED"
    assert hub.person_of("esr:RHQ:1") == before
    # the record's own corrected number that nobody else holds is simply accepted
    assert hub.feed(worker("esr:RHQ:1", nmc="12B3456C", kind="WorkerUpdated", n=3)) == []
    assert hub.tables["keys"]["reg:nmc:12B3456C"] == [before] and f"reg:nmc:{PIN}" not in hub.tables["keys"]


def test_joining_through_the_match_key_is_refused_when_the_person_holds_another_pin() -> None:
    hub = Hub()
    key = match_key("x")
    hub.feed(worker("esr:RHQ:1", nmc=PIN, mk=key))
    linked, conflict = hub.feed(worker("patchwork:RCU:2", nmc="04C1234D", mk=key))
    assert linked.data["match"] == "NEW_PERSON" and linked.data["person_id"] != hub.person_of("esr:RHQ:1")
    assert conflict.data["kind"] == "MATCH_KEY_DISAGREES" and "another NMC number" in conflict.data["detail"]


def test_redelivered_and_repeated_inputs_change_nothing() -> None:
    hub = Hub()
    hub.feed(worker("esr:RHQ:1", nmc=PIN))
    hub.feed(worker("esr:RCU:2", mk=match_key("y")))
    hub.feed(worker("patchwork:RCU:3", nmc=PIN, mk=match_key("y")))
    hub.feed(credential("patchwork:RCU:3", "RCU:DBS:001234567890"))
    tables, events, copies = repr(hub.tables), len(hub.identity), len(hub.passport)
    for offset in range(len(hub.log)):
        assert hub.redeliver(offset) == []
    hub.feed(worker("patchwork:RCU:3", nmc=PIN, mk=match_key("y"), kind="WorkerUpdated", n=2))  # same facts again
    assert repr(hub.tables) == tables and len(hub.identity) == events and len(hub.passport) == copies


def test_credentials_are_re_keyed_with_the_same_id_and_wait_for_an_unknown_worker() -> None:
    hub = Hub()
    early = credential("esr:RCU:20418876", "RCU:CSTF_TRAINING:20418876-FIRE_SAFETY-2026-01-10")
    assert hub.feed(early) == [] and hub.passport == []  # parked: nobody knows the worker yet
    hub.feed(worker("esr:RCU:20418876", nmc=PIN))
    person = hub.person_of("esr:RCU:20418876")
    [(key, copy)] = hub.passport
    assert key == person and copy.id == early.id and copy.type == early.type
    assert copy.data["person_id"] == person and copy.data["worker"]["person_id"] == person
    assert copy.extensions["localworker"] == "esr:RCU:20418876"
    hub.feed(credential("esr:RCU:20418876", "RCU:DBS:1", kind="CredentialRevoked"))
    assert [k for k, _ in hub.passport] == [person, person]


def test_a_credential_links_on_its_own_identifiers_when_they_name_one_person() -> None:
    hub = Hub()
    hub.feed(worker("esr:RHQ:1", nmc=PIN))
    pin = [{"system": IDENTIFIER_SYSTEMS["nmc"], "value": PIN}]
    [linked] = hub.feed(credential("fhir:RHQ:prac-7", "RHQ:DBS:vr-1", identifiers=pin))
    assert linked.data["worker_id"] == "fhir:RHQ:prac-7" and linked.data["person_id"] == hub.person_of("esr:RHQ:1")
    assert hub.passport[0][0] == hub.person_of("esr:RHQ:1")


def test_a_credential_already_carrying_a_hub_person_id_passes_through_to_the_survivor() -> None:
    hub = Hub()
    hub.feed(worker("esr:RHQ:1", nmc=PIN))
    person = hub.person_of("esr:RHQ:1")
    assert person is not None
    direct = credential("esr:RHQ:1", "RHQ:DBS:3")
    direct.data["person_id"] = person
    assert hub.feed(direct) == []
    key, copy = hub.passport[-1]
    assert key == person and copy.id == direct.id and copy.extensions["localworker"] == person


def test_membership_alone_identifies_nobody_but_adds_vendor_ids_to_a_known_record() -> None:
    hub = Hub()
    assert hub.feed(membership("esr:RHQ:1", "20311457-1")) == []
    kept = hub.tables["records"]["esr:RHQ:1"]  # only the membership, for the person the worker record will name
    assert kept["p"] is None and kept["k"] == [] and list(kept["m"]) == ["RHQ|BANK|20311457-1"]
    hub.feed(worker("esr:RHQ:1", nmc=PIN))
    assert hub.feed(membership("esr:RHQ:1", "20311457-1", n=2)) == []
    assert hub.tables["keys"]["vid:esr/RHQ|20311457-1"] == [hub.person_of("esr:RHQ:1")]
    assert f"reg:nmc:{PIN}" in hub.tables["records"]["esr:RHQ:1"]["k"]  # the register number is kept


def test_replay_from_the_beginning_gives_the_same_person_ids_and_event_ids() -> None:
    def run() -> Hub:
        hub = Hub()
        hub.feed(credential("esr:RCU:2", "RCU:DBS:1"))
        hub.feed(worker("esr:RHQ:1", nmc=PIN))
        hub.feed(worker("esr:RCU:2", mk=match_key("z")))
        hub.feed(worker("patchwork:RCU:3", nmc=PIN, mk=match_key("z")))
        return hub

    first, second = run(), run()
    assert [(e.id, e.data) for e in first.identity] == [(e.id, e.data) for e in second.identity]
    assert first.tables == second.tables
