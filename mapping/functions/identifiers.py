"""Professional register numbers and vendor ids, normalised so that matching works.

There is no national NHS employee identifier: platforms match people on register
numbers, each typed differently by every vendor. Normalisers accept the spellings seen
in the wild and return one canonical form, or refuse: a value that does not fit the
register's format is never "repaired" into a different person's number.

=====  ==================================  ===================================
GMC    7 digits, or L + 6 digits (limited  ``C1234567``, ``gmc 1234567`` ->
       registration); some systems prefix  ``1234567``
       ``C``, which is dropped
NMC    PIN ``NNANNNNA``                    ``71a 2998e`` -> ``71A2998E``
HCPC   profession prefix + up to 6 digits  ``ph-123456`` -> ``PH123456``
GPhC   7 digits                            ``2012345``
=====  ==================================  ===================================

UK Core's GMC example value ``C12345678`` (C + 8 digits) fits none of these and is
refused (see docs/mapping.md, "GMC numbers").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rosterhub.mapping.functions.registry import ConversionError, RunContext, converter
from rosterhub.mapping.functions.values import vendor_id
from rosterhub.ods import TRUST_OR_SITE

__all__ = [
    "REGISTER_SYSTEMS",
    "normalise_gmc",
    "normalise_gphc",
    "normalise_hcpc",
    "normalise_nmc",
    "normalise_ods",
    "normalise_register",
]

REGISTER_SYSTEMS = {
    "gmc": "https://fhir.hl7.org.uk/Id/gmc-number",
    "nmc": "https://fhir.hl7.org.uk/Id/nmc-number",
    "hcpc": "https://fhir.hl7.org.uk/Id/hcpc-number",
    "gphc": "https://fhir.hl7.org.uk/Id/gphc-number",
}
_SYSTEM_TO_REGISTER = {system: name for name, system in REGISTER_SYSTEMS.items()}

#: HCPC register prefixes (one per regulated profession).
HCPC_PREFIXES = ("AS", "BS", "CH", "CS", "DT", "HAD", "ODP", "OR", "OT", "PA", "PH", "PO", "PYL", "RA", "SL")

_GMC = re.compile(r"(?:GMC)?(?:C(?=\d{7}$))?(\d{7}|L\d{6})")
_NMC = re.compile(r"(?:NMC)?(\d{2}[A-Z]\d{4}[A-Z])")
_HCPC = re.compile(r"(?:HCPC)?(" + "|".join(sorted(HCPC_PREFIXES, key=len, reverse=True)) + r")(\d{1,6})")
_GPHC = re.compile(r"(?:GPHC)?(\d{7})")
_SEPARATORS = re.compile(r"[\s\-./:]+")


def _compact(value: object, register: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        kind = type(value).__name__
        raise ConversionError(f"a {register} number must be text, got {kind}", rule=f"{register}_format")
    return _SEPARATORS.sub("", str(value)).upper()


def normalise_gmc(value: object) -> str:
    """GMC reference number: 7 digits (``C`` prefix dropped) or ``L`` + 6 digits."""
    m = _GMC.fullmatch(_compact(value, "gmc"))
    if not m:
        raise ConversionError(f"{value!r} is not a GMC number (7 digits, or L + 6 digits)", rule="gmc_format")
    return m.group(1)


def normalise_nmc(value: object) -> str:
    """NMC PIN, upper case without spaces: ``NNANNNNA``."""
    m = _NMC.fullmatch(_compact(value, "nmc"))
    if not m:
        raise ConversionError(f"{value!r} is not an NMC PIN (NNANNNNA, e.g. 71A2998E)", rule="nmc_format")
    return m.group(1)


def normalise_hcpc(value: object) -> str:
    """HCPC registration: profession prefix (PH, OT, ODP, ...) and up to 6 digits."""
    m = _HCPC.fullmatch(_compact(value, "hcpc"))
    if not m:
        raise ConversionError(
            f"{value!r} is not an HCPC number (profession prefix + up to 6 digits, e.g. PH123456)", rule="hcpc_format"
        )
    return m.group(1) + m.group(2)


def normalise_gphc(value: object) -> str:
    """GPhC registration: 7 digits."""
    m = _GPHC.fullmatch(_compact(value, "gphc"))
    if not m:
        raise ConversionError(f"{value!r} is not a GPhC number (7 digits)", rule="gphc_format")
    return m.group(1)


_NORMALISERS: dict[str, Callable[[object], str]] = {
    "gmc": normalise_gmc,
    "nmc": normalise_nmc,
    "hcpc": normalise_hcpc,
    "gphc": normalise_gphc,
}
# Each normaliser is also the mapping step named after its register (``then: [gmc]``): one table, one home.
for _register, _normalise in _NORMALISERS.items():
    converter(_register)(_normalise)


def _register_name(register: object) -> str:
    text = str(register).strip()
    name = _SYSTEM_TO_REGISTER.get(text, text.casefold())
    if name not in _NORMALISERS:
        raise ConversionError(
            f"{register!r} is not a known register (gmc, nmc, hcpc, gphc or a UK Core system URI)", rule="register"
        )
    return name


def normalise_register(register: str, value: object) -> str:
    """Normalise ``value`` as a number of ``register`` (short name or UK Core system URI)."""
    return _NORMALISERS[_register_name(register)](value)


@converter()
def register_identifier(number: object, register: object) -> dict[str, str] | None:
    """An Identifier ``{system, value}`` for a register number; ``register`` is a short name or URI.

    Null when the number is absent (a worker without that registration), an error when
    present but malformed.
    """
    if number is None or (isinstance(number, str) and not number.strip()):
        return None
    name = _register_name(register)
    return {"system": REGISTER_SYSTEMS[name], "value": _NORMALISERS[name](number)}


@converter()
def fhir_identifier(system: object, value: object) -> dict[str, str] | None:
    """A FHIR identifier kept as ``{system, value}``; register systems are normalised, others kept.

    A register number that fits no format of its register (UK Core's own GMC example,
    ``C12345678``, is one) is kept, but under :data:`UNVERIFIED_REGISTER_SYSTEM` + the
    register's system name: the record is accepted and the value stays visible, yet
    identity resolution, which matches only on the real register systems, can never
    match a person on it. "Repairing" it could match a different doctor.
    """
    if value is None or system is None:
        return None
    text = str(system).strip()
    if text in _SYSTEM_TO_REGISTER:
        try:
            return {"system": text, "value": _NORMALISERS[_SYSTEM_TO_REGISTER[text]](value)}
        except ConversionError:
            return {"system": UNVERIFIED_REGISTER_SYSTEM + text.rsplit("/", 1)[-1], "value": str(value).strip()}
    return {"system": text, "value": str(value).strip()}


#: Prefix of the system of a register number that failed its format check (FHIR input only).
UNVERIFIED_REGISTER_SYSTEM = "https://rosterhub.org/Id/unverified/"


@converter()
def vendor_identifier(value: object, ctx: RunContext, namespace: str | None = None) -> dict[str, str]:
    """The vendor's own id as an Identifier, system ``https://rosterhub.org/Id/<vendor>/<trust>``.

    ``namespace`` replaces the vendor part for ids that belong to a system other than
    the sending platform (e.g. ``esr`` assignment numbers forwarded by a roster).
    """
    trust = ctx.trust or "unknown"
    return {
        "system": f"https://rosterhub.org/Id/{namespace or ctx.vendor}/{trust}",
        "value": vendor_id(value, "vendor_identifier"),
    }


def normalise_ods(value: object) -> str:
    """An ODS code: 3 characters (trust) or 5 (site), upper case."""
    text = _compact(value, "ods")
    if not TRUST_OR_SITE.fullmatch(text):
        raise ConversionError(f"{value!r} is not an ODS code (3 or 5 letters/digits)", rule="ods_format")
    return text


@converter()
def ods_code(value: object) -> str:
    """An ODS code: 3 characters (trust) or 5 (site), upper case."""
    return normalise_ods(value)
