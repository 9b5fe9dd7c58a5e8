"""Code lists for string fields that trusts extend: grades, CSTF subjects, pay codes, credential attributes.

Closed, stable sets (staff groups, shift types, release tiers...) are Avro enums in
``schemas/avro``. The lists here are *validated strings* instead, because trusts add
their own entries (a local grade, a local mandatory-training subject, a local pay
enhancement) and an enum change would need a schema release for every one of them.

A trust-local code has the form ``X-<ODS>-<CODE>`` (e.g. ``X-RHQ-BAND_5_PRECEPTOR``):
the prefix keeps it apart from national codes and names who owns its meaning. Every
other value must be in the list. Fields declare their list in the ``.avsc`` with the
custom attribute ``"rosterhub.codes": "<list name>"``; the generated models validate
through :data:`CODE_LISTS`, and ``docs/events.md`` prints the lists from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

from rosterhub.ods import ODS_CODE

__all__ = [
    "CODE_LISTS",
    "CODE_TYPES",
    "CREDENTIAL_ATTRIBUTES",
    "CSTF_SUBJECTS",
    "FHIR_VERIFICATION_STATUS",
    "GRADES",
    "IDENTIFIER_SYSTEMS",
    "LOCAL_CODE",
    "PAY_CODES",
    "CodeList",
    "CredentialAttributeKey",
    "CstfSubject",
    "Grade",
    "PayCode",
    "check_code",
    "vendor_system",
]

#: A trust-local extension code: ``X-`` + the owning trust's ODS code + ``-`` + the code.
LOCAL_CODE = re.compile(rf"^X-{ODS_CODE}-[A-Z0-9_]{{1,40}}$")


@dataclass(frozen=True, slots=True)
class CodeList:
    """A documented list of codes; ``codes`` maps each code to its meaning."""

    name: str
    title: str
    doc: str
    codes: Mapping[str, str]
    local_codes: bool = True  # whether X-<ODS>-<CODE> extensions are accepted

    def accepts(self, value: str) -> bool:
        return value in self.codes or (self.local_codes and LOCAL_CODE.match(value) is not None)


_AFC = {f"BAND_{n}": f"Agenda for Change band {n}" for n in range(1, 8)}
_AFC.update({f"BAND_8{x}": f"Agenda for Change band 8{x.lower()}" for x in "ABCD"})
_AFC["BAND_9"] = "Agenda for Change band 9"

GRADES = CodeList(
    "grade",
    "Grades",
    "Canonical grade of a shift, a role or a membership: an Agenda for Change band, or a medical grade "
    "(doctors in training by stage, then specialty doctors, specialists and consultants). Vendors' grade "
    "names are mapped to these by the mapping files.",
    {
        **_AFC,
        "FY1": "Foundation year 1 doctor",
        "FY2": "Foundation year 2 doctor",
        "CT1_2": "Core or specialty trainee, years 1-2 (CT/ST1-2)",
        "ST3_5": "Core trainee year 3 or specialty trainee years 3-5 (CT3/ST3-5)",
        "ST6_8": "Specialty trainee, years 6-8 (ST6-8)",
        "SPECIALTY": "Specialty doctor",
        "SPECIALIST": "Specialist (senior specialty and associate specialist grade)",
        "CONSULTANT": "Consultant",
    },
)

CSTF_SUBJECTS = CodeList(
    "cstf_subject",
    "CSTF subjects",
    "The 11 subjects of the Core Skills Training Framework. Refresher periods differ by trust and are "
    "configuration; the typical period is given for reference only.",
    {
        "CONFLICT_RESOLUTION": "Conflict resolution (typically 3 years)",
        "EQUALITY_DIVERSITY_HUMAN_RIGHTS": "Equality, diversity and human rights (3 years)",
        "HEALTH_SAFETY_WELFARE": "Health, safety and welfare (3 years)",
        "FIRE_SAFETY": "Fire safety (2 years, often 1)",
        "INFECTION_PREVENTION_CONTROL": "Infection prevention and control (level 1: 3 years, level 2: 1 year)",
        "INFORMATION_GOVERNANCE": "Information governance and data security (1 year)",
        "MOVING_HANDLING": "Moving and handling, level 2 (2 years)",
        "PREVENTING_RADICALISATION": "Preventing radicalisation (3 years)",
        "RESUSCITATION": "Resuscitation (1 year)",
        "SAFEGUARDING_ADULTS": "Safeguarding adults (3 years)",
        "SAFEGUARDING_CHILDREN": "Safeguarding children (3 years)",
    },
)

PAY_CODES = CodeList(
    "pay_code",
    "Pay codes",
    "What a payroll line pays for. Enhancement rules (which hours are unsocial) are trust configuration.",
    {
        "BASIC": "Basic hours at the shift's (or worker's) rate",
        "UNSOCIAL_HOURS": "Agenda for Change unsocial hours enhancement",
        "NIGHT": "Night enhancement (medical rotas)",
        "WEEKEND": "Weekend enhancement",
        "BANK_HOLIDAY": "Public holiday enhancement",
        "HOLIDAY_PAY": "Holiday pay accrued by bank workers on hours worked",
        "LATE_CANCELLATION_FEE": "Fee for a shift the trust cancelled inside its notice threshold",
        "TRAVEL": "Travel expenses reimbursed for the shift",
    },
)

CREDENTIAL_ATTRIBUTES = CodeList(
    "credential_attribute",
    "Credential attribute keys",
    "Keys of CredentialIssued.attributes. Values are short codes, never personal data; the evidence "
    "itself stays with the issuer.",
    {
        "dbs_level": "DBS check level: BASIC, STANDARD, ENHANCED or ENHANCED_BARRED (with barred lists)",
        "dbs_workforce": "DBS workforce: ADULT, CHILD, ADULT_AND_CHILD or OTHER",
        "dbs_update_service": "true when the certificate is on the DBS Update Service (free status checks)",
        "oh_item": "Occupational health item: FIT_TO_WORK, TB, VARICELLA, HEPATITIS_B, MMR, EPP_CLEARANCE",
        "register": "Register of a PROFESSIONAL_REGISTRATION: GMC, NMC, HCPC, GPHC",
        "register_conditions": "true when the registration carries conditions or undertakings",
        "right_to_work_basis": "UNLIMITED, TIME_LIMITED or RESTRICTED_HOURS (e.g. student visa)",
        "assignment_number": "ESR assignment number of an EMPLOYMENT_ASSIGNMENT",
        "host_trust": "ODS code of the host trust of a TEMPORARY_PLACEMENT",
    },
    local_codes=False,
)

#: Every code list, by the name used in the ``rosterhub.codes`` schema attribute.
CODE_LISTS: dict[str, CodeList] = {c.name: c for c in (GRADES, CSTF_SUBJECTS, PAY_CODES, CREDENTIAL_ATTRIBUTES)}

#: Identifier systems (``Identifier.system``) the hub knows, by short name. Vendor ids use
#: ``https://rosterhub.org/Id/<vendor>/<trust ods>`` (ESR assignment numbers: vendor ``esr``).
IDENTIFIER_SYSTEMS: dict[str, str] = {
    "gmc": "https://fhir.hl7.org.uk/Id/gmc-number",
    "nmc": "https://fhir.hl7.org.uk/Id/nmc-number",
    "hcpc": "https://fhir.hl7.org.uk/Id/hcpc-number",
    "gphc": "https://fhir.hl7.org.uk/Id/gphc-number",
    "ods_organisation": "https://fhir.nhs.uk/Id/ods-organization-code",
    "ods_site": "https://fhir.nhs.uk/Id/ods-site-code",
}


def vendor_system(vendor: str, trust_ods: str) -> str:
    """Identifier system of a vendor's local ids at one trust (ESR assignment numbers: vendor ``esr``)."""
    return f"https://rosterhub.org/Id/{vendor}/{trust_ods}"


