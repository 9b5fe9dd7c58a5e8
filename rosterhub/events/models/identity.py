"""Generated from schemas/avro by rosterhub.events.codegen: do not edit, run `rosterhub schemas gen`.

Events of the identity domain.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from rosterhub.events.base import AvroEvent, UtcInstant
from rosterhub.events.models.common import Identifier

__all__ = [
    "ConflictKind",
    "IdentityConflict",
    "LinkMatch",
    "PersonLinked",
    "PersonSplit",
    "PersonsMerged",
]


class ConflictKind(StrEnum):
    """REGISTER_NUMBERS_DIFFER: two different numbers of one register claim one record (in one event, or against
    the person's other records); REGISTER_NUMBER_SHARED: one register number points at another person already
    distinct; MATCH_KEY_DISAGREES: the identity_match_key points at a different person than the register number;
    VENDOR_ID_DISAGREES: a platform id points at a different person. OTHER is the reader default.
    """

    REGISTER_NUMBERS_DIFFER = "REGISTER_NUMBERS_DIFFER"
    REGISTER_NUMBER_SHARED = "REGISTER_NUMBER_SHARED"
    MATCH_KEY_DISAGREES = "MATCH_KEY_DISAGREES"
    VENDOR_ID_DISAGREES = "VENDOR_ID_DISAGREES"
    OTHER = "OTHER"


class IdentityConflict(AvroEvent):
    """Identifiers disagree about who a worker is. Identity resolution never merges on its own: it raises the
    conflict once, keeps the records where they are, and lists it for a human, who merges or splits
    (PersonsMerged / PersonSplit name the conflicts they resolve). Carries record ids and identifiers only,
    never personal data.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.identity.v1.IdentityConflict"

    conflict_id: str
    """Stable id (UUIDv5 of kind, record, people and identifiers): the same disagreement seen again is the same
    conflict.
    """

    person_id: str
    """Person the record in question belongs to (partition key)."""

    kind: ConflictKind
    """What disagrees."""

    worker_id: str
    """Local worker id of the record whose event raised the conflict."""

    person_ids: list[str] = Field(default_factory=list)
    """Every person involved, the record's own first."""

    worker_ids: list[str] = Field(default_factory=list)
    """Every local record involved: the raising record and the records of the other people that present the
    disputed identifiers.
    """

    identifiers: list[Identifier] = Field(default_factory=list)
    """The disputed register numbers or vendor ids."""

    match_key_involved: bool = False
    """True when the identity_match_key is one of the disputed identifiers (its value is never repeated here)."""

    detail: str | None = None
    """One line for the human who resolves it; never personal data."""

    raised_at: UtcInstant
    """Time of the input that raised it."""

    sequence: int = 0
    """Offset on _rosterhub.identity-in of the input (worker event, credential or command) that caused this event:
    one total order across partitions, so a consumer folding events.identity keeps, per record, the link with
    the highest sequence.
    """


class LinkMatch(StrEnum):
    """Why the record joined this person: NEW_PERSON (nothing matched, a new person was created), REGISTER_NUMBER
    (a professional register number), MATCH_KEY (the ESR-style identity_match_key), VENDOR_ID (a platform id the
    person already carried), MERGE or SPLIT (a human command). NEW_PERSON is the reader default.
    """

    NEW_PERSON = "NEW_PERSON"
    REGISTER_NUMBER = "REGISTER_NUMBER"
    MATCH_KEY = "MATCH_KEY"
    VENDOR_ID = "VENDOR_ID"
    MERGE = "MERGE"
    SPLIT = "SPLIT"


class PersonLinked(AvroEvent):
    """Identity resolution linked a local worker record (one platform's record at one trust) to a hub person: the
    crosswalk from (vendor, trust, local id) to person id, one event per link. Emitted when a record is first
    seen, and again when a human merge or split moves it to another person.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.identity.v1.PersonLinked"

    person_id: str
    """Hub person id the record now belongs to: p-<uuid5>, derived from the first identity key that created the
    person.
    """

    worker_id: str
    """Local worker id of the record: <vendor>:<trust ods>:<vendor worker id>."""

    previous_person_id: str | None = None
    """Person the record belonged to before a merge or split; null when the record is new."""

    match: LinkMatch
    """What the link rests on."""

    identifiers: list[Identifier] = Field(default_factory=list)
    """Register numbers and vendor ids of the record that identity resolution accepted for this person (never the
    identity_match_key).
    """

    linked_at: UtcInstant
    """Time of the input (worker event or command) that made the link, so a replay gives identical events."""

    sequence: int = 0
    """Offset on _rosterhub.identity-in of the input (worker event, credential or command) that caused this event:
    one total order across partitions, so a consumer folding events.identity keeps, per record, the link with
    the highest sequence.
    """


class PersonSplit(AvroEvent):
    """A human decided some records of a hub person belong to someone else: they move to a new person (or back to
    the person an earlier merge absorbed, when exactly those records came from it), with their credentials.
    Reversible by merging the two again. Also sent to _rosterhub.passport-in keyed by person_id, so the passport
    drops the credentials that left.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.identity.v1.PersonSplit"

    person_id: str
    """The person split (it keeps its other records)."""

    new_person_id: str
    """The person the records moved to."""

    revived: bool = False
    """True when new_person_id is a person merged away earlier and now restored (the split undoes that merge)."""

    worker_ids: list[str] = Field(default_factory=list)
    """Local records moved to new_person_id."""

    credential_ids: list[str] = Field(default_factory=list)
    """Credentials of those records, re-published on _rosterhub.passport-in under new_person_id."""

    resolves: list[str] = Field(default_factory=list)
    """Ids of the open conflicts involving the split person that this decision closes."""

    command_id: str
    """Id of the split command record on _rosterhub.identity-in (the audit trail)."""

    reason: str
    """Why, as written by the human; never personal data."""

    requested_by: str
    """Who decided (user id of the identity administrator)."""

    split_at: UtcInstant
    """When the command was given."""

    sequence: int = 0
    """Offset on _rosterhub.identity-in of the input (worker event, credential or command) that caused this event:
    one total order across partitions, so a consumer folding events.identity keeps, per record, the link with
    the highest sequence.
    """


class PersonsMerged(AvroEvent):
    """A human decided two hub people are one: every record of the merged person now belongs to the surviving
    person, whose passport receives the merged person's credentials again. Reversible: splitting the same
    records off the survivor revives the merged person id. Also sent to _rosterhub.passport-in keyed by the
    merged person id, so the passport drops that key.
    """

    AVRO_NAME: ClassVar[str] = "rosterhub.identity.v1.PersonsMerged"

    person_id: str
    """The surviving person."""

    merged_person_id: str
    """The person merged away; from now on an alias of person_id."""

    worker_ids: list[str] = Field(default_factory=list)
    """Local records moved to the surviving person."""

    credential_ids: list[str] = Field(default_factory=list)
    """Credentials of those records, re-published on _rosterhub.passport-in under the surviving person."""

    resolves: list[str] = Field(default_factory=list)
    """Ids of the open conflicts involving either person that this decision closes."""

    command_id: str
    """Id of the merge command record on _rosterhub.identity-in (the audit trail)."""

    reason: str
    """Why, as written by the human; never personal data."""

    requested_by: str
    """Who decided (user id of the identity administrator)."""

    merged_at: UtcInstant
    """When the command was given."""

    sequence: int = 0
    """Offset on _rosterhub.identity-in of the input (worker event, credential or command) that caused this event:
    one total order across partitions, so a consumer folding events.identity keeps, per record, the link with
    the highest sequence.
    """
