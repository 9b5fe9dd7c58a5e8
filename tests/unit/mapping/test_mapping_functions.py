"""Each converter on its own: what it accepts, what it refuses, and why."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from rosterhub.mapping.functions import REGISTRY, CodeList, ConversionError, RunContext
from rosterhub.mapping.functions.identifiers import normalise_gmc, normalise_hcpc, normalise_nmc, normalise_register
from rosterhub.mapping.functions.identity import identity_key, normalise_ni, normalise_surname

CTX = RunContext(
    vendor="v",
    trust="RXX",
    received_at=datetime(2026, 1, 1, tzinfo=UTC),
    codelists={"grade": CodeList("grade", {"Band 5": "BAND_5"})},
    secrets={"s": b"k"},
)


def call(conv: str, value: object = None, /, **kwargs: object) -> object:
    return REGISTRY[conv].call(value, CTX, kwargs)


# --- identifiers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("1234567", "1234567"),
        ("C1234567", "1234567"),
        ("c 123 4567", "1234567"),
        ("GMC 1234567", "1234567"),
        ("L123456", "L123456"),
        (1234567, "1234567"),
    ],
)
def test_gmc_accepts_the_spellings_in_the_wild(raw: object, want: str) -> None:
    assert normalise_gmc(raw) == want


@pytest.mark.parametrize("raw", ["123456", "12345678", "C12345678", "CL123456", "X1234567", "", None, True])
def test_gmc_refuses_what_is_not_a_gmc_number(raw: object) -> None:
    with pytest.raises(ConversionError) as err:
        normalise_gmc(raw)
    assert err.value.rule == "gmc_format"


def test_uk_core_gmc_example_is_refused_deliberately() -> None:
    # UK Core's example value is C + 8 digits; the GMC register uses 7 digits (docs/mapping.md).
    with pytest.raises(ConversionError):
        normalise_gmc("C12345678")


def test_nmc_and_hcpc_and_register_lookup() -> None:
    assert normalise_nmc("71a 2998e") == "71A2998E"
    assert normalise_nmc("NMC 71A2998E") == "71A2998E"
    assert normalise_hcpc("ph-123456") == "PH123456"
    assert normalise_hcpc("ODP 12345") == "ODP12345"
    assert normalise_register("https://fhir.hl7.org.uk/Id/nmc-number", "71a2998e") == "71A2998E"
    with pytest.raises(ConversionError):
        normalise_hcpc("ZZ123456")
    with pytest.raises(ConversionError):
        normalise_nmc("71A29987")


def test_identifier_converters() -> None:
    assert call("register_identifier", number="c1234567", register="GMC") == {
        "system": "https://fhir.hl7.org.uk/Id/gmc-number",
        "value": "1234567",
    }
    assert call("register_identifier", number="  ", register="gmc") is None
    with pytest.raises(ConversionError, match="not a known register"):
        call("register_identifier", number="1234567", register="GDC")
    assert call("fhir_identifier", system="https://local/x", value=" 7 ") == {"system": "https://local/x", "value": "7"}
    assert call("vendor_identifier", "w-1") == {"system": "https://rosterhub.org/Id/v/RXX", "value": "w-1"}
    assert call("vendor_identifier", "1", namespace="esr") == {
        "system": "https://rosterhub.org/Id/esr/RXX",
        "value": "1",
    }
    assert call("ods_code", " rxx01 ") == "RXX01"
    with pytest.raises(ConversionError):
        call("ods_code", "RX")


# --- identity ----------------------------------------------------------------------------------


def test_identity_key_is_an_hmac_over_the_normalised_triple() -> None:
    import hashlib
    import hmac

    want = hmac.new(b"secret", b"AB123456C|1990-04-12|OBRIENSMITH", hashlib.sha256).hexdigest()
    assert identity_key(b"secret", "ab 12 34 56 c", "12-APR-1990", "O'Brien-Smith", "%d-%b-%Y") == want
    assert identity_key(b"secret", "AB123456C", date(1990, 4, 12), "OBRIEN SMITH") == want
    assert identity_key(b"other", "AB123456C", date(1990, 4, 12), "OBRIENSMITH") != want
    assert normalise_surname("Zoë Łukasz-Ó") == "ZOEŁUKASZO"


@pytest.mark.parametrize("ni", ["QQ123456C", "TN123456A", "AB123456E", "AB12345C", "GB123456A"])
def test_invalid_ni_numbers_are_refused_without_quoting_them(ni: str) -> None:
    with pytest.raises(ConversionError) as err:
        normalise_ni(ni)
    assert ni not in str(err.value)


def test_identity_match_key_converter_needs_its_secret() -> None:
    key = call("identity_match_key", ni="AB123456C", dob="1990-04-12", surname="Okafor", secret="s")
    assert isinstance(key, str) and len(key) == 64
    with pytest.raises(ConversionError, match="no secret"):
        call("identity_match_key", ni="AB123456C", dob="1990-04-12", surname="Okafor", secret="missing")


# --- times ------------------------------------------------------------------------------------


def test_instant_keeps_offsets_and_reads_naive_times_as_london() -> None:
    assert call("instant", "2022-12-20T11:20:00+07:00") == datetime(2022, 12, 20, 4, 20, tzinfo=UTC)
    assert call("instant", "2026-07-01T09:00:00") == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    assert call("instant", "2026-01-01T09:00:00Z") == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(ConversionError):
        call("instant", "yesterday")


def test_shift_end_crosses_midnight_and_clock_changes() -> None:
    start = call("shift_start", date="28/03/2026", start="20:00")
    end = call("shift_end", date="28/03/2026", start="20:00", end="08:00")
    assert (end - start).total_seconds() == 11 * 3600
    start = call("shift_start", date="24/10/2026", start="20:00")
    end = call("shift_end", date="24/10/2026", start="20:00", end="08:00")
    assert (end - start).total_seconds() == 13 * 3600
    end = call("shift_end", date="29/03/2026", start="17:00", end="24:00")
    assert end == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)


def test_gap_and_overlap_rule() -> None:
    # 01:30 does not exist on 29 March 2026: moved forward by the gap (02:30 BST = 01:30Z)
    assert call("shift_start", date="29/03/2026", start="01:30") == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # 01:30 happens twice on 25 October 2026: the first (BST) one
    assert call("shift_start", date="25/10/2026", start="01:30") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_shift_type_derivation() -> None:
    def kind(s: str, e: str, day: str = "10/06/2026") -> object:
        return call(
            "shift_type",
            start=call("shift_start", date=day, start=s),
            end=call("shift_end", date=day, start=s, end=e),
        )

    assert kind("20:00", "08:00") == "NIGHT"
    assert kind("07:00", "15:00") == "EARLY"
    assert kind("13:00", "21:00") == "LATE"
    assert kind("09:00", "17:00") == "DAY"
    assert kind("07:30", "20:00") == "LONG_DAY"
    assert kind("17:00", "23:00") == "TWILIGHT"
    assert kind("19:00", "01:00") == "TWILIGHT"  # 2 h of night time: not night work


def test_durations_and_hours() -> None:
    assert call("minutes", "01:00") == 60
    assert call("minutes", "30") == 30
    assert call("hours_to_minutes", "7.5") == 450
    with pytest.raises(ConversionError):
        call("minutes", "1:75")
    start, end = datetime(2026, 3, 28, 20, tzinfo=UTC), datetime(2026, 3, 29, 7, 15, tzinfo=UTC)
    assert call("hours_between", start=start, end=end, minus_minutes="60") == Decimal("10.25")
    assert call("hours_between", start=end, end=start) == Decimal("-11.25")
    assert call("date", "12-APR-1990", format="%d-%b-%Y") == date(1990, 4, 12)
    assert call("epoch_millis", "1767225600000") == datetime(2026, 1, 1, tzinfo=UTC)


# --- values -------------------------------------------------------------------------------------


def test_money_and_numbers() -> None:
    assert call("money", "£1,024.5") == Decimal("1024.50")
    assert call("money", 24.5) == Decimal("24.50")
    assert call("money", "GBP 3.005") == Decimal("3.01")
    assert call("pence", "2450") == Decimal("24.50")
    assert call("decimal", "2", places=2) == Decimal("2.00")
    assert call("int", "12.0") == 12
    for bad, name in (("twelve", "money"), ("NaN", "money"), ("12.5", "int"), ("x", "decimal")):
        with pytest.raises(ConversionError):
            call(name, bad)


def test_text_helpers() -> None:
    assert call("split", "19:30-08:00", sep="-", index=1) == "08:00"
    assert call("pattern", "Resus - Level 2", regex=r".* - Level (\d)", group=1) == "2"
    assert call("template", text="{a} {b}", a="x", b=" y ") == "x y"
    assert call("template", text="{a} {b}", a="x", b=None) is None
    assert call("coalesce", a=None, b=0, c=1) == 0
    assert call("bool", "Y") is True
    assert call("bool", "ja", true=["ja"], false=["nein"]) is True
    assert call("blank_as_null", "  ") is None
    assert call("collapse_spaces", " a   b ") == "a b"
    assert call("upper", "a") == "A" and call("lower", "A") == "a" and call("str", " 1 ") == "1"
    with pytest.raises(ConversionError):
        call("bool", "maybe")
    with pytest.raises(ConversionError):
        call("split", "a", sep="-", index=1)


def test_codelist_and_hub_id() -> None:
    assert call("codelist", " band  5 ", name="grade") == "BAND_5"
    with pytest.raises(ConversionError) as err:
        call("codelist", "Band 55", name="grade")
    assert err.value.rule == "codelist:grade"
    assert call("hub_id", 42) == "v:RXX:42"
    no_trust = RunContext(vendor="v", trust=None, received_at=CTX.received_at)
    with pytest.raises(ConversionError):
        REGISTRY["hub_id"].call("42", no_trust, {})
