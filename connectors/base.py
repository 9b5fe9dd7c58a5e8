"""What a vendor connector declares, and what the runtime gives it.

A vendor plugs in with a mapping file (``mapping/vendors/<id>.yaml``) and a module in
``connectors/vendors/`` exposing ``SPEC: ConnectorSpec``; outside packages use the
``rosterhub.connectors`` entry-point group. Nothing central is edited to add one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["ConnectorSpec", "WebhookSignature"]

Kind = Literal["webhook", "poll", "filedrop", "fhir"]


@dataclass(frozen=True, slots=True)
class WebhookSignature:
    """HMAC-SHA256 over ``<timestamp>.<body>``, hex-encoded, as many bank apps sign webhooks."""

    signature_header: str
    timestamp_header: str
    tolerance_s: int = 300


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    id: str  # vendor id: same spelling in module, mapping file, topic, metric label, ce_source
    kind: Kind
    title: str
    mapping: str | None = None  # mapping vendor name; defaults to id
    content_type: str = "application/json"
    signature: WebhookSignature | None = None
    #: Vendor-level facts of the wire format the transport needs (file patterns, cursor parameter
    #: name, page size...). Deployment choices (folders, URLs, credentials) are settings instead.
    quirks: Mapping[str, Any] = field(default_factory=dict)

    @property
    def mapping_name(self) -> str:
        return self.mapping or self.id
