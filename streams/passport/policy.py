"""Trust policies as configuration: which credentials a role needs and whose checks a trust accepts.

One YAML file per trust (``policies/RHQ.yaml``) and optionally one per collaborative
(``policies/collaborative.yaml``) that trusts ``extends``. Files are validated with the
pydantic models below when the worker starts (and by ``rosterhub passport policy-check``),
so a typo in a trust's agreement stops the worker instead of silently refusing staff.

A trust inherits the collaborative's ``cstf_renewal``, ``max_age``, ``verification_exempt``
and ``requirements``; its own values override per key (renewal, max age) or add to the
list (requirements). Periods are ISO 8601 durations (``P1Y``, ``P6M``, ``P30D``) applied
to Europe/London calendar dates, because "renew every year" means the same date next year.
Nothing here is a constant of the code: every period and agreement comes from the files.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rosterhub.errors import ConfigError
from rosterhub.events.codes import CREDENTIAL_ATTRIBUTES, CSTF_SUBJECTS, GRADES
from rosterhub.events.models.common import CredentialType, StaffGroup
from rosterhub.instants import LONDON
from rosterhub.streams.policy_files import OdsCode, OdsCodes, read_mapping, validated, yaml_files

__all__ = [
    "CREDENTIAL_TYPES",
    "STAFF_GROUPS",
    "Agreement",
    "CollaborativePolicy",
    "CredentialRequirement",
    "Period",
    "PolicySet",
    "RequirementRule",
    "TrustPolicy",
    "VcIssuer",
    "add_period",
    "load_policies",
    "parse_policy_file",
]


#: Symbols of rosterhub.common.v1.CredentialType and StaffGroup, in schema order, from the generated enums.
CREDENTIAL_TYPES: tuple[str, ...] = tuple(t.value for t in CredentialType)
STAFF_GROUPS: tuple[str, ...] = tuple(g.value for g in StaffGroup)
_PERIOD = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


@dataclass(frozen=True, slots=True)
class Period:
    """An ISO 8601 calendar period (years, months, days); no time part: policies speak in dates."""

    years: int = 0
    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> Period:
        m = _PERIOD.match(text.strip()) if isinstance(text, str) else None
        if not m or not any(m.groups()):
            raise ValueError(f"{text!r} is not an ISO 8601 period like P1Y, P6M, P2W or P30D")
        y, mo, w, d = (int(g) if g else 0 for g in m.groups())
        return cls(y, mo, d + 7 * w)

    def __str__(self) -> str:
        return "P" + "".join(f"{n}{u}" for n, u in ((self.years, "Y"), (self.months, "M"), (self.days, "D")) if n)


def add_period(instant: datetime, period: Period) -> datetime:
    """``instant`` + ``period`` on the Europe/London calendar (29 Feb + P1Y = 28 Feb), returned aware."""
    local = instant.astimezone(LONDON)
    month_index = local.month - 1 + period.months + 12 * period.years
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, _days_in_month(year, month))
    moved = local.replace(year=year, month=month, day=day, tzinfo=None)
    return (moved + timedelta(days=period.days)).replace(tzinfo=LONDON)


def _days_in_month(year: int, month: int) -> int:
    nxt = datetime(year + (month == 12), month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


def _period(value: Any) -> Period:
    return value if isinstance(value, Period) else Period.parse(str(value))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class CredentialRequirement(_Model):
    """One credential a role needs: a type, for CSTF a subject and minimum level, and attribute values."""

    type: str
    cstf_subject: str | None = None
    level: int | None = Field(default=None, ge=1, le=3, description="Minimum CSTF level (a higher level counts).")
    attributes: dict[str, list[str]] = Field(default_factory=dict, description="Attribute key -> accepted values.")

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v not in CREDENTIAL_TYPES:
            raise ValueError(f"unknown credential type {v!r}; known: {', '.join(CREDENTIAL_TYPES)}")
        return v

    @field_validator("cstf_subject")
    @classmethod
    def _known_subject(cls, v: str | None) -> str | None:
        if v is not None and not CSTF_SUBJECTS.accepts(v):
            raise ValueError(f"unknown CSTF subject {v!r}")
        return v

    @field_validator("attributes")
    @classmethod
    def _known_attributes(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for key in v:
            if not CREDENTIAL_ATTRIBUTES.accepts(key):
                known = ", ".join(CREDENTIAL_ATTRIBUTES.codes)
                raise ValueError(f"unknown credential attribute {key!r}; known: {known}")
        return v

    @model_validator(mode="after")
    def _cstf_needs_subject(self) -> CredentialRequirement:
        if (self.type == "CSTF_TRAINING") != (self.cstf_subject is not None):
            raise ValueError("cstf_subject is required for CSTF_TRAINING and only for it")
        return self

    @property
    def key(self) -> str:
        """A stable, readable id of the requirement (used in answers and reason lists)."""
        parts = [self.type]
        if self.cstf_subject:
            parts.append(self.cstf_subject + (f"@L{self.level}" if self.level else ""))
        parts += [f"{k}={'|'.join(sorted(vs))}" for k, vs in sorted(self.attributes.items())]
        return ":".join(parts)


class RequirementRule(_Model):
    """Credentials required of everyone in ``staff_groups`` at ``grades`` (``"*"``: all)."""

    name: str
    staff_groups: list[str] | Literal["*"] = "*"
    grades: list[str] | Literal["*"] = "*"
    credentials: list[CredentialRequirement]

    @field_validator("staff_groups")
    @classmethod
    def _groups(cls, v: list[str] | str) -> list[str] | str:
        bad = [g for g in v if g not in STAFF_GROUPS] if isinstance(v, list) else []
        if bad:
            raise ValueError(f"unknown staff group(s) {bad}; known: {', '.join(STAFF_GROUPS)}")
        return v

    @field_validator("grades")
    @classmethod
    def _grades(cls, v: list[str] | str) -> list[str] | str:
        bad = [g for g in v if not GRADES.accepts(g)] if isinstance(v, list) else []
        if bad:
            raise ValueError(f"unknown grade(s) {bad}")
        return v

    def applies(self, staff_group: str, grade: str) -> bool:
        return (self.staff_groups == "*" or staff_group in self.staff_groups) and (
            self.grades == "*" or grade in self.grades
        )


class Agreement(_Model):
    """A memorandum of understanding: this trust accepts these issuers' checks of these types."""

    id: str = Field(description="MoU reference, recorded with every acceptance it makes.")
    issuers: OdsCodes
    credential_types: list[str]
    max_age: dict[str, Period] = Field(default_factory=dict, description="Tighter age limits under this agreement.")

    @field_validator("max_age", mode="before")
    @classmethod
    def _parse_max_age(cls, v: Any) -> dict[str, Period]:
        return {k: _period(p) for k, p in (v or {}).items()}

    @field_validator("credential_types")
    @classmethod
    def _types(cls, v: list[str]) -> list[str]:
        bad = [t for t in v if t not in CREDENTIAL_TYPES]
        if bad:
            raise ValueError(f"unknown credential type(s) {bad}")
        return v


