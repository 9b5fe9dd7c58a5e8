"""Grade match: the worker's grade is the shift's, or within the host trust's tolerance.

Grades sit on two ladders built from :data:`rosterhub.events.codes.GRADES`: Agenda for
Change (BAND_1 ... BAND_7, BAND_8A ... BAND_8D, BAND_9) and medical. The medical ladder
has rungs shared by equivalent grades, because medical rotas are staffed by tier: a
specialty doctor works on the middle-grade rota with ST3-5 and a specialist with ST6-8.
A trust-local grade ranks where ``grades.local`` puts it; otherwise only an exact match
passes.

``grades.staff_groups[<shift's staff group>]`` (else ``grades.default``) says how many
rungs above their own grade (``up``, acting up) or below it (``down``) a worker may
book. Using the tolerance passes with ``GRADE_TOLERANCE_USED`` so pay and reports can
see it. The worker's staff group must be the shift's.
"""

from __future__ import annotations

from rosterhub.events.codes import GRADES
from rosterhub.streams.booking.policy import GradePolicy
from rosterhub.streams.booking.rules.context import RuleContext
from rosterhub.streams.booking.rules.registry import SHIFT, Section, rule
from rosterhub.streams.booking.rules.result import Outcomes, RuleResult

__all__ = ["LADDERS", "grade_match", "rank"]

GRADE_POLICY = Section("grades", GradePolicy)

_MEDICAL_RUNGS: tuple[tuple[str, ...], ...] = (
    ("FY1",),
    ("FY2",),
    ("CT1_2",),
    ("ST3_5", "SPECIALTY"),
    ("ST6_8", "SPECIALIST"),
    ("CONSULTANT",),
)

#: Ladder name -> rungs, lowest first; each rung holds grades of equal standing.
LADDERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Agenda for Change": tuple((g,) for g in GRADES.codes if g.startswith("BAND_")),
    "medical": _MEDICAL_RUNGS,
}


def rank(grade: str, local: dict[str, str] | None = None) -> tuple[str, int] | None:
    """(ladder, rung index) of a grade, a local grade ranking as its mapped national grade, or None."""
    national = (local or {}).get(grade, grade)
    for ladder, rungs in LADDERS.items():
        for i, rung in enumerate(rungs):
            if national in rung:
                return ladder, i
    return None


@rule(
    "grade_match",
    stage=SHIFT,
    order=700,
    codes={
        "STAFF_GROUP_MISMATCH": "the worker's staff group is not the shift's",
        "GRADE_TOO_LOW": "the worker's grade is further below the shift's than the trust allows",
        "GRADE_TOO_HIGH": "the worker's grade is further above the shift's than the trust allows",
        "GRADE_LADDER_MISMATCH": "the grades are on different ladders (AfC and medical), or one is not ranked",
        "GRADE_TOLERANCE_USED": "(pass) booked one or more grades up or down, within the trust's tolerance",
    },
    config=(GRADE_POLICY,),
)
def grade_match(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """Same staff group, and the shift's grade or within the trust's tolerance."""
    req, shift, policy = ctx.request, ctx.shift, ctx.policy.grades
    if req.staff_group != shift.staff_group:
        return out.fail("STAFF_GROUP_MISMATCH", f"a {req.staff_group} worker on a {shift.staff_group} shift")
    if req.grade == shift.grade:
        return out.ok(f"{req.grade} worker on a {shift.grade} shift")
    mine, wanted = rank(req.grade, policy.local), rank(shift.grade, policy.local)
    if mine is None or wanted is None or mine[0] != wanted[0]:
        text = f"{req.grade} ({mine[0] if mine else 'not ranked'}) cannot be compared with {shift.grade} " + (
            f"({wanted[0] if wanted else 'not ranked'})"
        )
        return out.fail("GRADE_LADDER_MISMATCH", text)
    steps = wanted[1] - mine[1]
    if steps == 0:
        return out.ok(f"{req.grade} ranks with {shift.grade} on the {mine[0]} ladder")
    tol = policy.tolerance(shift.staff_group)
    allowed = tol.up if steps > 0 else tol.down
    way = "up" if steps > 0 else "down"
    text = (
        f"{req.grade} worker on a {shift.grade} shift: {abs(steps)} grade(s) {way}; "
        f"{shift.trust} allows {allowed} {way} for {shift.staff_group}"
    )
    if abs(steps) > allowed:
        return out.fail("GRADE_TOO_LOW" if steps > 0 else "GRADE_TOO_HIGH", text)
    return out.note("GRADE_TOLERANCE_USED", text)
