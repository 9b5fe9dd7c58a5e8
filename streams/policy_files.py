"""Reading a processor's policy files: YAML mappings, each validated by a pydantic model.

Booking, passport, payroll, availability and KPI policies all live in folders of ``*.yaml`` files that a
worker validates when it starts. They are read here, one way, so that whichever file is wrong the trust's IT
team gets the same kind of error: it names the file, the key (as dotted path) and pydantic's message.
Booking and payroll policies also share a layout: collaborative files that trust files extend, the trust's
keys merged over the collaborative's (:func:`load_extending`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar, cast

import yaml
from pydantic import AfterValidator, BaseModel, ValidationError, ValidationInfo

from rosterhub.errors import ConfigError
from rosterhub.events.codes import GRADES
from rosterhub.ods import ODS

__all__ = [
    "CollaborativeFile",
    "OdsCode",
    "OdsCodes",
    "TrustFile",
    "deep_merge",
    "known_grade",
    "load_extending",
    "rate_card",
    "read_mapping",
    "validated",
    "yaml_files",
]

M = TypeVar("M", bound=BaseModel)


def yaml_files(paths: Iterable[Path], *, missing_ok: bool = False) -> list[Path]:
    """Each folder's ``*.yaml`` and ``*.yml`` files, sorted, or the path itself when it is a file.

    ``missing_ok``: a path that does not exist is passed over (a processor whose policies are optional)."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
        elif p.exists() or not missing_ok:
            files.append(p)
    return files


