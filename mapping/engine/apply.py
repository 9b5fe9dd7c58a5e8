"""Apply a loaded mapping to one payload: pure, no I/O, the same code for CLI and connectors.

Every record ends in exactly one of three lists, so nothing is dropped silently:

* ``events``: the canonical events it became (usually one);
* ``rejected``: a :class:`Rejection` with the error (record, field, value, rule) and
  the record's own bytes, for the dead-letter topic;
* ``skipped``: records a ``skip`` rule (or ``unmatched: skip``) says are not for the
  hub, with that rule's reason.

A record is all or nothing: when one of its events fails, none of them is emitted.
Event ids are UUIDv5 over vendor, trust, event type and the rule's ``id`` parts, so a
redelivered record yields the same ids (downstream deduplicates on them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from fastavro.validation import ValidationError as AvroValidationError
from fastavro.validation import validate

from rosterhub.codec.catalogue import EventSchema
from rosterhub.envelope import event_id
from rosterhub.errors import ConfigError, MappingError, ParseError
from rosterhub.mapping.engine.build import named_types
from rosterhub.mapping.engine.expr import REDACTED_VALUE, Env, EvalError, KeyedValues, truthy
from rosterhub.mapping.engine.formats import SourceRecord, read_payload
from rosterhub.mapping.engine.limits import first_problem
from rosterhub.mapping.engine.spec import EventPlan, MappingSpec
from rosterhub.mapping.functions import ConversionError, RunContext
from rosterhub.mapping.functions.identifiers import normalise_ods

__all__ = ["MappedEvent", "MappingOutcome", "Rejection", "Skipped", "apply_mapping"]


@dataclass(frozen=True, slots=True)
class MappedEvent:
    type: str  # Avro full name, e.g. rosterhub.shift.v1.ShiftPosted
    data: dict[str, Any]  # ready for fastavro: aware datetimes, Decimal money, enum symbols as str
    id: str
    subject: str | None
    source: str  # /vendors/<vendor>/<trust ods>
    record_ref: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class Rejection:
    error: MappingError | ParseError
    record_ref: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class Skipped:
    record_ref: str
    reason: str
    rule: str
    raw: bytes
    echo: bool = False  # the skip rule says: the hub's own change reported back


@dataclass(slots=True)
class MappingOutcome:
    events: list[MappedEvent] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    #: keyed values derived from personal data, per record ref (expr.KeyedValues): kept with the redacted raw copy
    keyed: dict[str, dict[str, str]] = field(default_factory=dict)


class _RejectedError(Exception):
    def __init__(self, error: MappingError) -> None:
        self.error = error


def apply_mapping(
    spec: MappingSpec,
    payload: bytes,
    *,
    received_at: datetime,
    trust: str | None = None,
    secrets: Mapping[str, bytes] | None = None,
    keyed: Mapping[str, Mapping[str, str]] | None = None,
) -> MappingOutcome:
    """Map one payload. Bad input never raises: it becomes rejections. A missing secret does (configuration).

    ``keyed``: the keyed values kept with a redacted raw copy (``MappingOutcome.keyed`` of its first mapping),
    used instead of computing them again from personal fields the copy no longer holds.
    """
    if received_at.tzinfo is None:
        raise ConfigError("received_at must be an aware datetime")
    secrets = dict(secrets or {})
    missing = [s for s in spec.secrets if s not in secrets]
    if missing:
        raise ConfigError(f"mapping {spec.path.name} needs the secret(s) {', '.join(missing)}", file=str(spec.path))
    outcome = MappingOutcome()
    values = KeyedValues(given=keyed or {}, made=outcome.keyed)
    try:
        content = read_payload(spec.reader, payload, spec.sensitive)
    except ParseError as exc:
        outcome.rejected.append(Rejection(exc, "payload", payload))
        return outcome
    default_trust = trust.strip().upper() if trust else None
    for record in content.records:
        if record.error is not None:
            outcome.rejected.append(Rejection(record.error, record.ref, record.raw))
            continue
        variables = {
            **spec.constants,
            **content.variables,
            "vendor": spec.vendor,
            "received_at": received_at,
            "record_ref": record.ref,
        }
        ctx = RunContext(spec.vendor, default_trust, received_at, spec.timezone, spec.codelists, secrets)
        try:
            _map_record(spec, record, Env(ctx, variables, values), outcome)
        except _RejectedError as rej:
            outcome.rejected.append(Rejection(rej.error, record.ref, record.raw))
    return outcome


def _map_record(spec: MappingSpec, record: SourceRecord, base: Env, outcome: MappingOutcome) -> None:
    for skip in spec.skips:
        if truthy(skip.when, record.data):
            outcome.skipped.append(Skipped(record.ref, skip.reason, skip.where, record.raw, skip.echo))
            return
    default_trust = base.ctx.trust
    trust = _trust(spec, record, base.with_vars(trust=default_trust)) or default_trust
    if trust is None:
        raise _RejectedError(
            MappingError(
                "the record's trust is not known: the mapping has no trust for it and none was given (--trust)",
                record=record.ref,
                field="trust",
                rule="trust",
            )
        )
    env = Env(replace(base.ctx, trust=trust), {**base.vars, "trust": trust}, base.keyed)
    events: list[MappedEvent] = []
    for plan in spec.events:
        if plan.when is not None and not truthy(plan.when, record.data):
            continue
        events.append(_event(spec, plan, record, env))
        if not plan.go_on:
            break
    if not events:
        if spec.unmatched == "skip":
            outcome.skipped.append(Skipped(record.ref, "no event rule matches", "unmatched: skip", record.raw))
            return
        raise _RejectedError(
            MappingError(
                "no event rule matches this record",
                record=record.ref,
                rule=f"{spec.path.name} events (unmatched: reject)",
            )
        )
    outcome.events.extend(events)


def _trust(spec: MappingSpec, record: SourceRecord, env: Env) -> str | None:
    if spec.trust is None:
        return None
    try:
        value = spec.trust.evaluate(record.data, env)
        return None if value is None else normalise_ods(value)
    except EvalError as exc:
        error = MappingError(exc.message, record=record.ref, field="trust", value=exc.value, rule=exc.rule)
        raise _RejectedError(error) from None
    except ConversionError as exc:
        rule = f"{spec.trust.where} trust [{exc.rule}]"
        raise _RejectedError(MappingError(str(exc), record=record.ref, field="trust", value=None, rule=rule)) from None


def _event(spec: MappingSpec, plan: EventPlan, record: SourceRecord, env: Env) -> MappedEvent:
    ref = record.ref
    try:
        for name, node in plan.lets.items():
            env = env.with_vars(**{name: _eval(node, record, env, f"let.{name}")})
        for check in plan.checks:
            if not truthy(check.that, record.data):
                raise EvalError(check.message, value=None, rule=f"{check.where} check", field="")
        data = {name: _eval(node, record, env, name) for name, node in plan.fields.items()}
        parts = [_eval(node, record, env, "id") for node in plan.id_parts]
    except EvalError as exc:
        error = MappingError(exc.message, record=ref, field=exc.field or None, value=exc.value, rule=exc.rule)
        raise _RejectedError(error) from None
    schema = plan.schema
    for f in schema.parsed["fields"]:
        if data.get(f["name"]) is None and not _nullable(f["type"]):
            node = plan.fields[f["name"]]
            raise _RejectedError(
                MappingError(
                    f"{f['name']} is required but the mapping gave no value",
                    record=ref,
                    field=f["name"],
                    value=None,
                    rule=f"{node.where} {node.describe}",
                )
            )
    if any(p is None for p in parts):
        error = MappingError(
            "a part of the event id is empty", record=ref, field="id", value=parts, rule=f"{plan.where} id"
        )
        raise _RejectedError(error)
    _check_limits(data, ref, plan)
    _check_interval(data, ref, plan)
    _check_avro(data, ref, plan)
    subject = data.get(schema.subject_field)
    return MappedEvent(
        type=schema.full_name,
        data=data,
        id=event_id(spec.vendor, env.ctx.trust, schema.full_name, *parts),
        subject=None if subject is None else str(subject),
        source=f"/vendors/{spec.vendor}/{env.ctx.trust}",
        record_ref=ref,
        raw=record.raw,
    )


def _eval(node: Any, record: SourceRecord, env: Env, name: str) -> Any:
    try:
        return node.evaluate(record.data, env)
    except EvalError as exc:
        raise exc.within(name) from None


def _nullable(avro: Any) -> bool:
    return isinstance(avro, list) and "null" in avro


def _check_interval(data: dict[str, Any], ref: str, plan: EventPlan) -> None:
    start, end = data.get("start"), data.get("end")
    if isinstance(start, datetime) and isinstance(end, datetime) and end <= start:
        node = plan.fields["end"]
        raise _RejectedError(
            MappingError(
                f"end {end.isoformat()} is not after start {start.isoformat()}",
                record=ref,
                field="end",
                value=end.isoformat(),
                rule=f"{node.where} end_after_start",
            )
        )


_NAMED: dict[bytes, dict[str, Any]] = {}


def _named(schema: EventSchema) -> dict[str, Any]:
    """The schema's named types by full name (computed once per schema version)."""
    found = _NAMED.get(schema.fingerprint)
    if found is None:
        found = _NAMED[schema.fingerprint] = named_types(schema.parsed)
    return found


