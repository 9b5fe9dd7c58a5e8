"""Sums over one month block of the read model, grouped, and how sums from several blocks combine.

A :class:`Partial` holds only what adds up across blocks: counts and pence as integers, the
time-to-fill values themselves (percentiles do not add up, so the values travel), and the distinct
people as sorted person codes (distinct counts do not add up either). :func:`figures` turns one
Partial into the KPIs of docs/kpi.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np

from rosterhub.streams.kpi.store import CANCELLATION, NO_SHOW, REJECTION, Block, KpiStore

__all__ = ["COUNTS", "Partial", "block_partials", "figures", "merge", "nearest_rank", "uniq"]

#: Integer measures of a Partial, each a sum over the rows (or outcome rows) selected.
COUNTS = (
    "posted",
    "posted_minutes",
    "withdrawn",
    "needed",
    "needed_minutes",
    "filled",
    "filled_minutes",
    "bank",
    "agency",
    "substantive",
    "other_membership",
    "cost_fills",
    "cost",
    "agency_cost_fills",
    "agency_spend",
    "above_cap",
    "above_cap_fills",
    "framework_known",
    "framework_approved",
    "break_glass",
    "savings_fills",
    "savings",
    "moonlighting",
    "no_show_fills",
    "cross_trust",
    "rejections",
    "cancellations",
    "late_cancellations",
    "no_shows",
)


@dataclass
class Partial:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    ttf: list[np.ndarray] = field(default_factory=list)  # seconds, per fill with a known posting time
    ttf_by_tier: dict[str, list[np.ndarray]] = field(default_factory=dict)
    people: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    cross_people: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    reasons: dict[str, int] = field(default_factory=dict)


def uniq(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values by one sort (numpy's hash-based ``unique`` measured several times slower here)."""
    if len(values) < 2:
        return values
    ordered = np.sort(values)
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def merge(parts: list[Partial]) -> Partial:
    """One Partial of several (a week across two month blocks, a year of months). A single part is returned as
    it is (partials are never changed after they are built): no copy, no re-deduplication of people."""
    if len(parts) == 1:
        return parts[0]
    out = Partial()
    for p in parts:
        for k, v in p.counts.items():
            out.counts[k] += v
        out.ttf += p.ttf
        for tier, arrays in p.ttf_by_tier.items():
            out.ttf_by_tier.setdefault(tier, []).extend(arrays)
        for code, n in p.reasons.items():
            out.reasons[code] = out.reasons.get(code, 0) + n
    out.people = uniq(np.concatenate([p.people for p in parts])) if parts else out.people
    out.cross_people = uniq(np.concatenate([p.cross_people for p in parts])) if parts else out.cross_people
    return out


def _sums(group: np.ndarray, n: int, values: np.ndarray) -> np.ndarray:
    """Integer sums of ``values`` per group code 0..n-1 (exact: pence stay far below 2**53)."""
    if values.dtype == np.bool_:
        return np.bincount(group[values], minlength=n).astype(np.int64)
    return np.rint(np.bincount(group, weights=values, minlength=n)).astype(np.int64)


