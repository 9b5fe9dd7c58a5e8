"""One realistic example of every canonical event, built through the models.

Used by the round-trip tests, by ``docs/events.md`` and by the ``examples`` of
``docs/asyncapi.yaml``, so the documentation shows values that are known to encode.
The story: Sheffield Teaching Hospitals (RHQ) posts a night shift on a medical ward
for the night the clocks go forward (28-29 March 2026, so 12 hours on the rota are
11 hours of real time); a bank nurse from Sheffield Children's (RCU) books it through
the collaborative bank, works it and is paid; credentials, availability and a doctor's
agency release fill in the other domains. Every identifier is made up but well formed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TypedDict

from rosterhub.events import models as m
from rosterhub.events.base import AvroEvent
from rosterhub.events.codes import IDENTIFIER_SYSTEMS, vendor_system
from rosterhub.instants import LONDON

__all__ = ["example_events"]


def _at(day: int, hour: int, minute: int = 0, month: int = 3, year: int = 2026) -> datetime:
    """A wall-clock time in Europe/London (aware; the models store it as UTC)."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


RHQ = m.OrganisationRef(ods_code="RHQ", name="Sheffield Teaching Hospitals NHS Foundation Trust")
RCU = m.OrganisationRef(ods_code="RCU", name="Sheffield Children's NHS Foundation Trust")
SITE = m.OrganisationRef(ods_code="RHQ01")
NURSE = m.WorkerRef(
    person_id="person:3f9c2a71",
    identifiers=[
        m.Identifier(system=IDENTIFIER_SYSTEMS["nmc"], value="71A2998E"),
        m.Identifier(system=vendor_system("esr", "RCU"), value="20418876-1"),
        m.Identifier(system=vendor_system("healthroster", "RHQ"), value="HR-004512"),
    ],
    display_name="Priya Natarajan",
)
DOCTOR = m.WorkerRef(
    identifiers=[
        m.Identifier(system=IDENTIFIER_SYSTEMS["gmc"], value="7012345"),
        m.Identifier(system=vendor_system("patchwork", "RHQ"), value="pw-88120"),
    ],
    display_name="Dr Tom Okafor",
)
SHIFT_ID = "healthroster:RHQ:SH-2026-118842"
BOOKING_ID = "healthroster:RHQ:BK-552019"
TIMESHEET_ID = "healthroster:RHQ:TS-77310"
START, END = _at(28, 20), _at(29, 8)  # a night crossing midnight and the spring clock change


class _Night(TypedDict):
    """The story's night shift as the posting, the availability view and the KPI facts all name it."""

    shift_id: str
    ward: str
    staff_group: m.StaffGroup
    grade: str
    shift_type: m.ShiftType
    start: datetime
    end: datetime


NIGHT = _Night(
    shift_id=SHIFT_ID,
    ward="Ward P3 Acute Medicine",
    staff_group=m.StaffGroup.NURSING_MIDWIFERY_REGISTERED,
    grade="BAND_5",
    shift_type=m.ShiftType.NIGHT,
    start=START,
    end=END,
)
PASSED = [
    m.RuleResult(rule="shift_open", passed=True),
    m.RuleResult(rule="passport_clearance", passed=True),
    m.RuleResult(rule="working_time_rest", passed=True, detail="13 h rest since the last shift"),
    m.RuleResult(rule="no_overlap", passed=True),
]