#: FHIR R4 VerificationResult.status code for each VerificationStatus symbol (Avro symbols cannot hold '-').
FHIR_VERIFICATION_STATUS: dict[str, str] = {
    "ATTESTED": "attested",
    "VALIDATED": "validated",
    "IN_PROCESS": "in-process",
    "REQ_REVALID": "req-revalid",
    "VAL_FAIL": "val-fail",
    "REVAL_FAIL": "reval-fail",
}


def check_code(list_name: str, value: str) -> str:
    """Return ``value`` if the named list accepts it; raise ``ValueError`` naming the list otherwise."""
    code_list = CODE_LISTS[list_name]
    if not code_list.accepts(value):
        local = " or a trust-local X-<ODS>-<CODE>" if code_list.local_codes else ""
        raise ValueError(f"{value!r} is not a {code_list.name} code (see docs/events.md{local})")
    return value


def _checker(list_name: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        return check_code(list_name, value)

    check.__name__ = f"check_{list_name}"
    return check


Grade = Annotated[str, AfterValidator(_checker("grade"))]
CstfSubject = Annotated[str, AfterValidator(_checker("cstf_subject"))]
PayCode = Annotated[str, AfterValidator(_checker("pay_code"))]
CredentialAttributeKey = Annotated[str, AfterValidator(_checker("credential_attribute"))]

#: The annotated type the generated models use for each code list.
CODE_TYPES: dict[str, str] = {
    "grade": "Grade",
    "cstf_subject": "CstfSubject",
    "pay_code": "PayCode",
    "credential_attribute": "CredentialAttributeKey",
}
