"""Every Kafka topic the hub owns, declared in code and created idempotently at start-up.

Naming convention (docs/topics.md): lower case, dotted, ``<kind>.<name>``:

* ``raw.<vendor>``       untouched vendor payloads as received, kept for replay;
* ``events.<domain>``    canonical Avro events (``events.shift``, ``events.booking``, ...);
* ``out.<vendor>``       outbound work queued for one vendor's systems;
* ``dlq.<stage>``        records a stage could not handle, original bytes + reason headers;
* ``_rosterhub.<name>``  hub-internal state (``_rosterhub.schemas``, compacted).

A ``topic_prefix`` setting is prepended to every name so that several hubs or test
runs can share one cluster. Faust's own changelog/repartition topics are named by
faust from the app id and are created by faust itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rosterhub.kafka.limits import MAX_RECORD_BYTES

__all__ = [
    "AUDIT",
    "AVAILABILITY_TICKS",
    "BOOKING_PERSON",
    "BOOKING_REQUESTS",
    "BOOKING_TICKS",
    "CANONICAL",
    "DLQ_STAGES",
    "IDENTITY_CROSSWALK",
    "IDENTITY_IN",
    "INTERNAL",
    "OUTBOUND_BLOCKS",
    "PASSPORT_IN",
    "PASSPORT_TICKS",
    "PAYROLL_BOOKINGS",
    "PAYROLL_PRICED",
    "PAYROLL_TICKS",
    "SCHEMAS",
    "TopicSpec",
    "canonical_topic",
    "declared_topics",
    "dlq_topic",
    "outbound_topic",
    "raw_topic",
]

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """What a topic must look like; ``configs`` are Kafka topic-level configs."""

    name: str
    partitions: int | None = None  # None: the ``default_partitions`` setting
    compacted: bool = False
    retention_ms: int | None = None  # None: keep forever (-1)
    key: str = ""  # what the message key is, for docs and AsyncAPI
    doc: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def configs(self) -> dict[str, str]:
        cfg = {"cleanup.policy": "compact" if self.compacted else "delete"}
        if not self.compacted:
            cfg["retention.ms"] = str(self.retention_ms if self.retention_ms is not None else -1)
        cfg.update(self.extra)
        return cfg

    def prefixed(self, prefix: str) -> TopicSpec:
        if not prefix:
            return self
        return TopicSpec(
            prefix + self.name, self.partitions, self.compacted, self.retention_ms, self.key, self.doc, self.extra
        )


SCHEMAS = TopicSpec(
    "_rosterhub.schemas",
    partitions=1,
    compacted=True,
    key="CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form: the hex of its 8 little-endian wire bytes "
    "(as they follow C3 01 in a record), not of the CRC's numeric value",
    doc="Writer schemas of every event ever produced, so any consumer can resolve a fingerprint.",
)

#: Canonical event topics by domain. Keys are chosen so that everything that must be
#: decided in order lands on one partition (shift id for shifts *and* bookings).
CANONICAL: dict[str, TopicSpec] = {
    "shift": TopicSpec("events.shift", key="shift id", doc="Shift lifecycle: posted, updated, released, cancelled."),
    "booking": TopicSpec(
        "events.booking", key="shift id", doc="Booking requests and decisions, keyed by shift so races serialise."
    ),
    "worker": TopicSpec(
        "events.worker",
        key="local worker id (<vendor>:<trust ods>:<vendor worker id>)",
        doc="Worker registration and membership, as each platform knows the worker.",
    ),
    # Connectors and the passport's VC route publish here before identity resolution: the holder is named
    # as the issuing platform knows them. Identity resolution re-publishes each event keyed by the hub
    # person id on _rosterhub.passport-in (the passport's input); events.passport is keyed by person id.
    "credential": TopicSpec(
        "events.credential",
        key="local worker id of the holder as the issuer names them (<vendor>:<trust ods>:<id>), not a person id",
        doc="Credential issue, verification, revocation and issuers' expiries, as published by the issuers, "
        "before identity resolution. A consumer wanting them per hub person joins on events.identity "
        "(PersonLinked: worker_id -> person_id) or reads events.passport.",
    ),
    "availability": TopicSpec("events.availability", key="person id", doc="Declared availability of workers."),
    "timesheet": TopicSpec(
        "events.timesheet", key="booking id", doc="Timesheets: submitted, queried, approved, missing."
    ),
    # Keyed by batch: each employing trust's batch is in order on one partition (docs/payroll.md).
    "payroll": TopicSpec(
        "events.payroll",
        key="batch id",
        doc="Payroll lines of each employing trust's batches, and batch closes.",
    ),
    # Keyed by statement (raised by, charged to, month): one pair's month is in order on one partition.
    "recharge": TopicSpec(
        "events.recharge",
        key="statement id, <raised by>:<charged to>:<YYYY-MM>",
        doc="Recharges between trusts, one per payroll line.",
    ),
    "identity": TopicSpec(
        "events.identity", key="person id", doc="Who is who: links, conflicts, merges and splits of people."
    ),
    "passport": TopicSpec(
        "events.passport", key="person id", doc="Passport changes, expiring and expired credentials, clearance."
    ),
    "delivery": TopicSpec(
        "events.delivery",
        key="destination name",
        doc="Outbound delivery receipts: DeliverySucceeded / DeliveryFailed per update and destination.",
    ),
    # A view, not an event stream: the latest ShiftAvailability per shift, compacted (docs/availability.md).
    # Listed here so its schema (domain "view") is routed, documented and checked like every event.
    "view": TopicSpec(
        "views.availability",
        compacted=True,
        key="shift id",
        doc="Latest availability of every shift (state, tier, who may book it), one record per change; compacted.",
    ),
    # The KPI processor's facts per shift (and first-credential instants per person), compacted (docs/kpi.md).
    "kpi": TopicSpec(
        "views.kpi",
        compacted=True,
        key="shift id (ShiftKpi) or person id (PersonKpi)",
        doc="Latest KPI facts of every shift (dimensions, demand, fill, cost, outcomes), one record per change; "
        "compacted. Day, week and month figures are sums over it.",
    ),
}

DLQ_STAGES = ("ingest", "mapping", "decode", "outbound")

#: Timer ticks for the booking processor, keyed by shift id like events.booking so a tick
#: lands on the partition (and worker) that owns the shift: faust tables can only be
#: written while handling a record, so timers speak through this topic.
BOOKING_TICKS = TopicSpec(
    "_rosterhub.booking-ticks",
    retention_ms=3600 * 1000,
    key="shift id",
    doc="Internal: 'look at this shift's parked requests now' ticks from the booking timer.",
)


#: The booking saga (docs/decisions/0007-booking-saga.md). Requests with the person resolved by identity,
#: and the person stage's answers, keyed by shift id: they land on the partition owning the shift.
BOOKING_REQUESTS = TopicSpec(
    "_rosterhub.booking-requests",
    key="shift id",
    doc="Internal: BookingRequested with person_id resolved (Avro), and the person stage's answers (JSON).",
)
#: Person checks and releases keyed by person id, with the same partition count as passport-in, so the
#: worker owning person P's booking-person partition also owns P's passport table partition.
BOOKING_PERSON = TopicSpec(
    "_rosterhub.booking-person",
    key="person id",
    doc="Internal: booking saga person checks and releases (JSON), keyed by person id like passport-in.",
)


#: Identity resolution reads every worker-carrying event through ONE partition, so that
#: matching on several identifiers at once is decided by a single writer, in order.
IDENTITY_IN = TopicSpec(
    "_rosterhub.identity-in",
    partitions=1,
    key="vendor|trust|local id",
    doc="Internal: worker and credential events, plus merge/split commands, in one order for identity resolution.",
)
#: Identity's crosswalk (identity key -> people, person -> merged into, version), written by the resolver and
#: read whole by every worker, so the booking shift stage stamps the person itself (docs/decisions/0012).
IDENTITY_CROSSWALK = TopicSpec(
    "_rosterhub.identity-crosswalk",
    partitions=1,
    compacted=True,
    key="k:<identity key> | p:<person id>",
    doc="Internal: identity's crosswalk, one record per changed key or person, for every worker's read-only copy.",
)
#: Credential events re-keyed by the resolved person id, for the passport processor.
PASSPORT_IN = TopicSpec(
    "_rosterhub.passport-in",
    key="person id",
    doc="Internal: credential events with person_id resolved, keyed by person id.",
)
#: Timer ticks for the passport processor, keyed by person id like passport-in (see BOOKING_TICKS).
PASSPORT_TICKS = TopicSpec(
    "_rosterhub.passport-ticks",
    retention_ms=3600 * 1000,
    key="person id",
    doc="Internal: 'send this person's due expiry notices now' ticks from the passport timer.",
)
#: Timer ticks for the availability processor (release cascade, completion), keyed by shift id.
AVAILABILITY_TICKS = TopicSpec(
    "_rosterhub.availability-ticks",
    retention_ms=3600 * 1000,
    key="shift id",
    doc="Internal: 'this shift's release or completion is due' ticks from the availability timer.",
)
#: Who read which passport, when and why.
AUDIT = TopicSpec("_rosterhub.audit", key="person id", doc="Internal: an audit record per passport read.")
#: Shifts whose outbound delivery is blocked behind a dead-lettered update, per destination, so the
#: block survives a worker restart (docs/outbound.md, "Giving up"). Value: the key it waits behind, or empty.
OUTBOUND_BLOCKS = TopicSpec(
    "_rosterhub.outbound-blocks",
    partitions=1,
    compacted=True,
    key="destination, 0x1f, shift id",
    doc="Internal: idempotency key of the dead-lettered update a shift's later updates park behind; empty: unblocked.",
)

#: The payroll processor (docs/payroll.md). Confirmed, cancelled and re-timed bookings with the facts pay needs,
#: re-keyed from the shift to the booking id: they land on the partition that holds the booking's timesheet.
PAYROLL_BOOKINGS = TopicSpec(
    "_rosterhub.payroll-bookings",
    key="booking id",
    doc="Internal: booking facts for payroll (JSON), keyed by booking id like events.timesheet.",
)
#: Priced timesheets, fees and batch commands keyed by employing trust: one writer numbers each trust's batches.
PAYROLL_PRICED = TopicSpec(
    "_rosterhub.payroll-priced",
    key="employing trust ODS code",
    doc="Internal: priced timesheets and batch commands (close, re-send) for the employing trust's batches (JSON).",
)
#: Timer ticks for the timesheet stage (unmatched grace, missing timesheets), keyed by booking id.
PAYROLL_TICKS = TopicSpec(
    "_rosterhub.payroll-ticks",
    retention_ms=3600 * 1000,
    key="booking id",
    doc="Internal: 'this booking's timesheet is overdue or still unmatched' ticks from the payroll timer.",
)

INTERNAL = (
    BOOKING_TICKS,
    BOOKING_REQUESTS,
    BOOKING_PERSON,
    IDENTITY_IN,
    IDENTITY_CROSSWALK,
    PASSPORT_IN,
    PASSPORT_TICKS,
    AUDIT,
    AVAILABILITY_TICKS,
    OUTBOUND_BLOCKS,
    PAYROLL_BOOKINGS,
    PAYROLL_PRICED,
    PAYROLL_TICKS,
)


#: A whole export file is one raw record (a large trust's ESR monthly refresh is ~25 MB), so raw and
#: dead-letter topics accept records up to the hub's record limit whatever the broker's default (1 MiB).
#: An existing topic below it is raised at start, never lowered (rosterhub/topic_configs.py; docs/deploy.md).
LARGE_RECORDS = {"max.message.bytes": str(MAX_RECORD_BYTES)}


def raw_topic(vendor: str) -> TopicSpec:
    return TopicSpec(
        f"raw.{vendor}",
        key="the sending trust's ODS code (FHIR, polled APIs), the file's SHA-256 (file drops) or none (webhooks)",
        doc=f"Untouched payloads received from {vendor}, with receipt metadata in headers; replayable.",
        extra=LARGE_RECORDS,
    )


def dlq_topic(stage: str) -> TopicSpec:
    if stage not in DLQ_STAGES:
        raise ValueError(f"unknown dead-letter stage {stage!r}; known: {', '.join(DLQ_STAGES)}")
    return TopicSpec(
        f"dlq.{stage}",
        key="same key as the failed record",
        doc=f"Records the {stage} stage could not handle: original bytes plus dlq_* reason headers.",
        extra=LARGE_RECORDS,
    )


def outbound_topic(destination: str) -> TopicSpec:
    """``out.<destination>``: updates routed to one trust system, waiting for its delivery loop."""
    return TopicSpec(
        f"out.{destination.lower()}",
        key="shift id",
        doc=f"Updates for outbound destination {destination}, in order per shift, until delivered or dead-lettered.",
    )


def canonical_topic(domain: str) -> TopicSpec:
    try:
        return CANONICAL[domain]
    except KeyError:
        raise ValueError(f"unknown event domain {domain!r}; known: {', '.join(CANONICAL)}") from None


def declared_topics(vendors: Iterable[str], prefix: str = "") -> Sequence[TopicSpec]:
    """All topics the hub needs for these vendors, with the prefix applied."""
    specs = [
        SCHEMAS,
        *INTERNAL,
        *CANONICAL.values(),
        *(dlq_topic(s) for s in DLQ_STAGES),
        *(raw_topic(v) for v in vendors),
    ]
    return [s.prefixed(prefix) for s in specs]
