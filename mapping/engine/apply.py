"""Apply a loaded mapping to one payload: pure, no I/O, the same code for CLI and connectors.

Every record ends in exactly one of three lists, so nothing is dropped silently:

* ``events``: the canonical events it became (usually one);
* ``rejected``: a :class:`Rejection` with the error (record, field, value, rule) and
  the record's own bytes, for the dead-letter topic;
* ``skipped``: records a ``skip`` rule (or ``unmatched: skip``) says are not for the
  hub, with that rule's reason.

A record is all or nothing: when one of its events fails, none of them is emitted. Every
failure of the record is reported at once (``MappingError.problems``): each ``let``, field
and id part is evaluated even after another failed, except those that read a ``let`` value
that failed (their error would only repeat it). Errors name the vendor's field and value
(:func:`~rosterhub.mapping.engine.expr.vendor_side`) and, as ``target``, what the mapping was
making from it. Event ids are UUIDv5 over vendor, trust, event type and the rule's ``id`` parts, so a
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

from rosterhub.codec.catalogue import EventSchema, expand_record_schema
from rosterhub.envelope import event_id
from rosterhub.errors import ConfigError, MappingError, ParseError
from rosterhub.mapping.engine.build import named_types
from rosterhub.mapping.engine.expr import REDACTED_VALUE, Env, EvalError, KeyedValues, truthy, vendor_side
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
    error: MappingError | ParseError  # the first problem; a MappingError carries them all in ``problems``
    record_ref: str
    raw: bytes

    @property
    def errors(self) -> tuple[MappingError | ParseError, ...]:
        """Every problem of the record, in the order the mapping file states them."""
        return self.error.problems if isinstance(self.error, MappingError) else (self.error,)


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
    problems: list[MappingError] = []
    matched = False
    for plan in spec.events:
        if plan.when is not None and not truthy(plan.when, record.data):
            continue
        matched = True
        try:
            events.append(_event(spec, plan, record, env))
        except _RejectedError as rej:  # the record is rejected; the following rules still report their problems
            problems += rej.error.problems
        if not plan.go_on:
            break
    if problems:
        raise _RejectedError(MappingError.of(_distinct(problems)))
    if not matched:
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


def _distinct(problems: list[MappingError]) -> list[MappingError]:
    """One problem per fault of the vendor's: a bad date read by both ``let.start`` and ``let.end`` is one
    problem naming both targets."""
    out: dict[tuple[str, str | None, str], MappingError] = {}
    for p in problems:
        key = (p.message, p.field, repr(p.value))
        first = out.get(key)
        if first is None:
            out[key] = p
        elif p.target and first.target and p.target not in first.target.split(", "):
            first.target = f"{first.target}, {p.target}"
            first.context["target"] = first.target
    return list(out.values())


def _trust(spec: MappingSpec, record: SourceRecord, env: Env) -> str | None:
    if spec.trust is None:
        return None
    try:
        value = spec.trust.evaluate(record.data, env)
        return None if value is None else normalise_ods(value)
    except EvalError as exc:
        raise _RejectedError(_problem(exc.within("trust"), record)) from None
    except ConversionError as exc:
        rule = f"{spec.trust.where} trust [{exc.rule}]"
        side = vendor_side(spec.trust, record.data, record.data, env)
        raise _RejectedError(
            MappingError(
                str(exc), record=record.ref, field=side.field or "trust", value=side.value, rule=rule, target="trust"
            )
        ) from None


def _problem(exc: EvalError, record: SourceRecord) -> MappingError:
    """An evaluation failure in the vendor's words: their field and value; what the mapping made, as ``target``."""
    side = vendor_side(exc.node, exc.data, record.data, exc.env)
    field = (exc.prefix + side.field) if side.field and exc.data is not record.data and exc.prefix else side.field
    return MappingError(
        exc.message,
        record=record.ref,
        field=field or exc.field or None,
        value=exc.value if exc.value == REDACTED_VALUE or not side.field else side.value,
        rule=exc.rule,
        target=exc.field or None,
    )


def _event(spec: MappingSpec, plan: EventPlan, record: SourceRecord, env: Env) -> MappedEvent:
    ref = record.ref
    problems: list[MappingError] = []
    failed: set[str] = set()  # let values that could not be made: what reads them is not evaluated

    def attempt(node: Any, name: str) -> tuple[bool, Any]:
        if node.uses & failed:
            return False, None
        try:
            return True, node.evaluate(record.data, env)
        except EvalError as exc:
            problems.append(_problem(exc.within(name), record))
            return False, None

    for name, node in plan.lets.items():
        made, value = attempt(node, f"let.{name}")
        if not made:
            failed.add(name)
        env = env.with_vars(**{name: value})
    for check in plan.checks:
        if not truthy(check.that, record.data):
            problems.append(MappingError(check.message, record=ref, rule=f"{check.where} check", target="checks"))
    data: dict[str, Any] = {}
    for name, node in plan.fields.items():
        made, value = attempt(node, name)
        if made:
            data[name] = value
    parts = [attempt(node, "id") for node in plan.id_parts]
    schema = plan.schema
    for f in schema.parsed["fields"]:
        if f["name"] in data and data[f["name"]] is None and not _nullable(f["type"]):
            node = plan.fields[f["name"]]
            side = vendor_side(node, record.data, record.data, env)
            problems.append(
                MappingError(
                    f"{f['name']} is required but the mapping gave no value"
                    + (f" (nothing in {side.field})" if side.field else ""),
                    record=ref,
                    field=side.field or f["name"],
                    value=None,
                    rule=f"{node.where} {node.describe}",
                    target=f["name"],
                )
            )
    if all(made for made, _ in parts) and any(p is None for _, p in parts):
        values = [p for _, p in parts]
        problems.append(
            MappingError(
                "a part of the event id is empty", record=ref, field="id", value=values, rule=f"{plan.where} id"
            )
        )
    problems += _check_limits(data, record, plan, env, skip=_targets(problems))
    problems += _check_interval(data, record, plan, env)
    problems += _check_avro(data, ref, plan, skip=_targets(problems))
    if problems:
        raise _RejectedError(MappingError.of(problems))
    subject = data.get(schema.subject_field)
    return MappedEvent(
        type=schema.full_name,
        data=data,
        id=event_id(spec.vendor, env.ctx.trust, schema.full_name, *(p for _, p in parts)),
        subject=None if subject is None else str(subject),
        source=f"/vendors/{spec.vendor}/{env.ctx.trust}",
        record_ref=ref,
        raw=record.raw,
    )


