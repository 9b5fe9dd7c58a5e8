"""Deployment options of the polling transport: what is accepted, and how a mistake is reported."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from rosterhub.connectors.kinds.poll.options import parse_options
from rosterhub.connectors.pipeline import IngestContext
from rosterhub.connectors.runtime import run_connector
from rosterhub.connectors.vendors.locums_nest import SPEC
from rosterhub.errors import ConfigError

URL = "https://api.locumsnest.example/"


def test_per_trust_keys() -> None:
    opts = parse_options(
        "locums_nest", {"base_url": URL, "trusts": {"rxx": {"api_key": "k1"}, "RHQ": {"api_key": "k2"}}}
    )
    assert opts.base_url == "https://api.locumsnest.example"
    assert list(opts.trusts) == ["RXX", "RHQ"]
    assert (opts.key_for("RXX"), opts.key_for("RHQ")) == ("k1", "k2")
    assert opts.organisation_for("RXX") == "RXX"
    assert "k1" not in repr(opts)  # secrets stay secret


def test_one_shared_key_and_a_list_of_trusts() -> None:
    opts = parse_options(
        "locums_nest",
        {
            "base_url": URL,
            "api_key": "shared",
            "trusts": ["RXX", "RHQ01"],
            "poll_interval_s": 5,
            "page_size": 50,
            "max_retries": 0,
        },
    )
    assert opts.key_for("RHQ01") == "shared" and opts.page_size == 50
    assert opts.retry_policy.max_retries == 0


def test_a_trust_may_be_known_to_the_platform_by_another_id() -> None:
    opts = parse_options(
        "locums_nest", {"base_url": URL, "trusts": {"RXX": {"api_key": "k", "organisation": "org_17"}}}
    )
    assert opts.organisation_for("RXX") == "org_17"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"trusts": ["RXX"], "api_key": "k"}, "base_url: Field required"),
        ({"base_url": "ftp://x", "trusts": ["RXX"], "api_key": "k"}, "base_url: Value error, must be an http(s) URL"),
        ({"base_url": URL, "trusts": [], "api_key": "k"}, "name at least one trust"),
        ({"base_url": URL, "trusts": ["Riverside"], "api_key": "k"}, "not ODS codes"),
        ({"base_url": URL, "trusts": {"RXX": {}, "RHQ": {"api_key": "secret-1"}}}, "no API key for RXX"),
        ({"base_url": URL, "trusts": ["RXX"], "api_key": "k", "page_size": 0}, "page_size"),
        ({"base_url": URL, "trusts": ["RXX"], "api_key": "k", "initial_since": "2026-10-01T00:00:00"}, "UTC offset"),
        ({"base_url": URL, "trusts": ["RXX"], "api_key": "k", "pollinterval": 3}, "pollinterval: Extra inputs"),
    ],
)
def test_mistakes_are_config_errors_naming_the_option(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match="invalid options for connector 'locums_nest'") as caught:
        parse_options("locums_nest", options)
    assert message in str(caught.value)
    assert "secret-1" not in str(caught.value)


def test_run_refuses_bad_options_before_touching_anything() -> None:
    ctx = IngestContext(sink=None, encoder=None, names=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="base_url"):
        run_connector(SPEC, ctx, {"trusts": ["RXX"], "api_key": "k"}, threading.Event(), once=True)


def test_run_needs_durable_state_for_its_cursor() -> None:
    ctx = IngestContext(sink=None, encoder=None, names=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="durable state"):
        run_connector(SPEC, ctx, {"base_url": URL, "trusts": ["RXX"], "api_key": "k"}, threading.Event(), once=True)
