"""The external checkers' fetch: cached like Kafka's jars, and a missing tool is a clear error (tests then FAIL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rosterhub.errors import ToolUnavailable
from rosterhub.settings import Settings
from rosterhub.tools import asyncapi, hapi


def test_cached_hapi_jars_are_reused_without_maven(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(cache_dir=tmp_path)
    hapi.jars_dir(settings).mkdir(parents=True)
    (hapi.jars_dir(settings) / ".complete").write_text(hapi.HAPI_VERSION)
    monkeypatch.setenv("PATH", "")
    assert hapi.fetch_jars(settings) == tmp_path / "hapi" / hapi.HAPI_VERSION / "libs"


def test_without_maven_the_validator_cannot_be_had(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ToolUnavailable, match="mvn"):
        hapi.fetch_jars(Settings(cache_dir=tmp_path))
    with pytest.raises(ToolUnavailable, match="mvn"):
        hapi.validate({"x": {"resourceType": "Slot"}}, Settings(cache_dir=tmp_path))


def test_without_java_the_validator_cannot_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(cache_dir=tmp_path)
    hapi.jars_dir(settings).mkdir(parents=True)
    (hapi.jars_dir(settings) / ".complete").write_text(hapi.HAPI_VERSION)
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(ToolUnavailable, match="Java"):
        hapi.validate({"x": {"resourceType": "Slot"}}, settings)


def test_the_asyncapi_parser_is_cached_by_the_hash_of_its_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(cache_dir=tmp_path)
    target = asyncapi.tool_dir(settings)
    assert target.parent == tmp_path / "npm" and target.name.startswith("asyncapi-")
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ToolUnavailable, match="npm"):
        asyncapi.install(settings)
    assert not target.exists()  # nothing half-installed left behind
    target.mkdir(parents=True)
    (target / ".complete").write_text("ok")
    assert asyncapi.install(settings) == target  # cached: npm not needed
