"""Generate the pydantic models (``rosterhub/events/models/``) from the ``.avsc`` files.

The ``.avsc`` files are the wire contract and the one source of truth; the models are
printed from them and committed, so readers see plain classes and IDEs complete
fields. ``tests/unit/schemas/test_schema_models.py`` regenerates in memory and fails
when the committed files differ (fix: ``rosterhub schemas gen``).

One module per namespace domain (``common``, ``shift``, ``booking``...): shared named
types from ``schemas/avro/common`` go to ``common.py``; named types declared inside an
event (an event-specific enum) go to that event's domain module. Mapping:

========================  ===============================================
Avro                      Python
========================  ===============================================
string / int, long        ``str`` / ``int`` (``rosterhub.codes`` -> code type,
                          ``rosterhub.pattern`` -> constrained ``str``)
boolean / float, double   ``bool`` / ``float``
timestamp-millis          :data:`~rosterhub.events.base.UtcInstant` (aware, UTC)
date                      ``datetime.date``
decimal (bytes)           ``Decimal`` with ``max_digits``/``decimal_places``
["null", T]               ``T | None`` (default ``None``)
array / map               ``list[T]`` / ``dict[str, T]``
enum / record             ``enum.StrEnum`` / :class:`~rosterhub.events.base.AvroRecord`
========================  ===============================================

Anything else (multi-branch unions, fixed, record defaults) raises ``ConfigError``:
the generator refuses what it cannot print faithfully rather than guessing.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

from rosterhub.codec.catalogue import SchemaCatalogue
from rosterhub.errors import ConfigError
from rosterhub.events.codes import CODE_TYPES

__all__ = ["MODELS_PACKAGE", "generate_models"]

MODELS_PACKAGE = "rosterhub/events/models"
_HEADER = "Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`."
_PRIMITIVES = {"string": "str", "int": "int", "long": "int", "boolean": "bool", "float": "float", "double": "float"}
_WIDTH = 112


def _domain(full_name: str) -> str:
    """``rosterhub.shift.v1.ShiftPosted`` -> ``shift``."""
    parts = full_name.split(".")
    return parts[1] if len(parts) >= 4 and parts[0] == "rosterhub" else "common"


def _full(node: dict[str, Any], namespace: str) -> str:
    name = node["name"]
    return name if "." in name else f"{node.get('namespace', namespace)}.{name}"


@dataclass
class _Module:
    """What one generated module defines and needs to import."""

    domain: str
    blocks: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    imports: set[tuple[str, str]] = field(default_factory=set)  # (module, name)


class _Generator:
    def __init__(self, catalogue: SchemaCatalogue) -> None:
        self.catalogue = catalogue
        self.modules: dict[str, _Module] = {}
        self.owner: dict[str, str] = {}  # full name -> domain module defining it
        self.short: dict[str, str] = {}  # short name -> full name (must be unique across modules)

    def module(self, domain: str) -> _Module:
        return self.modules.setdefault(domain, _Module(domain))

    # --- named types -------------------------------------------------------------
    def define(self, node: dict[str, Any], namespace: str, *, event: bool = False) -> str:
        full = _full(node, namespace)
        if full in self.owner:
            return full
        short = full.rsplit(".", 1)[1]
        if self.short.get(short, full) != full:
            raise ConfigError(f"two named types are called {short}: {self.short[short]} and {full}", file=full)
        self.short[short] = full
        domain = "common" if full in self.catalogue.shared_types else _domain(full)
        mod = self.module(domain)
        if node["type"] == "enum":
            block = self._enum(node, short, mod)
        elif node["type"] == "record":
            block = self._record(node, full, mod, event=event)
        else:
            raise ConfigError(f"cannot generate a model for Avro {node['type']} {full}", file=full)
        self.owner[full] = domain
        mod.blocks.append(block)
        mod.names.append(short)
        return full

    def _enum(self, node: dict[str, Any], short: str, mod: _Module) -> str:
        mod.imports.add(("enum", "StrEnum"))
        lines = [f"class {short}(StrEnum):", *_docstring(node.get("doc", short), 4), ""]
        lines += [f'    {s} = "{s}"' for s in node["symbols"]]
        return "\n".join(lines)

    def _record(self, node: dict[str, Any], full: str, mod: _Module, *, event: bool) -> str:
        ns, short = full.rsplit(".", 1)
        base = "AvroEvent" if event else "AvroRecord"
        mod.imports.add(("rosterhub.events.base", base))
        lines = [f"class {short}({base}):", *_docstring(node.get("doc", short), 4), ""]
        lines.append(f'    AVRO_NAME: ClassVar[str] = "{full}"')
        mod.imports.add(("typing", "ClassVar"))
        for f in node["fields"]:
            annotation = self.annotation(f["type"], ns, mod, f)
            lines.append("")
            lines.append(f"    {f['name']}: {annotation}{self.default(f, ns, mod)}")
            if f.get("doc"):
                lines += _docstring(f["doc"], 4)
        return "\n".join(lines)

    # --- field types ----------------------------------------------------------------
    def ref(self, full: str, mod: _Module) -> str:
        short = full.rsplit(".", 1)[1]
        owner = self.owner[full]
        if owner != mod.domain:
            mod.imports.add((f"rosterhub.events.models.{owner}", short))
        return short

    def annotation(self, t: Any, ns: str, mod: _Module, fdef: dict[str, Any]) -> str:
        if isinstance(t, list):
            others = [b for b in t if b != "null"]
            if len(t) != 2 or len(others) != 1:
                raise ConfigError(f"field {fdef['name']}: only [null, T] unions are supported, got {t}", file=ns)
            return f"{self.annotation(others[0], ns, mod, fdef)} | None"
        if isinstance(t, str):
            if t in _PRIMITIVES:
                return self._string(fdef, mod) if t == "string" else _PRIMITIVES[t]
            if t == "bytes":
                return "bytes"
            full = t if "." in t else f"{ns}.{t}"
            if full not in self.owner:
                if full not in self.catalogue.shared_types:
                    raise ConfigError(f"field {fdef['name']}: unknown type {t}", file=ns)
                self.define(self.catalogue.shared_types[full], full.rsplit(".", 1)[0])
            return self.ref(full, mod)
        return self._complex(t, ns, mod, fdef)

    def _complex(self, t: dict[str, Any], ns: str, mod: _Module, fdef: dict[str, Any]) -> str:
        logical = t.get("logicalType")
        if logical == "timestamp-millis" and t["type"] == "long":
            mod.imports.add(("rosterhub.events.base", "UtcInstant"))
            return "UtcInstant"
        if logical == "date" and t["type"] == "int":
            mod.imports.add(("datetime", "date"))
            return "date"
        if logical == "decimal" and t["type"] == "bytes":
            mod.imports |= {("decimal", "Decimal"), ("typing", "Annotated"), ("pydantic", "Field")}
            return f"Annotated[Decimal, Field(max_digits={t['precision']}, decimal_places={t.get('scale', 0)})]"
        if t["type"] == "array":
            return f"list[{self.annotation(t['items'], ns, mod, fdef)}]"
        if t["type"] == "map":
            values = self.annotation(t["values"], ns, mod, {"name": fdef["name"]})
            return f"dict[{self._string(fdef, mod)}, {values}]"
        if t["type"] in ("enum", "record"):
            return self.ref(self.define(t, ns), mod)
        if isinstance(t["type"], str) and not logical and t["type"] in _PRIMITIVES:
            return self.annotation(t["type"], ns, mod, fdef)
        raise ConfigError(f"field {fdef['name']}: unsupported Avro type {t}", file=ns)

    def _string(self, fdef: dict[str, Any], mod: _Module) -> str:
        codes = fdef.get("rosterhub.codes")
        if codes is not None:
            if codes not in CODE_TYPES:
                raise ConfigError(f"field {fdef['name']}: unknown code list {codes!r}", file=fdef["name"])
            mod.imports.add(("rosterhub.events.codes", CODE_TYPES[codes]))
            return CODE_TYPES[codes]
        pattern = fdef.get("rosterhub.pattern")
        if pattern is not None:
            mod.imports |= {("typing", "Annotated"), ("pydantic", "StringConstraints")}
            return f"Annotated[str, StringConstraints(pattern={json.dumps(pattern)})]"
        return "str"

    def default(self, f: dict[str, Any], ns: str, mod: _Module) -> str:
        if "default" not in f:
            return ""
        value, t = f["default"], f["type"]
        if value is None:
            return " = None"
        if value in ([], {}):
            mod.imports.add(("pydantic", "Field"))
            return f" = Field(default_factory={'list' if value == [] else 'dict'})"
        if isinstance(value, (bool, int, float, str)) and not isinstance(t, (list, dict)) and t in _PRIMITIVES:
            return f" = {json.dumps(value)}" if isinstance(value, str) else f" = {value!r}"
        enum_full = t if isinstance(t, str) else (_full(t, ns) if isinstance(t, dict) and "name" in t else None)
        if enum_full is not None and isinstance(value, str):
            full = enum_full if "." in enum_full else f"{ns}.{enum_full}"
            return f" = {self.ref(full, mod)}.{value}"
        raise ConfigError(f"field {f['name']}: cannot print default {value!r}", file=ns)

    # --- output ----------------------------------------------------------------------
    def run(self) -> dict[str, str]:
        for full, raw in sorted(self.catalogue.shared_types.items()):
            self.define(raw, full.rsplit(".", 1)[0])
        for es in self.catalogue:
            self.define(es.source, es.source.get("namespace", ""), event=True)
        files = {f"{MODELS_PACKAGE}/{d}.py": _render(m) for d, m in sorted(self.modules.items())}
        files[f"{MODELS_PACKAGE}/__init__.py"] = self._init()
        return files

    def _init(self) -> str:
        imports, names = [_import_line("rosterhub.events.base", ["AvroEvent"])], []
        for d, m in sorted(self.modules.items()):
            imports.append(_import_line(f"rosterhub.events.models.{d}", sorted(m.names)))
            names += m.names
        events = [e.full_name for e in self.catalogue]
        mapping = "\n".join(f'    "{n}": {n.rsplit(".", 1)[1]},' for n in events)
        all_names = "\n".join(f'    "{n}",' for n in _sorted_all([*names, "EVENT_MODELS"]))
        return (
            f'"""{_HEADER}\n\nEvery canonical event model, and ``EVENT_MODELS`` (Avro full name -> model).\n"""\n\n'
            "from __future__ import annotations\n\n"
            + "\n".join(imports)
            + "\n\n"
            + f"__all__ = [\n{all_names}\n]\n\n"
            + f"EVENT_MODELS: dict[str, type[AvroEvent]] = {{\n{mapping}\n}}\n"
        )


def _docstring(text: str, indent: int) -> list[str]:
    pad = " " * indent
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()
    lines = textwrap.wrap(text, width=_WIDTH - indent, break_on_hyphens=False) or [""]
    if len(lines) == 1 and len(lines[0]) + indent + 6 <= 120:
        return [f'{pad}"""{lines[0]}"""']
    return [f'{pad}"""{lines[0]}', *(f"{pad}{line}" for line in lines[1:]), f'{pad}"""']


def _sorted_all(names: list[str]) -> list[str]:
    """``__all__`` order as ruff's RUF022 wants it: CONSTANTS, then Classes, then functions."""
    return sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[:1].isupper() else 2, n))


