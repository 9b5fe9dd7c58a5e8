"""Compiled expressions: what a mapping file's values become after loading.

Each node evaluates against one record and an :class:`Env` (run context plus
variables) and knows where it was written (``file:line``), so every failure can name
the mapping rule. Evaluation never lets a vendor's data raise anything but
:class:`EvalError`: a converter that trips over an unexpected type is a rejected
record, not a crashed connector.

Each node also knows which of the vendor's fields it reads (``source``: the column, the
JSON path, the XML element), and a ``var`` node reading a ``let`` value knows the let's
node (``origin``). An :class:`EvalError` carries the node that failed, so
:func:`vendor_side` can name the vendor's field and the value the vendor sent there,
rather than the mapping's own names (``let.start``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

from rosterhub.mapping.functions import ConversionError, Converter, RunContext

__all__ = [
    "REDACTED_VALUE",
    "Env",
    "EvalError",
    "KeyedValues",
    "Node",
    "Step",
    "VendorSide",
    "source_name",
    "vendor_side",
]

REDACTED_VALUE = "<redacted>"


class EvalError(Exception):
    """A value could not be produced.

    ``field`` is what the mapping was making, filled in on the way out (``worker.identifiers[1]``,
    ``let.start``); ``node`` and ``data`` are the expression that failed and the record (or list
    item) it read, from which :func:`vendor_side` names the vendor's field; ``arg`` is the
    argument at fault when a function call failed and said which; ``prefix`` locates a list
    item (``qualifications[2].``) when the failure happened inside an ``each``.
    """

    def __init__(self, message: str, *, value: Any, rule: str, field: str = "", arg: str | None = None) -> None:
        super().__init__(message)
        self.message, self.value, self.rule, self.field, self.arg = message, value, rule, field, arg
        self.node: Node | None = None
        self.data: Any = None
        self.env: Env | None = None
        self.prefix = ""

    def within(self, name: str | int) -> EvalError:
        part = f"[{name}]" if isinstance(name, int) else str(name)
        if self.field:
            self.field = f"{part}{self.field}" if self.field.startswith("[") else f"{part}.{self.field}"
        else:
            self.field = part
        return self

    def at(self, node: Node, data: Any, env: Env) -> EvalError:
        """Remember where the failure happened (the innermost node only)."""
        if self.node is None:
            self.node, self.data, self.env = node, data, env
        return self


@dataclass(slots=True)
class KeyedValues:
    """Values a mapping derives from personal data with a secret (``identity_match_key``), per record.

    ``made`` collects them while mapping the payload as received; the pipeline stores them
    with the redacted raw copy (header ``rh_keyed``). ``given`` are those stored values on a
    replay of that copy, where the personal fields are gone: a keyed value found there is
    used as it is instead of being computed again (its ``when`` is not evaluated either).
    """

    given: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # record ref -> {converter: value}
    made: dict[str, dict[str, str]] = field(default_factory=dict)

    #: A value that could not be made is kept as this prefix and the reason (never the inputs), so a replay
    #: refuses the record as the first mapping did instead of taking it without the value.
    FAILED = "!"

    def known(self, ref: str, name: str) -> str | None:
        return self.given.get(ref, {}).get(name)

    def keep(self, ref: str, name: str, value: Any) -> None:
        if isinstance(value, str):
            self.made.setdefault(ref, {})[name] = value

    def keep_failure(self, ref: str, name: str, message: str) -> None:
        self.made.setdefault(ref, {})[name] = self.FAILED + message


@dataclass(frozen=True, slots=True)
class Env:
    ctx: RunContext
    vars: Mapping[str, Any]
    keyed: KeyedValues | None = None

    def with_vars(self, **more: Any) -> Env:
        return Env(self.ctx, {**self.vars, **more}, self.keyed)


@dataclass(frozen=True, slots=True)
class Step:
    """One converter applied to the piped value, with its literal settings."""

    converter: Converter
    settings: Mapping[str, Any]
    where: str

    def describe(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings.items())
        return f"{self.where} {self.converter.name}({args})"

    def apply(self, value: Any, env: Env) -> Any:
        if value is None and not self.converter.accepts_none:
            return None
        return _call(self.converter, value, env.ctx, self.settings, rule=self.describe(), shown=value)


def _call(conv: Converter, value: Any, ctx: RunContext, kwargs: Mapping[str, Any], *, rule: str, shown: Any) -> Any:
    try:
        return conv.call(value, ctx, kwargs)
    except ConversionError as exc:
        raise EvalError(str(exc), value=shown, rule=f"{rule} [{exc.rule}]" if exc.rule else rule, arg=exc.arg) from None
    except Exception as exc:  # a converter tripping over an unexpected vendor value: reject, never crash
        raise EvalError(f"{type(exc).__name__}: {exc}", value=shown, rule=rule) from None


@dataclass(frozen=True, slots=True)
class Node:
    """A compiled expression. ``kind`` says how ``spec`` is read; see the evaluate_* methods."""

    kind: str  # path | column | const | var | fn | record | list | each
    where: str  # file:line
    spec: Any
    default: Any = None
    has_default: bool = False
    required: bool = False
    steps: Sequence[Step] = field(default_factory=tuple)
    sensitive: bool = False
    describe: str = ""
    when: ParsedResult | None = None
    max_length: int | None = None  # the mapping's own limit on this value's text (docs/mapping.md, "Limits")
    keyed: str | None = None  # a keyed value's converter name (identity_match_key): see KeyedValues
    source: str | None = None  # the vendor's name for what this node reads (column, path, element), if any
    origin: Node | None = None  # for a var reading a let value: the let's node
    uses: frozenset[str] = frozenset()  # let values this node reads, at any depth (a failed let skips it)

    def evaluate(self, data: Any, env: Env) -> Any:
        try:
            ref = str(env.vars.get("record_ref", ""))
            known = env.keyed.known(ref, self.keyed) if self.keyed and env.keyed is not None else None
            if known is not None and known.startswith(KeyedValues.FAILED):
                raise EvalError(known[1:], value=REDACTED_VALUE, rule=f"{self.where} {self.describe} [kept]")
            if known is not None:
                value = known
            elif self.when is not None and not truthy(self.when, data):
                value = None
            else:
                value = (
                    self._eval_keyed(data, env, ref) if self.keyed else getattr(self, f"_eval_{self.kind}")(data, env)
                )
            if value is None and self.has_default:
                value = self.default
            if value is None and self.required:
                raise EvalError(f"{self.describe} is required but missing", value=None, rule=f"{self.where} required")
            for step in self.steps:
                value = step.apply(value, env)
        except EvalError as exc:
            if self.sensitive:
                exc.value = REDACTED_VALUE
            raise exc.at(self, data, env) from None
        return value

    def _eval_keyed(self, data: Any, env: Env, ref: str) -> Any:
        """A keyed value made from the record as received, and kept (or why it could not be made)."""
        try:
            value = getattr(self, f"_eval_{self.kind}")(data, env)
        except EvalError as exc:
            if env.keyed is not None and self.keyed:
                env.keyed.keep_failure(ref, self.keyed, exc.message)
            raise
        if env.keyed is not None and self.keyed:
            env.keyed.keep(ref, self.keyed, value)
        return value

    def raw(self, data: Any, env: Env) -> Any:
        """What this node reads from the vendor's record, before defaults and steps (None if that fails)."""
        try:
            return getattr(self, f"_eval_{self.kind}")(data, env)
        except Exception:  # only used to show the vendor's value in an error: never fail on it
            return None

    def _search(self, compiled: ParsedResult, data: Any) -> Any:
        try:
            return compiled.search(data)
        except JMESPathError as exc:
            raise EvalError(f"JMESPath error: {exc}", value=None, rule=f"{self.where} {self.describe}") from None

    def _eval_path(self, data: Any, env: Env) -> Any:
        return self._search(self.spec, data)

    def _eval_column(self, data: Any, env: Env) -> Any:
        return data.get(self.spec) if isinstance(data, Mapping) else None

    def _eval_const(self, data: Any, env: Env) -> Any:
        return self.spec

    def _eval_var(self, data: Any, env: Env) -> Any:
        name, path = self.spec
        value = env.vars.get(name)
        return value if path is None else self._search(path, value)

    def _eval_fn(self, data: Any, env: Env) -> Any:
        conv, args, settings = self.spec
        values = {name: node.evaluate(data, env) for name, node in args.items()}
        shown = REDACTED_VALUE if self.sensitive else (values if len(values) != 1 else next(iter(values.values())))
        value = values.pop("value", None) if conv.takes_value else None
        try:
            return _call(
                conv, value, env.ctx, {**settings, **values}, rule=f"{self.where} {self.describe}", shown=shown
            )
        except EvalError as exc:
            culprit = _culprit(exc, args, {**values, **({"value": value} if conv.takes_value else {})})
            if culprit is not None:
                exc.value = REDACTED_VALUE if self.sensitive or culprit.sensitive else exc.value
                raise exc.at(culprit, data, env) from None
            raise

    def _eval_record(self, data: Any, env: Env) -> Any:
        fields, null_when_missing = self.spec
        out = {}
        for name, node in fields.items():
            try:
                out[name] = node.evaluate(data, env)
            except EvalError as exc:
                raise exc.within(name) from None
        if any(out.get(name) is None for name in null_when_missing):
            return None
        return out

    def _eval_list(self, data: Any, env: Env) -> Any:
        out = []
        for i, node in enumerate(self.spec):
            try:
                value = node.evaluate(data, env)
            except EvalError as exc:
                raise exc.within(i) from None
            if value is not None:
                out.append(value)
        return out

    def _eval_each(self, data: Any, env: Env) -> Any:
        path, item_node = self.spec
        items = self._search(path, data)
        if items is None:
            return []
        if not isinstance(items, list):
            items = [items]
        out = []
        for i, item in enumerate(items):
            try:
                value = item_node.evaluate(item, env)
            except EvalError as exc:
                if exc.data is item:  # located inside this item: name the item as the vendor would find it
                    exc.prefix = f"{self.source}[{i}]." + exc.prefix
                raise exc.within(i) from None
            if value is not None:
                out.append(value)
        return out


