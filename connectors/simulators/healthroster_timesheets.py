"""HealthRoster's timesheets (BankStaff / Loop): the hours worked on filled duties, authorised or queried by the ward.

Used by :class:`~rosterhub.connectors.simulators.healthroster.HealthRosterSimulator`: a duty filled through
the hub gets a timesheet once the duty is over (the worker clocked in on time, and out up to 20 minutes
late); the ward authorises it the next day (now and then it queries it). The export is
``timesheets_<ODS>_<stamp>.csv`` in the trust's inbox (UTF-8 with BOM), read by
``mapping/vendors/healthroster_timesheets.yaml``. The hub's own answers (``QueryTimesheet`` /
``AuthoriseTimesheet`` updates) are kept on the timesheet as ``hub_status``, which is how a test sees them.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta
from typing import Any

__all__ = ["HEADER", "apply_hub_answer", "authorise", "csv_file", "new_timesheet"]

HEADER = [
    "Timesheet ID",
    "Duty ID",
    "Booking Reference",
    "Trust Code",
    "Staff Number",
    "Person Name",
    "NMC",
    "GMC",
    "HCPC",
    "Duty Date",
    "Actual Start",
    "Actual End",
    "Break",
    "Status",
    "Authorised By",
    "Authorised At",
    "Authorised Hours",
    "Query Reason",
    "Query Comment",
    "Submitted At",
]
_STAMP = "%d/%m/%Y %H:%M"


def new_timesheet(
    rng: random.Random,
    duty_id: int,
    day: date,
    times: tuple[str, str, str],
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[str, Any]:
    """A submitted timesheet for a duty ``[start, end)`` (aware): clocked in on time, out up to 20 minutes late."""
    late = timedelta(minutes=rng.choice((0, 0, 5, 10, 20)))
    return {
        "id": f"HRT-{duty_id}",
        "day": day.strftime("%d/%m/%Y"),
        "start": times[0],
        "end": (end + late).strftime("%H:%M"),
        "break": times[2],
        "hours": f"{((end + late - start).total_seconds() / 60 - _minutes(times[2])) / 60:.2f}",
        "status": "Submitted",
        "submitted_at": now.strftime(_STAMP),
        "by": "",
        "authorised_at": "",
        "query": ("", ""),
        "hub_status": None,
    }


def _minutes(hhmm: str) -> int:
    h, _, m = hhmm.partition(":")
    return int(h) * 60 + int(m)


def authorise(ts: dict[str, Any], rng: random.Random, now: datetime, ward_user: str) -> None:
    """The ward's decision on a submitted timesheet: authorised (mostly) or queried."""
    if rng.random() < 0.9:
        ts.update(status="Authorised", by=ward_user, authorised_at=now.strftime(_STAMP))
    else:
        ts.update(status="Queried", by=ward_user, query=("Hours Differ", "Rostered finish differs; please confirm"))


def apply_hub_answer(ts: dict[str, Any], update: dict[str, str]) -> bool:
    """The hub's ``QueryTimesheet`` / ``AuthoriseTimesheet`` on this timesheet; False when it is not about it."""
    if update.get("TimesheetId") != ts["id"]:
        return False
    if update["action"] == "QueryTimesheet":
        ts["hub_status"] = {"status": "queried", "reason": update.get("Reason"), "detail": update.get("Comment")}
    else:
        ts["hub_status"] = {"status": "approved", "hours": update.get("AuthorisedHours")}
    return True


def csv_file(trust: str, rows: list[tuple[Any, dict[str, Any]]]) -> bytes:
    """The timesheet export of ``rows`` ((duty, timesheet) pairs) for one trust."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for duty, ts in rows:
        person = duty.filled_by or ""
        query = ts["query"]
        writer.writerow(
            [
                ts["id"],
                duty.id,
                duty.booked_by or "",
                trust,
                "",
                person,
                duty.filled_nmc or "",
                "",
                "",
                ts["day"],
                ts["start"],
                ts["end"],
                ts["break"],
                ts["status"],
                ts["by"],
                ts["authorised_at"],
                ts["hours"] if ts["status"] == "Authorised" else "",
                query[0],
                query[1],
                ts["submitted_at"],
            ]
        )
    return out.getvalue().encode("utf-8-sig")