def _import_line(module: str, names: list[str]) -> str:
    one = f"from {module} import {', '.join(names)}"
    if len(one) <= 120:
        return one
    body = "\n".join(f"    {n}," for n in names)
    return f"from {module} import (\n{body}\n)"


def _render(mod: _Module) -> str:
    groups: dict[int, list[str]] = {0: [], 1: [], 2: []}  # stdlib, third party, first party
    by_module: dict[str, list[str]] = {}
    for module, name in mod.imports:
        by_module.setdefault(module, []).append(name)
    for module in sorted(by_module):
        rank = 2 if module.startswith("rosterhub") else 1 if module == "pydantic" else 0
        groups[rank].append(_import_line(module, sorted(by_module[module])))
    imports = "\n\n".join("\n".join(g) for g in groups.values() if g)
    title = "Shared types" if mod.domain == "common" else f"Events of the {mod.domain} domain"
    all_names = "\n".join(f'    "{n}",' for n in _sorted_all(mod.names))
    body = "\n\n\n".join(mod.blocks)
    return (
        f'"""{_HEADER}\n\n{title}.\n"""\n\n'
        f"from __future__ import annotations\n\n{imports}\n\n"
        f"__all__ = [\n{all_names}\n]\n\n\n{body}\n"
    )


def generate_models(catalogue: SchemaCatalogue) -> dict[str, str]:
    """Source of every models module, by path relative to the repository root."""
    return _Generator(catalogue).run()
