"""The generated pydantic models agree with the .avsc files, and validate what the wire cannot.

Belt and braces: the models are generated, and a freshness test catches a forgotten
``rosterhub schemas gen``; the field-by-field comparison below uses its own, independent
mapping from Avro types to Python types, so a generator bug cannot hide behind itself.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from pydantic import AwareDatetime, ValidationError

from rosterhub.codec.catalogue import SchemaCatalogue
from rosterhub.events import EVENT_MODELS, AvroEvent, AvroRecord
from rosterhub.events.codegen import generate_models
from rosterhub.events.generate import repo_root

REPO = Path(__file__).resolve().parents[3]


def test_committed_models_are_fresh(catalogue: SchemaCatalogue) -> None:
    stale = [
        rel for rel, text in generate_models(catalogue).items() if (REPO / rel).read_text(encoding="utf-8") != text
    ]
    assert not stale, f"generated models are stale: {stale}; run `rosterhub schemas gen`"
    assert repo_root() == REPO


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, optional) with Annotated metadata and ``| None`` peeled off."""
    optional = False
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        assert len(args) == 1, f"unexpected union {annotation}"
        annotation = args[0]
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation, optional


_PYTHON = {"string": str, "int": int, "long": int, "boolean": bool, "double": float, "float": float, "bytes": bytes}


def _expect(avro: Any, names: dict[str, dict[str, Any]], model_type: Any, where: str) -> None:
    """Assert ``model_type`` is the Python type an independent reading of ``avro`` calls for."""
    if isinstance(avro, str) and avro in names:
        avro = names[avro]
    if isinstance(avro, str):
        assert model_type is _PYTHON[avro], f"{where}: {avro} should be {_PYTHON[avro]}, is {model_type}"
        return
    logical, kind = avro.get("logicalType"), avro["type"]
    if logical == "timestamp-millis":
        assert model_type is AwareDatetime, f"{where}: instants must be AwareDatetime (naive refused)"
    elif logical == "date":
        assert model_type is dt.date, where
    elif logical == "decimal":
        assert model_type is Decimal, where
    elif kind == "array":
        assert typing.get_origin(model_type) is list, where
        _expect(avro["items"], names, _unwrap(typing.get_args(model_type)[0])[0], f"{where}[]")
    elif kind == "map":
        assert typing.get_origin(model_type) is dict, where
        _expect(avro["values"], names, _unwrap(typing.get_args(model_type)[1])[0], f"{where}{{}}")
    elif kind == "enum":
        assert issubclass(model_type, StrEnum) and model_type.__name__ == avro["name"], where
        assert [m.value for m in model_type] == avro["symbols"], f"{where}: enum symbols"
    elif kind == "record":
        assert issubclass(model_type, AvroRecord) and model_type.__name__ == avro["name"], where
        _compare_record(avro, names, model_type)
    else:
        _expect(kind, names, model_type, where)


def _collect(schema: Any, out: dict[str, dict[str, Any]]) -> None:
    if isinstance(schema, list):
        for b in schema:
            _collect(b, out)
    elif isinstance(schema, dict):
        if schema.get("type") in ("record", "enum"):
            out[f"{schema.get('namespace', '')}.{schema['name']}".lstrip(".")] = schema
        for f in schema.get("fields", []):
            _collect(f["type"], out)
        for key in ("items", "values"):
            if key in schema:
                _collect(schema[key], out)


def _compare_record(schema: dict[str, Any], names: dict[str, dict[str, Any]], model: type[AvroRecord]) -> None:
    fields = schema["fields"]
    assert list(model.model_fields) == [f["name"] for f in fields], f"{model.__name__}: field names and order"
    for f in fields:
        info = model.model_fields[f["name"]]
        where = f"{model.__name__}.{f['name']}"
        inner, optional = _unwrap(info.annotation)
        avro = f["type"]
        assert optional == (isinstance(avro, list) and "null" in avro), f"{where}: optionality"
        if isinstance(avro, list):
            avro = next(b for b in avro if b != "null")
        _expect(avro, names, inner, where)
        assert info.is_required() == ("default" not in f), f"{where}: required iff no Avro default"
        if "default" in f and not isinstance(f["default"], (list, dict)):
            assert info.default == f["default"], f"{where}: default"
        assert " ".join((info.description or "").split()) == " ".join(f.get("doc", "").split()), f"{where}: doc"


@pytest.mark.parametrize("name", sorted(EVENT_MODELS))
def test_model_agrees_with_avsc(name: str, catalogue: SchemaCatalogue) -> None:
    es = catalogue.get(name)
    names: dict[str, dict[str, Any]] = {}
    _collect(es.source, names)
    model = EVENT_MODELS[name]
    assert issubclass(model, AvroEvent)
    assert name == model.AVRO_NAME
    _compare_record(es.source, names, model)


def test_naive_datetimes_are_refused(examples: dict[str, AvroEvent]) -> None:
    event = examples["rosterhub.shift.v1.ShiftPosted"]
    data = event.model_dump() | {"start": dt.datetime(2026, 3, 29, 1, 30)}  # a wall-clock time that never happened
    with pytest.raises(ValidationError, match="timezone"):
        type(event).model_validate(data)


def test_instants_become_utc_milliseconds(examples: dict[str, AvroEvent]) -> None:
    event = examples["rosterhub.shift.v1.ShiftPosted"]
    bst = dt.timezone(dt.timedelta(hours=1))
    moved = type(event).model_validate(event.model_dump() | {"end": dt.datetime(2026, 3, 29, 8, 0, 0, 123456, bst)})
    assert moved.end == dt.datetime(2026, 3, 29, 7, 0, 0, 123000, dt.UTC)
    assert moved.end.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("event", "field", "bad", "good"),
    [
        ("rosterhub.shift.v1.ShiftPosted", "grade", "Band 5", "X-RHQ-BAND_5_PRECEPTOR"),
        ("rosterhub.credential.v1.CredentialIssued", "cstf_subject", "BASIC_LIFE_SUPPORT", "SAFEGUARDING_ADULTS"),
        ("rosterhub.timesheet.v1.PayrollLine", "pay_code", "basic", "NIGHT"),
        (
            "rosterhub.credential.v1.CredentialIssued",
            "attributes",
            {"nhs_number": "9434765919"},
            {"dbs_level": "ENHANCED"},
        ),
        ("rosterhub.worker.v1.WorkerRegistered", "identity_match_key", "AB123456C|1990-01-01|SMITH", "0" * 64),
        ("rosterhub.shift.v1.ShiftPosted", "hourly_rate", Decimal("23.456"), Decimal("23.4")),
    ],
)
def test_validated_fields(event: str, field: str, bad: Any, good: Any, examples: dict[str, AvroEvent]) -> None:
    base = examples[event]
    model = type(base)
    with pytest.raises(ValidationError) as err:
        model.model_validate(base.model_dump() | {field: bad})
    assert field in str(err.value)
    assert getattr(model.model_validate(base.model_dump() | {field: good}), field) == good


def test_models_are_frozen_and_strict_about_fields(examples: dict[str, AvroEvent]) -> None:
    event = examples["rosterhub.shift.v1.ShiftPosted"]
    with pytest.raises(ValidationError):
        event.grade = "BAND_6"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="ni_number"):
        type(event).model_validate(event.model_dump() | {"ni_number": "AB123456C"})
