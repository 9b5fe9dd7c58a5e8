"""What a sample export is, read without a mapping: format, encoding, delimiter, records, and each field.

The first step of ``rosterhub mapping draft`` (:mod:`.draft`). Pure: bytes in, a
:class:`Sample` out. The records are then read by the engine's own readers
(:func:`rosterhub.mapping.engine.formats.read_payload`) with the detected options, so what
the draft describes is exactly what a mapping with those options will see (XML as data,
blank cells as null, namespaces dropped).

Each field (a CSV column, a JSON path, an XML element or attribute) is profiled over every
record: its kind (integer, money, date, local time, instant with offset, register number,
text...), the ``strptime`` layout of dates and times, and, for text with few distinct
values, those values: the candidates for a code list.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from defusedxml import ElementTree as SafeET

from rosterhub.errors import ParseError
from rosterhub.mapping.engine.formats import read_payload
from rosterhub.mapping.engine.model import CsvFormat, FormatSpec, JsonFormat, PipeFormat, XmlFormat
from rosterhub.ods import ODS_LIKE

__all__ = ["Field", "Sample", "sniff"]

#: Layouts tried, most specific first; the first that reads every value of a field wins.
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%b-%Y", "%d.%m.%Y", "%d/%m/%y", "%Y%m%d")
DATETIME_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%d-%b-%Y %H:%M",
)
TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%H%M")
#: Text fields with at most this many distinct values are offered as code lists.
MAX_CODES = 30

_MONEY = re.compile(r"^(£\s*-?[\d,]+(\.\d+)?|-?[\d,]+(\.\d+)?\s*GBP)$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_INTEGER = re.compile(r"^-?\d+$")
_TIME_RANGE = re.compile(r"^\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}$")
_NMC = re.compile(r"^\d{2}[A-Za-z]\s?\d{4}[A-Za-z]$")


@dataclass
class Field:
    """One field of the records: its expression (``path``, JMESPath or a column name) and what it holds."""

    path: str
    column: bool  # a CSV column (read with {column: ...}), else a JMESPath
    kind: str = "empty"  # empty | integer | number | money | boolean | instant | local_datetime | date | time
    #                      | time_range | nmc | ods | text | object | list
    layout: str | None = None  # strptime layout of dates, times and local date-times
    values: list[str] = field(default_factory=list)  # distinct values seen (text), in order of first appearance
    count: int = 0  # records with a value
    unique: bool = False  # every record has its own value (an id)
    misfits: list[str] = field(default_factory=list)  # values that do not fit the kind (bad rows in the sample)

    @property
    def codes(self) -> list[str] | None:
        """The distinct values, when this field looks like a code list (few values of text)."""
        if self.kind != "text" or not self.values or len(self.values) > MAX_CODES:
            return None
        if self.unique and self.count > 2:
            return None  # an id or a name, not a code
        return self.values


@dataclass
class Sample:
    format: FormatSpec
    encoding: str
    records: list[dict[str, Any]]
    fields: list[Field]
    document: dict[str, Any]  # the values outside the records (JSON keys, the XML root's attributes)
    root: str | None = None  # the XML root element's name
    notes: list[str] = field(default_factory=list)  # what detection could not settle


def sniff(payload: bytes, name: str = "") -> Sample:
    """Detect how ``payload`` is laid out and profile its records; a :class:`ParseError` when it cannot be read."""
    encoding = _encoding(payload)
    text = payload.decode(encoding, errors="replace").lstrip("\ufeff")
    kind = _kind(text, name)
    notes: list[str] = []
    root: str | None = None
    document: dict[str, Any] = {}
    fmt: FormatSpec
    if kind == "json":
        doc = json.loads(text)
        records_path = _json_records(doc)
        fmt = JsonFormat(type="json", records=records_path, encoding=encoding.replace("-sig", ""))
        document = doc if isinstance(doc, dict) else {}
    elif kind == "xml":
        root_el = SafeET.fromstring(payload)
        root = root_el.tag.rsplit("}", 1)[-1]
        declared = re.match(r"""^\s*<\?xml[^>]*encoding\s*=\s*["']([^"']+)""", text)
        xml_encoding = None if declared or encoding.startswith("utf-8") else encoding
        fmt = XmlFormat(type="xml", records=_xml_records(root_el), encoding=xml_encoding)
        document = {k.rsplit("}", 1)[-1]: v for k, v in root_el.attrib.items()}
    elif kind == "pipe":
        fmt = _pipe_format(text, encoding)
        notes.append("pipe-delimited records have no header: name each record type's fields in record_types")
    else:
        delimiter = _delimiter(text)
        fmt = CsvFormat(type="csv", delimiter=delimiter, encoding=encoding)
    content = read_payload(fmt, payload)
    records = [r.data for r in content.records if r.error is None and isinstance(r.data, dict)]
    bad = [r for r in content.records if r.error is not None]
    if bad:
        notes.append(f"{len(bad)} record(s) could not be read with these options, e.g. {bad[0].error}")
    if not records:
        raise ParseError("the sample has no records the hub can read")
    if isinstance(content.variables.get("header"), dict):
        document = content.variables["header"]
    return Sample(fmt, encoding, records, _profile(records, column=kind == "csv"), document, root, notes)


# --- detection ----------------------------------------------------------------------------------


def _encoding(payload: bytes) -> str:
    if payload.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if payload.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        payload.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        payload.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _kind(text: str, name: str) -> str:
    head = text.lstrip()
    if head.startswith(("{", "[")):
        try:
            json.loads(text)
            return "json"
        except ValueError:
            pass
    if head.startswith("<"):
        return "xml"
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) >= 2 and all("|" in line for line in lines):
        first, last = lines[0].split("|")[0], lines[-1].split("|")[0]
        if re.fullmatch(r"[A-Z]{2,4}", first) and re.fullmatch(r"[A-Z]{2,4}", last) and first != last:
            return "pipe"
    return "csv"


