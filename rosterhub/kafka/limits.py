"""The largest record the hub sends, declared once.

A file drop keeps each file whole as ONE raw record (the original bytes, replayable: docs/connectors.md),
so the largest file the hub can take follows from this. It is sized for the largest trust's monthly ESR
full refresh: England's largest trusts have 20,000-25,000 staff, ~970 bytes of interface file a person
(10,000 staff make a 9,685,985-byte file), so ~25 MB, plus the raw record's headers (docs/vendors/esr.md).

Everything that must agree derives from it: the raw and dead-letter topics' ``max.message.bytes``
(:data:`rosterhub.topics.LARGE_RECORDS`), the local broker's ``message.max.bytes``, the producer's
``max_request_size``, the receipt's ``RAW_RECORD_LIMIT`` and the file drop's ``max_file_bytes`` caps.
Consumers need no setting: since KIP-74 (fetch v3+) the broker returns a batch larger than
``max_partition_fetch_bytes`` / ``fetch_max_bytes`` whole when it is the first of a fetch, and kafka-python and
aiokafka both read it (only a pre-KIP-74 truncated batch raises ``RecordTooLargeError``).
"""

from __future__ import annotations

__all__ = ["MAX_RECORD_BYTES"]

#: 32 MiB: a raw record (a whole file with its receipt headers) or a dead letter may be this large.
MAX_RECORD_BYTES = 32 * 1024 * 1024