def _shift_events() -> list[AvroEvent]:
    posted = m.ShiftPosted(
        vendor="healthroster",
        vendor_shift_id="SH-2026-118842",
        trust=RHQ,
        site=SITE,
        cost_centre="C31450",
        break_minutes=60,
        hourly_rate=Decimal("23.45"),
        notes="Report to the nurse in charge; bring your smartcard.",
        posted_at=_at(20, 9, 15),
        **NIGHT,
    )
    updated = m.ShiftUpdated(
        **posted.model_dump(exclude={"version", "preferred_worker", "posted_at", "hourly_rate"}),
        version=2,
        hourly_rate=Decimal("25.10"),
        changed_fields=["hourly_rate"],
        updated_at=_at(24, 11, 2),
    )
    released = m.ShiftReleased(
        shift_id="patchwork:RHQ:88311",
        version=3,
        trust=RHQ,
        from_tier=m.ReleaseTier.COLLABORATIVE_BANK,
        to_tier=m.ReleaseTier.AGENCY_TIER_1,
        released_at=_at(27, 16, 30),
        automatic=False,
        framework="NHS Workforce Alliance Clinical and Healthcare Staffing",
        agency_rate=Decimal("98.00"),
        price_cap_rate=Decimal("76.42"),
        break_glass=True,
        authoriser="RHQ-user-0913",
        reason="Patient safety: ED registrar gap, no bank fill 24 h before start",
    )
    cancelled = m.ShiftCancelled(
        shift_id="healthroster:RHQ:SH-2026-118907",
        version=2,
        trust=RHQ,
        reason=m.CancellationReason.DEMAND_CHANGED,
        reason_detail="Bay closed for deep clean",
        cancelled_by=m.CancellingParty.TRUST,
        start=_at(30, 7, 30),
        cancelled_at=_at(30, 4, 45),
        notice_hours=Decimal("2.75"),
        booking_id="healthroster:RHQ:BK-552101",
        late_cancellation_fee=True,
        fee_hours=Decimal("2.00"),
    )
    return [posted, updated, released, cancelled]


def _booking_events() -> list[AvroEvent]:
    requested = m.BookingRequested(
        booking_id=BOOKING_ID, shift_id=SHIFT_ID, worker=NURSE, vendor="healthroster", requested_at=_at(24, 19, 41)
    )
    confirmed = m.BookingConfirmed(
        booking_id=BOOKING_ID,
        shift_id=SHIFT_ID,
        worker=NURSE,
        host_trust=RHQ,
        start=START,
        end=END,
        rule_results=PASSED,
        decided_at=_at(24, 19, 41),
        tier=m.ReleaseTier.COLLABORATIVE_BANK,
    )
    failed = m.RuleResult(
        rule="passport_clearance",
        passed=False,
        reason_code="CREDENTIAL_EXPIRED",
        detail="CSTF RESUSCITATION expired 2026-02-14; RHQ requires it for NURSING_MIDWIFERY_REGISTERED",
    )
    rejected = m.BookingRejected(
        booking_id="patchwork:RHQ:bk-90017",
        shift_id=SHIFT_ID,
        worker=DOCTOR,
        host_trust=RHQ,
        reason_codes=["CREDENTIAL_EXPIRED"],
        rule_results=[PASSED[0], failed],
        decided_at=_at(24, 19, 40),
    )
    filled = m.ShiftFilled(
        shift_id=SHIFT_ID,
        booking_id=BOOKING_ID,
        worker=NURSE,
        host_trust=RHQ,
        home_trust=RCU,
        staff_group=m.StaffGroup.NURSING_MIDWIFERY_REGISTERED,
        shift_type=m.ShiftType.NIGHT,
        tier=m.ReleaseTier.COLLABORATIVE_BANK,
        membership_type=m.MembershipType.BANK,
        start=START,
        end=END,
        posted_at=_at(20, 9, 15),
        filled_at=_at(24, 19, 41),
        hourly_rate=Decimal("25.10"),
        passport_cleared=True,
    )
    cancelled = m.BookingCancelled(
        booking_id="healthroster:RHQ:BK-551870",
        shift_id="healthroster:RHQ:SH-2026-118611",
        worker=NURSE,
        host_trust=RHQ,
        cancelled_by=m.CancellingParty.WORKER,
        reason=m.CancellationReason.WORKER_UNAVAILABLE,
        start=_at(26, 7, 30),
        cancelled_at=_at(25, 18),
        notice_hours=Decimal("13.50"),
    )
    no_show = m.NoShow(
        booking_id="patchwork:RHQ:bk-89950",
        shift_id="patchwork:RHQ:88210",
        worker=DOCTOR,
        host_trust=RHQ,
        start=_at(22, 9),
        recorded_at=_at(22, 10, 5),
        recorded_by="RHQ-user-0417",
    )
    return [requested, confirmed, rejected, filled, cancelled, no_show]