def _delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _json_records(doc: Any) -> str:
    """The path to the largest list of objects (``changes``, ``data.items``), else the document itself."""
    if isinstance(doc, list):
        return "@"
    best: tuple[int, int, str] | None = None  # (items, -depth, path)
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, dict) and depth < 4:
            for key, value in node.items():
                inner = f"{path}.{key}" if path else key
                if not re.fullmatch(r"[A-Za-z_]\w*", key):
                    inner = f'{path}."{key}"' if path else f'"{key}"'
                if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                    candidate = (len(value), -depth, inner)
                    best = candidate if best is None or candidate[:2] > best[:2] else best
                stack.append((value, inner, depth + 1))
    return best[2] if best else "@"


def _xml_records(root: Any) -> str:
    """The path from the root to the element that repeats most (``Duty``, ``Duties/Duty``)."""
    counts: Counter[str] = Counter()

    def walk(el: Any, path: str, depth: int) -> None:
        if depth > 4:
            return
        for child in el:
            if not isinstance(child.tag, str):
                continue
            tag = child.tag.rsplit("}", 1)[-1]
            inner = f"{path}/{tag}" if path else tag
            counts[inner] += 1
            walk(child, inner, depth + 1)

    walk(root, "", 0)
    if not counts:
        return "."
    return max(counts.items(), key=lambda kv: (kv[1], -kv[0].count("/")))[0]


def _pipe_format(text: str, encoding: str) -> PipeFormat:
    lines = [line.split("|") for line in text.splitlines() if line.strip()]
    head, tail, body = lines[0], lines[-1], lines[1:-1]
    widths: dict[str, int] = {}
    for values in body:
        widths[values[0]] = max(widths.get(values[0], 0), len(values) - 1)
    count_index = next((i for i, v in enumerate(tail) if i and v.strip().isdigit()), 1)
    declared = int(tail[count_index]) if tail[count_index].strip().isdigit() else len(body)
    return PipeFormat(
        type="pipe",
        encoding=encoding,
        header_tag=head[0],
        trailer_tag=tail[0],
        header_fields=[f"header_{i}" for i in range(1, len(head))],
        trailer_count_index=count_index,
        count_includes_header_trailer=declared == len(body) + 2,
        record_types={tag: [f"{tag.lower()}_{i}" for i in range(1, n + 1)] for tag, n in widths.items()},
    )


