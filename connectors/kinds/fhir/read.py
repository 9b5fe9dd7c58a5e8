"""Reading a FHIR R4 request body: JSON or XML bytes in, checked resources (or issues) out.

Pure functions, shared by the HTTP endpoint (:mod:`rosterhub.connectors.kinds.fhir`) and
by :func:`mapping_input`, which the pipeline runs before mapping both live and on
``rosterhub replay``: whatever the endpoint accepted, a replay maps identically.

Validation is fhir.resources' R4B models (structure, cardinality, primitive formats),
plus the required code bindings the hub reads (``Slot.status``, ``VerificationResult.status``,
``Bundle.type``, ``Bundle.entry.request.method``), which the models do not check.
Every problem is an :class:`Issue` with an issue-type code from the FHIR value set and
a FHIRPath ``expression``, so the endpoint can answer with an OperationOutcome.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from rosterhub.errors import ParseError
from rosterhub.mapping.engine import strict_json

__all__ = [
    "BUNDLE_TYPES",
    "SUPPORTED_TYPES",
    "FhirRequestError",
    "Issue",
    "read_document",
    "resource_issues",
]

#: Resource types the hub takes (what the mapping and the CapabilityStatement speak of).
SUPPORTED_TYPES = (
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
    "Schedule",
    "Slot",
    "VerificationResult",
)
BUNDLE_TYPES = ("transaction", "batch", "collection")
FHIR_NS = "http://hl7.org/fhir"

#: Required bindings (R4) of elements the hub reads, which fhir.resources does not check.
_REQUIRED_BINDINGS: dict[tuple[str, str], frozenset[str]] = {
    ("Slot", "status"): frozenset({"busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"}),
    ("VerificationResult", "status"): frozenset(
        {"attested", "validated", "in-process", "req-revalid", "val-fail", "reval-fail"}
    ),
}


@dataclass(frozen=True, slots=True)
class Issue:
    """One OperationOutcome issue. ``code`` is from http://hl7.org/fhir/issue-type."""

    severity: str  # fatal | error | warning | information
    code: str
    diagnostics: str
    expression: tuple[str, ...] = ()

    def at(self, prefix: str) -> Issue:
        """The same issue with its expressions rooted at ``prefix`` (e.g. ``Bundle.entry[2].resource``)."""
        exprs = tuple(f"{prefix}.{e.split('.', 1)[1]}" if "." in e else prefix for e in self.expression) or (prefix,)
        return Issue(self.severity, self.code, self.diagnostics, exprs)


@dataclass
class FhirRequestError(Exception):
    """The request as a whole cannot be taken; ``status`` is the HTTP status to answer with."""

    status: int
    issues: list[Issue] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(i.diagnostics for i in self.issues)


# --- bytes -> JSON document ---------------------------------------------------------------------------


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_xml(content_type: str | None) -> bool:
    return media_type(content_type) in {"application/fhir+xml", "application/xml", "text/xml"}


