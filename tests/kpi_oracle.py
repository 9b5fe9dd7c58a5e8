"""An independent computation of the KPIs, in DuckDB SQL over the raw canonical events (the oracle).

Written from docs/kpi.md, not from the processor: it reads every delivered event (duplicates and all)
into one table and derives each shift's facts with SQL (the highest posting version, the earliest
posted_at, the highest release, the booking outcomes of the hub deduplicated per booking, the current
fill as the latest fill not cancelled), then sums them per period. Only the calendar is done in
Python while loading (Europe/London day via zoneinfo, England's bank holidays via the ``holidays``
package), since SQL has no bank holidays. Money is integer pence with half-up rounding per fill.
"""

from __future__ import annotations

import json
import re
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import holidays

from rosterhub.envelope import Envelope
from rosterhub.instants import LONDON

__all__ = ["Oracle"]

_COLUMNS = """
    id VARCHAR, type VARCHAR, source VARCHAR, shift_id VARCHAR, booking_id VARCHAR, version BIGINT,
    trust VARCHAR, ward VARCHAR, staff_group VARCHAR, grade VARCHAR, shift_type VARCHAR,
    start_ms BIGINT, end_ms BIGINT, break_min BIGINT, start_day DATE, bank_holiday BOOLEAN,
    posted_at_ms BIGINT, to_tier VARCHAR, tier VARCHAR, rate_p BIGINT, cap_p BIGINT, membership VARCHAR,
    home VARCHAR, person VARCHAR, at_ms BIGINT, framework_approved BOOLEAN, break_glass BOOLEAN,
    authoriser VARCHAR, employer VARCHAR, cleared BOOLEAN, notice_h DECIMAL(9,2), reason_codes VARCHAR[]
"""


def _ms(v: datetime | None) -> int | None:
    return None if v is None else int(v.timestamp() * 1000)


def _pence(v: Decimal | None) -> int | None:
    return None if v is None else int(v * 100)


def _ods(org: dict[str, Any] | None) -> str | None:
    return org["ods_code"] if org else None


