"""Reading a field of an event the same way whether it holds the model's values or what fastavro/JSON decoded."""

from __future__ import annotations

from rosterhub.events.base import symbol
from rosterhub.events.models.common import StaffGroup
from rosterhub.ods import ods_of


def test_an_enum_field_reads_as_its_symbols_plain_text_either_way() -> None:
    for value in (StaffGroup.MEDICAL_DENTAL, "MEDICAL_DENTAL"):
        assert symbol(value) == "MEDICAL_DENTAL"
        assert type(symbol(value)) is str


def test_an_organisation_reference_reads_as_its_ods_code_or_none() -> None:
    assert ods_of({"ods_code": "RHQ", "name": "Sheffield Teaching Hospitals"}) == "RHQ"
    assert ods_of(None) is None
    assert ods_of({}) is None
