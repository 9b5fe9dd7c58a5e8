"""What the FHIR endpoint answers: OperationOutcomes, batch/transaction responses, the
CapabilityStatement. Pure functions from values to FHIR JSON (dicts).

Outcome rules (docs/vendors/fhir.md, "Transport"):

* an entry is **accepted** when it is valid FHIR R4 of a supported type and its mapping
  published its events, found them already published (a redelivery), or set it aside
  as reference data (Organization, Location, Schedule, PractitionerRole, a busy Slot);
* ``201 Created`` for a POST whose events are new, ``200 OK`` otherwise;
* a rejected entry answers ``400`` when it is not valid FHIR (structure, cardinality,
  formats, codes) and ``422`` when it is valid FHIR the hub cannot use (unsupported
  type or interaction, a business rule of the hub's profile such as a malformed GMC number).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rosterhub.connectors.kinds.fhir.read import SUPPORTED_TYPES, Issue
from rosterhub.errors import RosterhubError
from rosterhub.fhir_narrative import narrative

__all__ = [
    "EntryOutcome",
    "capability_statement",
    "entry_index",
    "http_status_for",
    "mapping_issue",
    "operation_outcome",
    "response_bundle",
    "status_line",
]

_BAD_REQUEST_CODES = frozenset({"structure", "required", "value", "invalid", "code-invalid", "security"})
_REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
}


def status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, '')}".strip()


def http_status_for(issues: Iterable[Issue]) -> int:
    """400 when any problem is about FHIR validity, else 422 (valid FHIR the hub cannot use)."""
    errors = [i for i in issues if i.severity in {"fatal", "error"}]
    if not errors:
        return 200
    return 400 if any(i.code in _BAD_REQUEST_CODES for i in errors) else 422


def issue_json(issue: Issue) -> dict[str, Any]:
    out: dict[str, Any] = {"severity": issue.severity, "code": issue.code, "diagnostics": issue.diagnostics}
    if issue.expression:
        out["expression"] = list(issue.expression)
    return out


def operation_outcome(issues: Sequence[Issue]) -> dict[str, Any]:
    """An OperationOutcome; at least one issue (the resource requires one)."""
    issues = list(issues) or [Issue("information", "informational", "All OK")]
    return {
        "resourceType": "OperationOutcome",
        "text": narrative(f"{i.severity} ({i.code}): {i.diagnostics}" for i in issues),
        "issue": [issue_json(i) for i in issues],
    }


_ENTRY_INDEX = re.compile(r"\[(\d+)\](?=\s|$)")


def entry_index(record_ref: str) -> int | None:
    """Position of a mapping record in the mapping input (``(entry[].resource || [@])[3] Slot/x`` -> 3)."""
    m = _ENTRY_INDEX.search(record_ref)
    return int(m.group(1)) if m else None


def mapping_issue(error: RosterhubError | dict[str, Any], at: str) -> Issue:
    """A mapping rejection as an issue on the entry's resource."""
    d = error.as_dict() if isinstance(error, RosterhubError) else dict(error)
    code = d.get("code", "mapping_error")
    message = str(d.get("message", ""))
    issue_code = "structure" if code == "parse_error" else "business-rule"  # valid FHIR, not the hub's profile
    details = ", ".join(f"{k} {d[k]}" for k in ("field", "value", "rule") if d.get(k) not in (None, "None"))
    text = f"{at}: {message}" + (f" ({details})" if details else "")
    return Issue("error", issue_code, text, (at,))


@dataclass
class EntryOutcome:
    """What became of one request entry, to answer with."""

    index: int
    method: str | None
    reference: str | None  # Type/id as mapped
    version: str | None
    issues: list[Issue] = field(default_factory=list)
    published: int = 0  # new events
    duplicates: int = 0  # events already published before
    skipped: str | None = None  # reason, for reference data
    event_ids: list[str] = field(default_factory=list)  # events the entry maps to

    @property
    def ok(self) -> bool:
        return not any(i.severity in {"fatal", "error"} for i in self.issues)

    @property
    def status(self) -> int:
        if not self.ok:
            return http_status_for(self.issues)
        return 201 if self.method == "POST" and self.published else 200

    def note(self) -> Issue:
        """An informational issue saying what happened to an accepted entry."""
        where = (f"Bundle.entry[{self.index}]",)
        if self.skipped:
            return Issue("information", "informational", f"{self.reference}: not published ({self.skipped})", where)
        if self.duplicates and not self.published:
            return Issue(
                "information",
                "duplicate",
                f"{self.reference}: already received; {self.duplicates} event(s) not published again",
                where,
            )
        return Issue("information", "informational", f"{self.reference}: {self.published} event(s) published", where)

    def response_entry(self, *, with_outcome: bool) -> dict[str, Any]:
        response: dict[str, Any] = {"status": status_line(self.status)}
        if self.ok and self.reference:
            response["location"] = f"{self.reference}/_history/{self.version}" if self.version else self.reference
        if not self.ok:
            response["outcome"] = operation_outcome(self.issues)
        elif with_outcome:
            response["outcome"] = operation_outcome([self.note()])
        return {"response": response}


def response_bundle(kind: str, outcomes: Sequence[EntryOutcome], *, now: datetime) -> dict[str, Any]:
    """``transaction-response`` / ``batch-response``: one entry per request entry, in order."""
    return {
        "resourceType": "Bundle",
        "type": f"{kind}-response",
        "timestamp": now.isoformat(),
        "entry": [o.response_entry(with_outcome=kind == "batch") for o in outcomes],
    }


#: What the CapabilityStatement says about reading: the endpoint is write-only (docs/vendors/fhir.md).
WRITE_ONLY = (
    "Bundles of type transaction (all or nothing), batch (entry by entry) and collection are posted to the "
    "base; single resources to [base]/{type} or [base]/{type}/{id}. Accepted data becomes rosterhub canonical "
    "events. This endpoint is write-only: it offers no read, vread, search or history interaction, and any GET "
    "other than [base]/metadata is answered 405 with an OperationOutcome (not-supported). Shifts and bookings "
    "reach a trust's FHIR server as transaction Bundles the hub posts to it."
)


def capability_statement(base: str, *, now: datetime, max_entries: int, max_bytes: int) -> dict[str, Any]:
    """A minimal R4 CapabilityStatement: what this endpoint takes, and nothing it does not."""
    interactions = [{"code": "create"}, {"code": "update"}]
    return {
        "resourceType": "CapabilityStatement",
        "text": narrative(
            [
                f"rosterhub FHIR R4 inbound endpoint at {base}: create and update of "
                f"{', '.join(SUPPORTED_TYPES)}; transaction and batch.",
                WRITE_ONLY,
            ]
        ),
        "status": "active",
        "date": now.date().isoformat(),
        "kind": "instance",
        "software": {"name": "rosterhub"},
        "implementation": {
            "description": f"rosterhub FHIR R4 inbound endpoint ({max_entries} entries, "
            f"{max_bytes} bytes per request at most)",
            "url": base,
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "application/fhir+xml"],
        "rest": [
            {
                "mode": "server",
                "documentation": WRITE_ONLY,
                "resource": [
                    {"type": t, "interaction": interactions, "versioning": "versioned"} for t in SUPPORTED_TYPES
                ],
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
            }
        ],
    }
