"""Fixtures of the schema tests: the catalogue, the examples, and the shared conformance folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from rosterhub.codec.catalogue import SchemaCatalogue
from rosterhub.events.base import AvroEvent
from rosterhub.events.examples import example_events

REPO = Path(__file__).resolve().parents[3]
#: ``shared/`` sits beside the repository root (``<repo>/../shared``), in CI as on a developer's machine.
SHARED = Path(__file__).resolve().parents[3] / ".." / "shared"
CONFORMANCE = SHARED / "conformance"


@pytest.fixture(scope="session")
def catalogue() -> SchemaCatalogue:
    """Read fresh from the package (not the process-wide cache), as the CLI does."""
    return SchemaCatalogue.from_package()


@pytest.fixture(scope="session")
def examples() -> dict[str, AvroEvent]:
    return example_events()


@pytest.fixture(scope="session")
def conformance() -> Path:
    if not CONFORMANCE.is_dir():
        pytest.fail(f"conformance data not found at {CONFORMANCE.resolve()} (shared/ must sit beside the repo)")
    return CONFORMANCE