def _nullable(avro: Any) -> bool:
    return isinstance(avro, list) and "null" in avro


def _check_interval(data: dict[str, Any], record: SourceRecord, plan: EventPlan, env: Env) -> list[MappingError]:
    start, end = data.get("start"), data.get("end")
    if not (isinstance(start, datetime) and isinstance(end, datetime) and end <= start):
        return []
    node = plan.fields["end"]
    side = vendor_side(node, record.data, record.data, env)
    return [
        MappingError(
            f"end {end.isoformat()} is not after start {start.isoformat()}",
            record=record.ref,
            field=side.field or "end",
            value=side.value if side.field else end.isoformat(),
            rule=f"{node.where} end_after_start",
            target="end",
        )
    ]


_NAMED: dict[bytes, dict[str, Any]] = {}


def _named(schema: EventSchema) -> dict[str, Any]:
    """The schema's named types by full name (computed once per schema version)."""
    found = _NAMED.get(schema.fingerprint)
    if found is None:
        found = _NAMED[schema.fingerprint] = named_types(schema.parsed)
    return found


def _targets(problems: list[MappingError]) -> set[str]:
    """The event fields (top level) that already failed: they are not checked again."""
    out = set()
    for p in problems:
        for target in (p.target or "").split(", "):
            if target:
                out.add(target.split(".", 1)[0].split("[", 1)[0])
    return out


_GONE = object()


def _check_limits(
    data: dict[str, Any], record: SourceRecord, plan: EventPlan, env: Env, skip: set[str]
) -> list[MappingError]:
    """Every event field with a value over a limit (length, characters, items): the first such value of each,
    in the vendor's words when the field reads one of the vendor's fields directly."""
    out: list[MappingError] = []
    checked = {name: value for name, value in data.items() if name not in skip}
    while (problem := first_problem(checked, plan.schema.parsed, _named(plan.schema), plan.fields)) is not None:
        top = problem.path.split(".", 1)[0].split("[", 1)[0]
        if checked.pop(top, _GONE) is _GONE:
            break  # a problem is always in a field still checked; never loop on one that is not
        node = problem.node
        rule = f"{node.where} {node.describe}" if node is not None else plan.where
        direct = node is not None and node is plan.fields.get(problem.path)
        side = vendor_side(node, record.data, record.data, env) if direct else None
        out.append(
            MappingError(
                problem.message,
                record=record.ref,
                field=side.field if side is not None and side.field else problem.path,
                value=REDACTED_VALUE if node is not None and node.sensitive else problem.value,
                rule=f"{rule} [{problem.check}]",
                target=problem.path,
            )
        )
    return out


_EXPANDED: dict[bytes, dict[str, Any]] = {}


def _field_types(schema: EventSchema) -> dict[str, Any]:
    """Each field's Avro type with every named type written out, so one field can be validated on its own."""
    found = _EXPANDED.get(schema.fingerprint)
    if found is None:
        fields = expand_record_schema(schema.parsed)["fields"]
        found = _EXPANDED[schema.fingerprint] = {f["name"]: f["type"] for f in fields}
    return found


def _check_avro(data: dict[str, Any], ref: str, plan: EventPlan, skip: set[str]) -> list[MappingError]:
    """Every field that does not fit the schema (fields that already failed are not checked again).

    The whole record is validated first (one call, the usual case); only when that fails, or
    when some fields are missing because they failed, is each field validated on its own.
    """
    if not skip and len(data) == len(plan.fields):
        try:
            validate(data, plan.schema.parsed, raise_errors=True)
            return []
        except AvroValidationError:
            pass
    out = []
    types = _field_types(plan.schema)
    for name, value in data.items():
        if name in skip or name not in types:
            continue
        try:
            validate(value, types[name], field=f"{plan.schema.full_name}.{name}", raise_errors=True)
        except AvroValidationError as exc:
            problems = [str(p).removeprefix(plan.schema.full_name + ".") for p in _avro_problems(exc)]
            node = plan.fields.get(name)
            rule = f"{node.where} {node.describe}" if node else plan.where
            out.append(
                MappingError(
                    f"the value does not fit the {plan.schema.name} schema: {'; '.join(problems)}",
                    record=ref,
                    field=(node.source if node is not None and node.source else name),
                    value=REDACTED_VALUE if node is not None and node.sensitive else value,
                    rule=f"{rule} [avro]",
                    target=name,
                )
            )
    return out


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