class Oracle:
    def __init__(
        self,
        delivered: list[tuple[str, str, Envelope]],
        *,
        reference: dict[str, Decimal],
        members: list[str],
        late_hours: int = 24,
    ) -> None:
        self.db = duckdb.connect()
        bank_holidays = holidays.country_holidays("GB", subdiv="ENG", years=range(2025, 2029))
        columns = [c.split() for c in re.split(r",(?![^(]*\))", _COLUMNS)]  # commas outside DECIMAL(9,2)
        names = [c[0] for c in columns]
        types = {c[0]: " ".join(c[1:]) for c in columns}
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as out:
            for _, _, env in delivered:  # one JSON line per delivered event (DuckDB's bulk path: fast)
                out.write(json.dumps(dict(zip(names, self._row(env, bank_holidays), strict=True)), default=str))
                out.write("\n")
        try:
            self.db.execute(
                "CREATE TABLE ev AS SELECT * FROM read_json(?, format = 'newline_delimited', columns = ?)",
                [out.name, types],
            )
        finally:
            Path(out.name).unlink()
        self.db.execute("CREATE TABLE ref (grade VARCHAR, ref_p BIGINT)")
        self.db.executemany("INSERT INTO ref VALUES (?, ?)", [(g, int(r * 100)) for g, r in reference.items()])
        self.db.execute("CREATE TABLE members (trust VARCHAR)")
        self.db.executemany("INSERT INTO members VALUES (?)", [(m,) for m in members])
        self.db.execute(_FACTS.replace("{late}", str(late_hours)))

    @staticmethod
    def _row(env: Envelope, bank_holidays: holidays.HolidayBase) -> tuple:
        d = env.data
        kind = env.type.rsplit(".", 1)[-1]
        start = d.get("start")
        day = (
            start.astimezone(LONDON).date()
            if start and kind in ("ShiftPosted", "ShiftUpdated", "ShiftFilled")
            else None
        )
        at = d.get("filled_at") or d.get("decided_at") or d.get("cancelled_at") or d.get("updated_at")
        results = d.get("rule_results") or []
        cleared = d.get("passport_cleared")
        if kind == "BookingRejected":
            cleared = any(r["rule"] == "passport_clearance" and r["passed"] for r in results)
        return (
            env.id,
            kind,
            env.source,
            d.get("shift_id"),
            d.get("booking_id"),
            d.get("version"),
            _ods(d.get("trust")) or _ods(d.get("host_trust")),
            d.get("ward"),
            d.get("staff_group"),
            d.get("grade"),
            d.get("shift_type"),
            _ms(start),
            _ms(d.get("end")),
            d.get("break_minutes") or 0,
            day,
            day in bank_holidays if day else None,
            _ms(d.get("posted_at")),
            d.get("to_tier"),
            d.get("tier"),
            _pence(d.get("hourly_rate")),
            _pence(d.get("price_cap_rate")),
            d.get("membership_type"),
            _ods(d.get("home_trust")),
            (d.get("worker") or {}).get("person_id") or d.get("person_id"),
            _ms(at),
            d.get("framework_approved"),
            d.get("break_glass"),
            d.get("break_glass_authoriser"),
            d.get("substantive_employer"),
            cleared,
            d.get("notice_hours"),
            d.get("reason_codes"),
        )

    # ------------------------------------------------------------------ figures

    def figures(self, start: date, end: date, where: str = "TRUE") -> dict[str, Any]:
        """The figures of shifts whose London start day is in [start, end) and that match ``where`` (SQL)."""
        sel = f"day >= DATE '{start}' AND day < DATE '{end}' AND ({where})"
        one = self.db.execute(_TOTALS.format(sel=sel)).fetchone()
        names = [d[0] for d in self.db.description]
        out = dict(zip(names, one, strict=True))
        out["ttf_by_tier"] = {
            tier: (n, p50, p90) for tier, n, p50, p90 in self.db.execute(_TTF_BY_TIER.format(sel=sel)).fetchall()
        }
        out["reasons"] = dict(self.db.execute(_REASONS.format(sel=sel)).fetchall())
        out["migration"] = sorted(self.db.execute(_MIGRATION.format(sel=sel)).fetchall())
        out["break_glass_list"] = sorted(self.db.execute(_BREAK_GLASS.format(sel=sel)).fetchall())
        return out

    def periods(self, grain: str) -> list[str]:
        col = {"day": "day", "week": "date_trunc('week', day)", "month": "date_trunc('month', day)"}[grain]
        return [str(r[0])[:10] for r in self.db.execute(f"SELECT DISTINCT {col} FROM facts ORDER BY 1").fetchall()]

    def clearance(self, start: date, end: date) -> tuple[int, int | None, int | None]:
        lo = int(datetime(start.year, start.month, start.day, tzinfo=LONDON).timestamp() * 1000)
        hi = int(datetime(end.year, end.month, end.day, tzinfo=LONDON).timestamp() * 1000)
        return self.db.execute(_CLEARANCE.format(lo=lo, hi=hi)).fetchone()


