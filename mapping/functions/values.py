"""Plain values: text, numbers, money, booleans, code lists and hub ids.

These are the small conversions every vendor needs; each refuses what it cannot read
rather than guessing, so a surprise in a vendor export shows up as a rejected record
with its reason instead of a quietly wrong event.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from rosterhub.mapping.functions.registry import ConversionError, RunContext, converter

__all__ = ["VENDOR_ID", "scalar_text", "vendor_id"]

_PENCE = Decimal("0.01")


#: What a vendor's own id may look like (the last part of a hub id, a vendor identifier's value):
#: 1-128 characters, a letter or digit first, then letters, digits and ``. _ : / @ # + = ~ -``.
#: No spaces, no control characters, nothing that is not an id (a JSON object, a list, true/false, 7.5).
VENDOR_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@#+=~-]{0,127}")


def scalar_text(value: Any, rule: str) -> str:
    """Text of a scalar vendor value; a JSON object or list is refused, never turned into its repr."""
    if isinstance(value, dict | list | tuple | set | bytes):
        kind = (
            "a JSON object"
            if isinstance(value, dict)
            else "a list"
            if isinstance(value, list | tuple | set)
            else "bytes"
        )
        raise ConversionError(f"{kind} where text was expected", rule=rule)
    return str(value)


def vendor_id(value: Any, rule: str) -> str:
    """A vendor id of the declared shape (:data:`VENDOR_ID`): text or a whole number, trimmed."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        what = (
            "a JSON object"
            if isinstance(value, dict)
            else "a list"
            if isinstance(value, list)
            else type(value).__name__
        )
        raise ConversionError(f"an id must be text or a whole number, not {what}", rule=rule)
    text = str(value).strip()
    if not text:
        raise ConversionError("the vendor id is empty", rule=rule)
    if not VENDOR_ID.fullmatch(text):
        raise ConversionError(
            "not an id: ids are 1-128 letters, digits and . _ : / @ # + = ~ - (a letter or digit first; "
            "no spaces or control characters)",
            rule=rule,
        )
    return text


@converter("str")
def to_str(value: Any) -> str:
    """The value as text, surrounding whitespace removed."""
    return scalar_text(value, "str").strip()


@converter("int")
def to_int(value: Any) -> int:
    """A whole number ("12", 12, "12.0" are all 12; "12.5" is refused)."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ConversionError(f"{value!r} is not a number", rule="int") from None
    if number != number.to_integral_value():
        raise ConversionError(f"{value!r} is not a whole number", rule="int")
    return int(number)


@converter("decimal")
def to_decimal(value: Any, places: int | None = None) -> Decimal:
    """An exact decimal number (never a float, so no binary rounding); ``places`` rounds half-up."""
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ConversionError(f"{value!r} is not a number", rule="decimal") from None
    if not number.is_finite():
        raise ConversionError(f"{value!r} is not a number", rule="decimal")
    return number if places is None else number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@converter()
def money(value: Any, currency: str = "GBP") -> Decimal:
    """An amount of money in pounds, to the penny: accepts "£24.50", "24.5", "1,024.00", "24.50 GBP", 24.5.

    Pence-denominated integers are not guessed: use ``pence`` for those.
    """
    text = str(value).strip()
    symbol = {"GBP": "£"}.get(currency, "")
    if symbol:
        text = text.removeprefix(symbol)
    text = text.removeprefix(currency).removesuffix(currency).strip().replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ConversionError(f"{value!r} is not an amount of money", rule="money") from None
    if not amount.is_finite():
        raise ConversionError(f"{value!r} is not an amount of money", rule="money")
    return amount.quantize(_PENCE, rounding=ROUND_HALF_UP)


@converter()
def pence(value: Any) -> Decimal:
    """An integer number of pence as pounds (2450 -> 24.50)."""
    return (Decimal(to_int(value)) / 100).quantize(_PENCE)


@converter("bool")
def to_bool(
    value: Any,
    true: list[str] | None = None,
    false: list[str] | None = None,
) -> bool:
    """A yes/no value; ``true``/``false`` list the vendor's spellings (case-insensitive)."""
    if isinstance(value, bool):
        return value
    yes = [t.casefold() for t in (true or ["true", "yes", "y", "1"])]
    no = [f.casefold() for f in (false or ["false", "no", "n", "0"])]
    text = str(value).strip().casefold()
    if text in yes:
        return True
    if text in no:
        return False
    raise ConversionError(f"{value!r} is neither true ({yes}) nor false ({no})", rule="bool")


@converter()
def upper(value: Any) -> str:
    """Upper case."""
    return scalar_text(value, "upper").upper()


@converter()
def lower(value: Any) -> str:
    """Lower case."""
    return scalar_text(value, "lower").lower()


@converter()
def collapse_spaces(value: Any) -> str:
    """Trim and collapse inner runs of whitespace to one space."""
    return " ".join(scalar_text(value, "collapse_spaces").split())


@converter()
def blank_as_null(value: Any) -> Any:
    """Empty or whitespace-only text becomes null (CSV and XML have no other way to say "none")."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


@converter()
def split(value: Any, sep: str, index: int) -> str:
    """Part ``index`` (0-based) of the text split on ``sep``, trimmed: "19:30-08:00" -> "19:30"."""
    parts = scalar_text(value, "split").split(sep)
    try:
        return parts[index].strip()
    except IndexError:
        raise ConversionError(f"{value!r} has no part {index} when split on {sep!r}", rule="split") from None


@converter()
def pattern(value: Any, regex: str, group: int = 0) -> str:
    """The match of ``regex`` (full match required) or one of its groups; refuses a mismatch."""
    m = re.fullmatch(regex, scalar_text(value, "pattern").strip())
    if not m:
        raise ConversionError(f"{value!r} does not match {regex!r}", rule="pattern")
    return m.group(group)


@converter()
def template(text: str, **parts: Any) -> str | None:
    """Fill ``text`` ("{first} {last}") from named arguments; null if any part is null."""
    if any(v is None for v in parts.values()):
        return None
    try:
        return text.format(**{k: scalar_text(v, "template").strip() for k, v in parts.items()})
    except (KeyError, IndexError) as exc:
        raise ConversionError(f"template {text!r} names a part that is not given: {exc}", rule="template") from None


@converter()
def codelist(value: Any, ctx: RunContext, name: str) -> Any:
    """Translate a vendor code through the mapping file's code list ``name``."""
    table = ctx.codelists.get(name)
    if table is None:
        raise ConversionError(f"no code list named {name!r}", rule="codelist")
    return table.lookup(value)


@converter()
def hub_id(value: Any, ctx: RunContext) -> str:
    """The hub id of a vendor object: ``<vendor>:<trust ods>:<vendor id>`` (shift_id, booking_id)."""
    if ctx.trust is None:
        raise ConversionError("the trust is not known, so no hub id can be made", rule="trust")
    return f"{ctx.vendor}:{ctx.trust}:{vendor_id(value, 'hub_id')}"


@converter()
def coalesce(**values: Any) -> Any:
    """The first argument (in the order written) that is not null: a fallback across paths and variables."""
    for value in values.values():
        if value is not None:
            return value
    return None