def _check_limits(data: dict[str, Any], ref: str, plan: EventPlan) -> None:
    problem = first_problem(data, plan.schema.parsed, _named(plan.schema), plan.fields)
    if problem is None:
        return
    node = problem.node
    rule = f"{node.where} {node.describe}" if node is not None else plan.where
    raise _RejectedError(
        MappingError(
            problem.message,
            record=ref,
            field=problem.path,
            value=REDACTED_VALUE if node is not None and node.sensitive else problem.value,
            rule=f"{rule} [{problem.check}]",
        )
    )


def _check_avro(data: dict[str, Any], ref: str, plan: EventPlan) -> None:
    try:
        validate(data, plan.schema.parsed, raise_errors=True)
    except AvroValidationError as exc:
        problems = [str(p) for p in _avro_problems(exc)]
        first = problems[0].removeprefix(plan.schema.full_name + ".")
        name = first.split(" ", 1)[0].split(".", 1)[0]
        node = plan.fields.get(name)
        rule = f"{node.where} {node.describe}" if node else plan.where
        raise _RejectedError(
            MappingError(
                f"the value does not fit the {plan.schema.name} schema: {'; '.join(problems)}",
                record=ref,
                field=name if node else None,
                value=data.get(name),
                rule=f"{rule} [avro]",
            )
        ) from None


def _avro_problems(exc: AvroValidationError) -> list[Any]:
    """fastavro's problems: a list, or (fastavro >= 1.9) that list as JSON text."""
    first = exc.args[0] if exc.args else None
    if isinstance(first, list):
        return first
    if isinstance(first, str) and first.lstrip().startswith("["):
        try:
            found = json.loads(first)
        except ValueError:
            return [exc]
        return found if isinstance(found, list) and found else [exc]
    return [exc]
