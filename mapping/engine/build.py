"""Stage three of the load: check names against signatures and schemas, then compile.

Everything a mapping file names is resolved here, once: event types in the schema
catalogue, field names in those schemas, converter names in the registry, arguments
against each converter's signature and type hints, code lists, secrets, variables and
JMESPath syntax. Every problem is collected with its file, line and key, so
``rosterhub mapping check`` can list them all in one run.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from pydantic import TypeAdapter, ValidationError

from rosterhub.codec.catalogue import EventSchema, SchemaCatalogue
from rosterhub.errors import MappingFileError
from rosterhub.mapping.engine.expr import Node, Step, compile_path, source_name
from rosterhub.mapping.engine.format_checks import format_problems
from rosterhub.mapping.engine.model import (
    ColumnExpr,
    ConstExpr,
    EachExpr,
    FnExpr,
    ListExpr,
    MappingFile,
    PathExpr,
    RecordExpr,
    VarExpr,
)
from rosterhub.mapping.engine.spec import CheckPlan, EventPlan, MappingSpec, SkipPlan
from rosterhub.mapping.engine.yamlsrc import Loc, locate
from rosterhub.mapping.functions import REGISTRY, CodeList, Converter

__all__ = ["BUILTIN_VARS", "Builder"]

#: Variables every expression may read with ``{var: name}``.
BUILTIN_VARS = ("vendor", "trust", "received_at", "record_ref", "document", "header")
#: Converters whose inputs are personal data: their errors never show the value.
SENSITIVE_CONVERTERS = frozenset({"identity_match_key"})
#: Converters that derive a keyed value from personal data: computed from the payload as received and kept
#: with its redacted copy, so a replay makes the same value without the personal data (expr.KeyedValues).
KEYED_CONVERTERS = frozenset({"identity_match_key"})

Path_ = tuple[str | int, ...]


class Builder:
    """Compiles one validated :class:`MappingFile`; problems go to :attr:`errors`."""

    def __init__(self, model: MappingFile, root: Loc, path: Path, catalogue: SchemaCatalogue) -> None:
        self.model, self.root, self.path, self.catalogue = model, root, path, catalogue
        self.errors: list[MappingFileError] = []
        self.sensitive = frozenset(model.sensitive)
        self.codelists: dict[str, CodeList] = {}
        self.lets: dict[str, Node] = {}  # the let values of the event rule being built, for {var: ...} origins

    # --- bookkeeping --------------------------------------------------------------------------------

    def where(self, at: Path_) -> str:
        node, _ = locate(self.root, at)
        return f"{Path(node.file).name}:{node.line}"

    def error(self, message: str, at: Path_) -> None:
        node, key = locate(self.root, at)
        self.errors.append(MappingFileError(message, file=node.file, line=node.line, key=key or None))

    def jmes(self, text: str, at: Path_) -> ParsedResult | None:
        try:
            return compile_path(text)
        except JMESPathError as exc:
            self.error(f"invalid JMESPath {text!r}: {exc}", at)
            return None

    # --- the whole file -----------------------------------------------------------------------------

    def build(self) -> MappingSpec | None:
        m = self.model
        try:
            ZoneInfo(m.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.error(f"unknown time zone {m.timezone!r}", ("timezone",))
        for name, cl in m.codelists.items():
            self._codelist(name, cl.entries, cl.default, "default" in cl.model_fields_set, cl.case_sensitive)
        self._format()
        for name in m.constants:
            if name in BUILTIN_VARS:
                self.error(f"constant {name!r} hides a built-in variable", ("constants", name))
        self.base_scope = set(BUILTIN_VARS) | set(m.constants)
        trust = self.expr(m.trust, ("trust",), self.base_scope - {"trust"}) if m.trust is not None else None
        skips = []
        for i, skip in enumerate(m.skip):
            when = self.jmes(skip.when, ("skip", i, "when"))
            if when is not None:
                skips.append(SkipPlan(when, skip.reason, self.where(("skip", i)), skip.echo))
        events = []
        names: set[str] = set()
        for i, rule in enumerate(m.events):
            if rule.name in names:
                self.error(f"two event rules are named {rule.name!r}", ("events", i, "name"))
            names.add(rule.name)
            plan = self._event(i)
            if plan is not None:
                events.append(plan)
        if self.errors:
            return None
        return MappingSpec(
            vendor=m.vendor,
            format=m.format.type,
            path=self.path,
            description=m.description,
            reader=m.format,
            trust=trust,
            timezone=m.timezone,
            constants=dict(m.constants),
            codelists=self.codelists,
            secrets=tuple(m.secrets),
            sensitive=self.sensitive,
            skips=tuple(skips),
            unmatched=m.unmatched,
            events=tuple(events),
        )

    def _format(self) -> None:
        """The ``format:`` block: paths, encoding and ``ref`` checked here, not on the first file."""
        fmt = self.model.format
        if fmt.type == "json":
            self.jmes(fmt.records, ("format", "records"))
        for message, key in format_problems(fmt, lambda name: name in self.sensitive or self._path_sensitive(name)):
            self.error(message, ("format", key))

    def _codelist(self, name: str, entries: dict[str, Any], default: Any, has_default: bool, case: bool) -> None:
        table = CodeList(name, entries, default, has_default, case)
        seen: dict[str, str] = {}
        for key in entries:
            norm = table.normalise_key(key)
            if norm in seen:
                self.error(
                    f"{seen[norm]!r} and {key!r} are the same code once case and spaces are ignored",
                    ("codelists", name, "entries", key),
                )
            seen[norm] = key
        self.codelists[name] = table

    def _schema(self, type_name: str, at: Path_) -> EventSchema | None:
        try:
            return self.catalogue.get(type_name) if "." in type_name else self.catalogue.by_short_name(type_name)
        except KeyError:
            known = ", ".join(sorted(e.name for e in self.catalogue))
            self.error(f"no event schema {type_name!r} (known: {known})", at)
            return None

    def _event(self, i: int) -> EventPlan | None:
        rule = self.model.events[i]
        at: Path_ = ("events", i)
        schema = self._schema(rule.type, (*at, "type"))
        when = self.jmes(rule.when, (*at, "when")) if rule.when else None
        scope = set(self.base_scope)
        lets: dict[str, Node] = {}
        self.lets = lets
        for name, raw in rule.let.items():
            if name in scope:
                self.error(f"let {name!r} hides a built-in variable or a constant", (*at, "let", name))
            lets[name] = self.expr(raw, (*at, "let", name), scope)
            scope.add(name)
        ids = [self.expr(raw, (*at, "id", j), scope) for j, raw in enumerate(rule.id)]
        checks = []
        for j, check in enumerate(rule.checks):
            that = self.jmes(check.that, (*at, "checks", j, "that"))
            if that is not None:
                checks.append(CheckPlan(that, check.message, self.where((*at, "checks", j))))
        if schema is None:
            return None
        named = named_types(schema.parsed)
        fields = self._record_fields(rule.fields, schema.parsed, named, (*at, "fields"), scope)
        return EventPlan(
            name=rule.name,
            where=self.where(at),
            when=when,
            schema=schema,
            id_parts=tuple(ids),
            lets=lets,
            checks=tuple(checks),
            fields=fields,
            defaults={},
            go_on=rule.continue_,
        )

    def _record_fields(
        self, given: dict[str, Any], record: dict[str, Any], named: dict[str, Any], at: Path_, scope: set[str]
    ) -> dict[str, Node]:
        declared = {f["name"]: f for f in record["fields"]}
        for name in given:
            if name not in declared:
                hint = difflib.get_close_matches(name, declared, n=1)
                more = f"; did you mean {hint[0]!r}?" if hint else f" (fields: {', '.join(declared)})"
                self.error(f"{record['name']} has no field {name!r}{more}", (*at, name))
        out: dict[str, Node] = {}
        for name, f in declared.items():
            if name in given:
                out[name] = self.expr(given[name], (*at, name), scope, f["type"], named)
            elif "default" in f:
                out[name] = Node("const", self.where(at), f["default"], describe="schema default")
            else:
                self.error(f"{record['name']}.{name} is required and not mapped", at)
        return out

    # --- expressions --------------------------------------------------------------------------------

    def expr(self, raw: Any, at: Path_, scope: set[str], avro: Any = None, named: dict[str, Any] | None = None) -> Node:
        named = named or {}
        where = self.where(at)
        if isinstance(raw, str):
            return Node(
                "path",
                where,
                self.jmes(raw, at),
                sensitive=self._path_sensitive(raw),
                describe=raw,
                source=source_name(raw),
            )
        if raw is None or isinstance(raw, bool | int | float):
            return Node("const", where, raw, describe=repr(raw))
        steps = tuple(self._step(s, (*at, "then", j)) for j, s in enumerate(raw.then))
        common = {
            "default": raw.default,
            "has_default": "default" in raw.model_fields_set,
            "required": raw.required,
            "steps": steps,
            "when": self.jmes(raw.when, (*at, "when")) if raw.when else None,
            "max_length": raw.max_length,
        }
        if isinstance(raw, PathExpr):
            sensitive = self._path_sensitive(raw.path)
            compiled = self.jmes(raw.path, (*at, "path"))
            return Node(
                "path", where, compiled, sensitive=sensitive, describe=raw.path, source=source_name(raw.path), **common
            )
        if isinstance(raw, ColumnExpr):
            sensitive = raw.column in self.sensitive
            return Node(
                "column",
                where,
                raw.column,
                sensitive=sensitive,
                describe=f"column {raw.column!r}",
                source=raw.column,
                **common,
            )
        if isinstance(raw, ConstExpr):
            return Node("const", where, raw.const, describe=repr(raw.const), **common)
        if isinstance(raw, VarExpr):
            if raw.var not in scope:
                self.error(f"unknown variable {raw.var!r} (known here: {', '.join(sorted(scope))})", (*at, "var"))
            path = self.jmes(raw.path, (*at, "path")) if raw.path else None
            origin = self.lets.get(raw.var) if raw.path is None else None
            source = f"{raw.var}.{source_name(raw.path)}" if raw.path and raw.var in ("document", "header") else None
            uses = frozenset({raw.var}) if raw.var in self.lets else frozenset()
            return Node(
                "var",
                where,
                (raw.var, path),
                describe=f"var {raw.var}",
                origin=origin,
                source=source,
                uses=uses,
                sensitive=origin.sensitive if origin is not None else False,
                **common,
            )
        if isinstance(raw, FnExpr):
            return self._fn(raw, at, scope, common)
        record, items = _record_schema(avro, named), _item_type(avro, named)
        if isinstance(raw, RecordExpr):
            if record is not None:
                fields = self._record_fields(raw.record, record, named, (*at, "record"), scope)
            else:
                fields = {k: self.expr(v, (*at, "record", k), scope) for k, v in raw.record.items()}
            for j, key in enumerate(raw.null_when_missing):
                if key not in raw.record:
                    self.error(
                        f"null_when_missing names {key!r}, which the record does not map",
                        (*at, "null_when_missing", j),
                    )
            spec = (fields, tuple(raw.null_when_missing))
            return Node("record", where, spec, describe="record", uses=_uses(fields.values()), **common)
        if isinstance(raw, ListExpr):
            nodes = [self.expr(v, (*at, "list", j), scope, items, named) for j, v in enumerate(raw.list)]
            return Node("list", where, nodes, describe="list", uses=_uses(nodes), **common)
        assert isinstance(raw, EachExpr)
        item = self.expr(raw.map, (*at, "map"), scope, items, named)
        return Node(
            "each",
            where,
            (self.jmes(raw.each, (*at, "each")), item),
            describe=f"each {raw.each}",
            source=source_name(raw.each),
            uses=item.uses,
            **common,
        )

    def _path_sensitive(self, text: str) -> bool:
        tokens = {t.strip('"') for t in re.findall(r'"[^"]*"|[A-Za-z_]\w*', text)}
        return bool(tokens & self.sensitive)

    def _fn(self, raw: FnExpr, at: Path_, scope: set[str], common: dict[str, Any]) -> Node:
        where = self.where(at)
        conv = self._converter(raw.fn, (*at, "fn"))
        args = {k: self.expr(v, (*at, "args", k), scope) for k, v in raw.args.items()}
        if conv is None:
            return Node("const", where, None, **common)
        allowed = set(conv.parameters) | ({"value"} if conv.takes_value else set())
        for name in args:
            if name in raw.with_:
                self.error(f"{name!r} is given both in args and in with", (*at, "with", name))
            elif name not in allowed and not conv.takes_any_keyword:
                self.error(
                    f"{conv.name}() has no argument {name!r} (arguments: {', '.join(sorted(allowed))})",
                    (*at, "args", name),
                )
        settings = self._settings(conv, raw.with_, (*at, "with"))
        missing = [p for p in conv.required if p not in args and p not in raw.with_]
        if conv.takes_value and "value" not in args:
            missing.insert(0, "value")
        if missing:
            self.error(f"{conv.name}() needs {', '.join(missing)}", (*at, "fn"))
        sensitive = conv.name in SENSITIVE_CONVERTERS or any(n.sensitive for n in args.values())
        keyed = conv.name if conv.name in KEYED_CONVERTERS else None
        return Node(
            "fn",
            where,
            (conv, args, settings),
            sensitive=sensitive,
            describe=f"{conv.name}()",
            keyed=keyed,
            uses=_uses(args.values()),
            **common,
        )

    def _converter(self, name: str, at: Path_) -> Converter | None:
        conv = REGISTRY.get(name)
        if conv is None:
            hint = difflib.get_close_matches(name, REGISTRY, n=1)
            self.error(f"unknown function {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""), at)
        return conv

    def _step(self, raw: Any, at: Path_) -> Step:
        name, given = (raw, {}) if isinstance(raw, str) else next(iter(raw.items()))
        conv = self._converter(name, at)
        if conv is None:
            return Step(REGISTRY["str"], {}, self.where(at))
        if not conv.takes_value:
            self.error(f"{name} takes no piped value; call it as {{fn: {name}, args: ...}}", at)
        if not isinstance(given, dict):
            params = list(conv.parameters)
            if not params:
                self.error(f"{name} takes no settings", at)
                given = {}
            else:
                given = {params[0]: given}
        settings = self._settings(conv, given, (*at, name))
        missing = [p for p in conv.required if p not in given]
        if missing:
            self.error(f"{name} needs {', '.join(missing)}", at)
        return Step(conv, settings, self.where(at))

    def _settings(self, conv: Converter, given: dict[str, Any], at: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in given.items():
            param = conv.parameters.get(key)
            if param is None and not conv.takes_any_keyword:
                self.error(
                    f"{conv.name} has no setting {key!r} (settings: {', '.join(conv.parameters) or 'none'})", (*at, key)
                )
                continue
            hint = conv.hints.get(key, Any) if param is not None and param.kind != param.VAR_KEYWORD else Any
            try:
                out[key] = TypeAdapter(hint).validate_python(value, strict=True)
            except ValidationError as exc:
                self.error(f"{conv.name} setting {key!r}: {exc.errors()[0]['msg']}", (*at, key))
                continue
            if conv.name == "codelist" and key == "name" and value not in self.codelists:
                self.error(f"no code list named {value!r} (defined: {', '.join(self.codelists) or 'none'})", (*at, key))
            if key == "secret" and value not in self.model.secrets:
                self.error(f"secret {value!r} is not declared under secrets", (*at, key))
        return out


def _uses(nodes: Any) -> frozenset[str]:
    out: frozenset[str] = frozenset()
    for node in nodes:
        out |= node.uses
    return out


def named_types(schema: Any, out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every record, enum and fixed type declared in ``schema``, by (full) name."""
    out = {} if out is None else out
    if isinstance(schema, dict):
        if schema.get("type") in ("record", "enum", "fixed") and "name" in schema:
            out[schema["name"]] = schema
        for f in schema.get("fields", []):
            named_types(f["type"], out)
        for key in ("items", "values"):
            if key in schema:
                named_types(schema[key], out)
    elif isinstance(schema, list):
        for branch in schema:
            named_types(branch, out)
    return out


def _unwrap(avro: Any, named: dict[str, Any]) -> Any:
    if isinstance(avro, list):
        branches = [b for b in avro if b != "null"]
        avro = branches[0] if len(branches) == 1 else None
    if isinstance(avro, str):
        avro = named.get(avro)
    if (
        isinstance(avro, dict)
        and isinstance(avro.get("type"), dict | list | str)
        and avro.get("type")
        not in (
            "record",
            "array",
            "enum",
            "map",
            "fixed",
        )
    ):
        return _unwrap(avro["type"], named) if isinstance(avro["type"], dict | list) else avro
    return avro


def _record_schema(avro: Any, named: dict[str, Any]) -> dict[str, Any] | None:
    found = _unwrap(avro, named)
    return found if isinstance(found, dict) and found.get("type") == "record" else None


def _item_type(avro: Any, named: dict[str, Any]) -> Any:
    found = _unwrap(avro, named)
    return found["items"] if isinstance(found, dict) and found.get("type") == "array" else None


def collect(errors: Sequence[MappingFileError]) -> MappingFileError:
    """The first error, carrying all of them in ``all_errors`` (for ``mapping check``)."""
    first = errors[0]
    first.all_errors = list(errors)
    return first
