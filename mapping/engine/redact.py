"""Copies of a payload fit for a topic: the mapping's ``sensitive`` fields taken out.

The hub keeps what it receives (``raw.<vendor>``, dead letters), but personal data (NI
number, date of birth, address) must never travel on a topic in clear, whatever the
transport. The connectors' one inbound path (``rosterhub.connectors.pipeline``) therefore
writes :func:`redact_payload`'s copy, never the bytes as received; the mapping reads the
bytes as received, in memory only. How each format is redacted:

* **pipe-delimited** (ESR): byte for byte; every sensitive field of a known record type
  becomes ``REDACTED``, and a line of an unknown record type is blanked whole (its layout
  is unknown, so any field might be personal). Works on bytes, so a file in the wrong
  encoding is redacted too. Lines, record order and every other byte are kept, so line
  references in errors still point at the same lines.
* **CSV**: cells of sensitive columns become ``REDACTED``; rows without one keep their bytes.
* **JSON** and **XML** (FHIR's too): keys, elements and attributes with a sensitive name
  are removed wherever they are, so what is left is still a valid document of its kind (a
  FHIR Practitioner without ``birthDate``); a payload without any keeps its bytes.
* a payload that cannot be read well enough to find the fields (broken JSON, XML or CSV)
  is **withheld** (the copy is empty) when it may hold one: a sensitive name occurs in it
  in any Unicode encoding, or it uses character escapes. Otherwise (broken, but none of
  the names anywhere in it) it is kept as it is. The sender was told its payload is
  unreadable and must send it again anyway.

Values derived from personal data with a key (``identity_match_key``) are computed from
the bytes as received and travel with the redacted copy (``rh_keyed``), so a replay
makes the same events without the personal data: see ``docs/security.md, "Personal data"``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from rosterhub.errors import ParseError
from rosterhub.mapping.engine import strict_json
from rosterhub.mapping.engine.formats import REDACTED
from rosterhub.mapping.engine.model import CsvFormat, JsonFormat, PipeFormat, XmlFormat
from rosterhub.mapping.engine.spec import MappingSpec
from rosterhub.xml_bytes import xml_bytes

__all__ = ["Redacted", "drop_sensitive", "redact_payload"]


@dataclass(frozen=True, slots=True)
class Redacted:
    """The copy a topic may hold."""

    value: bytes
    fields: tuple[str, ...] = ()  # the sensitive names that were looked for (the ``rh_redacted`` header)
    withheld: bool = False  # the payload could not be read, so none of it is kept

    @property
    def header(self) -> str:
        return "*" if self.withheld else ",".join(self.fields)


def redact_payload(spec: MappingSpec | None, payload: bytes) -> Redacted:
    """``payload`` with ``spec``'s sensitive fields taken out (module docstring); unchanged without any."""
    if spec is None or not spec.sensitive:
        return Redacted(payload)
    fields = tuple(sorted(spec.sensitive))
    fmt = spec.reader
    try:
        if isinstance(fmt, PipeFormat):
            value = _pipe(fmt, spec.sensitive, payload)
        elif isinstance(fmt, CsvFormat):
            value = _csv(fmt, spec.sensitive, payload)
        elif isinstance(fmt, XmlFormat) or payload.lstrip().startswith(b"<"):  # FHIR XML under a JSON mapping
            value = _xml(spec.sensitive, payload)
        else:
            assert isinstance(fmt, JsonFormat)
            value = _json(fmt, spec.sensitive, payload)
    except (
        ParseError,
        csv.Error,
        UnicodeError,
        LookupError,
        SafeET.ParseError,
        DefusedXmlException,
        ValueError,
        RecursionError,  # a document too deep to write back out (ElementTree serialises recursively): unreadable
    ):
        if _may_hold(spec, payload):
            return Redacted(b"", fields, withheld=True)
        value = payload  # unreadable, but none of the sensitive names is in it anywhere: nothing to take out
    return Redacted(value, fields)


def _may_hold(spec: MappingSpec, payload: bytes) -> bool:
    """Could an unreadable payload hold a sensitive field? Yes when a sensitive name occurs in it in any
    encoding, when it escapes characters (a name may hide behind ``\\u`` escapes), or when the layout
    names no fields in the data (CSV with configured ``columns``)."""
    if isinstance(spec.reader, CsvFormat) and spec.reader.columns:
        return True
    if b"\\u" in payload or b"&#" in payload:
        return True
    encodings = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
    return any(name.encode(e) in payload for name in spec.sensitive for e in encodings)


# --- pipe ---------------------------------------------------------------------------------------------


