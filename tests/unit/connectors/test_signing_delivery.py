import random
from datetime import UTC, datetime

import pytest

from rosterhub.connectors.outbound.delivery import backoff_s, plan_delivery, retriable_status
from rosterhub.connectors.signing import sign, verify
from rosterhub.envelope import Envelope
from rosterhub.errors import SignatureError

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TS = str(int(NOW.timestamp()))


def test_valid_signature_passes() -> None:
    body = b'{"event":"shift.created"}'
    verify(b"s3cret", TS, sign(b"s3cret", TS, body), body, now=NOW, tolerance_s=300)


@pytest.mark.parametrize(
    ("timestamp", "signature", "body", "message"),
    [
        (TS, None, b"{}", "missing"),
        (TS, "00" * 32, b"{}", "does not match"),
        (str(int(NOW.timestamp()) - 301), "sig", b"{}", "away from now"),
        ("yesterday", "sig", b"{}", "Unix seconds"),
    ],
)
def test_bad_signatures_are_refused(timestamp: str, signature: str | None, body: bytes, message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        verify(b"s3cret", timestamp, signature, body, now=NOW, tolerance_s=300)


def test_tampered_body_is_refused() -> None:
    sig = sign(b"s3cret", TS, b'{"rate": "20.00"}')
    with pytest.raises(SignatureError):
        verify(b"s3cret", TS, sig, b'{"rate": "90.00"}', now=NOW, tolerance_s=300)


def _confirmed(trust: str | None) -> Envelope:
    return Envelope(
        type="rosterhub.booking.v1.BookingConfirmed", source="/rosterhub/booking", id="e1", subject="b1", time=NOW,
        data={"booking_id": "b1", "host_trust": {"ods_code": trust, "name": None} if trust else None, "start": NOW},
    )


def test_delivery_goes_to_the_host_trust_with_an_idempotency_key() -> None:
    d = plan_delivery(_confirmed("RHQ"), {"RHQ": "http://rhq/outcomes"})
    assert d is not None and d.url == "http://rhq/outcomes" and d.idempotency_key == "e1"
    assert d.body["data"]["start"] == NOW.isoformat()


def test_no_delivery_without_endpoint_or_for_other_events() -> None:
    assert plan_delivery(_confirmed("RXX"), {"RHQ": "http://rhq"}) is None
    assert plan_delivery(_confirmed(None), {"RHQ": "http://rhq"}) is None
    other = Envelope(type="rosterhub.booking.v1.BookingRequested", source="/x", data={})
    assert plan_delivery(other, {"RHQ": "http://rhq"}) is None


@pytest.mark.parametrize(
    ("status", "retry"), [(500, True), (503, True), (429, True), (408, True), (400, False), (404, False)]
)
def test_retriable_statuses(status: int, retry: bool) -> None:
    assert retriable_status(status) is retry


def test_backoff_grows_and_is_capped() -> None:
    rng = random.Random(1)
    caps = [min(30.0, 0.5 * 2 ** (n - 1)) for n in range(1, 12)]
    for attempt, cap in enumerate(caps, start=1):
        assert 0 <= backoff_s(attempt, rng=rng) <= cap