def read_mapping(path: Path, what: str, shape: str) -> dict[str, Any]:
    """The YAML mapping in ``path``; ``what`` names the kind of file (``"booking policy"``) and ``shape`` the
    keys a file holds, for the error a file that is not a mapping gets."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {what} file: {exc}", file=str(path)) from exc
    if not isinstance(raw, dict):
        article = "an" if what[:1].lower() in "aeiou" else "a"
        raise ConfigError(f"{article} {what} file is a mapping with {shape}", file=str(path))
    return raw


def validated(model: type[M], raw: Mapping[str, Any], where: Path | str, what: str) -> M:
    """``raw`` as ``model``; an error names ``where`` (a file, or a file merged over another), the first bad key
    and how many keys are bad."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"] if p != "[key]") or None
        raise ConfigError(
            f"invalid {what}: {first['msg']}", file=str(where), key=key, errors=exc.error_count()
        ) from exc


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, mappings merged key by key; lists, scalars and an empty ``{}`` replace."""
    out = dict(base)
    for key, value in override.items():
        old = out.get(key)
        out[key] = (
            deep_merge(old, value) if isinstance(old, Mapping) and isinstance(value, Mapping) and value else value
        )
    return out


def known_grade(value: str, *, default: bool = False) -> str:
    """``value`` if it is a grade a policy may name: a national grade code or a trust-local X-<ODS>-<CODE> (and
    ``"default"`` in a table that has a default row)."""
    if not (GRADES.accepts(value) or (default and value == "default")):
        raise ValueError(f"unknown grade {value!r} (see docs/events.md, or use X-<ODS>-<CODE>)")
    return value


def rate_card(card: dict[str, Decimal], *, rate: str, default: bool = False) -> dict[str, Decimal]:
    """``card`` (grade -> GBP per hour) if its grades are known (:func:`known_grade`) and its rates positive;
    ``rate`` names the rate in the error."""
    for grade, value in card.items():
        known_grade(grade, default=default)
        if value <= 0:
            raise ValueError(f"{rate} for {grade} must be positive, got {value}")
    return card


def _ods_code(value: str, info: ValidationInfo) -> str:
    if not ODS.match(value):
        raise ValueError(f"{info.field_name} must be an ODS code (3-5 upper-case characters), got {value!r}")
    return value


def _ods_codes(values: list[str], info: ValidationInfo) -> list[str]:
    bad = [v for v in values if not ODS.match(v)]
    if bad:
        raise ValueError(f"{info.field_name} must be ODS codes, got {bad}")
    return values


#: A trust's ODS code in a policy file (``trust:``).
OdsCode = Annotated[str, AfterValidator(_ods_code)]
#: A list of trusts' ODS codes in a policy file (``members:``, ``issuers:``).
OdsCodes = Annotated[list[str], AfterValidator(_ods_codes)]


class CollaborativeFile(Protocol):
    """What :func:`load_extending` reads of a validated ``kind: collaborative`` file."""

    @property
    def id(self) -> str: ...

    @property
    def members(self) -> list[str]: ...


class TrustFile(Protocol):
    """What :func:`load_extending` reads of a validated trust file."""

    @property
    def trust(self) -> str: ...

    @property
    def extends(self) -> str | None: ...


P = TypeVar("P", bound=BaseModel)

#: Keys that say what a file is and where it belongs, never merged into a policy.
_HEADER = frozenset({"kind", "id", "extends", "members"})
_SHAPE = "kind: trust or kind: collaborative"


def _members(collaborative: CollaborativeFile) -> Collection[str]:
    return collaborative.members


def load_extending(
    paths: Iterable[Path],
    what: str,
    *,
    collaborative: type[BaseModel],
    trust: type[BaseModel],
    policy: type[P],
    may_extend: Callable[[Any], Collection[str]] = _members,
    not_inherited: frozenset[str] = frozenset(),
    collaborative_only: frozenset[str] = frozenset(),
) -> dict[str, P]:
    """Every trust's effective ``policy``, by ODS code: its file (validated as ``trust``) merged over the
    collaborative file it ``extends`` (validated as ``collaborative``), and the merge validated again.

    ``may_extend``: the trusts that may extend a collaborative (default: its members), given the validated
    ``collaborative``; ``not_inherited``: the
    collaborative's keys a trust does not take over; ``collaborative_only``: keys a trust that extends a
    collaborative may not set. The policy also gets ``trust``, ``collaborative``, ``members`` and a
    ``fingerprint`` of what was merged, which changes whenever the effective policy does.
    """
    raws = [(f, read_mapping(f, what, _SHAPE)) for f in yaml_files(paths)]
    collaboratives: dict[str, tuple[Path, dict[str, Any], CollaborativeFile]] = {}
    for f, raw in raws:
        if raw.get("kind") == "collaborative":
            parsed = cast(CollaborativeFile, validated(collaborative, raw, f, what))
            if parsed.id in collaboratives:
                raise ConfigError(f"two files for collaborative {parsed.id}", file=str(f), key="id")
            collaboratives[parsed.id] = (f, raw, parsed)
    trusts: dict[str, P] = {}
    for f, raw in raws:
        if raw.get("kind") == "collaborative":
            continue
        own = cast(TrustFile, validated(trust, raw, f, what))
        if own.trust in trusts:
            raise ConfigError(f"two {what} files for trust {own.trust}", file=str(f), key="trust")
        base: dict[str, Any] = {}
        members: tuple[str, ...] = ()
        where = str(f)
        if own.extends is not None:
            if own.extends not in collaboratives:
                raise ConfigError(f"extends unknown collaborative {own.extends!r}", file=str(f), key="extends")
            cfile, craw, collab = collaboratives[own.extends]
            if own.trust not in may_extend(collab):
                raise ConfigError(
                    f"{own.trust} is not listed in members of {collab.id} ({cfile}); a trust that is not a member "
                    "may not extend it",
                    file=str(f),
                    key="trust",
                )
            base = {k: v for k, v in craw.items() if k not in _HEADER | not_inherited}
            members, where = tuple(collab.members), f"{f} (merged over {cfile})"
            if collaborative_only & raw.keys():
                keys = " and ".join(sorted(collaborative_only))
                raise ConfigError(f"{keys} are the collaborative's, not a trust's", file=str(f))
        merged = deep_merge(base, {k: v for k, v in raw.items() if k not in _HEADER})
        digest = hashlib.sha256(yaml.safe_dump(merged, sort_keys=True).encode()).hexdigest()[:12]
        merged |= {"trust": own.trust, "collaborative": own.extends, "members": members, "fingerprint": digest}
        trusts[own.trust] = validated(policy, merged, where, what)
    return trusts
