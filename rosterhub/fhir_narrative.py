"""A FHIR resource's human-readable narrative (``text``), generated from what the resource says.

FHIR's ``dom-6`` ("a resource should have narrative") is a best-practice warning HAPI raises for
every resource without one: a person opening the resource in any FHIR viewer sees this text
instead of raw JSON. The hub's resources are generated, so their narrative is too
(``status: generated``), as XHTML limited to what FHIR allows (``txt-1``): a ``<div>`` of
escaped paragraphs, never anything the resource does not carry (no evidence, no personal data
beyond what the structured elements already hold).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

__all__ = ["narrative"]

_XHTML = "http://www.w3.org/1999/xhtml"


def narrative(lines: Iterable[str]) -> dict[str, Any]:
    """``Resource.text``: one paragraph per non-empty line, escaped."""
    paragraphs = "".join(f"<p>{escape(line, quote=False)}</p>" for line in lines if line.strip())
    return {"status": "generated", "div": f'<div xmlns="{_XHTML}">{paragraphs or "<p>(empty)</p>"}</div>'}
