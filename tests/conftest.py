"""Shared fixtures: one real Kafka broker per test session, and per-test isolation.

The broker comes from ``KAFKA_BOOTSTRAP_SERVERS``, else testcontainers when a Docker
engine answers, else the local KRaft broker started from Maven jars. When none can be
had the session FAILS: integration tests never skip.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from rosterhub.errors import RosterhubError
from rosterhub.kafka.resolve import Resolved
from tests.support import free_port

log = logging.getLogger("tests")

REPO = Path(__file__).resolve().parents[1]
#: Third-party conformance examples, vendored byte for byte with their sources and licences (data/MANIFEST.md).
CONFORMANCE = REPO / "tests" / "conformance" / "data"

_KAFKA_KEY = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def kafka(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Resolved]:
    from rosterhub.kafka.admin import api_version
    from rosterhub.kafka.resolve import resolve_broker
    from rosterhub.settings import Settings

    settings = Settings(
        kafka_data_dir=tmp_path_factory.mktemp("kafka"),
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
    )
    try:
        resolved = resolve_broker(settings, allow_docker=True)
    except RosterhubError as exc:
        pytest.fail(f"no Kafka broker could be had for the integration tests: {exc}", pytrace=False)
    protocol = api_version(resolved.access)
    line = (
        f"Kafka broker at {resolved.bootstrap} ({resolved.origin}); "
        f"version {resolved.version or 'unknown'}; protocol level {protocol}"
    )
    log.info(line)
    request.config.stash[_KAFKA_KEY] = line
    yield resolved
    resolved.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    line = config.stash.get(_KAFKA_KEY, None)
    if line:
        terminalreporter.write_sep("-", line)


@pytest.fixture
def unique() -> str:
    """A short unique token for topic prefixes, group ids and app ids."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def hub_settings(kafka: Resolved, unique: str, tmp_path: Path):
    """Settings for one test: its own topics (prefix), app id and state dir on the session broker."""
    from rosterhub.settings import Settings

    return Settings(
        kafka_bootstrap_servers=kafka.bootstrap,
        topic_prefix=f"t{unique}.",
        app_id=f"rosterhub-test-{unique}",
        state_dir=tmp_path / "state",
        default_partitions=3,
    )


@pytest.fixture
def declared_hub(hub_settings):
    """``hub_settings`` with every topic the connectors declare already created on the session broker."""
    from tests.integration.helpers import ensure_declared_topics

    assert hub_settings.kafka_bootstrap_servers
    ensure_declared_topics(hub_settings)
    return hub_settings


@pytest.fixture
def tokens(tmp_path: Path):
    """A token issuer of this test's own (tests/auth_support.py): every HTTP route wants a bearer token."""
    from tests.auth_support import Tokens

    return Tokens(tmp_path / "issuer")


@pytest.fixture
def ingress(settings) -> Iterator[str]:
    """The hub's HTTP API on a free port, for the module's own ``settings`` fixture; yields its base URL."""
    from rosterhub.api import create_api
    from rosterhub.kafka.access import access_from_settings
    from tests.integration.helpers import serve_in_thread

    assert settings.kafka_bootstrap_servers
    with serve_in_thread(create_api(settings, access_from_settings(settings)), free_port()) as url:
        yield url
