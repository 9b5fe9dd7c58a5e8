"""ODS codes: how the hub spells the NHS organisation code of a trust (or a site), once.

Every trust the hub names (token claims, policy files, FHIR requests, payroll batches, trust-local
codes ``X-<ODS>-<CODE>``) is validated against :data:`ODS`. The mapping assistant's guess that a
sample value *is* a trust's code is narrower (:data:`ODS_LIKE`): an organisation code starts with a
letter and has three characters (a trust) or five (a site). Where a vendor's record or a drop folder names a
trust, the code is exactly three characters or five (:data:`TRUST_OR_SITE`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["ODS", "ODS_CODE", "ODS_LIKE", "ODS_PATTERN", "TRUST_OR_SITE", "ods_of"]

#: The code itself, for embedding in a larger pattern.
ODS_CODE = r"[A-Z0-9]{3,5}"
#: A whole value that is an ODS code (pydantic ``Field(pattern=...)``, OpenAPI).
ODS_PATTERN = rf"^{ODS_CODE}$"
ODS = re.compile(ODS_PATTERN)
#: A sample value that looks like an organisation code (mapping/engine: sniffing, drafting).
ODS_LIKE = re.compile(r"^[A-Z][A-Z0-9]{2}(?:[A-Z0-9]{2})?$")
#: Exactly a trust's code (3 characters) or a site's (5), where a vendor's record or a drop folder names one and
#: a 4-character value is a typo rather than an organisation (``fullmatch`` it against the upper-cased value).
TRUST_OR_SITE = re.compile(r"[A-Z0-9]{3}|[A-Z0-9]{5}")


def ods_of(org: Any) -> str | None:
    """The ODS code of an organisation reference as a decoded event holds it (``{"ods_code": ..., "name": ...}``);
    None when the event has none (or holds something else there)."""
    return org.get("ods_code") if isinstance(org, Mapping) else None
