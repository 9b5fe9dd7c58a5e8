"""Record readers: one payload's bytes in, its records (or per-record parse errors) out.

Each reader turns a vendor payload into :class:`SourceRecord` items: a reference a
person can find in the file (``line 3``, ``changes[2]``, ``/Export/Duty[2]``), followed by
the record's own id when the format's ``ref`` says how to read it (``line 3 RP-100482``,
``/Export/Duty[2] 7731904``), the record's own bytes for the dead-letter topic, and the record as plain data for the
mapping expressions. A payload that cannot be read at all raises
:class:`rosterhub.errors.ParseError`; a single unreadable record is returned with its
error so that the rest of the payload still maps.

Blank cells (CSV, pipe) and empty elements (XML) read as null: those formats have no
other way to say "no value". Names listed as ``sensitive`` in the mapping are taken out
of every ``raw`` the readers return: ``REDACTED`` in CSV cells and pipe fields (their
positions are the layout), removed from JSON and XML (what is left stays a valid record).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from xml.etree.ElementTree import Element, tostring

import jmespath
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from jmespath.exceptions import JMESPathError

from rosterhub.errors import ParseError
from rosterhub.mapping.engine import strict_json
from rosterhub.mapping.engine.model import CsvFormat, FormatSpec, JsonFormat, PipeFormat, XmlFormat

__all__ = ["REDACTED", "Payload", "SourceRecord", "read_payload", "ref_placeholders", "suggest_encoding"]

REDACTED = "REDACTED"


@dataclass(frozen=True, slots=True)
class SourceRecord:
    ref: str
    raw: bytes
    data: Any = None
    error: ParseError | None = None


@dataclass(frozen=True, slots=True)
class Payload:
    """The records of one payload plus file-level values (``document``, ``header``)."""

    records: list[SourceRecord]
    variables: dict[str, Any] = field(default_factory=dict)


def read_payload(fmt: FormatSpec, payload: bytes, sensitive: frozenset[str] = frozenset()) -> Payload:
    if isinstance(fmt, JsonFormat):
        return _read_json(fmt, payload, sensitive)
    if isinstance(fmt, CsvFormat):
        return _read_csv(fmt, payload, sensitive)
    if isinstance(fmt, XmlFormat):
        return _read_xml(fmt, payload, sensitive)
    return _read_pipe(fmt, payload, sensitive)


#: Byte-order marks of the wide Unicode encodings, longest first (UTF-32 LE starts like UTF-16 LE).
_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


#: Encodings a vendor file that fails to decode is tried in, for the suggestion in the error (Windows first:
#: most non-UTF-8 exports come from Excel or a Windows service). latin-1 is not tried: it reads any bytes.
_CANDIDATES = (("utf-8", "UTF-8"), ("cp1252", "Windows-1252"), ("utf-16", "UTF-16"))


def suggest_encoding(payload: bytes, failed: str) -> str | None:
    """An encoding the payload reads cleanly in, other than ``failed``, or None."""
    tried = failed.lower().replace("_", "-")
    for name, _ in _CANDIDATES:
        if tried.startswith(name):
            continue
        if name == "utf-16" and not payload.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue  # without a byte-order mark any even-length file "decodes" as UTF-16
        try:
            payload.decode(name)
        except UnicodeDecodeError:
            continue
        return name
    return None


def decoding_error(payload: bytes, encoding: str, exc: UnicodeDecodeError, option: str = "encoding") -> ParseError:
    """Where the first unreadable byte is (line and column, as an editor counts) and the fix: the format's
    ``encoding`` option, with the encoding the file does read in when one of the usual ones fits."""
    start = exc.start
    line = payload.count(b"\n", 0, start) + 1
    column = start - (payload.rfind(b"\n", 0, start) + 1) + 1
    byte = payload[start : start + 1].hex()
    found = suggest_encoding(payload, encoding)
    label = dict(_CANDIDATES).get(found or "", found)
    fix = (
        f"the file reads as {label}: say so in the mapping's format, `{option}: {found}`"
        if found
        else f"set the mapping format's `{option}:` to the encoding the vendor exports in (e.g. cp1252 for Windows)"
    )
    return ParseError(
        f"payload is not valid {encoding} text: byte 0x{byte} at line {line}, column {column} ({exc.reason}); {fix}"
    )


def _decode(payload: bytes, encoding: str) -> str:
    """The payload as text in ``encoding``, or a :class:`ParseError` for the whole payload.

    A UTF-16/32 file is refused whole, by its byte-order mark (or, without one, by its NUL
    bytes), where a single-byte encoding such as cp1252 would decode it "successfully" as
    garbage and every line would be rejected on its own.
    """
    wide = encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32", "utf16", "utf32"))
    if not wide:
        found = next((name for bom, name in _WIDE_BOMS if payload.startswith(bom)), None)
        if found is not None:
            raise ParseError(
                f"payload is {found} text (it starts with a {found} byte-order mark), not {encoding}: "
                f"say so in the mapping's format, `encoding: {found.lower()}`"
            )
        if b"\x00" in payload:
            where = payload.index(b"\x00")
            raise ParseError(
                f"payload is not {encoding} text: it holds NUL bytes (from byte {where}); UTF-16 without a byte-order "
                "mark?"
            )
    try:
        return payload.decode(encoding)
    except UnicodeDecodeError as exc:
        raise decoding_error(payload, encoding, exc) from None
    except LookupError:
        raise ParseError(f"{encoding!r} is not an encoding Python knows (the mapping format's `encoding:`)") from None


# --- JSON -------------------------------------------------------------------------------------------


def _redact_json(node: Any, sensitive: frozenset[str]) -> Any:
    """``node`` without the sensitive keys, at any depth (what is left is still a valid record of its kind)."""
    if isinstance(node, dict):
        return {k: _redact_json(v, sensitive) for k, v in node.items() if k not in sensitive}
    if isinstance(node, list):
        return [_redact_json(v, sensitive) for v in node]
    return node


def _json_bytes(node: Any, sensitive: frozenset[str]) -> bytes:
    return json.dumps(_redact_json(node, sensitive), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def ref_placeholders(template: str) -> list[str]:
    """The names in a ``ref`` template (``'{Shift Ref}/{id}'`` -> ``['Shift Ref', 'id']``)."""
    return [m.strip() for m in _PLACEHOLDER.findall(template)]


@lru_cache(maxsize=256)
def _jmespath(text: str) -> Any:
    try:
        return jmespath.compile(text)
    except JMESPathError:
        return None


def _ref_value(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None and name not in data and (compiled := _jmespath(name)) is not None:
        try:
            value = compiled.search(data)
        except JMESPathError:
            value = None
    if isinstance(value, dict):  # an XML element with attributes: its text
        value = value.get("#text")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip() or None


def _named(position: str, template: str | None, data: Any) -> str:
    """``position`` followed by the record's own name from ``template`` (position alone when it cannot be made)."""
    if template is None or not isinstance(data, dict):
        return position
    names = ref_placeholders(template)
    values = [_ref_value(data, name) for name in names]
    if not names or any(v is None for v in values):
        return position
    parts = iter(values)
    return f"{position} {_PLACEHOLDER.sub(lambda _: next(parts) or '', template)}"