# --- profiling ----------------------------------------------------------------------------------


def _leaves(value: Any, path: str, out: dict[str, list[Any]], depth: int = 0) -> None:
    if isinstance(value, dict) and depth < 5:
        for key, inner in value.items():
            name = key if re.fullmatch(r"[A-Za-z_]\w*", key) else f'"{key}"'
            _leaves(inner, f"{path}.{name}" if path else name, out, depth + 1)
        return
    out.setdefault(path, []).append(value)


def _profile(records: list[dict[str, Any]], *, column: bool) -> list[Field]:
    found: dict[str, list[Any]] = {}
    for record in records:
        if column:
            for key, value in record.items():
                found.setdefault(key, []).append(value)
        else:
            _leaves(record, "", found)
    return [_field(path, values, column, len(records)) for path, values in found.items() if path != "record_type"]


def _field(path: str, values: list[Any], column: bool, total: int) -> Field:
    present = [v for v in values if v is not None and v != ""]
    out = Field(path, column, count=len(present))
    if not present:
        return out
    if all(isinstance(v, dict) for v in present):
        out.kind = "object"
        return out
    if any(isinstance(v, list) for v in present):
        out.kind = "list"
        return out
    texts = [str(v).strip() for v in present]
    out.values = list(dict.fromkeys(texts))
    out.unique = len(out.values) == len(texts) == total
    if all(isinstance(v, bool) for v in present):
        out.kind = "boolean"
    elif all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        out.kind = "integer"
    elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        out.kind = "number"
    else:
        out.kind, out.layout, out.misfits = _text_kind(texts)
    return out


def _fits(texts: list[str], test: Any) -> list[str] | None:
    """The values that do not pass ``test`` when nearly all do (a real export has the odd bad row), else None.

    Every value must pass in a sample of three or fewer; in a larger one, three in four."""
    misfits = [t for t in texts if not test(t)]
    if not misfits or (len(texts) >= 4 and len(misfits) * 4 <= len(texts)):
        return misfits
    return None


def _strptime(layout: str) -> Any:
    def ok(t: str) -> bool:
        if layout.startswith("%H") and t in ("24:00", "24:00:00"):
            return True
        try:
            datetime.strptime(t, layout)
        except ValueError:
            return False
        return True

    return ok


def _iso(aware: bool) -> Any:
    def ok(t: str) -> bool:
        if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", t):
            return False
        try:
            return (datetime.fromisoformat(t).tzinfo is not None) == aware
        except ValueError:
            return False

    return ok


def _text_kind(texts: list[str]) -> tuple[str, str | None, list[str]]:
    """(kind, layout, the values that do not fit it) of a text field."""
    tests: list[tuple[str, str | None, Any]] = [
        ("integer", None, _INTEGER.match),
        ("number", None, _NUMBER.match),
        ("money", None, _MONEY.match),
        ("boolean", None, lambda t: t.casefold() in ("true", "false", "yes", "no", "y", "n")),
        ("instant", None, _iso(aware=True)),
        ("local_datetime", "ISO-8601", _iso(aware=False)),
        *(("local_datetime", layout, _strptime(layout)) for layout in DATETIME_FORMATS),
        *(("date", layout, _strptime(layout)) for layout in DATE_FORMATS),
        ("time_range", "%H:%M-%H:%M", _TIME_RANGE.match),
        *(("time", layout, _strptime(layout)) for layout in TIME_FORMATS),
        ("nmc", None, _NMC.match),
        ("ods", None, ODS_LIKE.match),
    ]
    for kind, layout, test in tests:
        misfits = _fits(texts, test)
        if misfits is not None:
            return kind, layout, misfits
    return "text", None, []