def _worker_events() -> list[AvroEvent]:
    match_key = "9b2f6c0e4d1a8b7c3e5f0a9d8c7b6a5f4e3d2c1b0a99887766554433221100ff"
    registered = m.WorkerRegistered(
        worker_id="healthroster:RHQ:HR-004512",
        vendor="healthroster",
        trust=RHQ,
        worker=NURSE,
        staff_group=m.StaffGroup.NURSING_MIDWIFERY_REGISTERED,
        grade="BAND_5",
        identity_match_key=match_key,
        registered_at=_at(2, 10, 30),
    )
    updated = m.WorkerUpdated(
        worker_id="patchwork:RHQ:pw-88120",
        vendor="patchwork",
        trust=RHQ,
        worker=DOCTOR,
        staff_group=m.StaffGroup.MEDICAL_DENTAL,
        grade="ST3_5",
        changed_fields=["grade"],
        updated_at=_at(4, 8, 12),
    )
    membership = m.MembershipChanged(
        worker_id="healthroster:RHQ:HR-004512",
        worker=NURSE,
        change=m.MembershipChange.JOINED,
        membership_type=m.MembershipType.BANK,
        home_trust=RCU,
        collaborative="south-yorkshire-bassetlaw",
        staff_group=m.StaffGroup.NURSING_MIDWIFERY_REGISTERED,
        grade="BAND_5",
        effective_from=date(2026, 3, 2),
        changed_at=_at(2, 10, 31),
    )
    return [registered, updated, membership]


class _Holder(TypedDict):
    """The credential holder's fields, shared by the credential examples."""

    person_id: str
    worker: m.WorkerRef


class _Command(TypedDict):
    """An operator command's fields, shared by the merge and split examples."""

    command_id: str
    reason: str
    requested_by: str


def _credential_events() -> list[AvroEvent]:
    common = _Holder(person_id="person:3f9c2a71", worker=NURSE)
    issued = m.CredentialIssued(
        credential_id="RCU:CSTF_TRAINING:LMS-301245",
        credential_type=m.CredentialType.CSTF_TRAINING,
        issuer=RCU,
        issued_at=_at(10, 14),
        expires_at=_at(10, 14, year=2027),
        cstf_subject="RESUSCITATION",
        level=2,
        evidence_ref="https://lms.example.nhs.uk/records/301245",
        **common,
    )
    verified = m.CredentialVerified(
        credential_id="RCU:DBS:001234567890",
        credential_type=m.CredentialType.DBS,
        verifier=RHQ,
        method=m.VerificationMethod.DBS_UPDATE_SERVICE,
        status=m.VerificationStatus.VALIDATED,
        verified_at=_at(23, 9, 5),
        next_check_due=_at(23, 9, month=4),
        **common,
    )
    revoked = m.CredentialRevoked(
        credential_id="RHQ:EMPLOYMENT_ASSIGNMENT:20311457-1",
        credential_type=m.CredentialType.EMPLOYMENT_ASSIGNMENT,
        issuer=RHQ,
        reason=m.RevocationReason.LeavingOrganisation,
        revoked_at=_at(31, 17),
        person_id="person:a07d55e2",
        worker=DOCTOR,
    )
    expired = m.CredentialExpired(
        credential_id="RHQ:CSTF_TRAINING:LMS-118030",
        credential_type=m.CredentialType.CSTF_TRAINING,
        issuer=RHQ,
        cstf_subject="FIRE_SAFETY",
        expired_at=_at(14, 0),
        detected_at=_at(14, 0, 1),
        person_id="person:a07d55e2",
        worker=DOCTOR,
    )
    return [issued, verified, revoked, expired]


def _availability_events() -> list[AvroEvent]:
    declared = m.AvailabilityDeclared(
        availability_id="healthroster:RHQ:AV-7781",
        person_id="person:3f9c2a71",
        worker=NURSE,
        vendor="healthroster",
        status=m.AvailabilityStatus.AVAILABLE,
        start=_at(28, 19),
        end=_at(29, 9),
        shift_types=[m.ShiftType.NIGHT],
        trusts=[RHQ, RCU],
        declared_at=_at(18, 21, 4),
    )
    return [declared]


