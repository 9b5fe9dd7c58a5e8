"""Who a push is from and which records it may publish (pure parts of rosterhub.auth.push and the pipeline)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from rosterhub.auth.push import trust_secrets
from rosterhub.connectors.pipeline import only_trust
from rosterhub.connectors.signing import sign, signer
from rosterhub.errors import ConfigError, SignatureError
from rosterhub.mapping.engine.apply import MappedEvent, MappingOutcome
from rosterhub.streams.availability.query import seen_by
from rosterhub.streams.booking.api import concerned_trusts

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)


def test_the_secret_that_verifies_names_the_trust() -> None:
    secrets = {"RHQ": b"rhq-secret", "RCU": b"rcu-secret"}
    ts = str(int(NOW.timestamp()))
    body = b'{"event": "shift.created"}'
    assert signer(secrets, ts, sign(b"rcu-secret", ts, body), body, now=NOW, tolerance_s=300) == "RCU"
    with pytest.raises(SignatureError, match="does not match"):
        signer(secrets, ts, sign(b"someone-else", ts, body), body, now=NOW, tolerance_s=300)
    with pytest.raises(SignatureError, match="away from now"):
        signer(secrets, "1000", sign(b"rhq-secret", "1000", body), body, now=NOW, tolerance_s=300)
    with pytest.raises(SignatureError, match="no signing secrets"):
        signer({}, ts, "x", body, now=NOW, tolerance_s=300)


def test_two_trusts_may_not_share_a_secret() -> None:
    shared = {"patchwork": {"RHQ": SecretStr("same"), "RCU": SecretStr("same")}}
    with pytest.raises(ConfigError, match="RCU, RHQ share a secret"):
        trust_secrets("patchwork", shared)
    assert trust_secrets("patchwork", {"patchwork": {"rhq": SecretStr("a")}}) == {"RHQ": b"a"}


def _event(trust: str, ref: str) -> MappedEvent:
    return MappedEvent("t", {}, f"id-{ref}-{trust}", None, f"/vendors/nhsp/{trust}", ref, b"row")


def test_only_the_senders_trust_is_published_the_rest_rejected_once_per_record() -> None:
    outcome = MappingOutcome(events=[_event("RXX", "line 2"), _event("RHQ", "line 3"), _event("RHQ", "line 3")])
    kept = only_trust(outcome, "RXX")
    assert [e.record_ref for e in kept.events] == ["line 2"]
    [rejected] = kept.rejected
    assert rejected.record_ref == "line 3" and rejected.error.code == "trust_mismatch"
    assert (rejected.error.field, rejected.error.value) == ("trust", "RHQ")  # type: ignore[attr-defined]


def test_a_trust_sees_its_own_shifts_and_those_released_to_it() -> None:
    own = {"trust": {"ods_code": "RHQ"}, "visible_to": ["RHQ"]}
    released = {"trust": {"ods_code": "RHQ"}, "visible_to": ["RCU", "RFR", "RHQ"]}
    assert seen_by(own, "RHQ") and not seen_by(own, "RCU") and seen_by(released, "RCU")
    assert not seen_by(released, None)


def test_a_booking_concerns_its_host_and_the_requesting_trust() -> None:
    doc = {"booking_id": "patchwork:RCU:5513", "host_trust": {"ods_code": "RHQ"}}
    assert concerned_trusts(doc) == {"RHQ", "RCU"}
    assert concerned_trusts({"booking_id": "odd", "host_trust": None}) == set()
