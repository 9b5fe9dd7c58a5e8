"""Dead-letter records: the original bytes plus why, where from, and how to find the source.

Headers follow Kafka Connect's DeadLetterQueueReporter in spirit: stage, error code and
message, connector, and the origin topic/partition/offset, plus the mapping error's
record/field/value/rule/target when there is one (``dlq_field`` is the vendor's own name for
what failed), and, when the record failed in several places, every problem as JSON in
``dlq_problems``. The original record's headers are kept, so ``rosterhub replay`` can re-run
the record after a fix.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from rosterhub.envelope import KafkaRecord
from rosterhub.errors import MappingError, RosterhubError

__all__ = ["dead_letter"]


def dead_letter(
    *,
    topic: str,
    stage: str,
    error: RosterhubError,
    original: bytes,
    key: bytes | None = None,
    connector: str | None = None,
    origin: tuple[str, int, int] | None = None,
    record_ref: str | None = None,
    original_headers: Sequence[tuple[str, bytes]] = (),
    now: datetime | None = None,
) -> KafkaRecord:
    headers: list[tuple[str, bytes]] = [
        ("dlq_stage", stage.encode()),
        ("dlq_code", error.code.encode()),
        ("dlq_message", str(error).encode()),
        ("dlq_failed_at", (now or datetime.now(UTC)).isoformat().encode()),
    ]
    if connector:
        headers.append(("dlq_connector", connector.encode()))
    if record_ref:
        headers.append(("dlq_record", record_ref.encode()))
    if isinstance(error, MappingError):
        for name in ("field", "value", "rule", "target"):
            value = getattr(error, name)
            if value is not None:
                headers.append((f"dlq_{name}", str(value).encode()))
        if len(error.problems) > 1:
            problems = error.as_dict()["problems"]
            headers.append(("dlq_problems", json.dumps(problems, ensure_ascii=False).encode()))
    if origin is not None:
        headers += [
            ("dlq_origin_topic", origin[0].encode()),
            ("dlq_origin_partition", str(origin[1]).encode()),
            ("dlq_origin_offset", str(origin[2]).encode()),
        ]
    headers += [(k, v) for k, v in original_headers if not k.startswith("dlq_")]
    return KafkaRecord(topic=topic, key=key, value=original, headers=headers)