# Each shift's facts, from the deduplicated events (one row per shift id).
_FACTS = """
CREATE MACRO half_up(num, den) AS CASE WHEN num >= 0 THEN (2 * num + den) // (2 * den)
                                        ELSE -((-2 * num + den) // (2 * den)) END;
CREATE MACRO nearest(values_list, pct) AS
    CASE WHEN len(values_list) = 0 THEN NULL
         ELSE list_sort(values_list)[greatest(1, (pct * len(values_list) + 99) // 100)] END;
CREATE TABLE e AS SELECT DISTINCT ON (id) * FROM ev ORDER BY id;
CREATE TABLE facts AS
WITH posting AS (
    SELECT DISTINCT ON (shift_id) * FROM e WHERE type IN ('ShiftPosted', 'ShiftUpdated')
    ORDER BY shift_id, version DESC
), first_posted AS (
    SELECT shift_id, min(posted_at_ms) AS posted_at FROM e WHERE type = 'ShiftPosted' GROUP BY shift_id
), withdrawn AS (
    SELECT DISTINCT shift_id FROM e WHERE type = 'ShiftCancelled'
), fills AS (
    SELECT DISTINCT ON (booking_id) * FROM e WHERE type = 'ShiftFilled' AND source = '/rosterhub/booking'
    ORDER BY booking_id, id
), cancels AS (
    SELECT DISTINCT ON (booking_id) * FROM e WHERE type = 'BookingCancelled' AND source = '/rosterhub/booking'
    ORDER BY booking_id, id
), noshows AS (
    SELECT DISTINCT booking_id, shift_id FROM e WHERE type = 'NoShow' AND source = '/rosterhub/booking'
), current_fill AS (
    SELECT DISTINCT ON (shift_id) * FROM fills WHERE booking_id NOT IN (SELECT booking_id FROM cancels)
    ORDER BY shift_id, at_ms DESC, booking_id DESC
), any_fill AS (
    SELECT DISTINCT ON (shift_id) * FROM fills ORDER BY shift_id, at_ms DESC, booking_id DESC
), ids AS (SELECT shift_id FROM posting UNION SELECT shift_id FROM fills)
SELECT
    ids.shift_id,
    coalesce(p.trust, af.trust) AS host,
    p.ward, p.grade, coalesce(p.staff_group, af.staff_group) AS staff_group,
    coalesce(p.start_day, af.start_day) AS day,
    CASE WHEN coalesce(p.bank_holiday, af.bank_holiday) THEN 'BANK_HOLIDAY'
         WHEN dayofweek(coalesce(p.start_day, af.start_day)) IN (0, 6) THEN 'WEEKEND'
         WHEN coalesce(p.shift_type, af.shift_type) IN ('NIGHT', 'LONG_DAY') THEN coalesce(p.shift_type, af.shift_type)
         WHEN coalesce(p.shift_type, af.shift_type) IN ('EARLY', 'LATE', 'DAY', 'TWILIGHT') THEN 'DAY'
         ELSE 'OTHER' END AS kpi_shift_type,
    greatest(0, (coalesce(p.end_ms, af.end_ms) - coalesce(p.start_ms, af.start_ms)) // 60000
                - coalesce(p.break_min, 0)) AS minutes,
    w.shift_id IS NOT NULL AS withdrawn,
    CASE WHEN w.shift_id IS NULL THEN f.booking_id END AS booking_id,
    CASE WHEN w.shift_id IS NULL THEN f.tier END AS fill_tier,
    f.membership, f.home, f.person, f.authoriser, f.break_glass, f.framework_approved, f.employer,
    f.rate_p, f.cap_p,
    greatest(0, (f.at_ms - coalesce(f.posted_at_ms, fp.posted_at)) // 1000) AS ttf,
    EXISTS (SELECT 1 FROM noshows n WHERE n.booking_id = f.booking_id) AS no_show,
    r.ref_p
FROM ids
LEFT JOIN posting p USING (shift_id)
LEFT JOIN any_fill af USING (shift_id)
LEFT JOIN first_posted fp USING (shift_id)
LEFT JOIN withdrawn w USING (shift_id)
LEFT JOIN current_fill f USING (shift_id)
LEFT JOIN ref r ON r.grade = p.grade;

ALTER TABLE facts ADD COLUMN filled BOOLEAN;
UPDATE facts SET filled = NOT withdrawn AND booking_id IS NOT NULL;
ALTER TABLE facts ADD COLUMN cost_p BIGINT;
UPDATE facts SET cost_p = CASE WHEN filled AND rate_p IS NOT NULL THEN half_up(minutes * rate_p, 60) END;

CREATE TABLE outcomes AS
SELECT f.day, f.host, f.staff_group, f.kpi_shift_type, o.type, o.booking_id, o.notice_h, o.reason_codes
FROM (SELECT DISTINCT ON (type, booking_id) * FROM e
      WHERE source = '/rosterhub/booking' AND type IN ('BookingRejected', 'BookingCancelled', 'NoShow')
      ORDER BY type, booking_id, id) o
JOIN facts f USING (shift_id);
CREATE TABLE late_threshold AS SELECT {late} AS hours;
"""