def _culprit(exc: EvalError, args: Mapping[str, Node], values: Mapping[str, Any]) -> Node | None:
    """The argument a failed call is about: the one it names, else the only one whose value the message quotes."""
    if exc.arg is not None and exc.arg in args:
        return args[exc.arg]
    quoted = [
        name
        for name, v in values.items()
        if name in args and v is not None and not isinstance(v, bool) and _quotes(exc.message, v)
    ]
    return args[quoted[0]] if len(quoted) == 1 else None


def _quotes(message: str, value: Any) -> bool:
    text = str(value).strip()
    return bool(text) and (repr(text) in message or repr(value) in message)


@dataclass(frozen=True, slots=True)
class VendorSide:
    """The vendor's field (its own name for it) and the value it sent there."""

    field: str | None
    value: Any
    sensitive: bool = False


def vendor_side(node: Node | None, data: Any, record: Any, env: Env | None) -> VendorSide:
    """Name what the vendor sent for ``node``: a column or path and its value as in the record.

    A ``var`` reading a ``let`` is traced to the let's own expression; a function call to its
    arguments (all of them, as a mapping from name to value, when several are read from the
    record). Constants and the hub's own variables have no vendor side (``field`` None).
    """
    if node is None or env is None:
        return VendorSide(None, None)
    if node.kind == "var" and node.origin is not None:
        return vendor_side(node.origin, record, record, env)
    if node.source is not None and node.kind in ("path", "column", "var"):
        sensitive = node.sensitive
        return VendorSide(node.source, REDACTED_VALUE if sensitive else node.raw(data, env), sensitive)
    if node.kind == "fn":
        _, args, _ = node.spec
        found = [vendor_side(arg, data, record, env) for arg in args.values()]
        named = [f for f in found if f.field is not None]
        if len(named) == 1:
            only = named[0]
            return VendorSide(only.field, REDACTED_VALUE, True) if node.sensitive else only
        if named:
            sensitive = node.sensitive or any(f.sensitive for f in named)
            shown = REDACTED_VALUE if sensitive else {f.field: f.value for f in named}
            return VendorSide(", ".join(dict.fromkeys(f.field for f in named if f.field)), shown, sensitive)
    return VendorSide(None, None)


_SIMPLE_PATH = re.compile(r'(?:[A-Za-z_@#][\w@#-]*|"[^"]*")(?:\.(?:[A-Za-z_@#][\w@#-]*|"[^"]*"))*')


def source_name(path: str) -> str:
    """The vendor's name for what a JMESPath reads: ``data.grade``, ``Booking Ref`` (no JMESPath quoting),
    ``RosterLocation.#text``; anything more than a chain of keys is shown as written."""
    text = path.strip()
    if _SIMPLE_PATH.fullmatch(text):
        return ".".join(part.strip('"') for part in re.findall(r'"[^"]*"|[^.]+', text))
    return text


def compile_path(text: str) -> ParsedResult:
    return jmespath.compile(text)


def truthy(compiled: ParsedResult, data: Any) -> bool:
    """JMESPath truthiness: false for null, false, empty text/list/object (an error is false too)."""
    try:
        result = compiled.search(data)
    except JMESPathError:
        return False
    return not (result is None or result is False or result in ("", [], {}))