def block_partials(
    store: KpiStore, block: Block, mask: np.ndarray, group: np.ndarray, labels: list[Any]
) -> dict[Any, Partial]:
    """Partials of the rows ``mask`` selects, by ``group`` (a code 0..len(labels)-1 per row of the block)."""
    n = len(labels)
    rows = np.nonzero(mask)[0]
    g = group[rows]
    col = {name: block.col(name)[rows] for name in ("posted", "withdrawn", "filled", "minutes", "membership")}
    posted = col["posted"]
    needed = posted & ~col["withdrawn"]
    filled = needed & col["filled"]
    minutes = col["minutes"].astype(np.int64)
    members = store.dims["membership"]
    membership = col["membership"]
    is_ = {m: membership == _code(members.get(m)) for m in ("BANK", "AGENCY", "SUBSTANTIVE")}
    no_show = block.col("no_show")[rows]
    paid = filled & ~no_show  # a no-show's cost is not spend
    agency = filled & is_["AGENCY"]
    framework = block.col("framework")[rows]
    host, home = block.col("host")[rows], block.col("home")[rows]
    # The home trust's code in the host dimension (-3 for a home trust that hosts nothing), to compare codes.
    as_host = np.array([_code(store.dims["host"].get(v)) for v in store.dims["home"].values] + [-3], dtype=np.int64)
    cross = filled & (home >= 0) & (as_host[home] != host)
    values = {
        "posted": posted,
        "posted_minutes": np.where(posted, minutes, 0),
        "withdrawn": posted & col["withdrawn"],
        "needed": needed,
        "needed_minutes": np.where(needed, minutes, 0),
        "filled": filled,
        "filled_minutes": np.where(filled, minutes, 0),
        "bank": filled & is_["BANK"],
        "agency": agency,
        "substantive": filled & is_["SUBSTANTIVE"],
        "other_membership": filled & ~is_["BANK"] & ~is_["AGENCY"] & ~is_["SUBSTANTIVE"],
        "cost_fills": paid & block.col("cost_known")[rows],
        "cost": np.where(paid, block.col("cost")[rows], 0),
        "agency_cost_fills": paid & is_["AGENCY"] & block.col("cost_known")[rows],
        "agency_spend": np.where(paid & is_["AGENCY"], block.col("cost")[rows], 0),
        "above_cap": np.where(paid & is_["AGENCY"], block.col("above")[rows], 0),
        "above_cap_fills": paid & is_["AGENCY"] & (block.col("above")[rows] > 0),
        "framework_known": agency & (framework >= 0),
        "framework_approved": agency & (framework == 1),
        "break_glass": filled & block.col("break_glass")[rows],
        "savings_fills": paid & block.col("savings_known")[rows],
        "savings": np.where(paid, block.col("savings")[rows], 0),
        "moonlighting": filled & block.col("moonlighting")[rows],
        "no_show_fills": filled & no_show,
        "cross_trust": cross,
    }
    sums = {k: _sums(g, n, v) for k, v in values.items()}
    parts = {label: Partial() for label in labels}
    for i, label in enumerate(labels):
        p = parts[label]
        for k in values:
            p.counts[k] = int(sums[k][i])
    _time_to_fill(store, block, rows, g, filled, labels, parts)
    _people(block, rows, g, filled, cross, labels, parts)
    _outcomes(store, block, mask, group, labels, parts)
    return parts


def _split(keys: np.ndarray, values: np.ndarray) -> dict[int, np.ndarray]:
    """``values`` grouped by ``keys`` (one sort, no pass per group): key -> its values."""
    if not len(keys):
        return {}
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    cuts = np.flatnonzero(np.diff(keys)) + 1
    starts = np.concatenate(([0], cuts))
    return {int(keys[i]): chunk for i, chunk in zip(starts, np.split(values, cuts), strict=True)}