def _read_json(fmt: JsonFormat, payload: bytes, sensitive: frozenset[str]) -> Payload:
    document = strict_json.loads(_decode(payload, fmt.encoding))
    try:
        found = jmespath.search(fmt.records, document)
    except JMESPathError as exc:
        raise ParseError(f"the records path {fmt.records!r} cannot be applied to this payload: {exc}") from None
    if found is None:
        raise ParseError(f"the records path {fmt.records!r} matches nothing in the payload")
    if isinstance(found, list):
        prefix = fmt.records if re.fullmatch(r"[A-Za-z_][\w.]*", fmt.records) else f"({fmt.records})"
        records = [
            SourceRecord(ref=_named(f"{prefix}[{i}]", fmt.ref, item), raw=_json_bytes(item, sensitive), data=item)
            for i, item in enumerate(found)
        ]
    else:
        raw = _json_bytes(found, sensitive) if sensitive or found is not document else payload
        ref = _named("$" if found is document else fmt.records, fmt.ref, found)
        records = [SourceRecord(ref=ref, raw=raw, data=found)]
    return Payload(records, {"document": document})


# --- CSV --------------------------------------------------------------------------------------------


def _null(value: str | None, empty_as_null: bool) -> str | None:
    if value is None:
        return None
    return None if empty_as_null and not value.strip() else value


