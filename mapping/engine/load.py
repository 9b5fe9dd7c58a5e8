"""Staged loading of a mapping file (the Airbyte declarative-source pattern).

1. **parse**: YAML with the line of every key, ``extends`` merged (``yamlsrc``);
2. **validate**: against the pydantic model of the language (``model``); unknown or
   missing keys and wrong types are reported at their line;
3. **check and build**: names resolved against the converter registry's signatures
   and the Avro schemas, expressions compiled (``build``).

A stage runs only when the one before it passed, so the reported errors are never
knock-on effects of an earlier one. Every error is a
:class:`rosterhub.errors.MappingFileError` with file, line and key.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from rosterhub.codec.catalogue import SchemaCatalogue
from rosterhub.errors import MappingFileError
from rosterhub.mapping.engine.build import Builder, collect
from rosterhub.mapping.engine.model import MappingFile
from rosterhub.mapping.engine.spec import MappingSpec
from rosterhub.mapping.engine.yamlsrc import locate, read_source

__all__ = ["check_mapping", "current_catalogue", "load_mapping"]


def _schema_signature() -> tuple[tuple[str, int, int], ...]:
    root = resources.files("rosterhub.schemas") / "avro"
    out = []
    for path in sorted(Path(str(root)).rglob("*.avsc")):
        st = path.stat()
        out.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(out)


@lru_cache(maxsize=4)
def _catalogue_for(signature: tuple[tuple[str, int, int], ...]) -> SchemaCatalogue:
    return SchemaCatalogue.from_package()


def current_catalogue() -> SchemaCatalogue:
    """The schema catalogue as the files are now (rebuilt when an .avsc file changes)."""
    return _catalogue_for(_schema_signature())


def _message(error: ErrorDetails) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "missing":
        return f"missing key {error['loc'][-1]!r}"
    if kind == "extra_forbidden":
        return f"unknown key {error['loc'][-1]!r}"
    if kind == "literal_error" and error["loc"][-1:] == ("rosterhub_mapping",):
        return "rosterhub_mapping must be 1 (the version of the mapping language this hub reads)"
    return msg


def _stages(path: Path, catalogue: SchemaCatalogue | None) -> tuple[MappingSpec | None, list[MappingFileError]]:
    try:
        data, root = read_source(path)
    except MappingFileError as exc:
        return None, [exc]
    if not isinstance(data, dict):
        return None, [MappingFileError("a mapping file is a YAML mapping (key: value)", file=str(path), line=1)]
    data = {k: v for k, v in data.items() if not k.startswith("x-")}  # x- keys: room for YAML anchors
    try:
        model = MappingFile.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = err["loc"][:-1] if err["type"] == "missing" else err["loc"]
            node, key = locate(root, loc)
            if err["type"] == "missing":
                key = f"{key}.{err['loc'][-1]}" if key else str(err["loc"][-1])
            errors.append(MappingFileError(_message(err), file=node.file, line=node.line, key=key or None))
        return None, errors
    builder = Builder(model, root, path, catalogue or current_catalogue())
    spec = builder.build()
    return spec, builder.errors


def check_mapping(path: str | Path, *, catalogue: SchemaCatalogue | None = None) -> list[MappingFileError]:
    """Every problem of a mapping file (empty when it is valid)."""
    return _stages(Path(path), catalogue)[1]


def load_mapping(path: str | Path, *, catalogue: SchemaCatalogue | None = None) -> MappingSpec:
    """Load and check a mapping file; raises the first :class:`MappingFileError` (all in ``.all_errors``)."""
    spec, errors = _stages(Path(path), catalogue)
    if errors or spec is None:
        raise collect(errors)
    return spec