class VcIssuer(_Model):
    """The trust's own verifiable-credential issuer: its issuer URI and public keys (JWK, no private parts)."""

    id: str = Field(description="Issuer URI as it appears in the credential's `issuer`/`iss`.")
    keys: list[dict[str, Any]] = Field(min_length=1)

    @field_validator("keys")
    @classmethod
    def _public_only(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for jwk in v:
            if "d" in jwk:
                raise ValueError("a policy holds public keys only: remove the private part 'd'")
            if (jwk.get("kty"), jwk.get("crv")) not in {("EC", "P-256"), ("OKP", "Ed25519")}:
                raise ValueError("keys must be EC P-256 (ES256) or OKP Ed25519 (EdDSA) JWKs")
        return v


class _Common(_Model):
    name: str | None = None
    cstf_renewal: dict[str, Period | dict[int, Period]] = Field(default_factory=dict)
    max_age: dict[str, Period] = Field(default_factory=dict)
    verification_exempt: list[str] = Field(
        default_factory=list, description="Credential types that count without a passing verification."
    )
    requirements: list[RequirementRule] = Field(default_factory=list)

    @field_validator("cstf_renewal", mode="before")
    @classmethod
    def _renewal(cls, v: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for subject, p in (v or {}).items():
            if not CSTF_SUBJECTS.accepts(subject):
                raise ValueError(f"unknown CSTF subject {subject!r}")
            out[subject] = {int(lv): _period(x) for lv, x in p.items()} if isinstance(p, Mapping) else _period(p)
        return out

    @field_validator("max_age", mode="before")
    @classmethod
    def _max_age(cls, v: Any) -> dict[str, Period]:
        out = {k: _period(p) for k, p in (v or {}).items()}
        bad = [k for k in out if k not in CREDENTIAL_TYPES]
        if bad:
            raise ValueError(f"unknown credential type(s) {bad}")
        return out


class CollaborativePolicy(_Common):
    kind: Literal["collaborative"]
    id: str


class TrustPolicy(_Common):
    """One trust's effective policy (after merging the collaborative it extends)."""

    kind: Literal["trust"] = "trust"
    trust: OdsCode
    extends: str | None = None
    agreements: list[Agreement] = Field(default_factory=list)
    vc_issuer: VcIssuer | None = None
    fingerprint: str = ""

    def accepts(self, issuer: str | None, credential_type: str) -> Agreement | Literal[True] | None:
        """``True`` for the trust's own checks, the agreement for a partner's, ``None`` when not accepted."""
        if issuer == self.trust:
            return True
        for agreement in self.agreements:
            if issuer in agreement.issuers and credential_type in agreement.credential_types:
                return agreement
        return None

    def rules_for(self, staff_group: str, grade: str) -> list[RequirementRule]:
        return [r for r in self.requirements if r.applies(staff_group, grade)]

    def renewal(self, subject: str | None, level: int | None) -> Period | None:
        entry = self.cstf_renewal.get(subject or "")
        if isinstance(entry, dict):
            return entry.get(level or 1) or (entry[max(entry)] if entry else None)
        return entry


@dataclass(frozen=True)
class PolicySet:
    """Every trust's effective policy, by ODS code; what the passport is configured with."""

    trusts: Mapping[str, TrustPolicy]

    def get(self, trust: str) -> TrustPolicy | None:
        return self.trusts.get(trust)

    def vc_issuers(self) -> dict[str, tuple[str, VcIssuer]]:
        """Issuer URI -> (ODS code of the trust that issues with it, keys)."""
        return {p.vc_issuer.id: (ods, p.vc_issuer) for ods, p in self.trusts.items() if p.vc_issuer}

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256("".join(p.fingerprint for _, p in sorted(self.trusts.items())).encode()).hexdigest()[:12]


_WHAT = "passport policy"


def parse_policy_file(path: Path) -> CollaborativePolicy | TrustPolicy:
    """Read and validate one file; errors name the file and the offending key."""
    raw = read_mapping(path, _WHAT, "kind: trust or kind: collaborative")
    policy: CollaborativePolicy | TrustPolicy = (
        validated(CollaborativePolicy, raw, path, _WHAT)
        if raw.get("kind") == "collaborative"
        else validated(TrustPolicy, raw, path, _WHAT)
    )
    if isinstance(policy, TrustPolicy):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        policy = policy.model_copy(update={"fingerprint": digest})
    return policy


def _merge(trust: TrustPolicy, base: CollaborativePolicy | None) -> TrustPolicy:
    if base is None:
        return trust
    names = {r.name for r in trust.requirements}
    return trust.model_copy(
        update={
            "cstf_renewal": {**base.cstf_renewal, **trust.cstf_renewal},
            "max_age": {**base.max_age, **trust.max_age},
            "verification_exempt": sorted({*base.verification_exempt, *trust.verification_exempt}),
            "requirements": [*(r for r in base.requirements if r.name not in names), *trust.requirements],
            "fingerprint": hashlib.sha256((base.model_dump_json() + trust.fingerprint).encode()).hexdigest()[:12],
        }
    )


def load_policies(paths: Iterable[Path]) -> PolicySet:
    """Load ``*.yaml`` files (or directories of them) into a validated :class:`PolicySet`."""
    parsed = [(f, parse_policy_file(f)) for f in yaml_files(paths)]
    collaboratives = {p.id: p for _, p in parsed if isinstance(p, CollaborativePolicy)}
    trusts: dict[str, TrustPolicy] = {}
    for f, p in parsed:
        if not isinstance(p, TrustPolicy):
            continue
        if p.trust in trusts:
            raise ConfigError(f"two policy files for trust {p.trust}", file=str(f))
        if p.extends and p.extends not in collaboratives:
            raise ConfigError(f"extends unknown collaborative {p.extends!r}", file=str(f), key="extends")
        trusts[p.trust] = _merge(p, collaboratives.get(p.extends or ""))
    issuers: dict[str, str] = {}
    for ods, p in trusts.items():
        if p.vc_issuer and issuers.setdefault(p.vc_issuer.id, ods) != ods:
            raise ConfigError(f"VC issuer {p.vc_issuer.id} is declared by two trusts", key="vc_issuer.id")
    return PolicySet(trusts)
