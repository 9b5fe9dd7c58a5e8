"""The vendored conformance files are byte-exact copies of what their MANIFEST lists.

They were written by others (HL7, NHS England, W3C, CloudEvents, AsyncAPI, Apache Avro);
a test that reads an edited copy would check the project against itself. The MANIFEST
gives each file's source repository, commit, licence and SHA-256.
"""

from __future__ import annotations

import hashlib
import re

from tests.conftest import CONFORMANCE

_LINE = re.compile(r"^([0-9a-f]{64})  (\S+)$")


def _listed() -> dict[str, str]:
    text = (CONFORMANCE / "MANIFEST.md").read_text(encoding="utf-8")
    return {m[2]: m[1] for line in text.splitlines() if (m := _LINE.match(line))}


def test_every_listed_file_is_present_and_unchanged() -> None:
    listed = _listed()
    assert len(listed) >= 50, "the MANIFEST's SHA-256 list was not found"
    changed = {
        path: digest
        for path, digest in listed.items()
        if hashlib.sha256((CONFORMANCE / path).read_bytes()).hexdigest() != digest
    }
    assert changed == {}


def test_no_unlisted_file_sits_among_them() -> None:
    present = {
        str(p.relative_to(CONFORMANCE)) for p in CONFORMANCE.rglob("*") if p.is_file() and p.name != "MANIFEST.md"
    }
    assert present == set(_listed())
