"""The canonical Avro schemas shipped in ``schemas/avro`` (package ``rosterhub.schemas``).

Files under ``common/`` declare shared named types (identifiers, references, enums);
every other file is one event. Events may name shared types; the catalogue expands
them so each event has a standalone writer schema with its own Parsing Canonical Form
and CRC-64-AVRO fingerprint (the key of the single-object encoding).

Custom schema attributes (ignored by Avro, stripped from the canonical form) bind an
event to Kafka: ``rosterhub.topic`` (domain of its ``events.<domain>`` topic),
``rosterhub.key`` (field used as message key) and ``rosterhub.subject`` (field used as
``ce_subject``). This keeps topic routing next to the schema, with no second table.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from fastavro.schema import expand_schema, fingerprint, parse_schema, to_parsing_canonical_form

from rosterhub.errors import ConfigError

__all__ = [
    "AvroSchema",
    "EventSchema",
    "SchemaCatalogue",
    "default_catalogue",
    "expand_record_schema",
    "parse_record_schema",
    "schema_fingerprint",
]

#: A schema as JSON: a type's name (``"string"``, ``"rosterhub.common.v1.WorkerRef"``), a union or a complex type.
AvroSchema = str | list[Any] | dict[str, Any]


def parse_record_schema(schema: dict[str, Any], *, write_hint: bool = True) -> dict[str, Any]:
    """fastavro's ``parse_schema`` for an event's schema, which is always a record: fastavro types its result as
    any schema (a name, a union list or a dict), and every caller here reads a record's fields."""
    return _record(parse_schema(schema, _write_hint=write_hint), schema)


def expand_record_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """fastavro's ``expand_schema`` (every named type written out where it is used) for a record schema."""
    return _record(expand_schema(schema), schema)


def _record(result: AvroSchema, schema: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(result, dict):
        raise TypeError(f"not an Avro record schema: {json.dumps(schema)[:80]}")
    return result


def schema_fingerprint(parsed: dict[str, Any] | list[Any] | str) -> tuple[str, bytes]:
    """Parsing Canonical Form and its CRC-64-AVRO fingerprint (8 bytes, little-endian as on the wire)."""
    canonical = to_parsing_canonical_form(parsed)
    # fastavro returns the fingerprint's bytes in wire (little-endian) order as hex.
    return canonical, bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))


@dataclass(frozen=True, slots=True)
class EventSchema:
    """One event's standalone writer schema and the Kafka binding it declares."""

    full_name: str
    parsed: dict[str, Any]
    canonical: str
    fingerprint: bytes  # 8 bytes, little-endian
    domain: str
    key_field: str
    subject_field: str
    doc: str
    source: dict[str, Any]  # the .avsc as written (for docs and AsyncAPI)

    @property
    def name(self) -> str:
        return self.full_name.rsplit(".", 1)[-1]

    @property
    def fingerprint_hex(self) -> str:
        return self.fingerprint.hex()