def _pipe(fmt: PipeFormat, sensitive: frozenset[str], payload: bytes) -> bytes:
    delim = fmt.delimiter.encode()
    positions = {
        tag.encode(): {i + 1 for i, name in enumerate(names) if name in sensitive}
        for tag, names in fmt.record_types.items()
    }
    keep_whole = {fmt.header_tag.encode(), fmt.trailer_tag.encode()}
    out: list[bytes] = []
    for line in payload.splitlines(keepends=True):
        body = line.rstrip(b"\r\n")
        end = line[len(body) :]
        values = body.split(delim)
        tag = values[0].strip()
        if tag in keep_whole or not body.strip():
            out.append(line)
        elif (blank := positions.get(tag)) is None:
            out.append(REDACTED.encode() + end)
        else:
            out.append(delim.join(REDACTED.encode() if i in blank and v else v for i, v in enumerate(values)) + end)
    return b"".join(out)


# --- CSV ----------------------------------------------------------------------------------------------


def _csv(fmt: CsvFormat, sensitive: frozenset[str], payload: bytes) -> bytes:
    bom = payload.startswith(b"\xef\xbb\xbf")
    text = payload.decode(fmt.encoding)
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter, quotechar=fmt.quotechar, strict=True)
    columns = list(fmt.columns) if fmt.columns else [c.strip() for c in next(reader, [])]
    blank = {i for i, c in enumerate(columns) if c in sensitive}
    if not blank:
        return payload
    out = ["".join(lines[: reader.line_num])]
    while True:
        start = reader.line_num
        row = next(reader, None)
        if row is None:
            break
        original = "".join(lines[start : reader.line_num])
        if not any(i in blank and cell for i, cell in enumerate(row)):
            out.append(original)
            continue
        ending = original[len(original.rstrip("\r\n")) :] or "\n"
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=fmt.delimiter, quotechar=fmt.quotechar, lineterminator=ending).writerow(
            [REDACTED if i in blank and cell else cell for i, cell in enumerate(row)]
        )
        out.append(buffer.getvalue())
    encoding = "utf-8" if fmt.encoding.lower().replace("_", "-") == "utf-8-sig" else fmt.encoding
    return ("\ufeff" if bom else "").encode(encoding) + "".join(out).encode(encoding)


# --- JSON ---------------------------------------------------------------------------------------------


def drop_sensitive(node: Any, sensitive: frozenset[str]) -> tuple[Any, bool]:
    """``node`` without keys named in ``sensitive`` at any depth; and whether any was there."""
    if isinstance(node, dict):
        found = any(k in sensitive for k in node)
        out = {}
        for k, v in node.items():
            if k not in sensitive:
                out[k], inner = drop_sensitive(v, sensitive)
                found = found or inner
        return out, found
    if isinstance(node, list):
        items = [drop_sensitive(v, sensitive) for v in node]
        return [v for v, _ in items], any(f for _, f in items)
    return node, False


def _json(fmt: JsonFormat, sensitive: frozenset[str], payload: bytes) -> bytes:
    document, found = drop_sensitive(strict_json.loads(payload, encoding=fmt.encoding), sensitive)
    if not found:
        return payload
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- XML ----------------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _strip(root: Element, sensitive: frozenset[str]) -> bool:
    """Sensitive attributes and elements removed below ``root``; whether there were any. A loop, not recursion:
    a fuzzed document thousands of elements deep raised RecursionError out of the pipeline (issue #17)."""
    found = False
    stack = [root]
    while stack:
        el = stack.pop()
        for name in [n for n in el.attrib if _local(n) in sensitive]:
            del el.attrib[name]
            found = True
        for child in list(el):
            if isinstance(child.tag, str) and _local(child.tag) in sensitive:
                el.remove(child)
                found = True
            else:
                stack.append(child)
    return found


def _xml(sensitive: frozenset[str], payload: bytes) -> bytes:
    root = SafeET.fromstring(payload, forbid_dtd=True)
    if _local(root.tag) in sensitive:
        raise ValueError("the whole document is sensitive")
    if not _strip(root, sensitive):
        return payload
    namespace = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    if namespace:  # keep the document's namespace as its default one (FHIR XML), not as ns0:
        _unqualify(root, namespace)
        root.set("xmlns", namespace)
    return xml_bytes(root, "utf-8", xml_declaration=True)


def _unqualify(el: Element, namespace: str) -> None:
    prefix = "{" + namespace + "}"
    for node in el.iter():
        if isinstance(node.tag, str) and node.tag.startswith(prefix):
            node.tag = node.tag[len(prefix) :]
