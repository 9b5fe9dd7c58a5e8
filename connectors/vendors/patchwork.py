"""Patchwork-style bank app: JSON webhooks for shift and booking events, HMAC-signed.

Reference wire format: docs/vendors/patchwork.md.
"""

from rosterhub.connectors.base import ConnectorSpec, WebhookSignature

SPEC = ConnectorSpec(
    id="patchwork",
    kind="webhook",
    title="Patchwork-style bank app (JSON webhooks)",
    signature=WebhookSignature(signature_header="X-Patchwork-Signature", timestamp_header="X-Patchwork-Timestamp"),
)
