"""The mapping language as pydantic models: the one definition of what a file may say.

``load.py`` validates the YAML against :class:`MappingFile`; pydantic's error locations
are turned back into the file's line numbers. Every model forbids unknown keys, so a
misspelt key is an error at load time rather than a rule that silently never applies.

Values ("expressions") have short forms that keep simple mappings short:

* a string is a JMESPath expression over the record (``data.start_time``);
* a number, boolean or null is that constant;
* a mapping with exactly one of ``path``, ``column``, ``const``, ``var``, ``fn``,
  ``record``, ``list`` or ``each`` is the long form, which may add ``when`` (a
  condition), ``default`` and ``then`` (converter steps).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from rosterhub.instants import LONDON

__all__ = [
    "EXPR_KINDS",
    "Check",
    "CodeListSpec",
    "ColumnExpr",
    "ConstExpr",
    "CsvFormat",
    "EachExpr",
    "EventRule",
    "Expr",
    "FnExpr",
    "FormatSpec",
    "JsonFormat",
    "ListExpr",
    "MappingFile",
    "PathExpr",
    "PipeFormat",
    "RecordExpr",
    "SkipRule",
    "Step",
    "VarExpr",
    "XmlFormat",
]

EXPR_KINDS = ("path", "column", "const", "var", "fn", "record", "list", "each")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# A converter step: "upper", or {"split": {"sep": "-", "index": 0}}, or {"codelist": "grade"}.
Step = str | dict[str, Any]


class _ExprBase(_Strict):
    when: str | None = Field(None, description="JMESPath over the record; when falsy the value is null.")
    default: Any = Field(None, description="Used when the value is null, before the `then` steps.")
    required: bool = Field(
        False, description="Reject the record, naming this path, when the value is missing (after `default`)."
    )
    then: list[Step] = Field(default_factory=list, description="Converter steps applied in order.")
    max_length: int | None = Field(
        None,
        ge=1,
        description="Longest text this value may be, in characters (default: the schema field's, else 200).",
    )

    @field_validator("then")
    @classmethod
    def _one_key_steps(cls, steps: list[Step]) -> list[Step]:
        for step in steps:
            if isinstance(step, dict) and len(step) != 1:
                raise ValueError("a step is a converter name or a mapping with exactly one converter name")
        return steps


class PathExpr(_ExprBase):
    path: str


class ColumnExpr(_ExprBase):
    column: str


class ConstExpr(_ExprBase):
    const: Any


class VarExpr(_ExprBase):
    var: str
    path: str | None = Field(None, description="JMESPath applied to the variable's value.")


class FnExpr(_ExprBase):
    fn: str
    args: dict[str, Expr] = Field(default_factory=dict, description="Arguments as expressions.")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with", description="Settings as literals.")


class RecordExpr(_ExprBase):
    record: dict[str, Expr]
    null_when_missing: list[str] = Field(
        default_factory=list, description="The whole record is null when any of these fields is null."
    )


class ListExpr(_ExprBase):
    list: list[Expr]


class EachExpr(_ExprBase):
    each: str = Field(description="JMESPath to a list; `map` is evaluated with each item as the record.")
    map: Expr


def _expr_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "~str"
    if value is None or isinstance(value, bool | int | float):
        return "~literal"
    if isinstance(value, dict):
        kinds = [k for k in EXPR_KINDS if k in value]
        if kinds and not (kinds == ["path", "var"] or len(kinds) == 1):
            return None
        if kinds:
            return "~var" if "var" in kinds else f"~{kinds[0]}"
    if isinstance(value, BaseModel):
        return "~" + type(value).__name__.removesuffix("Expr").lower()
    return None


Expr = Annotated[
    Annotated[str, Tag("~str")]
    | Annotated[bool | int | float | None, Tag("~literal")]
    | Annotated[PathExpr, Tag("~path")]
    | Annotated[ColumnExpr, Tag("~column")]
    | Annotated[ConstExpr, Tag("~const")]
    | Annotated[VarExpr, Tag("~var")]
    | Annotated[FnExpr, Tag("~fn")]
    | Annotated[RecordExpr, Tag("~record")]
    | Annotated[ListExpr, Tag("~list")]
    | Annotated[EachExpr, Tag("~each")],
    Discriminator(
        _expr_kind,
        custom_error_type="expression",
        custom_error_message=(
            "a value is a JMESPath string, a constant number/boolean/null, or a mapping with exactly one of "
            "path, column, const, var, fn, record, list, each"
        ),
    ),
]

for _model in (FnExpr, RecordExpr, ListExpr, EachExpr):
    _model.model_rebuild()


# --- formats --------------------------------------------------------------------------------------


_REF = Field(
    None,
    description="How a record is named in errors, reports and dead letters, from its own values: a template whose "
    "{placeholders} are keys of the record (columns, attributes, child elements) or JMESPath over it, e.g. "
    "'{Shift Ref}', '{id}', '{resourceType}/{id}', '{data.booking_id}'.",
)


class JsonFormat(_Strict):
    type: Literal["json"]
    records: str = Field("@", description="JMESPath to the list of records (or to one record).")
    ref: str | None = _REF
    encoding: str = "utf-8"


class CsvFormat(_Strict):
    type: Literal["csv"]
    delimiter: str = Field(",", min_length=1, max_length=1)
    quotechar: str = Field('"', min_length=1, max_length=1)
    encoding: str = Field("utf-8-sig", description="utf-8-sig also reads files with a byte-order mark.")
    columns: list[str] | None = Field(None, description="Column names when the file has no header line.")
    empty_as_null: bool = True
    ref: str | None = _REF


class XmlFormat(_Strict):
    type: Literal["xml"]
    records: str = Field(description="ElementTree path from the root element to each record, e.g. Duty.")
    force_list: list[str] = Field(default_factory=list, description="Child elements always read as lists.")
    empty_as_null: bool = True
    encoding: str | None = Field(
        None, description="Read the file in this encoding whatever its XML declaration says (default: as declared)."
    )
    ref: str | None = _REF


class PipeFormat(_Strict):
    type: Literal["pipe"]
    delimiter: str = Field("|", min_length=1)
    encoding: str = "utf-8"
    header_tag: str = "HDR"
    trailer_tag: str = "TRL"
    header_fields: list[str] = Field(default_factory=list, description="Names of the header's fields after the tag.")
    trailer_count_index: int = Field(1, ge=1, description="Field of the trailer holding the record count.")
    count_includes_header_trailer: bool = False
    record_types: dict[str, list[str]] = Field(min_length=1, description="Record tag -> names of its fields.")
    ref: str | None = _REF


FormatSpec = Annotated[JsonFormat | CsvFormat | XmlFormat | PipeFormat, Field(discriminator="type")]


# --- rules ----------------------------------------------------------------------------------------


class CodeListSpec(_Strict):
    entries: dict[str, Any] = Field(min_length=1)
    default: Any = None
    case_sensitive: bool = False


class Check(_Strict):
    that: str = Field(description="JMESPath over the record; the record is rejected unless it is truthy.")
    message: str


class SkipRule(_Strict):
    when: str = Field(description="JMESPath over the record; a truthy result skips the record.")
    reason: str
    echo: bool = Field(
        False,
        description="The record is the platform reporting back a change the hub itself wrote (an echo): "
        "skipped like any other, and counted as an echo by the connectors.",
    )


class EventRule(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: str | None = Field(None, description="JMESPath over the record; absent means always.")
    type: str = Field(description="Event schema: short name (ShiftPosted) or Avro full name.")
    id: list[Expr] = Field(min_length=1, description="Parts that identify the input; same parts, same event id.")
    let: dict[str, Expr] = Field(default_factory=dict, description="Named values usable as {var: name}.")
    checks: list[Check] = Field(default_factory=list)
    fields: dict[str, Expr]
    continue_: bool = Field(False, alias="continue", description="Also try the rules after this one.")


class MappingFile(_Strict):
    rosterhub_mapping: Literal[1] = Field(description="Version of the mapping language.")
    vendor: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    extends: str | None = None
    trust: Expr | None = Field(None, description="The record's trust ODS code, when the record says it.")
    timezone: str = LONDON.key
    constants: dict[str, Any] = Field(
        default_factory=dict, description="Named values read with {var: name}; trust variants override them."
    )
    format: FormatSpec
    secrets: list[str] = Field(default_factory=list, description="Names of secrets apply_mapping must be given.")
    sensitive: list[str] = Field(default_factory=list, description="Source names redacted in raw bytes and errors.")
    codelists: dict[str, CodeListSpec] = Field(default_factory=dict)
    skip: list[SkipRule] = Field(default_factory=list)
    unmatched: Literal["reject", "skip"] = "reject"
    events: list[EventRule] = Field(min_length=1)
