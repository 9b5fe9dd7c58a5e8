"""Checks of a mapping file's ``format:`` block that need more than its types: done by ``mapping check``,
so a mistake shows at its line instead of as a parse error on the first file.

* an XML ``records`` path with a namespace prefix (``cr:Duty``, ``{urn:...}Duty``): the reader
  drops namespaces, so such a path matches nothing; the error gives the path to write instead;
* an ElementTree path ElementPath cannot compile;
* an ``encoding`` Python does not know;
* a ``ref`` without placeholders, with unbalanced braces, or naming a sensitive field
  (references go into logs, reports and dead-letter headers unredacted).

Pure: the validated format in, ``(message, key under format)`` pairs out.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from xml.etree.ElementTree import Element

from rosterhub.mapping.engine.formats import ref_placeholders
from rosterhub.mapping.engine.model import FormatSpec, XmlFormat

__all__ = ["format_problems"]


def format_problems(fmt: FormatSpec, sensitive: Callable[[str], bool]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(fmt, XmlFormat):
        out += [(m, "records") for m in _xml_records(fmt.records)]
    encoding = getattr(fmt, "encoding", None)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            out.append((f"unknown encoding {encoding!r} (e.g. utf-8, utf-8-sig, cp1252, utf-16)", "encoding"))
    if fmt.ref is not None:
        out += [(m, "ref") for m in _ref(fmt.ref, sensitive)]
    return out


def _xml_records(path: str) -> list[str]:
    prefixed = re.findall(r"(?:^|/)(\{[^}]*\}|[A-Za-z_][\w.-]*:)", path)
    if prefixed:
        local = re.sub(r"\{[^}]*\}|[A-Za-z_][\w.-]*:(?=[A-Za-z_*])", "", path)
        return [
            f"records path {path!r} names a namespace ({prefixed[0].rstrip(':')}): the hub drops namespaces "
            f"when it reads XML, so write the local names only: {local!r}"
        ]
    try:
        Element("root").findall(path)
    except (SyntaxError, TypeError, KeyError) as exc:  # ElementPath reports bad paths all three ways
        return [f"invalid ElementTree path {path!r}: {exc}"]
    return []


def _ref(template: str, sensitive: Callable[[str], bool]) -> list[str]:
    names = ref_placeholders(template)
    if template.count("{") != template.count("}") or not names or any(not n for n in names):
        return [
            f"ref {template!r} must name the record's own values in braces, e.g. '{{Shift Ref}}' or "
            "'{resourceType}/{id}'"
        ]
    return [
        f"ref names {name!r}, which is listed as sensitive: references are not redacted"
        for name in names
        if sensitive(name)
    ]
