"""Conformance checks against tools and examples nobody on the project wrote."""

from __future__ import annotations

import pytest

from tests.conformance.hapi_report import summary_lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    lines = summary_lines(config)
    if lines:
        terminalreporter.write_sep("-", "HAPI FHIR validator on the hub's FHIR resources")
        for line in lines:
            terminalreporter.write_line(line)
