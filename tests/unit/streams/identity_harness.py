"""A broker-free stand-in for the identity resolver agent: same parse, step, encode and re-read path.

Tables are dicts, identity-in is a list (its index is the offset), and re-reads by offset
look the list up, exactly where the agent would ask the broker.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import Envelope, KafkaRecord, decode_record, event_id, headers_dict
from rosterhub.events.codes import IDENTIFIER_SYSTEMS, vendor_system
from rosterhub.runtime import Encoder, TopicNames
from rosterhub.streams.identity import crosswalk
from rosterhub.streams.identity.batch import Batch, write_tables
from rosterhub.streams.identity.commands import MergeCommand, SplitCommand, command_record
from rosterhub.streams.identity.records import handle, outgoing, republished
from rosterhub.streams.identity.state import TABLES, Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NAMES = TopicNames("")
CATALOGUE = default_catalogue()
CODEC = SingleObjectCodec(CATALOGUE)
ENCODER = Encoder(CODEC, NAMES, CATALOGUE)


def match_key(who: str) -> str:
    """Stands in for the connector's HMAC (never computed from clear values here)."""
    return hashlib.sha256(who.encode()).hexdigest()


def _event(type_: str, source: str, data: dict[str, Any], subject: str, *id_parts: Any, at: datetime = T0) -> Envelope:
    """An event as a connector publishes it at ``at``, its id derived from ``id_parts`` so re-sends repeat it."""
    return Envelope(type=type_, source=source, data=data, id=event_id(*id_parts), subject=subject, time=at)


def worker(
    worker_id: str,
    *,
    nmc: str | list[str] | None = None,
    gmc: str | None = None,
    mk: str | None = None,
    vids: tuple[tuple[str, str, str], ...] = (),
    kind: str = "WorkerRegistered",
    n: int = 1,
) -> Envelope:
    vendor, trust, local = worker_id.split(":", 2)
    ids = [{"system": vendor_system(vendor, trust), "value": local}]
    for number in [nmc] if isinstance(nmc, str) else nmc or []:
        ids.append({"system": IDENTIFIER_SYSTEMS["nmc"], "value": number})
    if gmc:
        ids.append({"system": IDENTIFIER_SYSTEMS["gmc"], "value": gmc})
    ids += [{"system": vendor_system(v, t), "value": x} for v, t, x in vids]
    data: dict[str, Any] = {
        "worker_id": worker_id,
        "vendor": vendor,
        "trust": {"ods_code": trust, "name": None},
        "worker": {"person_id": None, "identifiers": ids, "display_name": "A Nurse"},
        "staff_group": "NURSING_MIDWIFERY_REGISTERED",
        "grade": "BAND_5",
        "identity_match_key": mk,
    }
    if kind == "WorkerRegistered":
        data["registered_at"] = T0
    else:
        data.update(active=True, changed_fields=[], updated_at=T0)
    return _event(
        f"rosterhub.worker.v1.{kind}", f"/vendors/{vendor}/{trust}", data, worker_id, "test-worker", worker_id, kind, n
    )


def membership(
    worker_id: str,
    assignment: str,
    n: int = 1,
    *,
    kind: str = "BANK",
    change: str = "JOINED",
    end: Any = None,
    employer: str | None = None,
    since: date | None = None,
    at: datetime = T0,
) -> Envelope:
    """An assignment of ``worker_id`` (its ``assignment`` number at the vendor), effective ``since`` (by default
    T0's day), as the vendor's connector publishes it at ``at``; ``employer``: the home trust if not the vendor's."""
    vendor, trust, _ = worker_id.split(":", 2)
    data = {
        "worker_id": worker_id,
        "worker": {
            "person_id": None,
            "display_name": None,
            "identifiers": [{"system": vendor_system(vendor, trust), "value": assignment}],
        },
        "change": change,
        "membership_type": kind,
        "home_trust": {"ods_code": employer or trust, "name": None},
        "staff_group": "NURSING_MIDWIFERY_REGISTERED",
        "grade": "BAND_5",
        "effective_from": since or T0.date(),
        "effective_to": end,
        "changed_at": at,
    }
    return _event(
        "rosterhub.worker.v1.MembershipChanged",
        f"/vendors/{vendor}/{trust}",
        data,
        worker_id,
        "test-membership",
        worker_id,
        assignment,
        n,
        at=at,
    )


def credential(
    local: str, cred: str, *, kind: str = "CredentialIssued", identifiers: list[dict] | None = None, n: int = 1
) -> Envelope:
    trust = local.split(":")[1]
    common = {
        "credential_id": cred,
        "person_id": local,
        "credential_type": "DBS",
        "worker": {"person_id": None, "identifiers": identifiers or [], "display_name": None},
    }
    if kind == "CredentialIssued":
        data = {**common, "issuer": {"ods_code": trust, "name": None}, "issued_at": T0}
    else:
        data = {
            **common,
            "issuer": {"ods_code": trust, "name": None},
            "reason": "LeavingOrganisation",
            "revoked_at": T0,
        }
    return _event(f"rosterhub.credential.v1.{kind}", f"/vendors/esr/{trust}", data, cred, "test-cred", cred, kind, n)