def _money_events() -> list[AvroEvent]:
    ids = {"booking_id": BOOKING_ID, "shift_id": SHIFT_ID, "timesheet_id": TIMESHEET_ID}
    submitted = m.TimesheetSubmitted(
        worker=NURSE,
        host_trust=RHQ,
        vendor="healthroster",
        actual_start=START,
        actual_end=_at(29, 8, 15),
        break_minutes=60,
        hours=Decimal("10.25"),
        submitted_at=_at(29, 8, 40),
        notes="Stayed 15 min for handover (the clocks went forward overnight)",
        **ids,
    )
    queried = m.TimesheetQueried(
        queried_by="RHQ-user-0388",
        reason=m.QueryReason.HOURS_DIFFER,
        queried_at=_at(30, 10),
        detail="Handover finished at 08:05 on the ward log; please confirm.",
        **ids,
    )
    approved = m.TimesheetApproved(
        approver="RHQ-user-0388",
        approval_step=1,
        final_approval=True,
        approved_hours=Decimal("10.25"),
        approved_at=_at(30, 15, 20),
        **ids,
    )
    payroll = m.PayrollLine(
        line_id="RCU-BANK-2026-W14:17",
        batch_id="RCU-BANK-2026-W14",
        booking_id=BOOKING_ID,
        timesheet_id=TIMESHEET_ID,
        worker=NURSE,
        employing_trust=RCU,
        host_trust=RHQ,
        frequency=m.PayFrequency.WEEKLY,
        period_end=date(2026, 4, 5),
        pay_code="BASIC",
        hours=Decimal("10.25"),
        rate=Decimal("23.45"),
        amount=Decimal("240.36"),
        created_at=_at(1, 6, month=4),
    )
    recharge = m.RechargeRaised(
        recharge_id="RCU:RC-2026-0412",
        booking_id=BOOKING_ID,
        timesheet_id=TIMESHEET_ID,
        raised_by=RCU,
        charged_to=RHQ,
        hours=Decimal("10.25"),
        pay_amount=Decimal("240.36"),
        on_cost_amount=Decimal("62.73"),
        amount=Decimal("303.09"),
        period_end=date(2026, 4, 30),
        raised_at=_at(5, 9, month=5),
    )
    missing = m.TimesheetMissing(
        booking_id="patchwork:RCU:PB-55230",
        shift_id="healthroster:RHQ:SH-2026-118907",
        worker=NURSE,
        host_trust=RHQ,
        vendor="patchwork",
        shift_end=_at(22, 20),
        due_by=_at(29, 20),
        reported_at=_at(29, 20, 1),
    )
    return [submitted, queried, approved, payroll, recharge, missing, *_payroll_events()]


def _payroll_events() -> list[AvroEvent]:
    """RCU pays its bank nurse weekly for the night at RHQ (distributed model) and recharges RHQ."""
    line = m.PayrollLineIssued(
        line_id="RCU-BANK-2026-W14:17",
        batch_id="RCU-BANK-2026-W14",
        line_number=17,
        cycle=m.PayCycle.WEEKLY,
        period_start=date(2026, 3, 30),
        period_end=date(2026, 4, 5),
        employing_trust=RCU,
        host_trust=RHQ,
        employment_model=m.EmploymentModel.DISTRIBUTED,
        booking_id=BOOKING_ID,
        shift_id=SHIFT_ID,
        timesheet_id=TIMESHEET_ID,
        worker=NURSE,
        staff_group=m.StaffGroup.NURSING_MIDWIFERY_REGISTERED,
        grade="BAND_5",
        pay_code="NIGHT",
        hours=Decimal("8.25"),
        rate=Decimal("6.92"),
        amount=Decimal("57.09"),
        worked_start=START,
        worked_end=_at(29, 8, 15),
        pricing_version=1,
        policy_fingerprint="3b1f0c9a2d4e",
        created_at=_at(30, 15, 21),
    )
    closed = m.PayrollBatchClosed(
        batch_id="RCU-BANK-2026-W14",
        employing_trust=RCU,
        cycle=m.PayCycle.WEEKLY,
        period_start=date(2026, 3, 30),
        period_end=date(2026, 4, 5),
        line_count=212,
        hours=Decimal("1432.50"),
        amount=Decimal("31877.42"),
        closed_by="RCU-payroll-0042",
        closed_at=_at(6, 10, month=4),
    )
    recharge = m.RechargeLineRaised(
        recharge_id="RCU-BANK-2026-W14:17:recharge",
        statement_id="RCU:RHQ:2026-04",
        line_id="RCU-BANK-2026-W14:17",
        batch_id="RCU-BANK-2026-W14",
        booking_id=BOOKING_ID,
        timesheet_id=TIMESHEET_ID,
        raised_by=RCU,
        charged_to=RHQ,
        employment_model=m.EmploymentModel.DISTRIBUTED,
        pay_code="NIGHT",
        hours=Decimal("8.25"),
        pay_amount=Decimal("57.09"),
        on_cost_amount=Decimal("12.85"),
        amount=Decimal("69.94"),
        month="2026-04",
        raised_at=_at(30, 15, 21),
    )
    return [line, closed, recharge]