def _csv_line(values: Iterable[str], fmt: CsvFormat) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=fmt.delimiter, quotechar=fmt.quotechar, lineterminator="\n").writerow(values)
    return out.getvalue()


def _read_csv(fmt: CsvFormat, payload: bytes, sensitive: frozenset[str]) -> Payload:
    text = _decode(payload, fmt.encoding)
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter, quotechar=fmt.quotechar, strict=True)
    try:
        columns = list(fmt.columns) if fmt.columns else [c.strip() for c in next(reader)]
    except StopIteration:
        raise ParseError("the CSV payload is empty (no header line)") from None
    except csv.Error as exc:
        raise ParseError(f"the CSV header line cannot be read: {exc}") from None
    header_text = "" if fmt.columns else "".join(lines[: reader.line_num])
    out_encoding = "utf-8" if fmt.encoding.lower().replace("_", "-") == "utf-8-sig" else fmt.encoding
    records: list[SourceRecord] = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            bad = "".join(lines[start - 1 : reader.line_num])
            records.append(SourceRecord(f"line {start}", bad.encode(out_encoding), None, ParseError(f"bad CSV: {exc}")))
            continue
        if not any(cell.strip() for cell in row):
            continue  # blank line: no record, nothing to lose
        ref = f"line {start}"
        if sensitive:
            masked = [REDACTED if i < len(columns) and columns[i] in sensitive else c for i, c in enumerate(row)]
            body = _csv_line(masked, fmt)
        else:
            body = "".join(lines[start - 1 : reader.line_num])
        raw = (header_text + body).encode(out_encoding)
        data = {col: _null(cell, fmt.empty_as_null) for col, cell in zip(columns, row, strict=False)}
        ref = _named(ref, fmt.ref, data)
        if len(row) != len(columns):
            err = ParseError(f"{ref} has {len(row)} fields where the header has {len(columns)}")
            records.append(SourceRecord(ref, raw, None, err))
            continue
        records.append(SourceRecord(ref, raw, data))
    return Payload(records)


# --- XML --------------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def element_value(el: Element, force_list: frozenset[str], empty_as_null: bool = True) -> Any:
    """An element as data: text for a leaf, else a dict of attributes and children.

    Attributes and child elements share the keys; an attribute whose name a child also
    uses is kept as ``@name``. Repeated children become lists (``force_list`` makes a
    list even of one); element text next to children is ``#text``. Namespaces are dropped.
    """
    children = list(el)
    text = (el.text or "").strip()
    if not children and not el.attrib:
        return None if empty_as_null and not text else text
    out: dict[str, Any] = {_local(k): v for k, v in el.attrib.items()}
    counts = Counter(_local(c.tag) for c in children)
    for child in children:
        key = _local(child.tag)
        value = element_value(child, force_list, empty_as_null)
        many = counts[key] > 1 or key in force_list
        if key in out and (not many or not isinstance(out[key], list)):
            out["@" + key] = out.pop(key)  # an attribute of the same name as this child
        if many:
            out.setdefault(key, []).append(value)
        else:
            out[key] = value
    if text:
        out["#text"] = text
    return out


def _redact_xml(el: Element, sensitive: frozenset[str]) -> None:
    """Sensitive attributes and child elements removed, at any depth."""
    for name in [n for n in el.attrib if _local(n) in sensitive]:
        del el.attrib[name]
    for child in list(el):
        if _local(child.tag) in sensitive:
            el.remove(child)
        else:
            _redact_xml(child, sensitive)


