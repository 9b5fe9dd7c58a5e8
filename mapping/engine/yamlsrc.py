"""Read mapping YAML keeping the file and line of every key, and resolve ``extends``.

Stage one of the staged load (docs/mapping.md, "How a file is loaded"). Two YAML
traps are closed here rather than documented as "gotchas" for analysts:

* YAML 1.1 reads ``NO`` as false and ``19:30`` as the number 1170; this loader uses
  the YAML 1.2 core rules instead (only ``true``/``false`` are booleans, no base-60),
  and every mapping *key* stays text, so a code list keyed ``N``, ``Y``, ``ON`` works;
* a key given twice in one mapping is an error instead of "last one wins".

Anchors, aliases and merge keys (``<<: *common``) work as in YAML, so one file can
share a block of fields between event rules; merged keys report the anchor's lines.

A trust variant names its base with ``extends`` and is merged onto it: mappings merge
key by key, lists whose items all have a ``name`` (events) merge by name, any other
value replaces the base's. Each merged value keeps the file and line it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rosterhub.errors import MappingFileError

__all__ = ["Loc", "locate", "read_source"]


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars (no yes/no/on/off booleans, no base-60)."""


_REPLACED = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in _REPLACED] for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"
    ),
    list("-+0123456789."),
)


@dataclass
class Loc:
    """Where a value was written: file, line (1-based) and the locations of its children."""

    file: str
    line: int
    children: dict[str | int, Loc] = field(default_factory=dict)

    def flatten(self, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Loc]]:
        yield prefix, self
        for key, child in self.children.items():
            yield from child.flatten((*prefix, key))


def _convert(node: yaml.Node, file: str, constructor: _Yaml12Loader) -> tuple[Any, Loc]:
    loc = Loc(file, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        merged_locs: dict[str | int, Loc] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise MappingFileError("a key must be plain text", file=file, line=key_node.start_mark.line + 1)
            key = key_node.value
            if key == "<<":  # YAML merge key: entries of the aliased mapping(s), overridden by explicit keys
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    value, source_loc = _convert(source, file, constructor)
                    if not isinstance(value, dict):
                        raise MappingFileError("<< merges a mapping", file=file, line=key_node.start_mark.line + 1)
                    for k, v in value.items():
                        merged.setdefault(k, v)
                        merged_locs.setdefault(k, source_loc.children[k])
                continue
            if key in out:
                line = key_node.start_mark.line + 1
                raise MappingFileError(f"key {key!r} is given twice", file=file, line=line, key=key)
            out[key], child = _convert(value_node, file, constructor)
            child.line = key_node.start_mark.line + 1
            loc.children[key] = child
        for k, v in merged.items():
            if k not in out:
                out[k], loc.children[k] = v, merged_locs[k]
        return out, loc
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            value, loc.children[i] = _convert(item, file, constructor)
            items.append(value)
        return items, loc
    return constructor.construct_object(node, deep=True), loc


def _read_one(path: Path) -> tuple[Any, Loc]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingFileError(f"cannot read the mapping file: {exc}", file=file) from None
    loader = _Yaml12Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise MappingFileError(f"not valid YAML: {exc.problem or exc}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise MappingFileError(f"not valid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()
    if node is None:
        raise MappingFileError("the mapping file is empty", file=file, line=1)
    return _convert(node, file, _Yaml12Loader(""))


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) and "name" in i for i in value)


def _merge(base: Any, base_loc: Loc, over: Any, over_loc: Loc) -> tuple[Any, Loc]:
    if isinstance(base, dict) and isinstance(over, dict):
        out, loc = dict(base), Loc(over_loc.file, over_loc.line, dict(base_loc.children))
        for key, value in over.items():
            if key in base:
                out[key], loc.children[key] = _merge(base[key], base_loc.children[key], value, over_loc.children[key])
            else:
                out[key], loc.children[key] = value, over_loc.children[key]
        return out, loc
    if _named_list(base) and _named_list(over):
        items, locs = list(base), [base_loc.children[i] for i in range(len(base))]
        index = {item["name"]: i for i, item in enumerate(base)}
        for j, item in enumerate(over):
            if item["name"] in index:
                i = index[item["name"]]
                items[i], locs[i] = _merge(items[i], locs[i], item, over_loc.children[j])
            else:
                items.append(item)
                locs.append(over_loc.children[j])
        return items, Loc(over_loc.file, over_loc.line, dict(enumerate(locs)))
    return over, over_loc


def read_source(path: Path, _seen: tuple[Path, ...] = ()) -> tuple[Any, Loc]:
    """The file's data with ``extends`` resolved, and the location tree."""
    data, loc = _read_one(path)
    if not isinstance(data, dict) or "extends" not in data:
        return data, loc
    ext = data["extends"]
    line = loc.children["extends"].line
    if not isinstance(ext, str):
        raise MappingFileError("extends names a mapping file", file=str(path), line=line, key="extends")
    base_path = (path.parent / ext).resolve()
    if base_path in (*_seen, path.resolve()):
        raise MappingFileError(f"extends {ext!r} makes a cycle", file=str(path), line=line, key="extends")
    if not base_path.is_file():
        raise MappingFileError(f"extends {ext!r}: no such file", file=str(path), line=line, key="extends")
    base, base_loc = read_source(base_path, (*_seen, path.resolve()))
    if not isinstance(base, dict):
        raise MappingFileError("the extended file is not a mapping", file=str(base_path), line=1)
    base.pop("extends", None)
    base_loc.children.pop("extends", None)
    return _merge(base, base_loc, data, loc)


def locate(root: Loc, loc: tuple[str | int, ...]) -> tuple[Loc, str]:
    """The nearest written location for a (pydantic-style) path, and that path as a dotted key.

    pydantic puts the tag of a tagged union in the path (``format.csv.ref``: the ``csv`` branch);
    a tag is not a key in the file, so it is passed over and the error points at the key's own line.
    """
    node = root
    keys: list[str] = []
    parts = list(loc)
    for i, part in enumerate(parts):
        if isinstance(part, str) and part.startswith("~"):
            continue  # a union tag, not a key in the file
        part_key: str | int = part
        if part_key == "with_":
            part_key = "with"
        elif part_key == "continue_":
            part_key = "continue"
        child = node.children.get(part_key)
        following = parts[i + 1] if i + 1 < len(parts) else None
        if child is None and isinstance(part_key, str) and following is not None and following in node.children:
            continue  # a discriminated union's tag (format.csv.ref): the next part is the key in the file
        keys.append(f"[{part_key}]" if isinstance(part_key, int) else str(part_key))
        if child is None:
            break
        node = child
    return node, ".".join(keys).replace(".[", "[")
