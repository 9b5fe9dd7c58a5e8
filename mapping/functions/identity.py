"""The identity match key: ESR's matching triple, kept out of every topic.

ESR's Inter Authority Transfer matches a person on NI number + date of birth +
surname. Those are personal data that must never travel in clear, yet partner trusts
need to tell "same person" apart. Each collaborative therefore holds one secret; every
trust computes ``HMAC-SHA256(secret, NI|DOB|SURNAME)`` over the normalised triple and
only that key leaves the trust. Equal keys mean the same triple; without the secret a
key cannot be reversed or tested against a guessed NI number.

Normalisation, so that two trusts typing the same person differently agree:

* NI number: spaces removed, upper case, HMRC format (two prefix letters, six digits,
  suffix A-D); temporary numbers (TN...) are refused;
* date of birth: ISO ``YYYY-MM-DD``;
* surname: accents removed, letters only, upper case (``O'Brien-Smith`` -> ``OBRIENSMITH``).

Errors from this module never quote the value (it is personal data): the engine
redacts it as well.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date, datetime

from rosterhub.mapping.functions.registry import ConversionError, RunContext, converter

__all__ = ["identity_key", "normalise_ni", "normalise_surname"]

_NI = re.compile(r"(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]")


def normalise_ni(value: object) -> str:
    text = re.sub(r"\s+", "", str(value)).upper()
    if not _NI.fullmatch(text):
        raise ConversionError(
            "the NI number is not in HMRC format (two prefix letters, six digits, suffix A-D)",
            rule="ni_format",
            arg="ni",
        )
    return text


def normalise_surname(value: object) -> str:
    decomposed = unicodedata.normalize("NFKD", str(value))
    letters = "".join(ch for ch in decomposed if ch.isalpha() and not unicodedata.combining(ch))
    if not letters:
        raise ConversionError("the surname has no letters", rule="surname", arg="surname")
    return letters.upper()


def _iso_date(value: object, date_format: str) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return datetime.strptime(str(value).strip(), date_format).date().isoformat()
    except ValueError:
        raise ConversionError(
            f"the date of birth is not in the format {date_format!r}", rule="dob_format", arg="dob"
        ) from None


def identity_key(secret: bytes, ni: object, dob: object, surname: object, date_format: str = "%Y-%m-%d") -> str:
    """Hex HMAC-SHA256 over ``NI|DOB|SURNAME`` after normalisation."""
    message = "|".join((normalise_ni(ni), _iso_date(dob, date_format), normalise_surname(surname)))
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


@converter()
def identity_match_key(
    ni: object, dob: object, surname: object, ctx: RunContext, *, secret: str, date_format: str = "%Y-%m-%d"
) -> str:
    """The keyed hash of NI number, date of birth and surname; ``secret`` names a secret given at apply time."""
    if ni is None or dob is None or surname is None:
        raise ConversionError("NI number, date of birth and surname are all needed", rule="identity_match_key")
    key = ctx.secrets.get(secret)
    if key is None:
        raise ConversionError(f"no secret named {secret!r} was given", rule="secret")
    return identity_key(key, ni, dob, surname, date_format)
