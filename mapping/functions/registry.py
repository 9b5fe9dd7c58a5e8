"""The converter registry: named, typed functions a mapping file may call.

Mapping files name converters (``codelist``, ``shift_end``, ``gmc``...); the loader
looks each name up here and binds the file's arguments against the function's real
signature, so a misspelt function or argument is a load-time error with a line number
rather than a failure on the first record at 3 a.m. (the CsvToFHIR contract check).

A converter is a plain function. Parameters fall in three groups, told apart by name:

* ``value`` as the *first* parameter: the piped value, when used as a ``then`` step;
* ``ctx``: the :class:`RunContext` (code lists, secrets, vendor, trust), injected;
* everything else: *settings* (literals in ``then``/``with``) or *arguments*
  (expressions in ``fn``/``args``).

A converter reports a bad value by raising :class:`ConversionError`; the engine turns
it into a :class:`rosterhub.errors.MappingError` naming record, field, value and rule.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rosterhub.instants import LONDON

__all__ = ["REGISTRY", "CodeList", "ConversionError", "Converter", "RunContext", "converter"]


class ConversionError(ValueError):
    """A value cannot be converted; ``rule`` names the check that failed (e.g. ``gmc_format``).

    ``arg`` names the argument at fault when a function of several arguments can tell
    (``shift_end``: the ``date``, not the ``end``), so the error names the vendor's field
    that argument was read from. Without it the engine looks for the value the message
    quotes, and names every argument only when that does not settle it.
    """

    def __init__(self, message: str, *, rule: str | None = None, arg: str | None = None) -> None:
        super().__init__(message)
        self.rule, self.arg = rule, arg


@dataclass(frozen=True, slots=True)
class CodeList:
    """A translation table from vendor codes to canonical codes.

    Keys are compared after ``strip`` and, unless ``case_sensitive``, case-folding and
    collapsing inner whitespace, because vendor exports drift ("Band 5", "band  5 ").
    """

    name: str
    entries: Mapping[str, Any]
    default: Any = None
    has_default: bool = False
    case_sensitive: bool = False
    _index: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for key, value in self.entries.items():
            self._index[self.normalise_key(key)] = value

    def normalise_key(self, key: object) -> str:
        text = " ".join(str(key).split())
        return text if self.case_sensitive else text.casefold()

    def lookup(self, key: object) -> Any:
        norm = self.normalise_key(key)
        if norm in self._index:
            return self._index[norm]
        if self.has_default:
            return self.default
        raise ConversionError(f"{key!r} is not in code list {self.name!r}", rule=f"codelist:{self.name}")


@dataclass(frozen=True, slots=True)
class RunContext:
    """What a converter may know beyond its value: set once per payload by the engine."""

    vendor: str
    trust: str | None
    received_at: datetime
    timezone: str = LONDON.key
    codelists: Mapping[str, CodeList] = field(default_factory=dict)
    secrets: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Converter:
    """A registered function plus what the loader needs to check calls to it."""

    name: str
    fn: Callable[..., Any]
    takes_value: bool
    needs_ctx: bool
    parameters: Mapping[str, inspect.Parameter]  # settings/arguments only
    hints: Mapping[str, Any]
    accepts_none: bool
    doc: str

    @property
    def required(self) -> list[str]:
        return [
            n
            for n, p in self.parameters.items()
            if p.default is inspect.Parameter.empty and p.kind is not inspect.Parameter.VAR_KEYWORD
        ]

    @property
    def takes_any_keyword(self) -> bool:
        return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in self.parameters.values())

    def call(self, value: Any, ctx: RunContext, kwargs: Mapping[str, Any]) -> Any:
        args: dict[str, Any] = dict(kwargs)
        if self.needs_ctx:
            args["ctx"] = ctx
        if self.takes_value:
            return self.fn(value, **args)
        return self.fn(**args)


REGISTRY: dict[str, Converter] = {}


def converter(
    name: str | None = None, *, accepts_none: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` under ``name`` (default: its own name).

    ``accepts_none``: call the converter with a ``None`` value instead of passing the
    ``None`` through untouched (which is what a null-safe pipeline wants by default).
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        key = name or fn.__name__
        if key in REGISTRY:
            raise RuntimeError(f"converter {key!r} is registered twice")
        sig = inspect.signature(fn)
        hints = typing.get_type_hints(fn)
        params = dict(sig.parameters)
        takes_value = bool(params) and next(iter(params)) == "value"
        needs_ctx = "ctx" in params
        settings = {n: p for i, (n, p) in enumerate(params.items()) if n != "ctx" and not (i == 0 and takes_value)}
        REGISTRY[key] = Converter(
            name=key,
            fn=fn,
            takes_value=takes_value,
            needs_ctx=needs_ctx,
            parameters=settings,
            hints={n: h for n, h in hints.items() if n in settings},
            accepts_none=accepts_none,
            doc=inspect.getdoc(fn) or "",
        )
        return fn

    return register