@dataclass
class Hub:
    tables: dict[str, dict[str, Any]] = field(default_factory=lambda: {t: {} for t in TABLES})
    log: list[KafkaRecord] = field(default_factory=list)  # identity-in
    identity: list[Envelope] = field(default_factory=list)
    passport: list[tuple[str, Envelope]] = field(default_factory=list)  # (key, event)
    booking: list[tuple[str, Envelope]] = field(default_factory=list)  # (key, request) to the booking saga
    person: list[dict[str, Any]] = field(default_factory=list)  # messages to the booking person stage
    refused: list[str] = field(default_factory=list)
    crosswalk: list[tuple[bytes, bytes]] = field(default_factory=list)  # _rosterhub.identity-crosswalk, in order
    fences: list[tuple[str, int]] = field(default_factory=list)  # (person, version) to the booking person stage

    def feed(self, env: Envelope) -> list[Envelope]:
        return self._run(ENCODER.encode(env))

    def command(self, cmd: MergeCommand | SplitCommand, command_id: str | None = None) -> list[Envelope]:
        n = len(self.log)
        _, rec = command_record(cmd, NAMES.identity_in, source="/test", now=T0, command_id=command_id or f"cmd-{n}")
        return self._run(rec)

    def redeliver(self, offset: int) -> list[Envelope]:
        """The same identity-in record again (what at-least-once does after a crash)."""
        rec = self.log[offset]
        return self._apply(rec, offset)

    def _run(self, rec: KafkaRecord) -> list[Envelope]:
        self.log.append(rec)
        return self._apply(rec, len(self.log) - 1)

    def append(self, rec: KafkaRecord) -> None:
        """A record onto identity-in, not resolved yet (:meth:`resolve_batch` resolves it)."""
        self.log.append(rec)

    def resolve_batch(self, offsets: Iterable[int]) -> None:
        """These identity-in records as the agent resolves one ``take_events`` batch: each step on the tables seen
        through the earlier steps' writes, the tables written once at the end (streams/identity/batch.py)."""
        batch = Batch(self.tables)
        for offset in offsets:
            store = batch.store()
            self._apply(self.log[offset], offset, store)
            batch.done(store)
        write_tables(self.tables, batch.pending)

    def _apply(self, rec: KafkaRecord, offset: int, batched: Store | None = None) -> list[Envelope]:
        store = batched or Store(self.tables)
        result = handle(store, rec.value, rec.headers, offset, CODEC)
        if result.refused:
            self.refused.append(result.refused)
        self.person += result.person
        out = outgoing(result.outputs, ENCODER, NAMES.passport_in, NAMES.booking_requests)
        for replay in result.replays:
            copies = [republished(self.log[o].value, self.log[o].headers, replay, CODEC) for o in replay.offsets]
            out += outgoing(copies, ENCODER, NAMES.passport_in, NAMES.booking_requests)
        new = []
        for r in out:
            env = decode_record(r.value, r.headers, CODEC)
            if r.topic == NAMES.events("identity"):
                assert r.key == env.data["person_id"].encode()
                self.identity.append(env)
                new.append(env)
            elif r.topic == NAMES.booking_requests:
                self.booking.append(((r.key or b"").decode(), env))
            else:
                assert r.topic == NAMES.passport_in
                assert "ce_localworker" in headers_dict(r.headers) or not env.type.startswith("rosterhub.cred")
                self.passport.append(((r.key or b"").decode(), env))
        published = crosswalk.changes(store, offset)  # after the step's outputs, before the tables (the agent's order)
        self.crosswalk += published.records
        self.fences += published.fences
        if batched is None:
            write_tables(self.tables, store.writes)
        return new

    def person_of(self, worker_id: str) -> str | None:
        return self.tables["records"].get(worker_id, {}).get("p")

    def of_type(self, name: str) -> list[Envelope]:
        return [e for e in self.identity if e.type.endswith("." + name)]


def conflicted(dbs: str = "RCU:DBS:1", nmc: str = "71A2998E") -> tuple[Hub, str, str]:
    """Two people the data could not join: P (RHQ's ESR record, by NMC) and Q (RCU's, by match key, with the DBS
    credential ``dbs``), then a Patchwork record carrying both P's NMC and Q's match key."""
    hub = Hub()
    hub.feed(worker("esr:RHQ:1", nmc=nmc))
    hub.feed(worker("esr:RCU:2", mk=match_key("q")))
    hub.feed(credential("esr:RCU:2", dbs))
    hub.feed(worker("patchwork:RCU:3", nmc=nmc, mk=match_key("q")))
    p, q = hub.person_of("esr:RHQ:1"), hub.person_of("esr:RCU:2")
    assert p and q and p != q
    return hub, p, q