def read_document(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The body as FHIR JSON (a dict). XML is parsed and validated by fhir.resources and
    converted to its JSON form; JSON is only decoded here (resources are checked later,
    one by one, so a batch can accept the good entries of a bundle)."""
    if is_xml(content_type):
        return _read_xml(body)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _structure(f"the body is not UTF-8 text: {exc}") from None
    try:
        document = strict_json.loads(body)
    except ParseError as exc:
        raise _structure(exc.message.replace("payload", "the body", 1)) from None
    if not isinstance(document, dict):
        raise _structure(f"the body is a JSON {type(document).__name__}, not a FHIR resource (an object)")
    if not isinstance(document.get("resourceType"), str):
        raise FhirRequestError(400, [Issue("error", "required", "the body has no resourceType", ("resourceType",))])
    return document


def _structure(message: str) -> FhirRequestError:
    return FhirRequestError(400, [Issue("fatal", "structure", message)])


def _read_xml(body: bytes) -> dict[str, Any]:
    # defusedxml first: refuses DTDs, entity expansion and external references outright,
    # before lxml (which fhir.resources uses) sees the bytes.
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise FhirRequestError(400, [Issue("fatal", "security", f"XML refused: {exc}")]) from None
    except SafeET.ParseError as exc:
        raise _structure(f"the body is not well-formed XML: {exc}") from None
    ns, _, name = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    if ns != FHIR_NS:
        raise _structure(f"the XML root element {root.tag!r} is not in the FHIR namespace {FHIR_NS}")
    try:
        model = get_fhir_model_class(name)
    except (ValueError, KeyError):
        msg = f"{name!r} is not a FHIR R4 resource type"
        raise FhirRequestError(400, [Issue("error", "not-supported", msg)]) from None
    from lxml import etree  # fhir.resources[xml]

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        resource = model.model_validate_xml(body, xmlparser=parser)
    except ValidationError as exc:
        raise FhirRequestError(400, _validation_issues(exc, name)) from None
    except (ValueError, TypeError, etree.XMLSyntaxError) as exc:
        raise _structure(f"the XML is not a valid FHIR {name}: {exc}") from None
    document: dict[str, Any] = json.loads(resource.model_dump_json())
    return document


# --- one resource -----------------------------------------------------------------------------------


def resource_issues(resource: Any) -> list[Issue]:
    """Problems with one resource (as FHIR JSON); empty when the hub can take it.

    Expressions are rooted at the resource type (``Slot.status``); callers re-root them.
    """
    if not isinstance(resource, dict):
        return [Issue("error", "structure", "the resource is not a JSON object")]
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str):
        return [Issue("error", "required", "the resource has no resourceType", ("Resource.resourceType",))]
    try:
        model = get_fhir_model_class(rtype)
    except (ValueError, KeyError):
        return [Issue("error", "not-supported", f"{rtype!r} is not a FHIR R4 resource type", (f"{rtype}",))]
    if rtype not in SUPPORTED_TYPES:
        return [
            Issue(
                "error",
                "not-supported",
                f"{rtype} is not taken by this endpoint (it takes {', '.join(SUPPORTED_TYPES)})",
                (rtype,),
            )
        ]
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        return _validation_issues(exc, rtype)
    except (ValueError, TypeError) as exc:  # fhir.resources raises these for some element-level checks
        return [Issue("error", "invalid", f"{rtype} is not valid FHIR R4: {exc}", (rtype,))]
    return _binding_issues(resource, rtype)


def _binding_issues(resource: dict[str, Any], rtype: str) -> list[Issue]:
    issues = []
    for (btype, element), codes in _REQUIRED_BINDINGS.items():
        if btype == rtype and element in resource and resource[element] not in codes:
            issues.append(
                Issue(
                    "error",
                    "code-invalid",
                    f"{rtype}.{element} {resource[element]!r} is not one of {', '.join(sorted(codes))}",
                    (f"{rtype}.{element}",),
                )
            )
    return issues


_PYDANTIC_TO_ISSUE = {"missing": "required", "extra_forbidden": "structure", "model_type": "structure"}


def _validation_issues(exc: ValidationError, root: str) -> list[Issue]:
    issues = []
    for err in exc.errors():
        path = fhirpath(root, err.get("loc", ()))
        code = _PYDANTIC_TO_ISSUE.get(str(err.get("type")), "value")
        message = str(err.get("msg", "invalid"))
        issues.append(Issue("error", code, f"{path}: {message}", (path,)))
    return issues or [Issue("error", "invalid", f"{root} is not valid FHIR R4: {exc}", (root,))]


_FHIR_SUFFIX = re.compile(r"__ext$|_fhir$")


def fhirpath(root: str, loc: tuple[Any, ...] | list[Any]) -> str:
    """A pydantic error location as FHIRPath: ``('identifier', 0, 'value')`` -> ``Slot.identifier[0].value``."""
    out = root
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part) not in {"__root__", "function-after", "function-before", "function-wrap"}:
            out += "." + _FHIR_SUFFIX.sub("", str(part))
    return out
