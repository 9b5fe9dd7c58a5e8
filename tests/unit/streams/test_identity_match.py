"""Identity keys agree with the connectors' normalisers; the matching rule's tiers; person ids."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rosterhub.events.codes import IDENTIFIER_SYSTEMS, vendor_system
from rosterhub.mapping.functions.identifiers import fhir_identifier, normalise_nmc
from rosterhub.streams.identity.match import identifier_of, keys_of, match, person_id_for

NMC = IDENTIFIER_SYSTEMS["nmc"]
GMC = IDENTIFIER_SYSTEMS["gmc"]
MK = "ab" * 32


def test_keys_are_normalised_ordered_by_tier_and_skip_what_cannot_be_matched() -> None:
    ids = [
        {"system": vendor_system("patchwork", "RHQ"), "value": "pw-1"},
        {"system": GMC, "value": "C1234567"},
        {"system": NMC, "value": "71a 2998e"},
        {"system": NMC, "value": "not-a-pin"},  # refused by the normaliser: never "repaired"
        {"system": "https://example.org/other", "value": "x"},
    ]
    assert keys_of(ids, MK) == ["reg:gmc:1234567", "reg:nmc:71A2998E", f"mk:{MK}", "vid:patchwork/RHQ|pw-1"]
    assert keys_of([], "NOT-HEX") == []


@given(st.from_regex(r"[0-9]{2}[A-Za-z][0-9]{4}[A-Za-z]", fullmatch=True), st.sampled_from(["", " ", "-"]))
def test_identity_and_the_connectors_agree_on_every_spelling_of_a_pin(pin: str, sep: str) -> None:
    typed = pin[:3] + sep + pin[3:]
    from_connector = fhir_identifier(NMC, typed)  # what a connector puts on events.worker
    expected = [f"reg:nmc:{normalise_nmc(typed)}"]
    assert keys_of([{"system": NMC, "value": typed}]) == expected
    assert from_connector is not None and keys_of([from_connector]) == expected


def test_identifier_of_round_trips_and_never_repeats_the_match_key() -> None:
    assert identifier_of("reg:nmc:71A2998E") == {"system": NMC, "value": "71A2998E"}
    assert identifier_of("vid:esr-person/RCU|20418876") == {
        "system": vendor_system("esr-person", "RCU"),
        "value": "20418876",
    }
    assert identifier_of(f"mk:{MK}") is None


def test_person_ids_are_deterministic_uuid5() -> None:
    assert person_id_for("reg:nmc:71A2998E") == person_id_for("reg:nmc:71A2998E")
    assert person_id_for("reg:nmc:71A2998E").startswith("p-") and len(person_id_for("x")) == 38


def _match(presented: list[str], owners: dict[str, list[str]], current: str | None = None, regs=None):
    return match(
        presented,
        current=current,
        owners=lambda k: owners.get(k, []),
        other_registers=lambda p: (regs or {}).get(p, {}),
    )


def test_register_numbers_decide_before_the_match_key_and_vendor_ids() -> None:
    m = _match(["reg:nmc:A", f"mk:{MK}", "vid:x/Y|1"], {"reg:nmc:A": ["P"], f"mk:{MK}": ["Q"], "vid:x/Y|1": ["P"]})
    assert (m.person, m.via) == ("P", "REGISTER_NUMBER")
    assert [(d.kind, d.others) for d in m.disputes] == [("MATCH_KEY_DISAGREES", ("Q",))]
    assert m.accepted == ("reg:nmc:A", "vid:x/Y|1")


def test_nothing_known_means_a_new_person_and_every_key_is_claimed() -> None:
    m = _match(["reg:nmc:A", f"mk:{MK}"], {})
    assert (m.person, m.via, m.accepted, m.disputes) == (None, None, ("reg:nmc:A", f"mk:{MK}"), ())


def test_ambiguous_register_number_makes_an_own_person_and_a_dispute() -> None:
    m = _match(["reg:nmc:A"], {"reg:nmc:A": ["P", "Q"]})
    assert m.person is None and m.accepted == ()
    assert [(d.kind, d.keys, d.others) for d in m.disputes] == [("REGISTER_NUMBER_SHARED", ("reg:nmc:A",), ("P", "Q"))]


def test_a_linked_record_never_moves_and_keys_shared_with_its_person_are_fine() -> None:
    m = _match(["reg:nmc:A"], {"reg:nmc:A": ["P", "Q"]}, current="P")
    assert (m.person, m.via, m.accepted, m.disputes) == ("P", None, ("reg:nmc:A",), ())
    moved = _match(["reg:nmc:B"], {"reg:nmc:B": ["Q"]}, current="P")
    assert moved.person == "P" and moved.disputes[0].kind == "REGISTER_NUMBER_SHARED"