_XML_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _read_xml(fmt: XmlFormat, payload: bytes, sensitive: frozenset[str]) -> Payload:
    source: bytes | str = _decode(payload, fmt.encoding) if fmt.encoding else payload
    if isinstance(source, str):  # the mapping overrides the file's declaration: parse the text without it
        source = re.sub(r"^\s*<\?xml[^>]*\?>", "", source, count=1)
    try:
        root = SafeET.fromstring(source)
    except DefusedXmlException as exc:
        raise ParseError(f"the XML payload uses a forbidden construct: {exc!r}") from None
    except SafeET.ParseError as exc:
        raise _xml_error(payload, exc, fmt) from None
    except LookupError as exc:  # the XML declaration names an encoding Python does not know (found by fuzzing)
        raise ParseError(f"the XML declaration names an unknown encoding: {exc}") from None
    for el in root.iter():  # namespaces dropped, so records paths and expressions use local names
        el.tag = _local(el.tag)
        for name in [n for n in el.attrib if n.startswith("{")]:
            el.attrib[_local(name)] = el.attrib.pop(name)
    force = frozenset(fmt.force_list)
    records = []
    base = f"/{root.tag}/{fmt.records}"
    found = root.findall(fmt.records)
    if not found and len(root):
        raise ParseError(f"the records path {fmt.records!r} matches none of the elements under <{root.tag}>")
    for i, el in enumerate(found, start=1):
        data = element_value(el, force, fmt.empty_as_null)
        el.tail = None  # the whitespace after the element is not part of the record
        if sensitive:
            _redact_xml(el, sensitive)
        record = data if isinstance(data, dict) else {"#text": data}
        records.append(SourceRecord(_named(f"{base}[{i}]", fmt.ref, record), tostring(el, encoding="utf-8"), record))
    return Payload(records, {"document": {_local(k): v for k, v in root.attrib.items()}})


def _xml_error(payload: bytes, exc: SafeET.ParseError, fmt: XmlFormat) -> ParseError:
    """Not well-formed XML; when that is because of the encoding, say how to fix it."""
    declared = _XML_DECLARED.match(payload)
    if fmt.encoding is None and declared is None:
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError as bad:
            hint = decoding_error(payload, "utf-8", bad)
            return ParseError(
                f"payload is not well-formed XML ({exc}): it declares no encoding, so it is read as UTF-8, and "
                f"{hint.message.removeprefix('payload is not valid utf-8 text: ')}"
            )
    return ParseError(f"payload is not well-formed XML: {exc}")


# --- pipe-delimited with header and trailer -------------------------------------------------------


def _read_pipe(fmt: PipeFormat, payload: bytes, sensitive: frozenset[str]) -> Payload:
    lines = _decode(payload, fmt.encoding).splitlines()
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    if not numbered:
        raise ParseError("the interface file is empty")
    first_no, first = numbered[0]
    last_no, last = numbered[-1]
    head, tail = first.split(fmt.delimiter), last.split(fmt.delimiter)
    if head[0] != fmt.header_tag:
        raise ParseError(f"line {first_no} is not a {fmt.header_tag} header record")
    if tail[0] != fmt.trailer_tag or len(numbered) < 2:
        raise ParseError(f"the file ends without a {fmt.trailer_tag} trailer record (truncated?)")
    body = numbered[1:-1]
    try:
        declared = int(tail[fmt.trailer_count_index])
    except (IndexError, ValueError):
        where = f"line {last_no}: the trailer has no record count in field {fmt.trailer_count_index}"
        raise ParseError(where) from None
    counted = len(body) + (2 if fmt.count_includes_header_trailer else 0)
    if declared != counted:
        raise ParseError(f"the trailer declares {declared} records but the file has {counted} (truncated or corrupt)")
    header = dict(zip(fmt.header_fields, head[1:], strict=False))
    records = []
    for n, line in body:
        values = line.split(fmt.delimiter)
        names = fmt.record_types.get(values[0])
        ref = f"line {n}"
        if names is None:
            err = ParseError(f"{ref}: unknown record type {values[0]!r} (known: {', '.join(fmt.record_types)})")
            # with personal data in the layout, a line of unknown type (a corrupted tag) may be a person: blank it
            kept = REDACTED.encode() if sensitive else line.encode(fmt.encoding)
            records.append(SourceRecord(ref, kept, None, err))
            continue
        masked = [REDACTED if i and i <= len(names) and names[i - 1] in sensitive else v for i, v in enumerate(values)]
        raw = fmt.delimiter.join(masked).encode(fmt.encoding)
        if len(values) - 1 != len(names):
            err = ParseError(f"{ref}: a {values[0]} record has {len(values) - 1} fields, expected {len(names)}")
            records.append(SourceRecord(ref, raw, None, err))
            continue
        data: dict[str, str | None] = {"record_type": values[0]}
        data.update({k: _null(v, True) for k, v in zip(names, values[1:], strict=True)})
        records.append(SourceRecord(_named(ref, fmt.ref, data), raw, data))
    return Payload(records, {"header": header})
