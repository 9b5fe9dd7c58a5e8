"""An XML element as the bytes of a document: ``ElementTree.tostring`` typed for the byte encodings it is used with.

typeshed cannot type ``tostring(element, encoding="UTF-8")`` better than Any (the same call gives ``str`` for
``encoding="unicode"``), so every caller returning its result would return Any. The encoding is a Literal here:
a document's bytes in the spelling its declaration shows (``encoding='UTF-8'`` or ``encoding='utf-8'``).
"""

from __future__ import annotations

from typing import Literal
from xml.etree.ElementTree import Element, tostring

__all__ = ["xml_bytes"]


def xml_bytes(element: Element, encoding: Literal["UTF-8", "utf-8"], *, xml_declaration: bool | None = None) -> bytes:
    """``tostring(element, encoding, xml_declaration=...)``: with ``xml_declaration=None`` a UTF-8 document has none."""
    document: bytes = tostring(element, encoding=encoding, xml_declaration=xml_declaration)
    return document
