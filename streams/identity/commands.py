"""Merge and split commands as records on ``_rosterhub.identity-in``.

A human's decision travels on the same single-partition topic as the worker and
credential events, so it is applied in one order with the data it is about, and the
topic (kept forever) is its audit trail: who, when, why. The record is CloudEvents
binary mode like every other record (``ce_id``, ``ce_type``, ``ce_source``, ``ce_time``)
with a small JSON body validated here, by the API and the CLI before sending, and by
the worker before applying.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from rosterhub.envelope import KafkaRecord, headers_dict
from rosterhub.errors import DecodeError

__all__ = [
    "COMMAND_TYPE_PREFIX",
    "Command",
    "MergeCommand",
    "ParsedCommand",
    "SplitCommand",
    "command_record",
    "is_command",
    "parse_command",
]

COMMAND_TYPE_PREFIX = "rosterhub.identity.command."
_Text = Annotated[str, Field(min_length=1, max_length=500)]


class MergeCommand(BaseModel):
    """``merge`` (the merged-away person) becomes part of ``into`` (the survivor)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["merge"] = "merge"
    into: _Text
    merge: _Text
    reason: _Text
    requested_by: _Text


class SplitCommand(BaseModel):
    """``records`` (local worker ids) leave ``person`` for a new (or revived) person."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["split"] = "split"
    person: _Text
    records: Annotated[list[_Text], Field(min_length=1)]
    reason: _Text
    requested_by: _Text


Command = Annotated[MergeCommand | SplitCommand, Field(discriminator="kind")]
_COMMAND: TypeAdapter[MergeCommand | SplitCommand] = TypeAdapter(Command)


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    command_id: str
    time: datetime
    source: str
    command: MergeCommand | SplitCommand


def command_record(
    cmd: MergeCommand | SplitCommand,
    topic: str,
    *,
    source: str,
    now: datetime | None = None,
    command_id: str | None = None,
) -> tuple[str, KafkaRecord]:
    """The record to produce (and its command id, which the resulting event names)."""
    command_id = command_id or str(uuid.uuid4())
    now = now or datetime.now(UTC)
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", command_id.encode()),
        ("ce_type", f"{COMMAND_TYPE_PREFIX}{cmd.kind}".encode()),
        ("ce_source", source.encode()),
        ("ce_time", now.astimezone(UTC).isoformat().encode()),
        ("content-type", b"application/json"),
    ]
    key = cmd.into if isinstance(cmd, MergeCommand) else cmd.person
    return command_id, KafkaRecord(topic, f"command:{key}".encode(), cmd.model_dump_json().encode(), headers)


def is_command(headers: Sequence[tuple[str, bytes]] | Mapping[str, bytes] | None) -> bool:
    return headers_dict(headers).get("ce_type", b"").decode(errors="replace").startswith(COMMAND_TYPE_PREFIX)


def parse_command(value: bytes, headers: Sequence[tuple[str, bytes]] | Mapping[str, bytes] | None) -> ParsedCommand:
    hdrs = {k: v.decode(errors="replace") for k, v in headers_dict(headers).items()}
    try:
        cmd = _COMMAND.validate_python(json.loads(value))
        time = datetime.fromisoformat(hdrs["ce_time"])
        return ParsedCommand(hdrs["ce_id"], time, hdrs.get("ce_source", ""), cmd)
    except (ValueError, KeyError, ValidationError) as exc:
        raise DecodeError(f"invalid identity command: {exc}", ce_id=hdrs.get("ce_id")) from exc
