"""Backward compatibility of the current schemas against every released baseline.

Canonical topics keep events forever (retention -1) and are replayed, so a consumer
built today must read every version ever written: each current event schema, as
*reader*, must resolve every released version of it, as *writer* (Avro schema
resolution; the registry term is BACKWARD_TRANSITIVE). Baselines are copies of
``schemas/avro`` under ``schemas/released/<version>/`` made by ``rosterhub schemas release``.

Two checks, because each catches what the other misses:

* :func:`static_breaks` walks both schemas by the rules of the Avro specification and
  names the field: ``ShiftPosted.hourly_rate: type changed from bytes to string``. It
  also flags what resolution tolerates but corrupts meaning (a decimal's scale, a
  timestamp turned into a plain long) and changed Kafka bindings (topic, key, subject).
* :func:`dynamic_breaks` writes a generated sample with the old schema and reads it
  with the new one through fastavro, the library that decodes in production.
"""

from __future__ import annotations

import io
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from rosterhub.codec.catalogue import AvroSchema, EventSchema, SchemaCatalogue

__all__ = [
    "Incompatibility",
    "check_all",
    "dynamic_breaks",
    "load_baseline",
    "release",
    "released_versions",
    "sample_datum",
    "static_breaks",
]

_VERSION = re.compile(r"^v[1-9][0-9]*$")
_PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}
_NAMED = ("record", "enum", "fixed", "error")


@dataclass(frozen=True, slots=True)
class Incompatibility:
    """One break: which event, which field path (dotted, empty for the whole event) and why."""

    event: str  # short name, e.g. ShiftPosted
    path: str
    reason: str
    baseline: str = ""

    def __str__(self) -> str:
        where = f"{self.event}.{self.path}" if self.path else self.event
        against = f" (against released {self.baseline})" if self.baseline else ""
        return f"{where}: {self.reason}{against}"


