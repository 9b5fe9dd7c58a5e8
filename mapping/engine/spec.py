"""A loaded mapping: everything ``apply_mapping`` needs, already checked and compiled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from jmespath.parser import ParsedResult

from rosterhub.codec.catalogue import EventSchema
from rosterhub.mapping.engine.expr import Node
from rosterhub.mapping.engine.model import FormatSpec
from rosterhub.mapping.functions import CodeList

__all__ = ["CheckPlan", "EventPlan", "MappingSpec", "SkipPlan"]


@dataclass(frozen=True, slots=True)
class CheckPlan:
    that: ParsedResult
    message: str
    where: str


@dataclass(frozen=True, slots=True)
class SkipPlan:
    when: ParsedResult
    reason: str
    where: str
    echo: bool = False  # a change the hub wrote, reported back by the platform (docs/outbound-adapters.md)


@dataclass(frozen=True, slots=True)
class EventPlan:
    """One event rule: when it applies, which schema, and how each field is made."""

    name: str
    where: str
    when: ParsedResult | None
    schema: EventSchema
    id_parts: Sequence[Node]
    lets: Mapping[str, Node]
    checks: Sequence[CheckPlan]
    fields: Mapping[str, Node]
    defaults: Mapping[str, object]  # schema defaults for fields the rule does not map
    go_on: bool


@dataclass(frozen=True, slots=True)
class MappingSpec:
    """A mapping file, loaded: ``vendor`` and ``format`` name what it reads."""

    vendor: str
    format: str
    path: Path
    description: str
    reader: FormatSpec
    trust: Node | None
    timezone: str
    constants: Mapping[str, object]
    codelists: Mapping[str, CodeList]
    secrets: Sequence[str]
    sensitive: frozenset[str]
    skips: Sequence[SkipPlan]
    unmatched: str
    events: Sequence[EventPlan]

    @property
    def event_types(self) -> list[str]:
        return sorted({e.schema.full_name for e in self.events})
