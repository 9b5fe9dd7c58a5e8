"""``rosterhub mapping draft``: a starter mapping file from one sample export, for an analyst to finish.

From :func:`~rosterhub.mapping.engine.sniff.sniff` (format, encoding, delimiter, records
path, and each field's kind, layout and distinct values) this writes a mapping file that
``rosterhub mapping check`` accepts as it is:

* a comment block listing every column or path with its kind, date/time layout, an example,
  and the values that did not fit (the odd bad row), so the analyst sees the export at once;
* ``format`` with what was detected, and ``ref`` naming records by their id field;
* one code list per enum or code field of the event, keyed by the distinct values seen: an
  entry whose value already is a canonical code (``Band 5`` -> ``BAND_5``) is filled in, the
  rest are ``null`` with a ``TODO``; other text fields with few values are offered too;
* one event rule with every field of the chosen schema: the vendor field that fits it by name
  and kind, converted as its kind needs (``shift_start``/``shift_end`` from a date and local
  times, ``instant`` for offsets, ``money``, ``int``, ``hub_id`` for hub ids); a required field
  nothing fits is left ``null`` with a ``TODO`` (``mapping apply`` then rejects, naming it).

The guesses are guesses: the comments say so, and the draft is never used without review.
Pure: a :class:`Sample` and a schema in, YAML text out.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rosterhub.codec.catalogue import EventSchema
from rosterhub.events.codes import GRADES
from rosterhub.mapping.engine.draft_pick import ENUM_KINDS, HINTS, canonical, flat, pick, pick_among, words
from rosterhub.mapping.engine.model import CsvFormat, JsonFormat, PipeFormat, XmlFormat
from rosterhub.mapping.engine.sniff import Field, Sample
from rosterhub.ods import ODS_LIKE

__all__ = ["draft_mapping"]


def _yaml(value: Any) -> str:
    """A YAML scalar: plain when that reads back as the same text, else double-quoted (JSON is valid YAML)."""
    text = str(value)
    if (
        re.fullmatch(r"[A-Za-z_][\w .()/&'-]*", text)
        and text.strip() == text
        and text.lower()
        not in (
            "null",
            "true",
            "false",
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
        )
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def _read(f: Field) -> str:
    """How a mapping reads the field: ``{column: X}`` for CSV, the JMESPath otherwise."""
    return f"{{column: {_yaml(f.path)}}}" if f.column else f"{{path: {_yaml(f.path)}}}"


def _with(reading: str, *steps: str) -> str:
    return reading[:-1] + f", then: [{', '.join(steps)}]}}" if steps else reading


class _Writer:
    """Builds the draft's lines; ``codelists`` collects the code lists the event's fields use."""

    def __init__(self, sample: Sample, schema: EventSchema) -> None:
        self.sample, self.schema = sample, schema
        self.codelists: dict[str, tuple[Field, list[str]]] = {}  # name -> (field, canonical symbols)
        self.used: set[str] = set()
        self.todo: list[str] = []

    # --- the event's fields -------------------------------------------------------------------

    def id_field(self) -> Field | None:
        unique = [f for f in self.sample.fields if f.unique and f.kind in ("text", "integer")]
        return (
            pick(self.sample, "id", ("text", "integer"))
            if not unique
            else (pick_among(unique, self.sample) or unique[0])
        )

    def trust(self) -> str | None:
        f = pick(self.sample, "trust", ("ods",))
        if f is not None:
            self.used.add(f.path)
            return _read(f)
        for key, value in flat(self.sample.document).items():
            ods = isinstance(value, str) and ODS_LIKE.fullmatch(value)
            if ods and any(w in words(key) for w in ("trust", "ods", "org")):
                return f"{{var: document, path: {_yaml(key)}}}"
        return None

    def codelist(self, name: str, f: Field, symbols: list[str]) -> str:
        self.codelists[name] = (f, symbols)
        self.used.add(f.path)
        return _with(_read(f), f"{{codelist: {name}}}")

    def times(self) -> tuple[dict[str, str], str, str]:
        """(let lines, start expression, end expression)."""
        s = self.sample
        for kinds, step in ((("instant",), "instant"), (("local_datetime",), None)):
            start = pick(s, "start", kinds)
            end = pick(s, "end", kinds, avoid={start.path} if start else None)
            if start is not None and end is not None:
                self.used |= {start.path, end.path}
                lets = {"start": self._instant(start, step), "end": self._instant(end, step)}
                return lets, "{var: start}", "{var: end}"
        date = pick(s, "date", ("date",))
        start = pick(s, "start", ("time",))
        end = pick(s, "end", ("time",), avoid={start.path} if start else None)
        if date is not None and start is not None and end is not None:
            self.used |= {date.path, start.path, end.path}
            formats = f"date_format: {{const: {_yaml(date.layout)}}}, time_format: {{const: {_yaml(start.layout)}}}"
            args = f"date: {_read(date)}, start: {_read(start)}"
            lets = {
                "start": f"{{fn: shift_start, args: {{{args}, {formats}}}}}",
                "end": f"{{fn: shift_end, args: {{{args}, end: {_read(end)}, {formats}}}}}",
            }
            return lets, "{var: start}", "{var: end}"
        span = pick(s, "times", ("time_range",))
        if date is not None and span is not None:
            self.used |= {date.path, span.path}
            first = _with(_read(span), '{split: {sep: "-", index: 0}}')
            second = _with(_read(span), '{split: {sep: "-", index: 1}}')
            fmt = f"date_format: {{const: {_yaml(date.layout)}}}"
            lets = {
                "start": f"{{fn: shift_start, args: {{date: {_read(date)}, start: {first}, {fmt}}}}}",
                "end": f"{{fn: shift_end, args: {{date: {_read(date)}, start: {first}, end: {second}, {fmt}}}}}",
            }
            return lets, "{var: start}", "{var: end}"
        self.todo.append("start and end: no start/end date-times (or date and times) found in the sample")
        return {}, "{const: null}  # TODO: the shift's start", "{const: null}  # TODO: the shift's end"

    def _instant(self, f: Field, step: str | None) -> str:
        if step is not None or f.layout == "ISO-8601":
            return _with(_read(f), "instant")
        return f"{{fn: local_datetime, args: {{value: {_read(f)}, format: {{const: {_yaml(f.layout)}}}}}}}"

    def datetime_of(self, hint: str) -> str | None:
        f = pick(self.sample, hint, ("instant", "local_datetime"), avoid=self.used)
        if f is None:
            return None
        self.used.add(f.path)
        return self._instant(f, "instant" if f.kind == "instant" else None)


def _enum_symbols(schema: EventSchema, name: str) -> list[str]:
    stack: list[Any] = [f["type"] for f in schema.parsed["fields"] if f["name"] == name]
    while stack:
        t = stack.pop()
        if isinstance(t, dict) and t.get("type") == "enum":
            return list(t["symbols"])
        if isinstance(t, list):
            stack.extend(t)
    return []


def draft_mapping(sample: Sample, schema: EventSchema, *, vendor: str, source: str) -> str:
    """The draft mapping file's text (see the module docstring)."""
    w = _Writer(sample, schema)
    id_field = w.id_field()
    trust = w.trust()
    lets, start, end = w.times() if {"start", "end"} <= {f["name"] for f in schema.parsed["fields"]} else ({}, "", "")
    fields = _fields(w, id_field, start, end)
    lines = _header(sample, schema, vendor, source, w)
    lines += [
        "rosterhub_mapping: 1",
        f"vendor: {vendor}",
        f"description: {json.dumps(f'Draft from {source}: {schema.name} (review every guess).')}",
        "",
        *_format_lines(sample, id_field),
        "",
    ]
    if trust:
        lines += [f"trust: {trust}", ""]
    else:
        lines += [
            "# trust: no trust code found in the sample: give the trust with --trust (or the connector's inbox)",
            "",
        ]
    lines += _codelist_lines(w, sample)
    lines += ["events:", f"  - name: {_snake(schema.name)}", f"    type: {schema.name}"]
    lines.append(
        f"    id: [{_read(id_field)}]" if id_field else "    id: [{var: record_ref}]  # TODO: the record's own id"
    )
    if lets:
        lines.append("    let:")
        lines += [f"      {name}: {expr}" for name, expr in lets.items()]
    lines.append("    fields:")
    lines += [f"      {name}: {expr}" for name, expr in fields]
    return "\n".join(lines) + "\n"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _fields(w: _Writer, id_field: Field | None, start: str, end: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for f in w.schema.parsed["fields"]:
        name, required = f["name"], "default" not in f
        expr = _field(w, name, f, id_field, start, end)
        if expr is None and not required:
            continue
        if expr is None:
            w.todo.append(f"{name}: nothing in the sample fits it")
            expr = "{const: null}  # TODO: required, nothing in the sample fits it"
        out.append((name, expr))
    return out


def _field(w: _Writer, name: str, f: dict[str, Any], id_field: Field | None, start: str, end: str) -> str | None:
    s = w.sample
    if name in ("start", "end"):
        return start if name == "start" else end
    if name == "vendor":
        return "{var: vendor}"
    if name.endswith("_id") and name.startswith("vendor_") and id_field is not None:
        return _read(id_field)
    if name in ("shift_id", "booking_id", "worker_id") and id_field is not None:
        return _with(_read(id_field), "hub_id")
    if name in ("trust", "host_trust", "home_trust", "issuer"):
        return "{record: {ods_code: {var: trust}}}"
    if name == "shift_type" and start and "{const: null}" not in start:
        found = pick(s, "shift_type", ("text",), avoid=w.used)
        symbols = _enum_symbols(w.schema, name)
        if found is not None and found.codes:
            return w.codelist("shift_type", found, symbols)
        return "{fn: shift_type, args: {start: {var: start}, end: {var: end}}}"
    if name == "site":
        found = pick(s, "site", ("ods",), avoid=w.used)
        if found is None:
            return None
        w.used.add(found.path)
        return f"{{null_when_missing: [ods_code], record: {{ods_code: {_with(_read(found), 'ods_code')}}}}}"
    symbols = _enum_symbols(w.schema, name)
    if name == "grade" or symbols:
        found = pick(s, name, ENUM_KINDS, avoid=w.used) if name in HINTS else None
        if found is None:
            return None
        return w.codelist(name, found, symbols or sorted(GRADES.codes))
    if name not in HINTS:
        return None
    if name == "posted_at":
        return w.datetime_of(name)
    found = pick(s, name, avoid=w.used)
    if found is None:
        return None
    w.used.add(found.path)
    if name == "break_minutes":
        return _with(_read(found), "minutes" if found.kind == "time" else "int")
    if name == "hourly_rate":
        return _with(_read(found), "money")
    if name == "version":
        return _with(_read(found), "int")
    return _read(found)


def _format_lines(sample: Sample, id_field: Field | None) -> list[str]:
    fmt = sample.format
    lines = ["format:", f"  type: {fmt.type}"]
    if isinstance(fmt, JsonFormat):
        lines.append(f"  records: {_yaml(fmt.records)}")
        if fmt.encoding != "utf-8":
            lines.append(f"  encoding: {fmt.encoding}")
    elif isinstance(fmt, XmlFormat):
        lines.append(f"  records: {_yaml(fmt.records)}")
        if fmt.encoding:
            lines.append(f"  encoding: {fmt.encoding}   # the file declares none and is not UTF-8")
    elif isinstance(fmt, CsvFormat):
        lines.append(f"  delimiter: {json.dumps(fmt.delimiter)}")
        lines.append(f"  encoding: {fmt.encoding}")
    elif isinstance(fmt, PipeFormat):
        if fmt.encoding != "utf-8":
            lines.append(f"  encoding: {fmt.encoding}")
        lines += [
            f"  header_tag: {fmt.header_tag}",
            f"  trailer_tag: {fmt.trailer_tag}",
            f"  trailer_count_index: {fmt.trailer_count_index}",
            f"  count_includes_header_trailer: {str(fmt.count_includes_header_trailer).lower()}",
            f"  header_fields: [{', '.join(fmt.header_fields)}]",
            "  record_types:   # TODO: name each field (the sample has no header)",
            *(f"    {tag}: [{', '.join(names)}]" for tag, names in fmt.record_types.items()),
        ]
    if id_field is not None:
        lines.append(f"  ref: {json.dumps('{' + id_field.path.strip(chr(34)) + '}')}   # errors name records by this")
    return lines


def _codelist_lines(w: _Writer, sample: Sample) -> list[str]:
    offered = {name: spec for name, spec in w.codelists.items()}
    for f in sample.fields:
        repeated = f.codes and len(f.codes) < f.count  # a value seen twice: a code, not a name or an id
        if repeated and f.path not in w.used and f.path not in {spec[0].path for spec in offered.values()}:
            key = _snakewords(f.path)
            if key and key not in offered:
                offered[key] = (f, [])
    if not offered:
        return []
    lines = ["codelists:"]
    for name, (f, symbols) in offered.items():
        used = name in w.codelists
        what = f"canonical: {', '.join(symbols[:12])}{', ...' if len(symbols) > 12 else ''}" if symbols else ""
        note = f"from {f.path}" + ("" if used else " (not used yet)") + (f"; {what}" if what else "")
        lines += [f"  {name}:   # {note}", "    entries:"]
        for value in f.codes or f.values:
            code = canonical(value, symbols) if symbols else None
            lines.append(f"      {_yaml(value)}: " + (code if code else "null   # TODO"))
    lines.append("")
    return lines


def _snakewords(path: str) -> str:
    parts = [p.strip('"') for p in re.findall(r'"[^"]*"|[^.]+', path) if p.strip('"') != "#text"]
    return "_".join("_".join(words(p).split()) for p in parts if words(p))


def _header(sample: Sample, schema: EventSchema, vendor: str, source: str, w: _Writer) -> list[str]:
    n = len(sample.records)
    lines = [
        f"# Draft mapping for {vendor}: {schema.name} from {source} ({n} record(s), {sample.encoding}).",
        "# Proposed by `rosterhub mapping draft`; every line is a guess to check against the vendor's documentation.",
        '# Fill each code list\'s TODO entries with canonical codes (docs/events.md, "Code lists"), then:',
        "#   rosterhub mapping check <this file>",
        f"#   rosterhub mapping apply -m <this file> -i {source}",
        "#",
        "# What the sample holds (field: kind, layout; example):",
    ]
    for f in sample.fields:
        kind = f.kind + (f" {f.layout}" if f.layout else "")
        extra = "; every record its own value (an id?)" if f.unique and n > 1 else ""
        if f.codes:
            extra += f"; {len(f.codes)} value(s): {', '.join(f.codes)}"
        elif f.values:
            extra += f"; e.g. {f.values[0]}"
        if f.misfits:
            extra += f"; does not fit: {', '.join(f.misfits)}"
        lines.append(f"#   {f.path}: {kind}{extra}"[:200])
    for note in sample.notes:
        lines.append(f"# NOTE: {note}")
    for todo in w.todo:
        lines.append(f"# TODO: {todo}")
    lines.append("#")
    return lines
