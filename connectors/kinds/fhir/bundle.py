"""What a FHIR request asks for, entry by entry, and what the mapping reads from it.

:func:`plan_request` turns the decoded body plus the HTTP interaction (a Bundle posted to
the base, a create ``POST [base]/{type}`` or an update ``PUT [base]/{type}/{id}``) into
:class:`Entry` items, each with its problems. :func:`mapping_input` is the connector's
``mapping_input`` quirk: it runs the same planning over the raw bytes and hands the
mapping a ``collection`` Bundle of the accepted resources only, so a batch's invalid
entries never become events, a rejected transaction never does (live or on replay),
and FHIR XML maps through the same JSON mapping file.

Normalisations made for the mapping (the raw payload is never changed):

* a resource without ``id`` (a create) gets one: the UUID of its ``urn:uuid:`` fullUrl,
  else a content hash; so a re-sent Bundle maps to the same ids;
* a resource without ``meta.versionId`` gets ``sha256:<16 hex>`` of its content (minus
  ``meta`` and ``text``): dedupe is "resource id + version", and an edited resource
  sent without a version is a new version;
* ``Slot.schedule.display`` missing is filled from the referenced Schedule in the same
  Bundle (its actor's display, else the actor Location's name): that is the ward.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from rosterhub.connectors.kinds.fhir.read import (
    BUNDLE_TYPES,
    FhirRequestError,
    Issue,
    fhirpath,
    read_document,
    resource_issues,
)
from rosterhub.errors import ParseError

__all__ = [
    "ODS_ORG",
    "ODS_SITE",
    "Entry",
    "FhirRequest",
    "bundle_trusts",
    "collection_bytes",
    "content_version",
    "mapping_input",
    "mapping_resources",
    "plan_request",
    "remember_mapping_input",
]

ODS_ORG = "https://fhir.nhs.uk/Id/ods-organization-code"
ODS_SITE = "https://fhir.nhs.uk/Id/ods-site-code"
INTERACTIONS = ("bundle", "create", "update")


@dataclass
class Entry:
    index: int  # position in Bundle.entry (0 for a create/update of one resource)
    resource: dict[str, Any] | None
    method: str | None  # POST / PUT; None in a collection
    full_url: str | None = None
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(i.severity in {"fatal", "error"} for i in self.issues)

    @property
    def resource_type(self) -> str:
        return str((self.resource or {}).get("resourceType") or "")


@dataclass
class FhirRequest:
    kind: str  # transaction | batch | collection | create | update
    bundle_id: str | None
    entries: list[Entry]

    @property
    def accepted(self) -> list[Entry]:
        return [e for e in self.entries if e.ok]

    @property
    def problems(self) -> list[Issue]:
        return [i for e in self.entries for i in e.issues if i.severity in {"fatal", "error"}]


def plan_request(
    document: Mapping[str, Any],
    interaction: str = "bundle",
    *,
    type_: str | None = None,
    id_: str | None = None,
    max_entries: int = 1000,
) -> FhirRequest:
    """Check the request's shape and every entry; raise :class:`FhirRequestError` when the
    request as a whole cannot be taken (not a Bundle, unsupported Bundle type, too many entries)."""
    rtype = document.get("resourceType")
    if interaction in {"create", "update"}:
        return _single(document, interaction, type_, id_)
    if rtype != "Bundle":
        raise FhirRequestError(
            422,
            [
                Issue(
                    "error",
                    "not-supported",
                    f"POST a Bundle (transaction, batch or collection) to the base, not a {rtype}; "
                    f"a single resource goes to [base]/{rtype}",
                    ("resourceType",),
                )
            ],
        )
    btype = document.get("type")
    if btype not in BUNDLE_TYPES:
        msg = f"Bundle.type {btype!r} is not taken here (transaction, batch or collection)"
        raise FhirRequestError(422, [Issue("error", "not-supported", msg, ("Bundle.type",))])
    raw_entries = document.get("entry") or []
    if not isinstance(raw_entries, list):
        raise FhirRequestError(400, [Issue("error", "structure", "Bundle.entry is not a list", ("Bundle.entry",))])
    if len(raw_entries) > max_entries:
        raise FhirRequestError(
            413,
            [
                Issue(
                    "error",
                    "too-costly",
                    f"the Bundle has {len(raw_entries)} entries; this endpoint takes at most {max_entries}",
                    ("Bundle.entry",),
                )
            ],
        )
    _check_skeleton(document)
    entries = [_bundle_entry(i, e, btype) for i, e in enumerate(raw_entries)]
    return FhirRequest(btype, document.get("id"), entries)


def _check_skeleton(document: Mapping[str, Any]) -> None:
    """The Bundle itself (type, entry.request, fullUrl...) with resources set aside: they are checked one by one."""
    skeleton = dict(document)
    skeleton["entry"] = [
        {k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e
        for e in document.get("entry") or []
    ] or None
    if skeleton["entry"] is None:
        del skeleton["entry"]
    try:
        Bundle.model_validate(skeleton)
    except ValidationError as exc:
        issues = [
            Issue(
                "error",
                "required" if err["type"] == "missing" else "structure",
                f"{fhirpath('Bundle', err['loc'])}: {err['msg']}",
                (fhirpath("Bundle", err["loc"]),),
            )
            for err in exc.errors()
        ]
        raise FhirRequestError(400, issues) from None
    except (ValueError, TypeError) as exc:
        raise FhirRequestError(400, [Issue("error", "structure", f"the Bundle is not valid FHIR R4: {exc}")]) from None


def _bundle_entry(index: int, raw: Any, btype: str) -> Entry:
    at = f"Bundle.entry[{index}]"
    resource = raw.get("resource") if isinstance(raw, dict) else None
    entry = Entry(index, resource if isinstance(resource, dict) else None, None, raw.get("fullUrl"))
    if btype in {"transaction", "batch"}:
        entry.issues += _request_issues(raw.get("request"), entry, at)
    if resource is None and entry.method in {None, "POST", "PUT"}:
        entry.issues.append(Issue("error", "required", f"{at} has no resource", (f"{at}.resource",)))
    if resource is not None:
        entry.issues += [i.at(f"{at}.resource") for i in resource_issues(resource)]
    return entry


def _request_issues(request: Any, entry: Entry, at: str) -> list[Issue]:
    if not isinstance(request, dict):
        return [Issue("error", "required", f"{at}.request is required in a transaction or batch", (f"{at}.request",))]
    method, url = request.get("method"), str(request.get("url") or "")
    entry.method = method
    if method not in {"POST", "PUT"}:
        return [
            Issue(
                "error",
                "not-supported",
                f"{at}: {method} is not supported here; send the resource with POST (create) or PUT (update)",
                (f"{at}.request.method",),
            )
        ]
    if "?" in url or request.get("ifNoneExist"):
        return [Issue("error", "not-supported", f"{at}: conditional {method} is not supported", (f"{at}.request",))]
    if request.get("ifMatch"):
        msg = f"{at}: version-aware update (ifMatch) is not supported; the hub keeps no versions to compare"
        return [Issue("error", "not-supported", msg, (f"{at}.request.ifMatch",))]
    if entry.resource is None:
        return []
    rtype, rid = entry.resource.get("resourceType"), entry.resource.get("id")
    if method == "POST" and url.rstrip("/") != rtype:
        return [
            Issue(
                "error",
                "invalid",
                f"{at}: POST url {url!r} does not name the resource type {rtype}",
                (f"{at}.request.url",),
            )
        ]
    if method == "PUT" and url != f"{rtype}/{rid}":
        return [
            Issue(
                "error",
                "invalid",
                f"{at}: PUT url {url!r} does not match the resource ({rtype}/{rid})",
                (f"{at}.request.url",),
            )
        ]
    return []


def _single(document: Mapping[str, Any], interaction: str, type_: str | None, id_: str | None) -> FhirRequest:
    resource = dict(document)
    entry = Entry(0, resource, "POST" if interaction == "create" else "PUT")
    rtype = resource.get("resourceType")
    if rtype != type_:
        entry.issues.append(
            Issue("error", "invalid", f"the body is a {rtype}, the URL names {type_}", ("resourceType",))
        )
    elif interaction == "update" and resource.get("id") != id_:
        msg = f"the resource id {resource.get('id')!r} differs from the id in the URL {id_!r}"
        entry.issues.append(Issue("error", "invalid", msg, (f"{rtype}.id",)))
    else:
        entry.issues += resource_issues(resource)
    return FhirRequest(interaction, None, [entry])


# --- what the mapping reads -------------------------------------------------------------------------------


def content_version(resource: Mapping[str, Any]) -> str:
    """``sha256:<16 hex>`` of the resource's content without ``meta`` and ``text``."""
    body = {k: v for k, v in resource.items() if k not in {"meta", "text"}}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f"sha256:{digest[:16]}"


