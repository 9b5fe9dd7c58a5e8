"""Deployment options of a polling connector (``[connectors.<vendor>]`` / ``ROSTERHUB_CONNECTORS``).

Wire facts (paths, parameter names) are the vendor's and live in ``ConnectorSpec.quirks``;
what differs per deployment lives here: where the platform is, which trusts to read, the
credentials, and how hard to push it. Example (TOML)::

    [connectors.locums_nest]
    base_url = "https://api.locumsnest.example"
    poll_interval_s = 30
    [connectors.locums_nest.trusts.RXX]
    api_key = "ln_live_..."            # each trust's own key ...
    [connectors.locums_nest.trusts.RHQ]
    api_key = "ln_live_..."

or one key for every trust (a collaborative's network key): ``api_key = "..."`` at the
top and ``trusts = ["RXX", "RHQ"]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from rosterhub.connectors.kinds.poll.policy import RetryPolicy
from rosterhub.errors import ConfigError
from rosterhub.ods import ODS

__all__ = ["PollOptions", "TrustSource", "parse_options"]


class TrustSource(BaseModel):
    """How to read one trust's changes on the platform."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr | None = Field(default=None, description="This trust's API key; else the shared `api_key`.")
    organisation: str | None = Field(
        default=None, description="The platform's id for the trust when it is not the ODS code."
    )


class PollOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(description="Scheme, host and optional path prefix of the vendor's API.")
    api_key: SecretStr | None = Field(default=None, description="One key for every trust (a collaborative's key).")
    trusts: dict[str, TrustSource] = Field(description="ODS code -> credentials; a list of ODS codes also works.")
    poll_interval_s: float = Field(default=30.0, gt=0, description="Pause between poll cycles once caught up.")
    page_size: int = Field(default=100, ge=1, le=1000, description="Changes asked for per page (`limit`).")
    timeout_s: float = Field(default=10.0, gt=0, description="HTTP timeout of one request.")
    max_retries: int = Field(default=5, ge=0, description="Retries of one request (429, 5xx, timeouts) per cycle.")
    backoff_base_s: float = Field(default=1.0, gt=0, description="First back-off step; doubles per retry.")
    backoff_cap_s: float = Field(default=60.0, gt=0, description="Longest single back-off step.")
    max_retry_after_s: float = Field(
        default=300.0, gt=0, description="A longer Retry-After ends the cycle for that trust instead of blocking."
    )
    max_page_bytes: int = Field(default=1_048_576, ge=1024, description="Pages over this size are refused.")
    poison_retries: int = Field(
        default=2, ge=0, description="Re-reads of an unusable page before it is dead-lettered and skipped."
    )
    max_pages_per_cycle: int = Field(
        default=50, ge=1, description="Pages read from one trust before the next trust gets its turn."
    )
    initial_since: datetime | None = Field(
        default=None, description="Where a trust with no stored cursor starts; unset: the platform's oldest change."
    )

    @field_validator("trusts", mode="before")
    @classmethod
    def _trust_list(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return {str(code): {} for code in value}
        return value

    @field_validator("trusts")
    @classmethod
    def _ods_codes(cls, value: dict[str, TrustSource]) -> dict[str, TrustSource]:
        if not value:
            raise ValueError("name at least one trust (ODS code)")
        normalised = {code.strip().upper(): src for code, src in value.items()}
        bad = [code for code in normalised if not ODS.fullmatch(code)]
        if bad:
            raise ValueError(f"not ODS codes (3-5 letters/digits): {', '.join(bad)}")
        return normalised

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"https?://[^/]+", value):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("initial_since")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry a UTC offset (e.g. 2026-10-01T00:00:00Z)")
        return value

    @model_validator(mode="after")
    def _every_trust_has_a_key(self) -> PollOptions:
        keyless = [code for code, src in self.trusts.items() if src.api_key is None and self.api_key is None]
        if keyless:
            raise ValueError(f"no API key for {', '.join(keyless)}: give the trust an api_key or set a shared api_key")
        return self

    def key_for(self, trust: str) -> str:
        secret = self.trusts[trust].api_key or self.api_key
        assert secret is not None  # checked by _every_trust_has_a_key
        return secret.get_secret_value()

    def organisation_for(self, trust: str) -> str:
        return self.trusts[trust].organisation or trust

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.max_retries, self.backoff_base_s, self.backoff_cap_s, self.max_retry_after_s)


def parse_options(vendor: str, options: Mapping[str, Any]) -> PollOptions:
    """Validated options, or a :class:`ConfigError` naming every problem (secrets never echoed)."""
    try:
        return PollOptions.model_validate(dict(options))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(
            f"invalid options for connector {vendor!r} ([connectors.{vendor}] or ROSTERHUB_CONNECTORS): {problems}"
        ) from None