_TOTALS = """
SELECT
    count(*) AS shifts_posted,
    sum(minutes) AS posted_minutes,
    count(*) FILTER (withdrawn) AS shifts_withdrawn,
    count(*) FILTER (NOT withdrawn) AS shifts_needed,
    count(*) FILTER (filled) AS shifts_filled,
    coalesce(sum(minutes) FILTER (filled), 0) AS filled_minutes,
    nearest(list(ttf) FILTER (filled AND ttf IS NOT NULL), 50) AS ttf_p50,
    nearest(list(ttf) FILTER (filled AND ttf IS NOT NULL), 90) AS ttf_p90,
    count(ttf) FILTER (filled) AS ttf_fills,
    count(*) FILTER (filled AND membership = 'BANK') AS bank,
    count(*) FILTER (filled AND membership = 'AGENCY') AS agency,
    coalesce(sum(cost_p) FILTER (filled AND NOT no_show), 0) AS cost_p,
    coalesce(sum(cost_p) FILTER (filled AND NOT no_show AND membership = 'AGENCY'), 0) AS agency_spend_p,
    coalesce(sum(half_up(minutes * (rate_p - cap_p), 60))
             FILTER (filled AND NOT no_show AND membership = 'AGENCY' AND rate_p > cap_p), 0) AS above_cap_p,
    count(*) FILTER (filled AND membership = 'AGENCY' AND framework_approved) AS framework_yes,
    count(*) FILTER (filled AND membership = 'AGENCY' AND framework_approved IS NOT NULL) AS framework_known,
    count(*) FILTER (filled AND break_glass) AS break_glass,
    coalesce(sum(half_up(minutes * (ref_p - rate_p), 60))
             FILTER (filled AND NOT no_show AND membership = 'BANK' AND rate_p IS NOT NULL), 0) AS savings_p,
    count(*) FILTER (filled AND membership = 'AGENCY' AND employer IN (SELECT trust FROM members)
                     AND employer <> host) AS moonlighting,
    count(*) FILTER (filled AND home IS NOT NULL AND home <> host) AS cross_trust,
    count(DISTINCT person) FILTER (filled) AS people,
    count(DISTINCT person) FILTER (filled AND home IS NOT NULL AND home <> host) AS cross_people,
    (SELECT count(*) FROM outcomes WHERE type = 'BookingCancelled' AND {sel}) AS cancellations,
    (SELECT count(*) FROM outcomes WHERE type = 'BookingCancelled' AND notice_h < (SELECT hours FROM late_threshold)
     AND {sel}) AS late_cancellations,
    (SELECT count(*) FROM outcomes WHERE type = 'NoShow' AND {sel}) AS no_shows,
    (SELECT count(*) FROM outcomes WHERE type = 'BookingRejected' AND {sel}) AS rejections
FROM facts WHERE {sel}
"""

_TTF_BY_TIER = """
SELECT fill_tier, count(ttf), nearest(list(ttf), 50), nearest(list(ttf), 90)
FROM facts WHERE filled AND ttf IS NOT NULL AND {sel} GROUP BY fill_tier
"""

_REASONS = """
SELECT code, count(*) FROM (SELECT unnest(reason_codes) AS code FROM outcomes WHERE type = 'BookingRejected' AND {sel})
GROUP BY code
"""

_MIGRATION = """
SELECT coalesce(home, 'UNKNOWN'), host, kpi_shift_type, count(*), count(DISTINCT person)
FROM facts WHERE filled AND {sel} GROUP BY ALL
"""

_BREAK_GLASS = """
SELECT shift_id, booking_id, authoriser FROM facts WHERE filled AND break_glass AND {sel}
"""

_CLEARANCE = """
WITH first_seen AS (
    SELECT person, min(at_ms) AS first_ms FROM e WHERE type = 'PassportUpdated' AND version = 1 GROUP BY person
), cleared AS (
    SELECT person, trust, min(at_ms) AS cleared_ms FROM e
    WHERE source = '/rosterhub/booking' AND type IN ('ShiftFilled', 'BookingRejected') AND cleared
      AND person IS NOT NULL
    GROUP BY person, trust
), spans AS (
    SELECT greatest(0, (cleared_ms - first_ms) // 1000) AS s FROM cleared JOIN first_seen USING (person)
    WHERE cleared_ms >= {lo} AND cleared_ms < {hi}
)
SELECT count(*), nearest(list(s), 50), nearest(list(s), 90) FROM spans
"""
