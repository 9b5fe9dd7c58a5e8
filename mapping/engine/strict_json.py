"""Reading vendor JSON strictly: what ``json.loads`` lets through but the hub must refuse.

Python's reader is lenient in ways that turned probes into silent surprises or crashes
(issue #12): the last of two equal keys silently wins; ``NaN``/``Infinity`` are accepted
although JSON has no such values; a 5000-digit integer raises a bare ``ValueError``
(CPython's integer-string limit) that nobody caught; and ``"\\ud800"`` decodes to a lone
surrogate that no UTF-8 encoder (fastavro's included) can write back out. Every inbound
JSON payload (webhooks, poll pages, FHIR) is read here instead, and each of those is a
:class:`ParseError` naming where it is, so the payload is refused whole and kept with
its reason.
"""

from __future__ import annotations

import json
import math
from typing import Any

from rosterhub.errors import ParseError

__all__ = ["MAX_DEPTH", "MAX_INTEGER", "loads"]

#: No vendor's JSON comes near this; anything deeper is refused before the recursive steps that follow parsing
#: (redaction, mapping): ``json.loads`` reads ~1,000 levels, but a fuzzed payload of a few hundred nested arrays
#: then raised RecursionError out of the pipeline (issue #17, tests/unit/connectors/test_fuzz_connectors.py).
MAX_DEPTH = 64

#: Integers must fit a signed 64-bit integer (Avro ``long``); anything larger is refused.
MAX_INTEGER = 2**63 - 1
_MAX_DIGITS = len(str(MAX_INTEGER))


def _integer(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > _MAX_DIGITS or abs(value := int(text)) > MAX_INTEGER:
        shown = text if len(text) <= 40 else f"{text[:20]}... ({len(digits)} digits)"
        raise ParseError(f"the JSON integer {shown} has too many digits: integers must fit 64 bits")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ParseError(f"the JSON number {text[:40]} is too large to be read as a number")
    return value


def _constant(name: str) -> Any:
    raise ParseError(f"{name} is not a JSON value")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ParseError(f"duplicate key {key!r} in a JSON object: which one is meant cannot be known")
        out[key] = value
    return out


def _deeper_than(document: Any, limit: int) -> bool:
    """Whether the parsed JSON nests more than ``limit`` containers deep (without recursion)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return False


def _surrogate_at(node: Any, path: str) -> str | None:
    """The path of the first string or key holding a lone surrogate (UTF-16 half), or None."""
    stack: list[tuple[Any, str]] = [(node, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    return where
        elif isinstance(value, dict):
            for k, v in value.items():
                inner = f"{where}.{k}" if where else str(k)
                if not k.isascii():
                    try:
                        k.encode("utf-8")
                    except UnicodeEncodeError:
                        return inner
                stack.append((v, inner))
        elif isinstance(value, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(value))
    return None


def loads(text: str | bytes, *, encoding: str = "utf-8") -> Any:
    """The JSON document in ``text``; a :class:`ParseError` for anything not strictly JSON.

    ``bytes`` are decoded with ``encoding`` first (a UTF-16 or non-UTF-8 body is refused,
    never guessed).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"payload is not valid {encoding} text: {exc}") from None
    try:
        document = json.loads(
            text, object_pairs_hook=_object, parse_int=_integer, parse_float=_float, parse_constant=_constant
        )
    except json.JSONDecodeError as exc:
        raise ParseError(f"payload is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ParseError("payload is JSON nested too deeply to read") from None
    except ValueError as exc:  # anything else json's number handling raises
        raise ParseError(f"payload is not JSON the hub can read: {exc}") from None
    if _deeper_than(document, MAX_DEPTH):
        raise ParseError(f"payload is JSON nested more than {MAX_DEPTH} levels deep: not read")
    where = _surrogate_at(document, "")
    if where is not None:
        raise ParseError(
            f"the JSON text at {where or 'the top level'} holds a lone surrogate (an unpaired \\ud800-\\udfff "
            "escape), which is not a character and cannot be stored"
        )
    return document
