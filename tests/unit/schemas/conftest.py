"""Fixtures of the schema tests: the catalogue, the examples, and the vendored conformance folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from rosterhub.codec.catalogue import SchemaCatalogue
from rosterhub.events.base import AvroEvent
from rosterhub.events.examples import example_events

REPO = Path(__file__).resolve().parents[3]
#: Third-party conformance examples, vendored in the repository (tests/conformance/data/MANIFEST.md).
CONFORMANCE = REPO / "tests" / "conformance" / "data"


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
        pytest.fail(f"conformance data not found at {CONFORMANCE.resolve()} (vendored under tests/conformance/data)")
    return CONFORMANCE
