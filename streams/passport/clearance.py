"""Clearance: may this person work this shift at this trust, and if not, exactly why.

:func:`clearance` is a pure function of (passport, trust policy, staff group, grade,
shift start, shift end). It finds every credential the trust's rules require for the
role, and for each requirement every candidate credential in the passport with the
reasons it does or does not count *at this trust*: a partner's DBS only counts where an
agreement accepts that partner for DBS, a CSTF course only until completion + the
host trust's renewal period, a check only while younger than the trust's maximum age,
and everything must still be valid at the END of the shift (a course expiring at 03:00
does not clear a night shift ending at 08:00).

Reason codes are stable (docs/passport.md lists them); the booking engine and the HTTP
API show them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rosterhub.instants import ms_iso_z
from rosterhub.streams.passport.policy import Agreement, CredentialRequirement, Period, TrustPolicy, add_period
from rosterhub.streams.passport.state import Credential, Passport, from_ms, to_ms

__all__ = [
    "REASONS",
    "CandidateResult",
    "Clearance",
    "RequirementResult",
    "clearance",
    "counts_at",
    "required_for",
    "required_types",
]

#: Every reason code, most serious first (an unmet requirement reports its best candidate's first reason).
REASONS: dict[str, str] = {
    "MISSING": "no credential of this kind in the passport",
    "REVOKED": "the issuer revoked the credential",
    "VERIFICATION_FAILED": "the latest check by an accepted verifier failed (val-fail/reval-fail)",
    "ISSUER_NOT_ACCEPTED": "the trust has no agreement accepting this issuer's checks of this type",
    "ATTRIBUTE_MISMATCH": "wrong kind (e.g. basic DBS where enhanced is required, another register)",
    "LEVEL_TOO_LOW": "CSTF level below the level the role requires",
    "NOT_ISSUED": "only a verification or revocation has arrived; the credential itself has not",
    "EXPIRED": "expired (issuer's expiry) before the shift starts",
    "MAX_AGE_EXCEEDED": "older than the trust's (or the agreement's) maximum age at the shift start",
    "CSTF_RENEWAL_DUE": "course completed longer ago than the trust's CSTF renewal period",
    "EXPIRES_DURING_SHIFT": "valid at the start but not at the end of the shift",
    "NOT_YET_VALID": "issued after the shift starts",
    "UNVERIFIED": "no passing verification by the issuer, the trust or an accepted partner",
    "VERIFICATION_OVERDUE": "the verifier's next scheduled re-check is before the shift starts",
    "NO_RULE_FOR_ROLE": "the trust's policy has no requirement rule for this staff group and grade",
}
_ORDER = {code: i for i, code in enumerate(REASONS)}


@dataclass(frozen=True, slots=True)
class CandidateResult:
    credential_id: str
    issuer: str | None
    reasons: tuple[str, ...]  # empty: this credential satisfies the requirement
    valid_until: int | None  # effective end of validity AT THIS TRUST (ms), None: open-ended
    accepted_under: str | None = None  # "own" or the MoU id
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "credential_id": self.credential_id,
            "issuer": self.issuer,
            "reasons": list(self.reasons),
            "valid_until": ms_iso_z(self.valid_until),
            "accepted_under": self.accepted_under,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class RequirementResult:
    requirement: str
    rules: tuple[str, ...]
    met: bool
    reason: str | None
    used: CandidateResult | None
    candidates: tuple[CandidateResult, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "requirement": self.requirement,
            "rules": list(self.rules),
            "met": self.met,
            "reason": self.reason,
            "credential_id": self.used.credential_id if self.used else None,
            "valid_until": ms_iso_z(self.used.valid_until) if self.used else None,
            "candidates": [c.as_dict() for c in self.candidates],
        }


@dataclass(frozen=True, slots=True)
class Clearance:
    person: str
    trust: str
    staff_group: str
    grade: str
    start: int
    end: int
    cleared: bool
    reasons: tuple[str, ...]
    requirements: tuple[RequirementResult, ...]
    valid_until: int | None  # the earliest effective expiry among the credentials used
    policy: str  # fingerprint of the policy that decided

    @property
    def unmet(self) -> tuple[RequirementResult, ...]:
        return tuple(r for r in self.requirements if not r.met)

    def as_dict(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "trust": self.trust,
            "staff_group": self.staff_group,
            "grade": self.grade,
            "start": ms_iso_z(self.start),
            "end": ms_iso_z(self.end),
            "cleared": self.cleared,
            "reasons": list(self.reasons),
            "valid_until": ms_iso_z(self.valid_until),
            "policy": self.policy,
            "requirements": [r.as_dict() for r in self.requirements],
        }


def clearance(
    passport: Passport | None,
    policy: TrustPolicy,
    *,
    staff_group: str,
    grade: str,
    start: datetime,
    end: datetime,
    person: str | None = None,
) -> Clearance:
    """Clear or refuse ``passport`` for a shift ``start``..``end`` at ``policy.trust`` (times aware)."""
    start_ms, end_ms = to_ms(start), to_ms(end)
    pid = person or (passport.person if passport else "")
    required = required_for(policy, staff_group, grade)
    shift = (pid, policy.trust, staff_group, grade, start_ms, end_ms)  # what was asked, in either answer
    if not required:
        return Clearance(*shift, False, ("NO_RULE_FOR_ROLE",), (), None, policy.fingerprint)
    by_kind: dict[tuple[str, str | None], list[Credential]] = {}
    for c in passport.credentials.values() if passport else ():
        by_kind.setdefault((c.type, c.subject if c.type == "CSTF_TRAINING" else None), []).append(c)
    results = tuple(
        _requirement(req, names, by_kind.get((req.type, req.cstf_subject), []), policy, start_ms, end_ms)
        for req, names in required
    )
    reasons = tuple(sorted({r.reason for r in results if r.reason}, key=_ORDER.__getitem__))
    untils = [r.used.valid_until for r in results if r.used and r.used.valid_until is not None]
    return Clearance(*shift, not reasons, reasons, results, min(untils) if untils else None, policy.fingerprint)


_REQUIRED: dict[tuple[int, str, str], tuple[tuple[CredentialRequirement, tuple[str, ...]], ...]] = {}


def required_for(
    policy: TrustPolicy, staff_group: str, grade: str
) -> tuple[tuple[CredentialRequirement, tuple[str, ...]], ...]:
    """The distinct credential requirements of a role with the rules asking for each (memoised: policies are
    frozen and loaded once, and every lookup of the same role needs the same list)."""
    key = (id(policy), staff_group, grade)
    found = _REQUIRED.get(key)
    if found is None:
        merged: dict[str, tuple[CredentialRequirement, list[str]]] = {}
        for rule in policy.rules_for(staff_group, grade):
            for req in rule.credentials:
                merged.setdefault(req.key, (req, []))[1].append(rule.name)
        found = _REQUIRED[key] = tuple((req, tuple(names)) for req, names in merged.values())
    return found


def required_types(policy: TrustPolicy, staff_group: str, grade: str) -> frozenset[str]:
    """Credential types the role needs: a caller may decode only those from the table value."""
    return frozenset(req.type for req, _ in required_for(policy, staff_group, grade))


def counts_at(cred: Credential, policy: TrustPolicy, at_ms: int) -> bool:
    """Whether ``cred`` currently counts towards some requirement of ``policy`` (for ClearanceChanged)."""
    if cred.issued is None or policy.accepts(cred.issuer, cred.type) is None:
        return False
    if cred.revoked is not None and cred.revoked.at <= at_ms:
        return False
    lapse = cred.lapse()
    if lapse is not None and lapse <= at_ms:
        return False
    return any(_kind_matches(cred, req) for rule in policy.requirements for req in rule.credentials)


def _kind_matches(cred: Credential, req: CredentialRequirement) -> bool:
    return cred.type == req.type and (req.cstf_subject is None or cred.subject == req.cstf_subject)


def _requirement(
    req: CredentialRequirement,
    rules: tuple[str, ...],
    creds: list[Credential],
    policy: TrustPolicy,
    start: int,
    end: int,
) -> RequirementResult:
    candidates = [_candidate(c, req, policy, start, end) for c in creds]
    good = [c for c in candidates if not c.reasons]
    if good:
        used = max(good, key=lambda c: c.valid_until if c.valid_until is not None else 2**62)
        return RequirementResult(req.key, rules, True, None, used, tuple(candidates))
    if not candidates:
        return RequirementResult(req.key, rules, False, "MISSING", None, ())
    best = min(candidates, key=lambda c: (len(c.reasons), -_ORDER[c.reasons[0]], -(c.valid_until or 0)))
    return RequirementResult(req.key, rules, False, best.reasons[0], None, tuple(candidates))


def _candidate(c: Credential, req: CredentialRequirement, policy: TrustPolicy, start: int, end: int) -> CandidateResult:
    reasons: list[str] = []
    details: list[str] = []
    if c.revoked is not None and c.revoked.at < end:
        reasons.append("REVOKED")
        details.append(f"revoked: {c.revoked.reason}")
    accepted = policy.accepts(c.issuer, c.type) if c.issuer else None
    if c.issuer and accepted is None:
        reasons.append("ISSUER_NOT_ACCEPTED")
    if c.issued is None:  # a stub: what it is (attributes, level) is not known yet
        reasons.append("NOT_ISSUED")
        return _result(c, reasons, None, accepted, details)
    for key, values in req.attributes.items():
        if c.attrs.get(key) not in values:
            reasons.append("ATTRIBUTE_MISMATCH")
            details.append(f"{key}={c.attrs.get(key)} (needs {'|'.join(values)})")
            break
    if req.level is not None and (c.level or 0) < req.level:
        reasons.append("LEVEL_TOO_LOW")
    until, limit = _valid_until(c, policy, accepted)
    if until is not None and until <= start:
        reasons.append({"expiry": "EXPIRED", "max_age": "MAX_AGE_EXCEEDED", "renewal": "CSTF_RENEWAL_DUE"}[limit])
    elif until is not None and until <= end:
        reasons.append("EXPIRES_DURING_SHIFT")
        details.append(f"{limit} reached at {ms_iso_z(until)}")
    if c.issued > start:
        reasons.append("NOT_YET_VALID")
    if c.type not in policy.verification_exempt:
        reasons += _verification(c, policy, start)
    return _result(c, reasons, until, accepted, details)


def _result(
    c: Credential, reasons: list[str], until: int | None, accepted: Agreement | bool | None, details: list[str]
) -> CandidateResult:
    under = "own" if accepted is True else accepted.id if isinstance(accepted, Agreement) else None
    ordered = tuple(sorted(set(reasons), key=_ORDER.__getitem__))
    return CandidateResult(c.id, c.issuer, ordered, until, under, "; ".join(details) or None)


def _valid_until(c: Credential, policy: TrustPolicy, accepted: Agreement | bool | None) -> tuple[int | None, str]:
    """The effective end of validity at this trust, and which limit sets it."""
    assert c.issued is not None
    limits: list[tuple[int, str]] = []
    if (lapse := c.lapse()) is not None:
        limits.append((lapse, "expiry"))
    ages = [policy.max_age.get(c.type)]
    if isinstance(accepted, Agreement):
        ages.append(accepted.max_age.get(c.type))
    limits += [(_plus(c.issued, p), "max_age") for p in ages if p is not None]
    if c.type == "CSTF_TRAINING" and (renewal := policy.renewal(c.subject, c.level)) is not None:
        limits.append((_plus(c.issued, renewal), "renewal"))
    if not limits:
        return None, "expiry"
    return min(limits)


def _plus(ms: int, period: Period) -> int:
    return to_ms(add_period(from_ms(ms), period))


def _verification(c: Credential, policy: TrustPolicy, start: int) -> list[str]:
    trusted = [
        v
        for v in c.verifications
        if v.verifier in (policy.trust, c.issuer) or policy.accepts(v.verifier, c.type) is not None
    ]
    if any(v.status in ("VAL_FAIL", "REVAL_FAIL") for v in trusted):
        return ["VERIFICATION_FAILED"]
    passing = [v for v in trusted if v.passing]
    if not passing:
        return ["UNVERIFIED"]
    if all(v.next_due is not None and v.next_due < start for v in passing):
        return ["VERIFICATION_OVERDUE"]
    return []
