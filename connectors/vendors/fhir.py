"""FHIR R4 from a trust's FHIR facade or a FHIR-speaking roster: Bundles of workforce resources.

Reference format and transport: docs/vendors/fhir.md. Served by ``rosterhub serve`` at
``/fhir[/{trust}]/R4`` (:mod:`rosterhub.connectors.kinds.fhir`).
"""

from rosterhub.connectors.base import ConnectorSpec
from rosterhub.connectors.kinds.fhir import FhirQuirks, mapping_input

SPEC = ConnectorSpec(
    id="fhir",
    kind="fhir",
    title="FHIR R4 endpoint (Bundles of Practitioner, PractitionerRole, Organization, Location, Schedule, Slot, "
    "VerificationResult)",
    content_type="application/fhir+json",
    quirks=FhirQuirks(
        # FHIR XML and Bundles are turned into the JSON collection the mapping reads, live and on replay.
        mapping_input=mapping_input,
        fhir_version="4.0.1",
        media_types=("application/fhir+json", "application/fhir+xml"),
        bundle_types=("transaction", "batch", "collection"),
    ),
)
