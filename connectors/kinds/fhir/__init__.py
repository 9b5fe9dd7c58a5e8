"""The FHIR R4 transport (kind ``fhir``): a trust's FHIR facade or a FHIR-speaking roster posts Bundles
and resources to ``/fhir[/{trust}]/R4``, served by ``rosterhub serve``.

This module is what a FHIR vendor imports: :class:`FhirQuirks` and :func:`mapping_input` (FHIR XML
and Bundles turned into the JSON collection the mapping reads, live and on replay). The rest of
the package is the transport's own:

* ``endpoint``: the HTTP endpoint and its router;
* ``bundle``: planning a request (which entries are taken), the collection the mapping reads;
* ``read``: reading and checking documents (pure); ``outcome``: OperationOutcome and statuses.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rosterhub.connectors.base import HttpTransport, Quirks
from rosterhub.connectors.kinds.fhir.bundle import mapping_input

__all__ = ["TRANSPORT", "Fhir", "FhirQuirks", "mapping_input"]


class FhirQuirks(Quirks):
    """What a FHIR source declares: the FHIR version, media types and Bundle types it sends."""

    fhir_version: str = "4.0.1"
    media_types: tuple[str, ...] = ("application/fhir+json", "application/fhir+xml")
    bundle_types: tuple[Literal["transaction", "batch", "collection"], ...] = Field(
        ("transaction", "batch", "collection"), min_length=1
    )


class Fhir(HttpTransport):
    kind = "fhir"
    quirks = FhirQuirks


TRANSPORT = Fhir()