def mapping_resources(request: FhirRequest) -> list[dict[str, Any]]:
    """The accepted resources, normalised as the module docstring says, in entry order."""
    index: dict[str, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for entry in request.accepted:
        resource = json.loads(json.dumps(entry.resource))  # a copy: the caller's entries stay as sent
        if not resource.get("id"):
            url = entry.full_url or ""
            resource["id"] = url[len("urn:uuid:") :] if url.startswith("urn:uuid:") else content_version(resource)[7:]
        meta = resource.setdefault("meta", {})
        if not meta.get("versionId"):
            meta["versionId"] = content_version(resource)
        index[f"{resource['resourceType']}/{resource['id']}"] = resource
        if entry.full_url:
            index[entry.full_url] = resource
        out.append(resource)
    for resource in out:
        if resource["resourceType"] == "Slot":
            _resolve_ward(resource, index)
    return out


def _resolve_ward(slot: dict[str, Any], index: Mapping[str, dict[str, Any]]) -> None:
    schedule = slot.get("schedule") or {}
    if schedule.get("display") or not schedule.get("reference"):
        return
    target = index.get(schedule["reference"])
    if target is None or target.get("resourceType") != "Schedule":
        return
    for actor in target.get("actor") or []:
        display = actor.get("display")
        if not display:
            location = index.get(actor.get("reference") or "")
            display = location.get("name") if location and location.get("resourceType") == "Location" else None
        if display:
            schedule["display"] = display
            return


def bundle_trusts(request: FhirRequest) -> set[str]:
    """ODS codes of the trust(s) the request's resources name: Organization ODS codes, else
    the trust part (first 3 characters) of Location ODS site codes."""
    orgs, sites = set(), set()
    for entry in request.accepted:
        for ident in (entry.resource or {}).get("identifier") or []:
            value = str(ident.get("value") or "").strip().upper()
            if entry.resource_type == "Organization" and ident.get("system") == ODS_ORG and value:
                orgs.add(value)
            elif entry.resource_type == "Location" and ident.get("system") == ODS_SITE and len(value) == 5:
                sites.add(value[:3])
    return orgs or sites


def collection_bytes(request: FhirRequest) -> bytes:
    """The mapping's input for a planned request: a ``collection`` of :func:`mapping_resources`."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in mapping_resources(request)],
    }
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# The endpoint has already planned the request when the pipeline asks for its mapping input:
# it leaves the result here so the Bundle is not validated a second time (validation is most
# of the cost of a large Bundle). Keyed by the bytes and headers, so a hit is always right.
_RECENT: OrderedDict[str, bytes] = OrderedDict()
_RECENT_LOCK = threading.Lock()
_RECENT_SIZE = 16


def _recent_key(payload: bytes, headers: Sequence[tuple[str, bytes]]) -> str:
    wanted = sorted((k, v) for k, v in headers if k == "content-type" or k.startswith("rh_fhir_"))
    return hashlib.sha256(payload + repr(wanted).encode()).hexdigest()


def remember_mapping_input(payload: bytes, headers: Sequence[tuple[str, bytes]], mapped: bytes) -> None:
    with _RECENT_LOCK:
        _RECENT[_recent_key(payload, headers)] = mapped
        while len(_RECENT) > _RECENT_SIZE:
            _RECENT.popitem(last=False)


def mapping_input(payload: bytes, headers: Sequence[tuple[str, bytes]]) -> bytes:
    """The ``mapping_input`` quirk of FHIR connectors (see :mod:`rosterhub.connectors.pipeline`)."""
    with _RECENT_LOCK:
        cached = _RECENT.get(_recent_key(payload, headers))
    if cached is not None:
        return cached
    h = {k: v.decode("utf-8", "replace") for k, v in headers}
    interaction = h.get("rh_fhir_interaction", "bundle")
    try:
        document = read_document(payload, h.get("content-type"))
        request = plan_request(
            document,
            interaction if interaction in INTERACTIONS else "bundle",
            type_=h.get("rh_fhir_type"),
            id_=h.get("rh_fhir_id"),
            max_entries=10**9,
        )
    except FhirRequestError as exc:
        raise ParseError(f"not a FHIR request the hub takes: {exc}") from None
    if request.kind == "transaction" and request.problems:
        raise ParseError(f"transaction rejected as a whole: {'; '.join(i.diagnostics for i in request.problems)}")
    return collection_bytes(request)