def _time_to_fill(
    store: KpiStore,
    block: Block,
    rows: np.ndarray,
    g: np.ndarray,
    filled: np.ndarray,
    labels: list[Any],
    parts: dict[Any, Partial],
) -> None:
    ttf = block.col("ttf")[rows]
    known = filled & (ttf >= 0)
    tiers = block.col("fill_tier")[rows][known].astype(np.int64)
    groups, values = g[known], ttf[known]
    for i, chunk in _split(groups, values).items():
        parts[labels[i]].ttf.append(chunk)
    # (group, tier) as one integer: tiers are a handful of codes
    width = int(tiers.max()) + 2 if len(tiers) else 1
    for key, chunk in _split(groups * width + tiers + 1, values).items():
        tier = store.dims["fill_tier"].value(key % width - 1) or "UNKNOWN"
        parts[labels[key // width]].ttf_by_tier.setdefault(tier, []).append(chunk)


def _people(
    block: Block,
    rows: np.ndarray,
    g: np.ndarray,
    filled: np.ndarray,
    cross: np.ndarray,
    labels: list[Any],
    parts: dict[Any, Partial],
) -> None:
    person = block.col("person")[rows].astype(np.int64)
    for attr, sel in (("people", filled & (person >= 0)), ("cross_people", filled & cross & (person >= 0))):
        pairs = uniq(g[sel].astype(np.int64) * (1 << 32) + person[sel])  # distinct (group, person)
        for i, chunk in _split(pairs >> 32, pairs & 0xFFFFFFFF).items():
            setattr(parts[labels[i]], attr, chunk)


def _outcomes(
    store: KpiStore, block: Block, mask: np.ndarray, group: np.ndarray, labels: list[Any], parts: dict[Any, Partial]
) -> None:
    alive = block.out("alive")
    slot = block.out("slot")
    chosen = alive & mask[slot]
    if not chosen.any():
        return
    idx = np.nonzero(chosen)[0]
    kind, first, late = block.out("kind")[idx], block.out("first")[idx], block.out("late")[idx]
    code, g = block.out("code")[idx], group[slot[idx]]
    for i, label in enumerate(labels):
        mine = g == i
        p = parts[label]
        p.counts["rejections"] += int((mine & (kind == REJECTION) & first).sum())
        p.counts["cancellations"] += int((mine & (kind == CANCELLATION)).sum())
        p.counts["late_cancellations"] += int((mine & (kind == CANCELLATION) & late).sum())
        p.counts["no_shows"] += int((mine & (kind == NO_SHOW)).sum())
        rej = mine & (kind == REJECTION)
        for c, n in zip(*np.unique(code[rej], return_counts=True), strict=True):
            reason = store.codes.value(int(c)) or "UNKNOWN"
            p.reasons[reason] = p.reasons.get(reason, 0) + int(n)


def _code(found: int | None) -> int:
    return -3 if found is None else found


def nearest_rank(values: np.ndarray, pct: int) -> int | None:
    """The nearest-rank percentile: the smallest value with at least ``pct`` % of values at or below it."""
    if len(values) == 0:
        return None
    k = max(1, -(-pct * len(values) // 100))  # ceil(pct * n / 100)
    return int(np.partition(values, k - 1)[k - 1])


def _money(pence: int) -> str:
    return str(Decimal(pence).scaleb(-2).quantize(Decimal("0.01")))


def _hours(minutes: int) -> str:
    return str((Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else round(num / den, 4)


def _ttf(arrays: list[np.ndarray]) -> dict[str, Any]:
    values = np.concatenate(arrays) if arrays else np.empty(0, dtype=np.int64)
    return {"fills": len(values), "p50_s": nearest_rank(values, 50), "p90_s": nearest_rank(values, 90)}


def figures(p: Partial) -> dict[str, Any]:
    """The KPIs of one Partial (definitions: docs/kpi.md). Money as decimal text in GBP, shares 0..1."""
    c = p.counts
    return {
        "shifts_posted": c["posted"],
        "hours_posted": _hours(c["posted_minutes"]),
        "shifts_withdrawn": c["withdrawn"],
        "shifts_needed": c["needed"],
        "hours_needed": _hours(c["needed_minutes"]),
        "shifts_filled": c["filled"],
        "hours_filled": _hours(c["filled_minutes"]),
        "shifts_unfilled": c["needed"] - c["filled"],
        "fill_rate": _ratio(c["filled"], c["needed"]),
        "time_to_fill": {**_ttf(p.ttf), "by_tier": {t: _ttf(a) for t, a in sorted(p.ttf_by_tier.items())}},
        "fills_by_membership": {
            "BANK": c["bank"],
            "AGENCY": c["agency"],
            "SUBSTANTIVE": c["substantive"],
            "OTHER": c["other_membership"],
        },
        "bank_share": _ratio(c["bank"], c["filled"]),
        "agency_share": _ratio(c["agency"], c["filled"]),
        "cost": _money(c["cost"]),
        "fills_costed": c["cost_fills"],
        "agency_spend": _money(c["agency_spend"]),
        "spend_above_cap": _money(c["above_cap"]),
        "agency_fills_above_cap": c["above_cap_fills"],
        "framework_compliance": _ratio(c["framework_approved"], c["framework_known"]),
        "break_glass": c["break_glass"],
        "savings": _money(c["savings"]),
        "bank_fills_with_savings": c["savings_fills"],
        "moonlighting_fills": c["moonlighting"],
        "moonlighting_refused": p.reasons.get("MOONLIGHTING_ROUTE_TO_BANK", 0),
        "cross_trust_fills": c["cross_trust"],
        "people": len(p.people),
        "cross_trust_people": len(p.cross_people),
        "cancellations_after_fill": c["cancellations"],
        "late_cancellations": c["late_cancellations"],
        "no_shows": c["no_shows"],
        "rejections": c["rejections"],
        "rejections_by_reason": dict(sorted(p.reasons.items())),
    }