def _identity_events() -> list[AvroEvent]:
    person, other = "p-0b5c3c8e-6f0e-5a47-9a2d-3f1e2c7b9d10", "p-7d2e41a9-3c55-5b08-8e6f-0a9b1c2d3e4f"
    nmc = m.Identifier(system=IDENTIFIER_SYSTEMS["nmc"], value="71A2998E")
    linked = m.PersonLinked(
        person_id=person,
        worker_id="patchwork:RCU:pw-20931",
        match=m.LinkMatch.REGISTER_NUMBER,
        identifiers=[nmc, m.Identifier(system=vendor_system("patchwork", "RCU"), value="pw-20931")],
        linked_at=_at(2, 10, 30),
        sequence=18342,
    )
    conflict = m.IdentityConflict(
        conflict_id="8c1f0d52-6b7a-5e39-a4c2-91d0e6f3b7a8",
        person_id=person,
        kind=m.ConflictKind.MATCH_KEY_DISAGREES,
        worker_id="esr:RHQ:20311457",
        person_ids=[person, other],
        worker_ids=["esr:RHQ:20311457", "esr:RCU:20418876"],
        identifiers=[nmc],
        match_key_involved=True,
        raised_at=_at(3, 7, 15),
        detail="the identity_match_key points at another person than the NMC PIN",
        sequence=18377,
    )
    command = _Command(
        command_id="4f7a9e21-0c3d-4b6e-8f15-2a9d7c6b5e40",
        reason="Same nurse: NMC register checked",
        requested_by="RHQ-user-0207",
    )
    merged = m.PersonsMerged(
        person_id=person,
        merged_person_id=other,
        worker_ids=["esr:RCU:20418876"],
        credential_ids=["RCU:CSTF_TRAINING:20418876-RESUSCITATION-2026-03-10"],
        resolves=[conflict.conflict_id],
        merged_at=_at(3, 9, 2),
        sequence=18391,
        **command,
    )
    split = m.PersonSplit(
        person_id=person,
        new_person_id=other,
        revived=True,
        worker_ids=["esr:RCU:20418876"],
        credential_ids=merged.credential_ids,
        split_at=_at(3, 9, 40),
        sequence=18405,
        **_Command(
            command_id="b2e6d1f0-93a4-4c7e-a5d8-6f0e1b2c3d4a",
            reason="Merged in error",
            requested_by=command["requested_by"],
        ),
    )
    return [linked, conflict, merged, split]


def _passport_events() -> list[AvroEvent]:
    person = "person:3f9c2a71"
    updated = m.PassportUpdated(
        person_id=person,
        version=7,
        credential_id="RCU:DBS:001234567890",
        change=m.PassportChange.VERIFIED,
        credential_type=m.CredentialType.DBS,
        issuer=RCU,
        status=m.CredentialStatus.ACTIVE,
        credential_count=12,
        cause_id="0f6c1d0e-93f5-5a55-b1f4-3c8a1e2d7b90",
        updated_at=_at(23, 9, 5),
    )
    expiring = m.CredentialExpiring(
        credential_id="RCU:CSTF_TRAINING:LMS-301245",
        person_id=person,
        worker=NURSE,
        credential_type=m.CredentialType.CSTF_TRAINING,
        issuer=RCU,
        cstf_subject="RESUSCITATION",
        level=2,
        expires_at=_at(10, 14, year=2027),
        days_ahead=30,
        notified_at=_at(8, 14, 0, month=2, year=2027),
    )
    changed = m.ClearanceChanged(
        person_id=person,
        trust=RHQ,
        credential_id="RCU:DBS:001234567890",
        credential_type=m.CredentialType.DBS,
        issuer=RCU,
        reason=m.ClearanceChangeReason.CREDENTIAL_REVOKED,
        revocation_reason="SuspectNoLongerValid",
        accepted_under="SYB-MOU-2025-01",
        changed_at=_at(27, 16, 40),
        cause_id="5b0e7f3a-2c4d-5e6f-8a9b-0c1d2e3f4a5b",
    )
    return [updated, expiring, changed]


