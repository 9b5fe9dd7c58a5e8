"""Why a booking was confirmed or rejected, as text: what ``rosterhub explain`` prints.

Pure: it reads only the rule results a decision carries (``BookingConfirmed`` and
``BookingRejected`` both hold every result), so an old decision can be explained long
after the policy that made it has changed. Failures are marked ``FAIL``, passes that
carry a code (an opt-out relied on, break glass, a grade tolerance) ``note``, plain
passes ``pass``; rules stay in evaluation order so two explanations line up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from rosterhub.streams.booking.rules.clock import fmt
from rosterhub.streams.booking.rules.result import RuleResult

__all__ = ["explain", "explain_decision"]


def explain(results: Iterable[RuleResult | Mapping[str, Any]]) -> str:
    """One summary line, then one line per rule: mark, rule id, reason code, detail."""
    rows = [r if isinstance(r, RuleResult) else RuleResult.from_avro(r) for r in results]
    if not rows:
        return "No rules were evaluated."
    failed = [r for r in rows if not r.passed]
    if failed:
        codes = ", ".join(dict.fromkeys(r.reason_code or r.rule for r in failed))
        head = f"Rejected: {len(failed)} of {len(rows)} rules failed ({codes})."
    else:
        head = f"Confirmed: all {len(rows)} rules passed."
    rule_w = max(len(r.rule) for r in rows)
    code_w = max(len(r.reason_code or "") for r in rows)
    lines = [head]
    for r in rows:
        mark = "FAIL" if not r.passed else "note" if r.reason_code else "pass"
        lines.append(f"{mark}  {r.rule:<{rule_w}}  {r.reason_code or '':<{code_w}}  {r.detail or ''}".rstrip())
    return "\n".join(lines)


def explain_decision(decision: Mapping[str, Any]) -> str:
    """Explain a BookingConfirmed/BookingRejected, given as its CloudEvent JSON or as its ``data``."""
    inner = decision.get("data")
    data: Mapping[str, Any] = inner if isinstance(inner, Mapping) else decision
    kind = str(decision.get("type", ""))
    host = data.get("host_trust") or {}
    where = f" at {host['ods_code']}" if host.get("ods_code") else ""
    outcome = "CONFIRMED" if kind.endswith("BookingConfirmed") else "REJECTED" if kind.endswith("Rejected") else None
    results = [RuleResult.from_avro(r) for r in data.get("rule_results", [])]
    if outcome is None:
        outcome = "CONFIRMED" if results and all(r.passed for r in results) else "REJECTED"
    decided = _instant(data.get("decided_at"))
    when = f" (decided {fmt(decided)})" if decided else ""
    head = f"Booking {data.get('booking_id')} for shift {data.get('shift_id')}{where}: {outcome}{when}"
    return f"{head}\n{explain(results)}"


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