def _walk(root: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for child in sorted(root.iterdir(), key=lambda c: c.name):
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            yield from _walk(child, rel + "/")
        elif child.name.endswith(".avsc"):
            yield rel, child


class SchemaCatalogue:
    """All event schemas, by full name and by fingerprint."""

    def __init__(self, files: dict[str, dict[str, Any]]) -> None:
        shared_files = {k: v for k, v in files.items() if k.startswith("common/")}
        events = {k: v for k, v in files.items() if not k.startswith("common/")}
        self.shared_types: dict[str, dict[str, Any]] = {}
        for raw in shared_files.values():
            self.shared_types[_full_name(raw)] = raw
        self._by_name: dict[str, EventSchema] = {}
        self._by_fp: dict[bytes, EventSchema] = {}
        for path, raw in events.items():
            for attr in ("rosterhub.topic", "rosterhub.key", "rosterhub.subject"):
                if attr not in raw:
                    raise ConfigError(f"schema {path} lacks the {attr!r} attribute", file=path)
            try:
                standalone = inline_named_types(raw, self.shared_types)
                parsed = parse_record_schema(standalone, write_hint=False)
            except Exception as exc:
                raise ConfigError(f"invalid Avro schema {path}: {exc}", file=path) from exc
            canonical, fp = schema_fingerprint(parsed)
            es = EventSchema(
                full_name=parsed["name"],
                parsed=parsed,
                canonical=canonical,
                fingerprint=fp,
                domain=raw["rosterhub.topic"],
                key_field=raw["rosterhub.key"],
                subject_field=raw["rosterhub.subject"],
                doc=raw.get("doc", ""),
                source=standalone,
            )
            if es.full_name in self._by_name:
                raise ConfigError(f"two schema files define {es.full_name}", file=path)
            self._by_name[es.full_name] = es
            self._by_fp[fp] = es

    @classmethod
    def from_package(cls, package: str = "rosterhub.schemas", folder: str = "avro") -> SchemaCatalogue:
        root = resources.files(package) / folder
        return cls({rel: json.loads(f.read_text(encoding="utf-8")) for rel, f in _walk(root)})

    def __iter__(self) -> Iterator[EventSchema]:
        return iter(sorted(self._by_name.values(), key=lambda e: e.full_name))

    def __len__(self) -> int:
        return len(self._by_name)

    def get(self, full_name: str) -> EventSchema:
        try:
            return self._by_name[full_name]
        except KeyError:
            raise KeyError(f"no event schema named {full_name!r}") from None

    def by_short_name(self, name: str) -> EventSchema:
        matches = [e for e in self._by_name.values() if e.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} event schemas are named {name!r}")
        return matches[0]

    def by_fingerprint(self, fp: bytes) -> EventSchema | None:
        return self._by_fp.get(fp)


def _full_name(raw: dict[str, Any]) -> str:
    name = raw["name"]
    return name if "." in name else f"{raw.get('namespace', '')}.{name}".lstrip(".")


def inline_named_types(raw: Any, shared: dict[str, dict[str, Any]]) -> Any:
    """Replace references to shared named types by their definitions (first use only, as Avro requires).

    The result is a standalone schema: what a consumer without our files needs to read the bytes.
    """
    defined: set[str] = set()

    def walk(node: Any, namespace: str) -> Any:
        if isinstance(node, str):
            full = node if "." in node else f"{namespace}.{node}"
            for candidate in (full, node):
                if candidate in shared:
                    if candidate in defined:
                        return candidate
                    defined.add(candidate)
                    return walk(copy.deepcopy(shared[candidate]), candidate.rsplit(".", 1)[0])
            return node
        if isinstance(node, list):
            return [walk(n, namespace) for n in node]
        if isinstance(node, dict):
            out = dict(node)
            ns = node.get("namespace", namespace)
            if node.get("type") in ("record", "error", "enum", "fixed") and "name" in node:
                defined.add(_full_name({"name": node["name"], "namespace": ns}))
            if "fields" in node:
                out["fields"] = [{**f, "type": walk(f["type"], ns)} for f in node["fields"]]
            for key in ("items", "values"):
                if key in node:
                    out[key] = walk(node[key], ns)
            if isinstance(node.get("type"), (dict, list)) or (
                isinstance(node.get("type"), str) and node["type"] not in _KEYWORD_TYPES
            ):
                out["type"] = walk(node["type"], ns)
            return out
        return node

    return walk(copy.deepcopy(raw), raw.get("namespace", "") if isinstance(raw, dict) else "")


_KEYWORD_TYPES = {
    "null",
    "boolean",
    "int",
    "long",
    "float",
    "double",
    "bytes",
    "string",
    "record",
    "error",
    "enum",
    "array",
    "map",
    "fixed",
}


@cache
def default_catalogue() -> SchemaCatalogue:
    """The catalogue of the installed ``rosterhub.schemas`` package (parsed once per process)."""
    return SchemaCatalogue.from_package()