def _view_events() -> list[AvroEvent]:
    view = m.ShiftAvailability(
        version=3,
        revision=5,
        status=m.ShiftStatus.RELEASED,
        open=True,
        tier=m.ReleaseTier.COLLABORATIVE_BANK,
        trust=RHQ,
        vendor="healthroster",
        vendor_shift_id="SH-2026-118842",
        hourly_rate=Decimal("25.10"),
        next_release_at=_at(27, 20),
        visible_to=["RCU", "RFR", "RHQ"],
        agency_visible=False,
        updated_at=_at(22, 9, 15),
        **NIGHT,
    )
    return [view]


def _kpi_events() -> list[AvroEvent]:
    """The night of the story as the KPI processor records it: 11 real hours at £25.10, filled by the
    collaborative bank 4 days 10 h 26 min after posting; a doctor's request refused on the way."""
    fill = m.KpiFill(
        booking_id=BOOKING_ID,
        tier=m.ReleaseTier.COLLABORATIVE_BANK,
        membership=m.MembershipType.BANK,
        home_trust="RCU",
        person_id=NURSE.person_id,
        filled_at=_at(24, 19, 41),
        time_to_fill_s=383160,
        hourly_rate=Decimal("25.10"),
        cost=Decimal("276.10"),
        above_cap=Decimal("0.00"),
        savings=Decimal("183.15"),
    )
    shift = m.ShiftKpi(
        revision=4,
        collaborative="south-yorkshire-bassetlaw",
        host_trust="RHQ",
        site="RHQ01",
        day_kind=m.DayKind.WEEKEND,
        kpi_shift_type=m.KpiShiftType.WEEKEND,
        day=date(2026, 3, 28),
        paid_minutes=660,
        posted=True,
        posted_at=_at(20, 9, 15),
        tier=m.ReleaseTier.COLLABORATIVE_BANK,
        fill=fill,
        rejections=[
            m.KpiRejection(
                booking_id="patchwork:RHQ:bk-90017", reason_codes=["CREDENTIAL_EXPIRED"], decided_at=_at(24, 19, 40)
            )
        ],
        cleared=[m.KpiClearanceSeen(person_id=NURSE.person_id or "", decided_at=_at(24, 19, 41))],
        updated_at=_at(24, 19, 41),
        **NIGHT,
    )
    person = m.PersonKpi(person_id=NURSE.person_id or "", first_credential_at=_at(2, 11, 20))
    return [shift, person]


def _delivery_events() -> list[AvroEvent]:
    common = dict(
        destination="healthroster-RHQ",
        trust="RHQ",
        platform="healthroster",
        kind="shift_filled",
        shift_id=SHIFT_ID,
        source_event_id="1f0e8c2a-6b4d-5e3f-9a1b-2c3d4e5f6a7b",
        source_event_type=m.ShiftFilled.AVRO_NAME,
        idempotency_key="7d3c1a9e-2f4b-5c6d-8e0f-1a2b3c4d5e6f",
    )
    ok = m.DeliverySucceeded(**common, attempts=3, latency_ms=4210, redriven=False, delivered_at=_at(22, 9, 16))
    failed = m.DeliveryFailed(
        **common,
        attempts=1,
        latency_ms=180,
        reason="permanent",
        error="POST https://rostering.rhq.example/api/shifts answered 422: unknown shift",
        failed_at=_at(22, 9, 16),
    )
    return [ok, failed]


def example_events() -> dict[str, AvroEvent]:
    """One example per event, by Avro full name (built afresh on every call: models are frozen anyway)."""
    events = [
        *_shift_events(),
        *_booking_events(),
        *_worker_events(),
        *_credential_events(),
        *_availability_events(),
        *_money_events(),
        *_passport_events(),
        *_identity_events(),
        *_view_events(),
        *_kpi_events(),
        *_delivery_events(),
    ]
    return {e.AVRO_NAME: e for e in events}
