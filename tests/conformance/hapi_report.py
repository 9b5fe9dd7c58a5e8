"""The HAPI FHIR warnings on the hub's resources, kept for the end of the test run (conftest.py prints them)."""

from __future__ import annotations

import collections

import pytest

from rosterhub.tools import hapi

REPORTS = pytest.StashKey[dict[str, hapi.FileReport]]()


def summary_lines(config: pytest.Config) -> list[str]:
    found = config.stash.get(REPORTS, None)
    if not found:
        return []
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for name, report in found.items():
        for w in report.warnings:
            groups[w.message.split(" for '")[0]].append(f"{name} @ {w.location}")
    errors = sum(len(r.errors) for r in found.values())
    warnings = sum(len(r.warnings) for r in found.values())
    lines = [f"HAPI FHIR {hapi.HAPI_VERSION}: {len(found)} resources, {errors} error(s), {warnings} warning(s)"]
    for message, where in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"  {len(where):4d} x warning: {message} (e.g. {where[0]})")
    return lines