def _named_types(
    schema: Any, namespace: str = "", table: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """Every named type defined in a standalone schema, by full name (to resolve later references)."""
    table = {} if table is None else table
    if isinstance(schema, list):
        for branch in schema:
            _named_types(branch, namespace, table)
    elif isinstance(schema, dict):
        if schema.get("type") in _NAMED:
            name = schema["name"]
            ns = schema.get("namespace", namespace)
            full = name if "." in name else f"{ns}.{name}".lstrip(".")
            table[full] = schema
            namespace = full.rsplit(".", 1)[0] if "." in full else ""
        for f in schema.get("fields", []):
            _named_types(f["type"], namespace, table)
        for key in ("items", "values"):
            if key in schema:
                _named_types(schema[key], namespace, table)
        if isinstance(schema.get("type"), (dict, list)):
            _named_types(schema["type"], namespace, table)
    return table


class _Resolver:
    """Avro schema resolution (writer -> reader), collecting every break with its field path."""

    def __init__(self, writer: dict[str, Any], reader: dict[str, Any]) -> None:
        self.w_names = _named_types(writer)
        self.r_names = _named_types(reader)
        self.breaks: list[tuple[str, str]] = []
        self._seen: set[tuple[str, str]] = set()

    def deref(self, schema: Any, names: dict[str, dict[str, Any]]) -> Any:
        if isinstance(schema, str) and schema in names:
            return names[schema]
        if isinstance(schema, str):
            matches = [v for k, v in names.items() if k.rsplit(".", 1)[-1] == schema]
            return matches[0] if len(matches) == 1 else schema
        if isinstance(schema, dict) and isinstance(schema.get("type"), (dict, list)):
            return schema["type"]
        if (
            isinstance(schema, dict)
            and schema.get("type") not in (*_NAMED, "array", "map")
            and not schema.get("logicalType")
        ):
            return schema["type"]
        return schema

    def kind(self, schema: AvroSchema) -> str:
        if isinstance(schema, list):
            return "union"
        if isinstance(schema, dict):
            type_name: str = schema["type"]  # dereferenced: a primitive or complex type's name
            return type_name
        return schema

    def describe(self, schema: AvroSchema) -> str:
        if isinstance(schema, list):
            return "[" + ", ".join(self.describe(b) for b in schema) + "]"
        if isinstance(schema, dict):
            if schema.get("logicalType"):
                return f"{schema['type']}/{schema['logicalType']}"
            name: str = schema["name"] if "name" in schema else schema["type"]
            return name
        return schema

    def matches(self, w: Any, r: Any) -> bool:
        """The spec's shallow 'match' test used to pick a union branch."""
        w, r = self.deref(w, self.w_names), self.deref(r, self.r_names)
        wk, rk = self.kind(w), self.kind(r)
        if wk == rk and wk in _NAMED:
            return _short(w["name"]) == _short(r["name"]) or _short(w["name"]) in map(_short, r.get("aliases", []))
        return wk == rk or rk in _PROMOTIONS.get(wk, set())

    def resolve(self, w: Any, r: Any, path: str) -> None:
        w, r = self.deref(w, self.w_names), self.deref(r, self.r_names)
        wk, rk = self.kind(w), self.kind(r)
        if wk == "union":
            for branch in w:
                self.resolve(branch, r, path)
            return
        if rk == "union":
            chosen = next((b for b in r if self.matches(w, b)), None)
            if chosen is None:
                self.breaks.append((path, f"no branch of {self.describe(r)} can read {self.describe(w)}"))
            else:
                self.resolve(w, chosen, path)
            return
        if not self.matches(w, r):
            self.breaks.append((path, f"type changed from {self.describe(w)} to {self.describe(r)}"))
            return
        self._logical(w, r, path)
        if wk == "record":
            key = (w["name"], r["name"])
            if key not in self._seen:
                self._seen.add(key)
                self._record(w, r, path)
        elif wk == "enum":
            missing = [s for s in w["symbols"] if s not in r["symbols"]]
            if missing and "default" not in r:
                self.breaks.append((path, f"enum {r['name']} lost symbols {missing} and has no default"))
        elif wk == "array":
            self.resolve(w["items"], r["items"], f"{path}[]")
        elif wk == "map":
            self.resolve(w["values"], r["values"], f"{path}{{}}")
        elif wk == "fixed" and w["size"] != r["size"]:
            self.breaks.append((path, f"fixed size changed from {w['size']} to {r['size']}"))

    def _logical(self, w: Any, r: Any, path: str) -> None:
        wl = w.get("logicalType") if isinstance(w, dict) else None
        rl = r.get("logicalType") if isinstance(r, dict) else None
        if wl != rl and (wl or rl):
            self.breaks.append((path, f"logical type changed from {wl or 'none'} to {rl or 'none'}"))
        elif wl == "decimal":
            if w.get("scale", 0) != r.get("scale", 0):
                self.breaks.append((path, f"decimal scale changed from {w.get('scale', 0)} to {r.get('scale', 0)}"))
            elif r["precision"] < w["precision"]:
                self.breaks.append((path, f"decimal precision narrowed from {w['precision']} to {r['precision']}"))

    def _record(self, w: dict[str, Any], r: dict[str, Any], path: str) -> None:
        w_fields = {f["name"]: f for f in w["fields"]}
        for rf in r["fields"]:
            fpath = f"{path}.{rf['name']}" if path else rf["name"]
            wf = next((w_fields[n] for n in (rf["name"], *rf.get("aliases", [])) if n in w_fields), None)
            if wf is None:
                if "default" not in rf:
                    self.breaks.append((fpath, "field added without a default, so old data cannot fill it"))
                continue
            self.resolve(wf["type"], rf["type"], fpath)


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def static_breaks(old: EventSchema, new: EventSchema, baseline: str = "") -> list[Incompatibility]:
    """Every way ``new`` (reader) fails to read data written with ``old``, per field."""
    resolver = _Resolver(old.source, new.source)
    resolver.resolve(old.source, new.source, "")
    found = [Incompatibility(new.name, p, why, baseline) for p, why in resolver.breaks]
    for attr, old_v, new_v in (
        ("rosterhub.topic", old.domain, new.domain),
        ("rosterhub.key", old.key_field, new.key_field),
        ("rosterhub.subject", old.subject_field, new.subject_field),
    ):
        if old_v != new_v:
            found.append(Incompatibility(new.name, "", f"{attr} changed from {old_v} to {new_v}", baseline))
    return found


def sample_datum(schema: Any, names: dict[str, dict[str, Any]] | None = None) -> Any:
    """A value that fits ``schema`` and exercises every field (non-null union branches, one array item)."""
    names = _named_types(schema) if names is None else names
    if isinstance(schema, list):
        branch = next((b for b in schema if b != "null"), "null")
        return sample_datum(branch, names)
    if isinstance(schema, str):
        primitive = {"null": None, "boolean": True, "int": 7, "long": 7, "float": 1.5, "double": 1.5}
        if schema in primitive:
            return primitive[schema]
        if schema in ("string", "bytes"):
            return "sample" if schema == "string" else b"sample"
        return sample_datum(names[schema] if schema in names else _by_short(names, schema), names)
    logical, kind = schema.get("logicalType"), schema["type"]
    if logical in ("timestamp-millis", "timestamp-micros"):
        return datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    if logical == "date":
        return date(2026, 3, 29)
    if logical == "decimal":
        return Decimal(1).scaleb(-schema.get("scale", 0))
    if kind == "record":
        return {f["name"]: sample_datum(f["type"], names) for f in schema["fields"]}
    if kind == "enum":
        return schema["symbols"][-1]
    if kind == "array":
        return [sample_datum(schema["items"], names)]
    if kind == "map":
        return {"key": sample_datum(schema["values"], names)}
    if kind == "fixed":
        return b"\x00" * schema["size"]
    return sample_datum(kind, names)


def _by_short(names: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    return next(v for k, v in names.items() if _short(k) == _short(name))


def dynamic_breaks(old: EventSchema, new: EventSchema, baseline: str = "") -> list[Incompatibility]:
    """Write a sample with ``old`` and read it with ``new`` through fastavro's schema resolution."""
    buf = io.BytesIO()
    schemaless_writer(buf, old.parsed, sample_datum(old.source))
    buf.seek(0)
    try:
        schemaless_reader(buf, old.parsed, parse_schema(new.source, _write_hint=False))
    except Exception as exc:  # fastavro raises SchemaResolutionError, but also KeyError/ValueError
        return [Incompatibility(new.name, "", f"fastavro cannot resolve: {exc}", baseline)]
    return []


def released_versions(package: str = "rosterhub.schemas") -> list[str]:
    """Released baseline versions (``v1``, ``v2``...), oldest first."""
    root = resources.files(package) / "released"
    if not root.is_dir():
        return []
    found = [c.name for c in root.iterdir() if c.is_dir() and _VERSION.match(c.name)]
    return sorted(found, key=lambda v: int(v[1:]))


def load_baseline(version: str, package: str = "rosterhub.schemas") -> SchemaCatalogue:
    return SchemaCatalogue.from_package(package, f"released/{version}")


def check_all(current: SchemaCatalogue, baselines: dict[str, SchemaCatalogue]) -> list[Incompatibility]:
    """Every break of ``current`` against each baseline; an empty list means compatible."""
    found: list[Incompatibility] = []
    for version, baseline in baselines.items():
        for old in baseline:
            try:
                new = current.get(old.full_name)
            except KeyError:
                found.append(Incompatibility(old.name, "", "event removed, but its data stays on the topic", version))
                continue
            statics = static_breaks(old, new, version)
            found += statics or dynamic_breaks(old, new, version)
    return found


def release(version: str, schemas_dir: Path) -> Path:
    """Copy ``schemas_dir/avro`` to ``schemas_dir/released/<version>``; refuses to overwrite a release."""
    if not _VERSION.match(version):
        raise ValueError(f"release version must look like v1, v2...; got {version!r}")
    target = schemas_dir / "released" / version
    if target.exists():
        raise FileExistsError(f"{target} exists: a released baseline is never changed")
    shutil.copytree(schemas_dir / "avro", target)
    return target
