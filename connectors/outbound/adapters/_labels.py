"""Hub codes back into a platform's own labels, read from that platform's inbound mapping.

The inbound mapping's code lists say how a platform writes grades, staff groups, tiers and
reasons ("Band 5" -> BAND_5). Reading them backwards makes the outbound side speak the same
words the platform sends, from one table: a new label in the mapping is understood both ways.
Where several labels map to one code, the first listed is used; a code the list does not
have is passed through as it is.
"""

from __future__ import annotations

from functools import cache

from rosterhub.mapping.engine import find_mapping, load_mapping

__all__ = ["codes", "label"]


@cache
def _inverse(mapping: str, codelist: str) -> dict[str, str]:
    table = load_mapping(find_mapping(mapping, None)).codelists.get(codelist)
    out: dict[str, str] = {}
    for text, code in table.entries.items() if table is not None else ():
        out.setdefault(str(code), text)
    return out


def label(mapping: str, codelist: str, code: str | None) -> str | None:
    """The platform's label for a hub code (None stays None)."""
    return None if code is None else _inverse(mapping, codelist).get(code, code)


def codes(mapping: str, codelist: str) -> frozenset[str]:
    """Every hub code the platform has a label for: what it speaks (and, for a managed bank, staffs)."""
    return frozenset(_inverse(mapping, codelist))
