"""The payroll office's commands: close a batch, re-send a batch. Pure (the CLI and API do the I/O).

* **close**: a command record on ``_rosterhub.payroll-priced`` keyed by the employing trust, so the
  batch stage handles it in order with that trust's lines: every line priced before it is in the
  batch, nothing after it is;
* **re-send**: the batch's records on events.payroll (its lines and its close), published again
  byte for byte (same CloudEvents ids, same line ids), so every consumer, and the ESR interface
  through outbound (same idempotency keys, same file names), ends with exactly what it had.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime

from rosterhub.envelope import KafkaRecord, headers_dict
from rosterhub.ods import ODS_CODE

__all__ = ["RESENT_HEADER", "batch_trust", "close_command", "resend_records"]

RESENT_HEADER = "rh_resent"
_BATCH = re.compile(rf"^({ODS_CODE})-BANK-\d{{4}}-(W\d{{2}}|\d{{2}})$")


def batch_trust(batch_id: str) -> str:
    """The employing trust a batch id names; ValueError when it is not a batch id."""
    m = _BATCH.match(batch_id)
    if m is None:
        raise ValueError(f"{batch_id!r} is not a payroll batch id (<ODS>-BANK-<year>-W<week> or -<month>)")
    return m.group(1)


def close_command(topic: str, batch_id: str, *, by: str, at: datetime) -> KafkaRecord:
    doc = {"kind": "close", "batch_id": batch_id, "by": by, "at": at.isoformat()}
    return KafkaRecord(topic, batch_trust(batch_id).encode(), json.dumps(doc, sort_keys=True).encode(), [])


def resend_records(records: Iterable[KafkaRecord], batch_id: str) -> list[KafkaRecord]:
    """The batch's records (key = batch id), each once, in their order, ready to publish again."""
    out: list[KafkaRecord] = []
    seen: set[bytes] = set()
    for rec in records:
        if rec.key != batch_id.encode():
            continue
        ce_id = headers_dict(rec.headers).get("ce_id", b"")
        if ce_id in seen:
            continue
        seen.add(ce_id)
        headers = [(k, v) for k, v in rec.headers if k != RESENT_HEADER] + [(RESENT_HEADER, b"1")]
        out.append(KafkaRecord(rec.topic, rec.key, rec.value, headers))
    return out
