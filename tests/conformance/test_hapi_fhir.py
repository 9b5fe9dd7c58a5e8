"""Every kind of FHIR resource the hub emits passes HAPI FHIR's validator: zero errors.

HAPI FHIR (``ca.uhn.hapi.fhir`` 7.6.1, jars from Maven Central cached by ``rosterhub tools fetch``)
runs offline with the R4 core profiles, in ONE JVM for every resource (:mod:`rosterhub.tools.hapi`).
Codes from systems it cannot know (the hub's ``https://rosterhub.org/CodeSystem/...``) are
warnings by configuration; every warning is listed at the end of the test run. ``dom-6`` (no
narrative) must not appear: the hub's resources carry generated narrative.

A test whose validator cannot be had FAILS (``ToolUnavailable``); it never skips.
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import pytest

from rosterhub.errors import ToolUnavailable
from rosterhub.tools import hapi
from tests.conformance.fhir_emitted import all_resources
from tests.conformance.hapi_report import REPORTS

#: Known-bad resources validated in the same run: the check must be able to fail.
CONTROLS: dict[str, dict[str, Any]] = {
    "control/relative evidence under urn:ietf:rfc:3986": {
        "resourceType": "VerificationResult",
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div>'},
        "status": "validated",
        "primarySource": [
            {"who": {"identifier": {"system": "urn:ietf:rfc:3986", "value": "VerificationResult/rhq-pr1-3-reg"}}}
        ],
    },
    "control/slot with a status outside its required binding": {
        "resourceType": "Slot",
        "schedule": {"display": "Ward 7"},
        "status": "maybe",
        "start": "2026-06-01T09:00:00Z",
        "end": "2026-06-01T17:00:00Z",
    },
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict[str, hapi.FileReport]:
    emitted = all_resources(tmp_path_factory.mktemp("fhir"))
    try:
        found = hapi.validate({**emitted, **CONTROLS})
    except ToolUnavailable as exc:
        pytest.fail(f"HAPI FHIR's validator is needed for this check: {exc}", pytrace=False)
    request.config.stash[REPORTS] = {k: v for k, v in found.items() if k not in CONTROLS}
    return found


def _errors(reports: dict[str, hapi.FileReport], prefix: str) -> dict[str, list[str]]:
    chosen = {name: r for name, r in reports.items() if name.startswith(prefix)}
    assert chosen, f"nothing named {prefix}* was validated"
    return {name: [str(e) for e in r.errors] for name, r in chosen.items() if r.errors}


def test_the_validator_finds_errors_in_known_bad_resources(reports: dict[str, hapi.FileReport]) -> None:
    bad_uri = reports["control/relative evidence under urn:ietf:rfc:3986"]
    assert [e.message_id for e in bad_uri.errors] == ["TYPE_SPECIFIC_CHECKS_DT_IDENTIFIER_IETF_SYSTEM_VALUE"]
    assert "dom-6" not in str(bad_uri.findings)  # it has a narrative
    bad_status = reports["control/slot with a status outside its required binding"]
    assert bad_status.errors, bad_status.findings
    assert any("dom-6" in w.message for w in bad_status.warnings)  # no narrative: the warning the hub avoids


def test_outbound_slots_and_appointments_are_valid(reports: dict[str, hapi.FileReport]) -> None:
    assert _errors(reports, "outbound/") == {}


def test_passport_fhir_exports_are_valid(reports: dict[str, hapi.FileReport]) -> None:
    """Including VerificationResults from the FHIR connector, whose evidence is a relative reference (defect 3)."""
    assert _errors(reports, "passport/") == {}


def test_endpoint_answers_are_valid(reports: dict[str, hapi.FileReport]) -> None:
    """CapabilityStatement (JSON and XML), transaction/batch responses, OperationOutcomes (also for a GET)."""
    assert _errors(reports, "endpoint/") == {}


def test_no_resource_lacks_narrative(reports: dict[str, hapi.FileReport]) -> None:
    missing = {
        n: w.location
        for n, rep in reports.items()
        if not n.startswith("control/")
        for w in rep.warnings
        if "dom-6" in w.message
    }
    assert missing == {}


def test_every_kind_the_hub_emits_was_validated(reports: dict[str, hapi.FileReport], tmp_path: Path) -> None:
    kinds: collections.Counter[str] = collections.Counter()
    for doc in all_resources(tmp_path).values():
        if isinstance(doc, str):
            kinds["xml"] += 1
            continue
        kinds[doc["resourceType"] + (f":{doc['type']}" if doc["resourceType"] == "Bundle" else "")] += 1
        for entry in doc.get("entry", []):
            for part in (entry.get("resource"), entry.get("response", {}).get("outcome")):
                if part:
                    kinds[part["resourceType"]] += 1
    assert {
        "Bundle:transaction",
        "Bundle:collection",
        "Bundle:transaction-response",
        "Bundle:batch-response",
        "Slot",
        "Appointment",
        "Practitioner",
        "VerificationResult",
        "CapabilityStatement",
        "OperationOutcome",
        "xml",
    } <= set(kinds), kinds


def test_the_cli_prints_every_finding_and_fails_on_errors(reports: dict[str, hapi.FileReport]) -> None:
    """``rosterhub tools fhir-validate`` renders the same reports (no second JVM for it)."""
    from rosterhub.cli.tools_cmd import render_reports

    bad = reports["control/relative evidence under urn:ietf:rfc:3986"]
    good = reports["endpoint/metadata (json)"]
    text, code = render_reports([good, bad])
    assert code == 1
    assert f"{good.name}: 0 error(s)" in text
    assert f"{bad.name}: 1 error(s)" in text and "TYPE_SPECIFIC_CHECKS_DT_IDENTIFIER_IETF_SYSTEM_VALUE" in text
    assert render_reports([good])[1] == 0
